"""Korean by default, English by a switch on every page (``?lang=en``, kept in the session).

Every text comes from the message catalogs (:mod:`matcher.messages`): ``t("ui.search")`` is a page
label, ``say(m)`` a :class:`~matcher.messages.Msg`; an unknown code is shown as itself so a missing
text is visible, not fatal.
"""

from __future__ import annotations

from functools import lru_cache, partial
from urllib.parse import quote

from flask import current_app, request, session, url_for
from markupsafe import Markup, escape

from matcher import codes, errors, messages
from matcher.firms import CERTIFICATE_KINDS, SIZE_CLASSES, SIZE_NAMES_EN
from matcher.tracks import load_rules

LANGS = ("ko", "en")



def current_lang():
    """``ko`` or ``en``: the language kept in the session (Korean by default)."""
    return session.get("lang", "ko")


# Each helper below has a form taking the language first (``_t(lang, …)``): the templates get them
# bound to the page's language once per render (:func:`_in_language`); asking the session for the
# language in each of a page's hundred-odd calls was a tenth of the rendering.


def t(key, default=None):
    """The message ``key`` in the current language (``default``, else the key itself, when unknown)."""
    return _t(current_lang(), key, default)


def _t(lang, key, default=None):
    code = key if "." in key else "ui." + key  # a bare key ("search") is a page label, ui.search
    if messages.known(code, lang):
        return messages.render(messages.msg(code), lang)
    return key if default is None else default


def bilingual(ko, en):
    """Pick ``ko`` or ``en`` for the current language."""
    return _bilingual(current_lang(), ko, en)


def _bilingual(lang, ko, en):
    return ko if lang == "ko" else en


def track_name(key):
    """A track's name in the current language, with the other language beside it."""
    return _track_name(current_lang(), key)


def _track_name(lang, key):
    rule = _rules().get(key)
    if rule is None:
        return key or ""
    return f"{rule.name_ko} ({rule.name_en})" if lang == "en" else rule.name_ko


def size_name(size):
    """A size class: Korean, or English with the Korean term beside it."""
    return _size_name(current_lang(), size)


def _size_name(lang, size):
    return size if lang == "ko" else f"{SIZE_NAMES_EN.get(size, size)} ({size})"


def region_name(short):
    """A 시도 by its short name: Korean, or English with the Korean beside it."""
    return _region_name(current_lang(), short)


def _region_name(lang, short):
    region = _regions().get(short)
    if region is None or lang == "ko":
        return short or ""
    return f"{region.name_en} ({short})"


@lru_cache(maxsize=1)
def _regions():
    return codes.regions()


def ordered_sizes(sizes):
    """``sizes`` smallest first (as :data:`matcher.firms.SIZE_CLASSES`)."""
    return [s for s in SIZE_CLASSES if s in sizes]


def certificate_name(kind):
    """A certificate kind in the current language."""
    return _certificate_name(current_lang(), kind)


def _certificate_name(lang, kind):
    ko, en = CERTIFICATE_KINDS.get(kind, (kind, kind))
    return ko if lang == "ko" else en


def reason_text(reason):
    """A :class:`~matcher.messages.Msg` (or its stored JSON, or an older ``{"ko", "en"}`` dict) in the current
    language."""
    return _reason_text(current_lang(), reason)


def _reason_text(lang, reason):
    if isinstance(reason, dict):
        if "params" in reason or not ("ko" in reason or "en" in reason):  # a stored Msg (older rows: ko, en)
            return messages.Msg.from_json(reason).text(lang) if "code" in reason else ""
        return reason.get(lang) or reason.get("en") or reason.get("ko") or ""
    if isinstance(reason, str):
        return reason
    return reason.text(lang)


def score_segments(components):
    """``(colour index, width %, title)`` of each segment of a score bar, in the current language.

    One call per bar (the template used to format every segment with filters: a tenth of a page).
    """
    return _score_segments(current_lang(), components)


def _score_segments(lang, components):
    ko = lang == "ko"
    out = []
    for i, c in enumerate(components or ()):
        get = c.get if isinstance(c, dict) else lambda name, default=None, c=c: getattr(c, name, default)
        contribution = get("contribution") or 0
        name = get("name", "")
        label = get("label_ko" if ko else "label_en", name)
        out.append((i % 8, f"{max(contribution, 0) * 100:.1f}", f"{label}: {contribution:.3f}"))
    return out


def _score_bar(lang, row):
    """A score bar (``row.score``, one segment per component) as HTML, one call per bar."""
    score, components = _field(row, "score"), _field(row, "components")
    spans = "".join(f'<span class="seg seg{seg}" style="width: {width}%" title="{escape(title)}"></span>'
                    for seg, width, title in _score_segments(lang, components))
    return Markup(f'<div class="scorebar" title="{score:.3f}">{spans}</div>')


def _reasons_list(lang, reasons, cls="reasons"):
    """Reasons (see :func:`reason_text`) as a ``<ul class=cls>``, one call per list."""
    items = "".join(f"<li>{escape(_reason_text(lang, r))}</li>" for r in reasons or ())
    return Markup(f'<ul class="{escape(cls)}">{items}</ul>')


def _search_controls(lang, form, rounds, tracks, regions, sizes, certificate_kinds, with_role=True):
    """The search form's round, track, region, size and certificate choices (and the role box), as HTML.

    The same bytes as the ``search_controls`` macro it replaced (``tests/test_web.py`` renders the macro
    beside it): some forty options, each a helper call and a comparison in the macro.
    """
    e = escape

    def options(name, values, selected, first=""):
        opts = "".join(f'<option value="{value}" {"selected" if selected == raw else ""}>{label}</option>'
                       for raw, value, label in _options(lang, name, tuple(values)))
        return f'<select name="{name}"{" required" if name == "track" else ""}>{first}{opts}</select></label>\n'

    anything = f'<option value="">{e(_t(lang, "ui.any"))}</option>'
    out = [f"<label>{e(_t(lang, 'ui.round'))}\n  ",
           options("round", [r.name for r in rounds], form["round"]),
           f"<label>{e(_t(lang, 'ui.track'))}\n  ",
           options("track", tracks, form["track"]),
           f"<label>{e(_t(lang, 'ui.region'))}\n  ",
           options("region", regions, form["region"], anything),
           f"<label>{e(_t(lang, 'ui.size'))}\n  ",
           options("size_filter", sizes, form["size"], anything),
           f"<label>{e(_t(lang, 'ui.certificate'))}\n  ",
           options("certificate", certificate_kinds, form["certificate"], anything)]
    if with_role:
        out.append(f'<label class="check"><input type="checkbox" name="as_partner" value="1" '
                   f'{"checked" if form["as_partner"] else ""}> {e(_t(lang, "ui.as_partner"))}</label>')
    return Markup("".join(out))


_OPTION_LABELS = {"round": lambda lang, v: v, "track": _track_name, "region": _region_name, "size_filter": _size_name,
                  "certificate": _certificate_name}


@lru_cache(maxsize=256)
def _options(lang, name, values):
    """``(value, escaped value, escaped label)`` of a choice list (the labels are fixed per language)."""
    label = _OPTION_LABELS[name]
    return tuple((v, str(escape(v)), str(escape(label(lang, v)))) for v in values)


def _result_items(lang, rows, firm, form, partner_href="", interest_action="", csrf=""):
    """The ``<li>`` of every recommendation of a results list, as HTML: one call per list.

    The same markup, byte for byte, as the row loop the template had (``tests/test_web.py`` renders that
    loop beside it); written out here because its twenty-odd helper calls and filters per row were a
    third of the page's rendering. ``firm`` (the asking firm, None on the describe page) gives each row
    its link and the interest form or why it is not offered.
    """
    e = escape
    note, interest, off = e(_t(lang, "ui.note")), e(_t(lang, "ui.interest")), e(_t(lang, "ui.interest_not_offered"))
    offer = bool(firm)
    track, round_name = e(form["track"]), e(form["round"])
    out = []
    for i, r in enumerate(rows, start=1):
        name, brn = e(r["name"]), r["brn"]
        if firm:
            head = f'<a class="name" href="{e(partner_href.replace("__other__", brn, 1))}">{name}</a>\n        '
        else:
            head = f'<span class="name">{name}</span>'
        label = r.get("applied_label")
        badge = f'<span class="badge applied">{e(_bilingual(lang, label["ko"], label["en"]))}</span>' if label else ""
        wish = r.get("interest")
        if offer and wish and wish["ok"]:
            tail = (f'\n      <form method="post" action="{e(interest_action)}" class="inline interest">\n'
                    f'        <input type="hidden" name="csrf_token" value="{e(csrf)}">\n'
                    f'        <input type="hidden" name="other" value="{e(brn)}"><input type="hidden" name="track" '
                    f'value="{track}">\n'
                    f'        <input type="hidden" name="round" value="{round_name}">\n'
                    f'        <input name="note" placeholder="{note}" aria-label="{note} · {name}" maxlength="500">\n'
                    f'        <button type="submit">{interest}</button>\n      </form>\n      ')
        elif offer and wish:
            problems = "".join(f"{e(_reason_text(lang, p))} " for p in wish["problems"])
            tail = f'\n      <p class="muted interest-off">{off}: {problems}</p>\n      '
        else:
            tail = ""
        out.append(f'\n    <li class="result">\n      <div class="result-head">\n        <span class="rank">{i}</span>\n'
                   f'        {head}\n        <span class="muted">{e(_size_name(lang, r["size_class"]))} · '
                   f'{e(_region_name(lang, r["region"]))}</span>\n        {badge}\n'
                   f'        <span class="score">{r["score"]:.3f}</span>\n      </div>\n      {_score_bar(lang, r)}\n'
                   f'      {_reasons_list(lang, r["reasons"])}\n      {tail}\n    </li>\n    ')
    return Markup("".join(out))


def _field(row, name):
    """``row.name`` as a template reads it: an attribute, else a key."""
    if isinstance(row, dict):
        return row.get(name)
    return getattr(row, name, None)


def lang_url(code):
    """The current URL with ``lang=code``."""
    args = request.args.to_dict()
    args["lang"] = code
    return request.path + "?" + "&".join(f"{k}={_quote(v)}" for k, v in args.items())


def _quote(value):
    return quote(str(value), safe="")


_RULES = {}


def _rules():
    if not _RULES:
        _RULES.update(load_rules())
    return _RULES


def _switch_language():
    code = request.args.get("lang")
    if code in LANGS:
        session["lang"] = code


_LINKS = {"style": ("static", {"filename": "style.css"}), "favicon": ("static", {"filename": "favicon.svg"}),
          "script": ("static", {"filename": "app.js"}), "search": ("search.index", {}),
          "describe": ("search.describe", {}), "tracks": ("search.tracks", {}), "login": ("auth.login", {}),
          "logout": ("auth.logout", {}), "rounds": ("rounds.index", {}), "interests": ("rounds.interests", {}),
          "audit": ("rounds.audit_log", {}), "codes": ("codes.index", {})}


def page_links():
    """The layout's fixed links (style sheet, script, menu), built once per app and script root.

    ``url_for`` of the same endpoint and values gives the same path for every request under one script
    root; eleven of them cost every page a twentieth of its time.
    """
    kept = current_app.extensions.setdefault("matcher_page_links", {})
    found = kept.get(request.script_root)
    if found is None:
        found = kept[request.script_root] = {name: url_for(endpoint, **values)
                                             for name, (endpoint, values) in _LINKS.items()}
    return found


def _context():
    lang = current_lang()
    return dict(_in_language(lang), lang=lang, links=page_links(), lang_url=lang_url, ordered_sizes=ordered_sizes,
                column_label=column_label, problem_reason=problem_reason, run_status=run_status,
                job_message=job_message, say=say, audit_detail=audit_detail, import_counts=import_counts)


@lru_cache(maxsize=len(LANGS))
def _in_language(lang):
    """The language's template helpers, bound to ``lang`` (made once per language)."""
    return {name: partial(helper, lang) for name, helper in (
        ("_", _t), ("bilingual", _bilingual), ("track_name", _track_name), ("size_name", _size_name),
        ("region_name", _region_name), ("certificate_name", _certificate_name), ("reason_text", _reason_text),
        ("score_segments", _score_segments), ("score_bar", _score_bar), ("reasons_list", _reasons_list),
        ("result_items", _result_items), ("search_controls_html", _search_controls))}


def import_counts(result):
    """An import job's stored counts (``JobRow.result``) in the current language."""
    from matcher.importer import ImportResult
    fields = ("kind", "inserted", "updated", "unchanged", "rejected")
    return import_summary(ImportResult(**{k: (result or {}).get(k, 0) for k in fields})) if result else ""


def init_app(app):
    """Language switch before each request; helpers for templates."""
    app.before_request(_switch_language)
    app.context_processor(_context)


# --- import reports: column labels, problem reasons, summaries --------------------------------


def column_label(column):
    """An import column as the file's Korean header (``brn`` → 사업자등록번호) in Korean; as is in English."""
    return errors.column_label(column, current_lang())


def problem_reason(reason):
    """A problem's reason (a :class:`~matcher.messages.Msg`, its stored JSON, or an older row's plain
    English) in the current language."""
    if isinstance(reason, dict) and "code" in reason:
        reason = messages.Msg.from_json(reason)
    return messages.render(reason, current_lang())


def problem_text(problem):
    """A :class:`~matcher.errors.Problem` (or a repair note) as one line: row, column, value, reason."""
    if not isinstance(problem, errors.Problem):
        return problem_reason(problem)
    return problem.text(current_lang())


def import_summary(result):
    """An :class:`~matcher.importer.ImportResult`'s counts in the current language."""
    return result.message().text(current_lang())


# --- matching jobs and runs ---------------------------------------------------------------------

def run_status(status):
    """A run's status (optimal, feasible, infeasible, failed, …) in the current language."""
    code = f"status.{status}"
    return messages.render(messages.msg(code), current_lang()) if status and messages.known(code) else (status or "")


def job_message(message):
    """A job's stored progress message (:func:`matcher.messages.dumps`) in the current language."""
    return messages.render(messages.loads(message), current_lang())


def say(message):
    """A :class:`~matcher.messages.Msg`, an error (anything with ``text(lang)``) or a plain string, in the
    current language."""
    if hasattr(message, "text") and not isinstance(message, str):
        return message.text(current_lang())
    return messages.render(message, current_lang())


# --- audit log ------------------------------------------------------------------------------------

_AUDIT_KEYS = ("round", "track", "lead", "partner", "note", "status", "reference_date", "open_tracks", "username",
               "run", "file", "inserted", "updated", "unchanged", "format", "role")
"""Detail keys with a label (``ui.<key>``, or ``audit.<key>`` where the page has no label of that name)."""


def audit_detail(detail):
    """An audit entry's detail as ``[(label, text)]`` in the current language (a non-dict as one item)."""
    if not isinstance(detail, dict):
        return [] if detail in (None, "") else [("", str(detail))]
    return [(_audit_label(key), _audit_value(key, value)) for key, value in detail.items()]


def _audit_label(key):
    if key not in _AUDIT_KEYS:
        return key
    code = f"audit.{key}" if messages.known(f"audit.{key}") else f"ui.{key}"
    return t(code)


def _audit_value(key, value):
    if key == "track" and value:
        return track_name(value)
    if key == "open_tracks" and isinstance(value, list):
        return ", ".join(track_name(v) for v in value) or t("ui.none")
    if key == "status":
        return run_status(value)
    if isinstance(value, (list, tuple)):
        return ", ".join(map(str, value))
    return "" if value is None else str(value)
