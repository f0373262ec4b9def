"""Korean by default, English by a switch on every page (``?lang=en``, kept in the session).

A plain dictionary of messages, no extra dependency: ``t("search")`` gives the text in the current
language; an unknown key is shown as itself so a missing message is visible, not fatal.
"""

from __future__ import annotations

import re
from functools import lru_cache, partial
from urllib.parse import quote

from flask import current_app, request, session, url_for
from markupsafe import Markup, escape

from matcher import codes, messages
from matcher.firms import CERTIFICATE_KINDS, SIZE_CLASSES, SIZE_NAMES_EN
from matcher.tracks import load_rules
from matcher.validate import APPLICATION_COLUMNS, FIRM_COLUMNS

LANGS = ("ko", "en")

MESSAGES = {
    # layout
    "app_title": ("공공조달 상생협력 파트너 찾기", "Public procurement win-win partner matching"),
    "nav_search": ("파트너 찾기", "Find partners"),
    "nav_describe": ("미등록 기업", "Unregistered firm"),
    "nav_staff": ("심사 업무", "Staff workbench"),
    "nav_rounds": ("회차", "Rounds"),
    "nav_interests": ("매칭 희망", "Interest requests"),
    "nav_audit": ("감사 기록", "Audit log"),
    "login": ("로그인", "Log in"),
    "logout": ("로그아웃", "Log out"),
    "username": ("아이디", "Username"),
    "password": ("비밀번호", "Password"),
    "login_failed": ("아이디 또는 비밀번호가 맞지 않습니다.", "Unknown username or wrong password."),
    "login_required": ("로그인이 필요합니다.", "Please log in."),
    "logged_in_as": ("로그인:", "Logged in as"),
    # SME search
    "search_title": ("내 기업 찾기", "Find my firm"),
    "search_hint": ("사업자등록번호 또는 기업명", "사업자등록번호 (business registration number) or firm name"),
    "search": ("검색", "Search"),
    "no_firms": ("찾는 기업이 없습니다.", "No firm found."),
    "brn": ("사업자등록번호", "Business reg. no."),
    "name": ("기업명", "Firm name"),
    "size": ("기업 규모", "Size class"),
    "region": ("지역", "Region"),
    "founded": ("설립일", "Founded"),
    "ksic": ("KSIC 업종", "KSIC industry"),
    "g2b": ("G2B 물품분류", "G2B product codes"),
    "description": ("제품·기술 설명", "Products and technology"),
    "certificates": ("인증", "Certificates"),
    "licences": ("건설업 면허", "Construction licences"),
    "valid_to": ("유효기간", "Valid until"),
    "track": ("과제", "Track"),
    "round": ("회차", "Round"),
    "any": ("전체", "Any"),
    "certificate": ("인증", "Certificate"),
    "apply_filters": ("적용", "Apply"),
    "recommend": ("추천 파트너 보기", "Show recommended partners"),
    "partners_for": ("추천 협력기업", "Recommended partners"),
    "leads_for": ("추천 주관기업", "Recommended leads"),
    "legend": ("막대 색:", "Bar colours:"),
    "as_partner": ("협력기업으로서 주관기업 찾기", "Find leads (I am a partner)"),
    "rank": ("순위", "Rank"),
    "score": ("점수", "Score"),
    "reasons": ("추천 이유", "Why"),
    "self_not_eligible": ("이 기업은 이 과제에 이 역할로 참여할 수 없습니다:",
                          "This firm may not take this role in this track:"),
    "no_recommendations": ("조건에 맞는 파트너가 없습니다.", "No eligible partner matches."),
    "details": ("상세", "Details"),
    "why_not": ("이 기업은 왜 안 되나요?", "Why not this firm?"),
    "why_not_title": ("참여 가능 여부", "Eligibility check"),
    "other_brn": ("상대 기업 사업자등록번호 또는 기업명", "Other firm's business reg. no. or name"),
    "check": ("확인", "Check"),
    "eligible": ("이 짝은 참여 조건을 모두 충족합니다.", "This pair meets every eligibility rule."),
    "not_eligible": ("참여할 수 없는 이유", "Why this pair is not eligible"),
    "interest": ("매칭 희망 보내기", "Express interest"),
    "interest_sent": ("매칭 희망을 보냈습니다. 담당자가 확인합니다.",
                      "Interest sent; program staff will see it."),
    "note": ("메모", "Note"),
    "interest_refused": ("매칭 희망을 보내지 않았습니다", "Interest not sent"),
    "describe_title": ("미등록 기업으로 찾기", "Describe a firm that is not registered"),
    "describe_hint": ("입력한 정보는 저장되지 않고 추천에만 쓰입니다.",
                      "What you enter is only used to score partners; nothing is stored."),
    "form_has_errors": ("입력에 고칠 곳이 있습니다. 아래 표시를 확인하세요.",
                        "Some fields need fixing; see the notes below."),
    "codes_hint": ("쉼표로 구분", "comma-separated"),
    "product": ("신청 물품 (세부품명번호 10자리 또는 물품목록번호 16자리)",
                "Product applied for (10-digit 세부품명번호 or 16-digit 물품목록번호)"),
    "partner_detail": ("협력기업 정보", "Partner details"),
    "lead_detail": ("주관기업 정보", "Lead details"),
    "not_in_pool": ("이 기업은 이 과제의 디렉터리 목록에 없어 점수를 매기지 않았습니다.",
                    "This firm is not in the track's directory list, so it is not scored."),
    "components": ("점수 구성", "Score components"),
    "weight": ("가중치", "Weight"),
    "value": ("값", "Value"),
    "contribution": ("기여", "Contribution"),
    # staff
    "rounds": ("회차 목록", "Rounds"),
    "create_round": ("회차 만들기", "Create a round"),
    "reference_date": ("기준일", "Reference date"),
    "open_tracks": ("열린 과제", "Open tracks"),
    "applications": ("신청", "Applications"),
    "leads": ("주관기업", "Leads"),
    "partners": ("협력기업", "Partners"),
    "save": ("저장", "Save"),
    "create": ("만들기", "Create"),
    "round_created": ("회차를 만들었습니다.", "Round created."),
    "round_exists": ("같은 이름의 회차가 이미 있습니다.", "A round with this name already exists."),
    "tracks_saved": ("과제 설정을 저장했습니다.", "Track settings saved."),
    "upload_firms": ("기업 정보 올리기 (CSV/XLSX)", "Upload firms (CSV/XLSX)"),
    "upload_applications": ("신청서 올리기 (CSV/XLSX)", "Upload applications (CSV/XLSX)"),
    "upload": ("올리기", "Upload"),
    "upload_ok": ("가져왔습니다", "Imported"),
    "repaired": ("자동 수정", "Repaired"),
    "upload_refused": ("파일에 문제가 있어 아무것도 저장하지 않았습니다.",
                       "The file has problems; nothing was stored."),
    "no_file": ("파일을 고르세요.", "Choose a file."),
    "row": ("행", "Row"),
    "column": ("열", "Column"),
    "problem": ("문제", "Problem"),
    "run_matching": ("일괄 매칭 실행", "Run batch matching"),
    "mode": ("방식", "Mode"),
    "mode_optimal": ("최적화", "Optimal"),
    "mode_stable": ("안정 매칭 (지연 수락)", "Stable (deferred acceptance)"),
    "time_limit": ("시간 제한(초)", "Time limit (s)"),
    "all_tracks": ("모든 열린 과제", "All open tracks"),
    "progress": ("진행 상황", "Progress"),
    "runs": ("실행 기록", "Runs"),
    "status": ("상태", "Status"),
    "objective": ("목적값", "Objective"),
    "bound": ("상한", "Bound"),
    "gap": ("격차", "Gap"),
    "seconds": ("시간(초)", "Time (s)"),
    "created": ("생성", "Created"),
    "by": ("실행자", "By"),
    "proposals": ("제안된 짝", "Proposed pairs"),
    "lead": ("주관기업", "Lead"),
    "partner": ("협력기업", "Partner"),
    "decision": ("결정", "Decision"),
    "decide": ("결정하기", "Decide"),
    "approve": ("승인", "Approve"),
    "reject": ("반려", "Reject"),
    "lock": ("고정", "Lock"),
    "forbid": ("금지", "Forbid"),
    "decided": ("결정을 저장했습니다. 다시 풀어도 유지됩니다.", "Decision saved; it is kept when re-solving."),
    "resolve": ("결정을 유지하고 다시 풀기", "Re-solve keeping decisions"),
    "filter": ("필터", "Filter"),
    "status_proposed": ("제안", "proposed"),
    "status_approved": ("승인됨", "approved"),
    "status_rejected": ("반려됨", "rejected"),
    "diagnostics": ("진단", "Diagnostics"),
    "unused_partners": ("쓰이지 않은 대·중견 협력기업", "Unused large partners"),
    "blocking_pairs": ("불안정 쌍", "Blocking pairs"),
    "blocking_pairs_hint": ("서로 지금 짝보다 상대를 더 원하는 주관·협력기업 쌍의 수 (0이면 안정 매칭)",
                            "lead–partner pairs who would both rather have each other than their match (0 = stable)"),
    "unmatched_leads": ("짝을 못 찾은 주관기업", "Unmatched leads"),
    "pictures": ("그림", "Pictures"),
    "graph": ("짝 그래프", "Pairing graph"),
    "graph_legend": ("왼쪽: 협력기업, 오른쪽: 주관기업. 빨간 테두리: 최소 짝 수 미달 대·중견 협력기업.",
                     "Left: partners, right: their SMEs. Red outline: large partner below its minimum."),
    "load_chart": ("협력기업별 짝 수", "Leads per partner"),
    "histogram": ("점수 분포", "Score distribution"),
    "export": ("내보내기", "Export"),
    "interests": ("매칭 희망 목록", "Interest requests"),
    "no_interests": ("아직 매칭 희망이 없습니다.", "No interest requests yet."),
    "audit": ("감사 기록", "Audit log"),
    "when": ("시각", "When"),
    "who": ("누가", "Who"),
    "action": ("작업", "Action"),
    "detail": ("내용", "Detail"),
    "none": ("없음", "None"),
    "open": ("열림", "open"),
    "closed": ("닫힘", "closed"),
    "view": ("보기", "View"),
    "open_run": ("결과 보기", "Open the result"),
    # errors
    "error_400": ("잘못된 요청입니다.", "Bad request."),
    "error_401": ("로그인이 필요합니다.", "Login required."),
    "error_403": ("권한이 없습니다.", "You are not allowed to do this."),
    "error_404": ("찾을 수 없습니다.", "Not found."),
    "error_413": ("파일이 너무 큽니다 (최대 10 MB).", "The file is too large (10 MB at most)."),
    "error_500": ("서버 오류가 났습니다. 다시 시도해 주세요.", "Server error; please try again."),
    "home": ("처음으로", "Home"),
    # track rules
    "nav_tracks": ("과제별 조건", "Track rules"),
    "track_rules": ("과제별 참여 조건", "Who may take part in each track"),
    "track_rules_hint": ("회차별로 담당자가 조건을 바꿀 수 있습니다. 인증은 회차 기준일에 유효해야 합니다.",
                         "Staff may change these per round; certificates must be valid on the round's reference date."),
    "lead_cond_startup": ("창업기업(7년 미만)", "a startup (under 7 years)"),
    "lead_cond_small": ("소기업·소상공인", "a small or micro firm"),
    "lead_cond_sme": ("중소기업", "an SME"),
    "or": ("또는", "or"),
    "needs_licence": ("종합·전문 건설업 면허 필요", "needs a general or specialty construction licence"),
    "partner_must_hold": ("협력기업 필요 인증", "Partner must hold"),
    "covers_product": ("신청 물품에 해당하는 것", "covering the product applied for"),
    "structure": ("짝 구조", "Pairing structure"),
    "leads_per_partner": ("곳의 주관기업과 협약", "leads per partner"),
    "graph_one_track": ("짝이 많아 첫 과제만 그렸습니다. 위에서 다른 과제나 모든 과제를 고르세요.",
                        "Too many pairs for one picture: the first track is shown. Pick another track or all tracks above."),
    # SME directory (issue 11)
    "firms_found": ("{n}곳 찾음", "{n} found"),
    "page_of": ("{page}/{pages} 쪽", "page {page} of {pages}"),
    "prev_page": ("이전", "Previous"),
    "next_page": ("다음", "Next"),
    "match_fuzzy": ("비슷한 이름", "similar name"),
    "applicants_only": ("이번 회차 신청 기업만", "Only firms that applied in this round"),
    "directory_pool": ("디렉터리: 참여 자격이 있는 기업 {n}곳 (이번 회차 신청 {applied}곳)",
                       "Directory: {n} firms that could take part ({applied} applied in this round)"),
    "why_empty": ("결과가 없는 이유", "Why nothing is shown"),
    "widen_hint": ("넓혀 보기", "To widen the search"),
    "interest_not_offered": ("관심 표시 불가", "Interest not available"),
    "pick_firm": ("여러 기업이 해당합니다. 하나를 고르세요:", "Several firms match; pick one:"),
    "no_such_firm": ("해당하는 기업이 없습니다.", "No firm matches."),
    "planned_product": ("신청할 물품 (선택)", "Product you mean to apply for (optional)"),
    # the round service's workflow (issue 8)
    "clear": ("결정 해제", "Clear"),
    "cleared": ("결정을 해제했습니다.", "Decision cleared."),
    "clear_decision": ("결정 해제", "Clear decision"),
    "cleared_for_conflict": ("재실행 충돌 해결을 위해 해제", "cleared to resolve a re-solve conflict"),
    "conflicts_title": ("지금 결정으로는 다시 풀 수 없습니다", "These decisions make a re-solve impossible"),
    "conflicts_hint": ("아래 결정을 해제하면 다시 풀 수 있습니다. 아무것도 실행되지 않았습니다.",
                       "Clear the decisions below to re-solve. Nothing was started."),
    "overview": ("과제별 현황", "Where each track stands"),
    "eligible_leads": ("적격 주관", "Eligible leads"),
    "eligible_partners": ("적격 협력", "Eligible partners"),
    "proposed": ("제안", "Proposed"),
    "approved_n": ("승인·고정", "Approved"),
    "rejected_n": ("반려·금지", "Rejected"),
    "pending": ("결정 대기", "Pending"),
    "unmatched_leads_n": ("짝 없는 주관", "Unmatched leads"),
    "unused_large": ("미사용 대·중견", "Unused large partners"),
    "new_interests": ("새 관심 요청", "New interest requests"),
    "closed": ("닫힘", "closed"),
    "round_name": ("회차 이름", "Round name"),
    "rename": ("이름 바꾸기", "Rename"),
    "round_renamed": ("회차 이름을 바꿨습니다.", "Round renamed."),
    "jobs": ("작업", "Jobs"),
    "job_queued": ("대기 중", "queued"),
    "job_running": ("실행 중", "running"),
    "job_done": ("완료", "done"),
    "job_failed": ("실패", "failed"),
    "job_cancelled": ("취소됨", "cancelled"),
    "job_interrupted": ("중단됨", "interrupted"),
    "job_interrupted_hint": ("작업을 하던 서버가 멈췄습니다 (재시작 등). 다시 실행하세요.",
                             "The server doing this job stopped (a restart, say). Retry it."),
    "job_joined": ("같은 실행이 이미 진행 중이라 그 작업을 보여 드립니다.", "The same run is already running: showing it."),
    "job_cancelling": ("취소를 요청했습니다. 다음 단계에서 멈춥니다.", "Cancel requested; it stops at the next step."),
    "cancel": ("취소", "Cancel"),
    "retry": ("다시 실행", "Retry"),
    "back_to_round": ("회차로 돌아가기", "Back to the round"),
    "search_firm": ("기업 찾기", "Find a firm"),
    "name_or_brn": ("이름 또는 사업자등록번호", "name or 사업자등록번호"),
    "no_decision": ("결정 없음", "no decision"),
    "score_min": ("최소 점수", "Min score"),
    "score_max": ("최대 점수", "Max score"),
    "bulk": ("선택한 행 한꺼번에", "Selected rows at once"),
    "select_all": ("모두 선택", "Select all"),
    "select": ("선택", "Select"),
    "apply_selected": ("선택한 행에 적용", "Apply to selected"),
    "history": ("이력", "History"),
    "history_hint": ("이 쌍에 내린 모든 결정입니다. 맨 위(가장 최근)의 결정이 효력이 있습니다.",
                     "Every decision taken on this pair; the latest (top) counts."),
    "current_state": ("현재 상태 (이 실행 이후의 결정)", "Current state (decisions since this run)"),
    "current_state_hint": ("위의 제안 목록은 실행 당시 그대로 보관된 기록입니다. '결정' 열과 이 표는 지금의 결정을 보여 줍니다.",
                           "The proposals above are the run as stored; the Decision column and this table show the decisions as they stand now."),
    "in_run": ("실행 결과에 있음", "In the run"),
    "manual_pair": ("직접 추가한 쌍", "added by hand"),
    "yes": ("예", "yes"),
    "add_pair": ("짝 직접 추가", "Add a pair by hand"),
    "add": ("추가", "Add"),
}


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
    pair = MESSAGES.get(key)
    if pair is None:
        if messages.known(key, lang):
            return messages.render(messages.msg(key), lang)
        return key if default is None else default
    return pair[0] if lang == "ko" else pair[1]


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
    """A :class:`~matcher.tracks.Reason` or a ``{"ko", "en"}`` dict, in the current language."""
    return _reason_text(current_lang(), reason)


def _reason_text(lang, reason):
    if isinstance(reason, dict):
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

    anything = f'<option value="">{e(_t(lang, "any"))}</option>'
    out = [f"<label>{e(_t(lang, 'round'))}\n  ",
           options("round", [r.name for r in rounds], form["round"]),
           f"<label>{e(_t(lang, 'track'))}\n  ",
           options("track", tracks, form["track"]),
           f"<label>{e(_t(lang, 'region'))}\n  ",
           options("region", regions, form["region"], anything),
           f"<label>{e(_t(lang, 'size'))}\n  ",
           options("size_filter", sizes, form["size"], anything),
           f"<label>{e(_t(lang, 'certificate'))}\n  ",
           options("certificate", certificate_kinds, form["certificate"], anything)]
    if with_role:
        out.append(f'<label class="check"><input type="checkbox" name="as_partner" value="1" '
                   f'{"checked" if form["as_partner"] else ""}> {e(_t(lang, "as_partner"))}</label>')
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
    note, interest, off = e(_t(lang, "note")), e(_t(lang, "interest")), e(_t(lang, "interest_not_offered"))
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

IMPORT_KINDS = {"firms": ("기업", "firms"), "applications": ("신청", "applications")}

_STATUS = {
    "optimal": ("최적", "optimal"),
    "feasible": ("해 찾음 (최적 미증명)", "feasible"),
    "infeasible": ("해 없음", "infeasible"),
    "failed": ("실패", "failed"),
    "stable": ("안정 매칭", "stable"),
    "pending": ("대기", "pending"),
}
_MODES = {"optimal": "최적화", "stable": "안정 매칭"}
_ROLES = {"lead": "주관기업", "partner": "협력기업"}
_WANTED = {
    "a 10-digit 세부품명번호 on the SME-competition list": "중소기업자간 경쟁제품 목록의 10자리 세부품명번호",
    "a 16-digit 물품목록번호": "16자리 물품목록번호",
    "a 10-digit 세부품명번호": "10자리 세부품명번호",
}

# English reason (as matcher/validate.py, firms.py, codes.py and importer.py word it) → Korean.
# Patterns are matched whole; ``{name}`` in the Korean text takes the named group.
_REASONS = [
    (r"fails its check digit", "검증번호(마지막 자리)가 맞지 않습니다"),
    (r"is not a 사업자등록번호 \(10 digits.*\)", "사업자등록번호가 아닙니다 (10자리, 123-45-67890 또는 1234567890)"),
    (r"is not one of the 17 시도 \((?P<names>.*)\)", "17개 시도 중 하나가 아닙니다 ({names})"),
    (r"is not a date \(YYYY-MM-DD\)", "날짜가 아닙니다 (YYYY-MM-DD)"),
    (r"is not a calendar date", "달력에 없는 날짜입니다"),
    (r"is not a period \(FROM~TO.*\)", "기간이 아닙니다 (시작~끝, 예: 2026-01-01~2026-12-31)"),
    (r"starts after it ends", "시작일이 종료일보다 늦습니다"),
    (r"is not a size class \((?P<sizes>.*)\)", "기업규모가 아닙니다 ({sizes})"),
    (r"contains (?P<code>.*), not a 5-digit KSIC code", "{code}: 5자리 KSIC 코드가 아닙니다"),
    (r"contains (?P<code>.*), not an 8-digit 물품분류번호", "{code}: 8자리 물품분류번호가 아닙니다"),
    (r"names an unknown certificate kind (?P<kind>.*) \(known: (?P<known>.*)\)",
     "알 수 없는 인증 종류 {kind} (가능: {known})"),
    (r"has product code (?P<code>.*), not 8, 10 or 16 digits", "물품번호 {code}: 8·10·16자리가 아닙니다"),
    (r"has a 직접생산확인 without the 세부품명번호 it covers", "직접생산확인에 해당 세부품명번호가 없습니다"),
    (r"is not KIND:CODE:FROM~TO", "종류:코드:시작~끝 형식이 아닙니다"),
    (r"names licence (?P<kind>.*), not 종합/general or 전문/specialty", "면허 {kind}: 종합 또는 전문이 아닙니다"),
    (r"column is missing", "열이 없습니다"),
    (r"column is missing and no round was given \(--round\)", "열이 없고 회차도 지정되지 않았습니다"),
    (r"has no data rows \(only a header\)", "데이터 행이 없습니다 (머리글만 있음)"),
    (r"is empty", "비어 있습니다"),
    (r"is empty and no round was given \(--round\)", "비어 있고 회차도 지정되지 않았습니다"),
    (r"repeats the 사업자등록번호 of row (?P<row>\d+)", "{row}행과 사업자등록번호가 중복됩니다"),
    (r"applies again as (?P<role>\w+) in (?P<track>\w+) \(row (?P<row>\d+)\)",
     "같은 과제({track})에 같은 역할({role})로 중복 신청했습니다 ({row}행)"),
    (r"is not a round; create it first.*", "없는 회차입니다. 회차를 먼저 만드세요"),
    (r"is not a firm in the database \(import the firms first\)", "등록되지 않은 기업입니다 (기업 정보를 먼저 올리세요)"),
    (r"is not open in round (?P<round>.*)", "회차 {round}에서 열리지 않은 과제입니다"),
    (r"is not a product code \(digits only\)", "물품번호가 아닙니다 (숫자만)"),
    (r"is not an 8, 10 or 16-digit product code", "8·10·16자리 물품번호가 아닙니다"),
    (r"must be (?P<wanted>.*) for (?P<track>.*)", "{track} 과제는 {wanted}여야 합니다"),
    (r"is not on the SME-competition product list \((?P<track>.*)\)", "중소기업자간 경쟁제품 목록에 없습니다 ({track})"),
    (r"is not a role \(주관/lead or 협력/partner\)", "역할이 아닙니다 (주관 또는 협력)"),
    (r"is not a track \((?P<tracks>.*)\)", "과제가 아닙니다 ({tracks})"),
    (r"is not a KSIC code \(a section letter or 2 to 5 digits\)", "KSIC 코드가 아닙니다 (대분류 문자 또는 2~5자리 숫자)"),
    (r"has division (?P<code>\d+), which is in no KSIC section", "중분류 {code}: 어느 KSIC 대분류에도 없습니다"),
    (r"is not a G2B product code \(2 to 16 digits\)", "G2B 물품분류번호가 아닙니다 (2~16자리 숫자)"),
    (r"is given by (?P<n>\d+) columns \((?P<headers>.*)\); keep one",
     "{n}개 열이 같은 항목입니다 ({headers}); 하나만 남기세요"),
    (r"cannot be read as a table \((?P<why>.*)\)", "표로 읽을 수 없습니다 ({why})"),
    (r"cannot decode the file \((?P<why>.*)\)", "파일을 해독할 수 없습니다 ({why})"),
    (r"encoding not recognised; pass --encoding", "문자 인코딩을 알 수 없습니다 (UTF-8 또는 CP949로 저장하세요)"),
    (r"contains the control character (?P<char>.*) at character (?P<n>\d+)", "{n}번째 글자에 제어 문자({char})가 있습니다"),
    (r"is (?P<n>[\d,]+) characters long; at most (?P<max>[\d,]+) are allowed",
     "{n}자입니다. 최대 {max}자까지 허용됩니다"),
    (r"is an old Excel file \(\.xls\), which is not read; .*",
     "예전 Excel 파일(.xls)은 읽지 않습니다. Excel에서 열어 'Excel 통합 문서(.xlsx)'나 'CSV UTF-8'로 저장한 뒤 올리세요"),
    (r"has more than (?P<n>[\d,]+) data rows; split the file .*", "데이터 행이 {n}개를 넘습니다. 파일을 나누어 올리세요"),
    (r"has (?P<n>[\d,]+) columns; at most (?P<max>[\d,]+) are read .*",
     "열이 {n}개입니다. 최대 {max}개까지 읽습니다 (빈 열이나 남는 열을 지우세요)"),
    (r"read as (?P<value>.*)", "→ {value}"),
    (r"read sheet (?P<sheet>.*?) \(the first with a 사업자등록번호 column; the workbook has (?P<sheets>.*)\)",
     "읽은 시트: {sheet} (사업자등록번호 열이 있는 첫 시트; 통합 문서의 시트: {sheets})"),
    (r"read sheet (?P<sheet>.*?) \(none has a 사업자등록번호 column; the workbook has (?P<sheets>.*)\)",
     "읽은 시트: {sheet} (사업자등록번호 열이 있는 시트가 없음; 통합 문서의 시트: {sheets})"),
]
_REASON_PATTERNS = [(re.compile(pattern), ko) for pattern, ko in _REASONS]


@lru_cache(maxsize=1)
def _column_headers():
    """Column name → the Korean header a file uses for it (the first Korean alias)."""
    headers = {}
    for aliases in (APPLICATION_COLUMNS, FIRM_COLUMNS):
        for column, names in aliases.items():
            korean = [n for n in names if not n.isascii()]
            if korean:
                headers[column] = korean[0]
    return headers


def column_label(column):
    """An import column as the file's Korean header (``brn`` → 사업자등록번호) in Korean; as is in English."""
    if not column:
        return ""
    return _column_headers().get(column, column) if current_lang() == "ko" else column


def problem_reason(reason):
    """A problem's reason in the current language; an unknown English reason is shown as it is."""
    if isinstance(reason, dict) and "code" in reason:  # a coded reason as a job's result keeps it
        reason = messages.Msg.from_json(reason)
    if isinstance(reason, messages.Msg):
        return say(reason)
    if current_lang() != "ko" or not reason:
        return reason or ""
    for pattern, ko in _REASON_PATTERNS:
        m = pattern.fullmatch(reason)
        if m:
            groups = m.groupdict()
            if "role" in groups:
                groups["role"] = _ROLES.get(groups["role"], groups["role"])
            if "track" in groups:
                groups["track"] = _track_ko(groups["track"])
            if "wanted" in groups:
                groups["wanted"] = _WANTED.get(groups["wanted"], groups["wanted"])
            return ko.format(**groups)
    return reason


def _track_ko(track):
    rule = _rules().get(track)
    return rule.name_ko if rule is not None else track


def problem_text(problem):
    """A :class:`~matcher.errors.Problem` (or a repair note) as one line: row, column, value, reason."""
    if isinstance(problem, str):
        return problem_reason(problem)
    where = []
    if problem.row is not None:
        where.append(f"{problem.row}행" if current_lang() == "ko" else f"row {problem.row}")
    if problem.column:
        where.append(column_label(problem.column))
    value = f" {problem.value!r}" if problem.value not in (None, "") else ""
    head, reason = ", ".join(where), problem_reason(problem.reason)
    return f"{head}:{value} {reason}" if head else f"{value.strip()} {reason}".strip()


def import_summary(result):
    """An :class:`~matcher.importer.ImportResult`'s counts in the current language."""
    if current_lang() != "ko":
        return str(result)
    kind = IMPORT_KINDS.get(result.kind, (result.kind,))[0]
    return (f"{kind}: {result.inserted}건 추가, {result.updated}건 갱신, {result.unchanged}건 변경 없음, "
            f"{result.rejected}건 제외")


# --- matching jobs and runs ---------------------------------------------------------------------

def run_status(status):
    """A run's status (optimal, feasible, infeasible, failed, …) in the current language."""
    pair = _STATUS.get(status)
    if pair is None:
        return status or ""
    return pair[0] if current_lang() == "ko" else pair[1]


def job_message(message):
    """A job's stored progress message (:func:`matcher.messages.dumps`) in the current language."""
    return messages.render(messages.loads(message), current_lang())


def say(message):
    """A :class:`~matcher.messages.Msg` (or a plain string) in the current language."""
    return messages.render(message, current_lang())


# --- audit log ------------------------------------------------------------------------------------

_AUDIT_KEYS = {"round": "round", "track": "track", "lead": "lead", "partner": "partner", "note": "note",
               "status": "status", "reference_date": "reference_date", "open_tracks": "open_tracks",
               "username": "username"}
_AUDIT_LABELS = {"run": ("실행", "run"), "file": ("파일", "file"), "inserted": ("추가", "inserted"),
                 "updated": ("갱신", "updated"), "unchanged": ("변경 없음", "unchanged"),
                 "format": ("형식", "format"), "role": ("역할", "role")}


def audit_detail(detail):
    """An audit entry's detail as ``[(label, text)]`` in the current language (a non-dict as one item)."""
    if not isinstance(detail, dict):
        return [] if detail in (None, "") else [("", str(detail))]
    return [(_audit_label(key), _audit_value(key, value)) for key, value in detail.items()]


def _audit_label(key):
    if key in _AUDIT_KEYS:
        return t(_AUDIT_KEYS[key])
    return bilingual(*_AUDIT_LABELS[key]) if key in _AUDIT_LABELS else key


def _audit_value(key, value):
    if key == "track" and value:
        return track_name(value)
    if key == "open_tracks" and isinstance(value, list):
        return ", ".join(track_name(v) for v in value) or t("none")
    if key == "status":
        return run_status(value)
    if isinstance(value, (list, tuple)):
        return ", ".join(map(str, value))
    return "" if value is None else str(value)
