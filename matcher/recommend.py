"""Recommendations: the best partners for a lead, and the SMEs a partner should invite.

Engine functions (:func:`recommend_partners`, :func:`recommend_leads`) take plain firms;
:func:`recommend_for_brn` does the database part (firm, round, application, the pool of
firms on the other side) and returns plain dicts, so the CLI and the web view are a
few lines each. Only eligible firms are ever recommended: the ranking comes from
:func:`matcher.candidates.candidate_edges`, which drops every pair the rules forbid.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from . import db
from .candidates import candidate_edges
from .eligibility import eligibility_table, rule_for
from .codes import normalize_region
from .errors import MatcherError
from .firms import CERTIFICATE_ALIASES, CERTIFICATE_KINDS, SIZE_CLASSES, SIZE_NAMES_EN, Firm, format_brn, parse_brn
from .scoring import explain
from .tracks import TRACKS, lead_reasons, load_rules, partner_reasons, round_rules

FILTERS = ("region", "size_class", "certificate")


@dataclass
class Recommendation:
    """One recommended firm (a partner for a lead, or a lead for a partner) and why."""

    rank: int
    firm: Firm
    explanation: object
    application: object = None

    @property
    def score(self):
        return self.explanation.score

    def to_dict(self):
        f = self.firm
        return {"rank": self.rank, "brn": f.brn, "brn_display": format_brn(f.brn), "name": f.name,
                "size_class": f.size_class, "region": f.region, "score": round(self.score, 4),
                "product_code": self.application.product_code if self.application else "",
                "explanation": self.explanation.to_dict()}


@dataclass
class LeadInvitations:
    """The SMEs a partner should invite, with what the track asks of that partner.

    ``min_leads`` / ``max_leads`` come from the track's pairing structure (a large
    partner in 소재부품 or 기술융합 must sign with 5 or more SMEs); ``note_ko`` /
    ``note_en`` say so in words, and whether the partner's eligible leads reach the minimum.
    ``eligible_leads`` counts every lead in the pool the partner may sign with (before
    filters and the cut to ``k``).
    """

    partner: Firm
    track: str
    recommendations: list = field(default_factory=list)
    min_leads: int = 1
    max_leads: int | None = 1
    note_ko: str = ""
    note_en: str = ""
    reasons: list = field(default_factory=list)
    eligible_leads: int = 0


def _as_pairs(items):
    return [(item, None) if isinstance(item, Firm) else tuple(item) for item in items]


def normalize_filters(filters):
    """``filters`` with every value in its canonical form, as sets.

    Parameters
    ----------
    filters : dict, optional
        ``region``: 시도 in any spelling :func:`matcher.codes.normalize_region` accepts
        ('서울', '서울특별시', 'Seoul', '11'); ``size_class``: a size class (소기업) or its
        English name (small firm); ``certificate``: a certificate kind key (patent), its
        Korean or English name, or a usual alias (특허, 직접생산). Each a string or a list.

    Returns
    -------
    dict of str to set of str
        Only the filters given (empty values dropped): 시도 short names, size classes and
        certificate kind keys.

    Raises
    ------
    MatcherError
        For an unknown filter name or value, every one listed with the values allowed.

    Examples
    --------
    >>> normalize_filters({"region": "Seoul", "size_class": ["small firm"], "certificate": "특허"})
    {'region': {'서울'}, 'size_class': {'소기업'}, 'certificate': {'patent'}}
    """
    filters = {key: value for key, value in (filters or {}).items() if value}
    unknown = sorted(set(filters) - set(FILTERS))
    if unknown:
        raise MatcherError(f"unknown filter(s) {', '.join(unknown)} (known: {', '.join(FILTERS)})")
    wanted, problems = {}, []
    for key, values in filters.items():
        wanted[key] = set()
        for value in [values] if isinstance(values, str) else values:
            try:
                wanted[key].add(_NORMALIZERS[key](value))
            except ValueError as exc:
                problems.append(f"{key} filter {str(value)!r} {exc}")
    if problems:
        raise MatcherError("; ".join(problems))
    return wanted


def _size_class(value):
    names = {name.lower(): size for size, name in SIZE_NAMES_EN.items()} | {size: size for size in SIZE_CLASSES}
    key = " ".join(str(value).split()).lower()
    if key not in names:
        allowed = ", ".join(f"{size} ({SIZE_NAMES_EN[size]})" for size in SIZE_CLASSES)
        raise ValueError(f"is not a size class ({allowed})")
    return names[key]


def _certificate(value):
    names = {key.lower(): key for key in CERTIFICATE_KINDS}
    names |= {en.replace(" ", "").lower(): key for key, (_ko, en) in CERTIFICATE_KINDS.items()}
    names |= {alias.lower(): key for alias, key in CERTIFICATE_ALIASES.items()}
    key = str(value).replace(" ", "").lower()
    if key not in names:
        allowed = ", ".join(f"{kind} ({ko})" for kind, (ko, _en) in CERTIFICATE_KINDS.items())
        raise ValueError(f"is not a certificate kind ({allowed})")
    return names[key]


_NORMALIZERS = {"region": normalize_region, "size_class": _size_class, "certificate": _certificate}


def apply_filters(pool, filters, on):
    """Keep the (Firm, Application) pairs that pass ``filters``.

    Parameters
    ----------
    pool : list of (Firm, Application or None)
    filters : dict, optional
        See :func:`normalize_filters`; a ``certificate`` must be held valid on ``on``.
    on : date

    Raises
    ------
    MatcherError
        For an unknown filter name or value.
    """
    passes = _passes(normalize_filters(filters), on)
    return [(firm, app) for firm, app in pool if passes(firm)]


def _passes(wanted, on):
    """Whether a firm passes the normalised filters ``wanted`` (see :func:`normalize_filters`)."""
    def passes(firm):
        if "region" in wanted and firm.region not in wanted["region"]:
            return False
        if "size_class" in wanted and firm.size_class not in wanted["size_class"]:
            return False
        if "certificate" in wanted:
            return any(c.kind in wanted["certificate"] and c.valid_on(on) for c in firm.certificates)
        return True
    return passes


def _with_own(pool, firm, application):
    """``pool`` with ``firm`` (and its ``application``) in it, and the firm's index."""
    pool = _as_pairs(pool or [])
    for i, (other, _app) in enumerate(pool):
        if other.brn == firm.brn:
            pool[i] = (firm, application)
            return pool, i
    return [*pool, (firm, application)], len(pool)


def recommend_partners(lead, track, k=10, filters=None, *, partners, rules, on, lead_application=None,
                       weights=None, text_method=None, leads=None):
    """The ``k`` best eligible partners for ``lead`` in ``track``, best first.

    Every eligible partner of the pool is scored, then the filters remove rows: a filter
    never changes a score.

    Parameters
    ----------
    lead : Firm
    track : str or TrackRule
    k : int
    filters : dict, optional
        See :func:`normalize_filters`.
    partners : list of Firm or of (Firm, Application or None)
        The pool to choose from (e.g. the round's partner applications for the track).
    rules : dict of str to TrackRule
    on : date
        The round's reference date.
    lead_application : Application, optional
        The lead's application (product applied for and text); without one the lead is
        scored on its description and G2B codes.
    weights, text_method
        Passed to :func:`~matcher.candidates.candidate_edges`.
    leads : list of Firm or of (Firm, Application or None), optional
        The other leads of the pool (the round's lead applications for the track). The text
        model is fitted on both sides, as round matching does, so a pair scores the same here
        and in :func:`matcher.matching.run_match`.

    Returns
    -------
    list of Recommendation
        Empty when the lead itself may not lead (see ``tracks.lead_reasons``) or nothing fits.

    Raises
    ------
    MatcherError
        For an unknown filter name or value.
    """
    rule = rule_for(track, rules)
    wanted = normalize_filters(filters)
    pool = _as_pairs(partners)
    if not pool:
        return []
    everyone, me = _with_own(leads, lead, lead_application)
    edges = candidate_edges(everyone, pool, rule, on, k=len(pool), weights=weights, text_method=text_method,
                            lead_subset=[me])
    passes = _passes(wanted, on)
    out = []
    for row in edges.itertuples(index=False):
        partner, app = pool[row.partner_index]
        if not passes(partner):
            continue
        expl = explain(lead, lead_application, partner, app, rule, on, weights, text_value=row.text)
        out.append(Recommendation(len(out) + 1, partner, expl, app))
        if len(out) == k:
            break
    return out


def recommend_leads(partner, track, k=10, filters=None, *, leads, rules, on, partner_application=None,
                    weights=None, text_method=None, partners=None):
    """The SMEs ``partner`` should invite in ``track``, best first, with its pairing requirement.

    Parameters are as for :func:`recommend_partners`, with the roles swapped
    (``leads`` is the pool; ``filters`` apply to the leads; ``partners`` are the other
    partners of the pool, for the text model).

    Returns
    -------
    LeadInvitations
    """
    rule = rule_for(track, rules)
    wanted = normalize_filters(filters)
    cap = rule.capacity_for(partner.size_class)
    everyone = _as_pairs(leads)
    others, me = _with_own(partners, partner, partner_application)
    table = eligibility_table(everyone, others, rule, on)
    result = LeadInvitations(partner, rule.key, min_leads=cap.min if cap else 0, max_leads=cap.max if cap else 0,
                             reasons=table.partner_reasons[me])
    # Whether the partner can reach its minimum depends on the whole pool, not on k or the filters.
    result.eligible_leads = int(table.pair_ok(np.arange(len(everyone)), np.full(len(everyone), me, np.int64)).sum())
    if everyone and not result.reasons:
        edges = candidate_edges(everyone, others, rule, on, k=1, weights=weights, text_method=text_method,
                                table=table, partner_subset=[me])
        passes = _passes(wanted, on)
        edges = edges[np.array([passes(everyone[i][0]) for i in edges["lead_index"]], dtype=bool)]
        edges = edges.sort_values(["score", "lead_brn"], ascending=[False, True]).head(k)
        for rank, row in enumerate(edges.itertuples(index=False), start=1):
            lead, app = everyone[row.lead_index]
            expl = explain(lead, app, partner, partner_application, rule, on, weights, text_value=row.text)
            result.recommendations.append(Recommendation(rank, lead, expl, app))
    result.note_ko, result.note_en = _capacity_note(rule, partner, cap, result.eligible_leads)
    return result


def _capacity_note(rule, partner, cap, found):
    """The partner's pairing requirement in words (Korean, English)."""
    if cap is None:
        return (f"{partner.size_class}는 {rule.name_ko} 과제의 협력기업이 될 수 없음",
                f"a {partner.size_class} may not partner in {rule.name_ko}")
    low, high = max(cap.min, 1), cap.max
    if high is None:
        ko, en = f"주관기업 {low}곳 이상", f"{low} or more leads"
    elif low == high:
        ko, en = f"주관기업 {low}곳", f"{low} lead{'s' if low > 1 else ''}"
    elif low == 1:
        ko, en = f"주관기업 최대 {high}곳", f"up to {high} leads"
    else:
        ko, en = f"주관기업 {low}~{high}곳", f"{low} to {high} leads"
    ko = f"{rule.name_ko}: {partner.size_class} 협력기업은 {ko}과 협약"
    en = f"{rule.name_en}: a {partner.size_class} partner signs with {en}"
    if found < cap.min:
        ko += f" (최소 {cap.min}곳 필요; 적격 후보 {found}곳뿐이라 참여 불가)"
        en += f" (needs at least {cap.min}; only {found} eligible candidates, so it cannot take part)"
    return ko, en


# --- database helpers -----------------------------------------------------------------------


def round_applications(session, round_row, **where):
    """The round's application rows (firms and certificates loaded) matching ``where`` (column=value)."""
    stmt = (select(db.ApplicationRow).where(db.ApplicationRow.round_id == round_row.id)
            .options(selectinload(db.ApplicationRow.firm).selectinload(db.FirmRow.certificates)))
    for name, value in where.items():
        stmt = stmt.where(getattr(db.ApplicationRow, name) == value)
    return list(session.scalars(stmt))


def _all_firms(session):
    stmt = select(db.FirmRow).options(selectinload(db.FirmRow.certificates)).order_by(db.FirmRow.id)
    return [(db.firm_from_row(row), None) for row in session.scalars(stmt)]


def recommend_for_brn(session, brn, track=None, k=10, as_partner=None, filters=None, round_name=None):
    """Recommendations for the firm with 사업자등록번호 ``brn``, as plain dicts.

    Parameters
    ----------
    session : sqlalchemy.orm.Session
    brn : str
        With or without dashes.
    track : str, optional
        Default: the track of the firm's application in the round, else the first
        track in which the firm may take the role.
    k : int
    as_partner : bool, optional
        False: partners for the firm as lead. True: leads the firm (as partner) should invite.
        None (default): as the firm's own application in the round says (partner only when
        it applied only as partner there), else lead.
    filters : dict, optional
        See :func:`normalize_filters` (applied to the recommended side, after scoring).
    round_name : str, optional
        Default: the latest round in which the firm has an application, else the latest
        round; with no round at all, every firm is a candidate and rules are judged on
        today's date.

    Returns
    -------
    dict
        ``firm``, ``role``, ``track``, ``track_name``, ``round``, ``on``, ``reasons`` (why the
        firm itself may not take the role, as ``{code, ko, en}``), ``recommendations``
        (list of :meth:`Recommendation.to_dict`), ``note_ko``/``note_en``, ``pool_size``; as a
        partner also ``min_leads``, ``max_leads`` and ``eligible_leads``.

    Raises
    ------
    NotFoundError
        Unknown firm, round or track.
    MatcherError
        A malformed ``brn``; an unknown filter value; no ``track`` given and no track open
        in the round.
    """
    try:
        digits = parse_brn(brn)
    except ValueError as exc:
        raise MatcherError(f"{str(brn)!r} {exc}") from None
    normalize_filters(filters)  # refuse a bad filter before any work
    firm_row = db.get_firm(session, digits)
    firm = db.firm_from_row(firm_row)
    round_row = db.get_round(session, round_name) if round_name else _latest_round_of(session, firm_row)
    rules = round_rules(round_row) if round_row else load_rules()
    on = round_row.reference_date if round_row else date.today()
    if as_partner is None:
        as_partner = _default_role(session, round_row, firm_row, track) == "partner"
    role, other = ("partner", "lead") if as_partner else ("lead", "partner")
    own = _own_application(session, round_row, firm_row, role, track)
    track = track or (own.track if own else _first_track(rules, firm, role, on, round_row))
    rule = rule_for(track, rules)
    base = {"firm": {"brn": firm.brn, "name": firm.name, "size_class": firm.size_class, "region": firm.region},
            "role": role, "track": rule.key, "track_name": rule.label, "round": round_row.name if round_row else None,
            "on": on.isoformat(), "pool_size": 0, "note_ko": "", "note_en": ""}
    if round_row is not None and not rule.open:
        return _closed_track(base, rule, firm, on, round_row, rules)
    # Both sides of the round's pool, as round matching scores them (the text model is fitted on both).
    pools = {other: _pool(session, round_row, rule.key, other), role: _side(session, round_row, rule.key, role)}
    base["pool_size"] = len(pools[other])
    own_app = db.application_from_row(own) if own else None
    if as_partner:
        res = recommend_leads(firm, rule, k, filters, leads=pools["lead"], rules=rules, on=on,
                              partner_application=own_app, partners=pools["partner"])
        recs, reasons = res.recommendations, res.reasons
        base.update(note_ko=res.note_ko, note_en=res.note_en, min_leads=res.min_leads, max_leads=res.max_leads,
                    eligible_leads=res.eligible_leads)
    else:
        reasons = lead_reasons(rule, firm, on)
        recs = [] if reasons else recommend_partners(firm, rule, k, filters, partners=pools["partner"],
                                                     rules=rules, on=on, lead_application=own_app,
                                                     leads=pools["lead"])
    base["reasons"] = [{"code": r.code, "ko": r.ko, "en": r.en} for r in reasons]
    base["recommendations"] = [r.to_dict() for r in recs]
    return base


def _closed_track(base, rule, firm, on, round_row, rules):
    """The answer for a track the round did not open: the reasons, and no pool at all."""
    check = lead_reasons if base["role"] == "lead" else partner_reasons
    open_keys = ", ".join(key for key in TRACKS if key in rules and rules[key].open) or "none"
    base.update(note_ko=f"{rule.name_ko} 과제는 {round_row.name} 회차에 열리지 않음 (열린 과제: {open_keys})",
                note_en=f"track {rule.key} ({rule.name_en}) is not open in round {round_row.name} "
                        f"(open: {open_keys})",
                reasons=[{"code": r.code, "ko": r.ko, "en": r.en} for r in check(rule, firm, on)],
                recommendations=[])
    return base


def _latest_round_of(session, firm_row):
    """The latest round in which the firm has an application, else :func:`db.latest_round`."""
    stmt = (select(db.RoundRow).join(db.ApplicationRow, db.ApplicationRow.round_id == db.RoundRow.id)
            .where(db.ApplicationRow.firm_id == firm_row.id)
            .order_by(db.RoundRow.reference_date.desc(), db.RoundRow.id.desc()))
    return session.scalars(stmt).first() or db.latest_round(session)


def _default_role(session, round_row, firm_row, track):
    """"partner" when the firm applied in the round (for ``track``, if given) only as partner, else "lead"."""
    if round_row is None:
        return "lead"
    where = {"firm_id": firm_row.id, **({"track": track} if track else {})}
    roles = {app.role for app in round_applications(session, round_row, **where)}
    return "partner" if roles == {"partner"} else "lead"


def _own_application(session, round_row, firm_row, role, track):
    if round_row is None:
        return None
    where = {"role": role, "firm_id": firm_row.id, **({"track": track} if track else {})}
    apps = round_applications(session, round_row, **where)
    return apps[0] if apps else None


def _first_track(rules, firm, role, on, round_row):
    """The first track where ``firm`` may take ``role``, else the first open one (to show why not)."""
    check = lead_reasons if role == "lead" else partner_reasons
    for key in TRACKS:
        if key in rules and not check(rules[key], firm, on):
            return key
    for key in TRACKS:
        if key in rules and rules[key].open:
            return key
    where = f"round {round_row.name}" if round_row is not None else "the track rules"
    raise MatcherError(f"{where}: no open track for firm {format_brn(firm.brn)} ({firm.name}) as {role}; "
                       "open a track for the round or name one")


def _pool(session, round_row, track, role):
    """The other side: the round's applications for the track, else every firm (without applications)."""
    return _side(session, round_row, track, role) or _all_firms(session)


def _side(session, round_row, track, role):
    """The round's ``role`` applications for the track as (Firm, Application); [] without a round."""
    if round_row is None:
        return []
    apps = round_applications(session, round_row, role=role, track=track)
    return [(db.firm_from_row(a.firm), db.application_from_row(a)) for a in apps]
