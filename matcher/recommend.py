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
from .errors import MatcherError
from .firms import Firm, format_brn
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


def apply_filters(pool, filters, on):
    """Keep the (Firm, Application) pairs that pass ``filters``.

    Parameters
    ----------
    pool : list of (Firm, Application or None)
    filters : dict, optional
        ``region``: 시도 short name(s); ``size_class``: size class(es); ``certificate``:
        certificate kind(s) of which the firm must hold one valid on ``on``.
    on : date

    Raises
    ------
    MatcherError
        For an unknown filter name.
    """
    filters = {key: value for key, value in (filters or {}).items() if value}
    unknown = sorted(set(filters) - set(FILTERS))
    if unknown:
        raise MatcherError(f"unknown filter(s) {', '.join(unknown)} (known: {', '.join(FILTERS)})")
    wanted = {key: {value} if isinstance(value, str) else set(value) for key, value in filters.items()}

    def passes(firm):
        if "region" in wanted and firm.region not in wanted["region"]:
            return False
        if "size_class" in wanted and firm.size_class not in wanted["size_class"]:
            return False
        if "certificate" in wanted:
            return any(c.kind in wanted["certificate"] and c.valid_on(on) for c in firm.certificates)
        return True

    return [(firm, app) for firm, app in pool if passes(firm)]


def recommend_partners(lead, track, k=10, filters=None, *, partners, rules, on, lead_application=None,
                       weights=None, text_method=None):
    """The ``k`` best eligible partners for ``lead`` in ``track``, best first.

    Parameters
    ----------
    lead : Firm
    track : str or TrackRule
    k : int
    filters : dict, optional
        See :func:`apply_filters`.
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

    Returns
    -------
    list of Recommendation
        Empty when the lead itself may not lead (see ``tracks.lead_reasons``) or nothing fits.
    """
    rule = rule_for(track, rules)
    pool = apply_filters(_as_pairs(partners), filters, on)
    if not pool:
        return []
    edges = candidate_edges([(lead, lead_application)], pool, rule, on, k=k, weights=weights,
                            text_method=text_method)
    out = []
    for rank, row in enumerate(edges.itertuples(index=False), start=1):
        partner, app = pool[row.partner_index]
        expl = explain(lead, lead_application, partner, app, rule, on, weights, text_value=row.text)
        out.append(Recommendation(rank, partner, expl, app))
    return out


def recommend_leads(partner, track, k=10, filters=None, *, leads, rules, on, partner_application=None,
                    weights=None, text_method=None):
    """The SMEs ``partner`` should invite in ``track``, best first, with its pairing requirement.

    Parameters are as for :func:`recommend_partners`, with the roles swapped
    (``leads`` is the pool; ``filters`` apply to the leads).

    Returns
    -------
    LeadInvitations
    """
    rule = rule_for(track, rules)
    cap = rule.capacity_for(partner.size_class)
    everyone = _as_pairs(leads)
    own = [(partner, partner_application)]
    table = eligibility_table(everyone, own, rule, on)
    result = LeadInvitations(partner, rule.key, min_leads=cap.min if cap else 0, max_leads=cap.max if cap else 0,
                             reasons=table.partner_reasons[0])
    # Whether the partner can reach its minimum depends on the whole pool, not on k or the filters.
    result.eligible_leads = int(table.pair_ok(np.arange(len(everyone)), np.zeros(len(everyone), np.int64)).sum())
    pool = apply_filters(everyone, filters, on)
    if pool and not result.reasons:
        edges = candidate_edges(pool, own, rule, on, k=1, weights=weights, text_method=text_method,
                                table=table if len(pool) == len(everyone) else None)
        edges = edges.sort_values(["score", "lead_brn"], ascending=[False, True]).head(k)
        for rank, row in enumerate(edges.itertuples(index=False), start=1):
            lead, app = pool[row.lead_index]
            expl = explain(lead, app, partner, partner_application, rule, on, weights, text_value=row.text)
            result.recommendations.append(Recommendation(rank, lead, expl, app))
    result.note_ko, result.note_en = _capacity_note(rule, partner, cap, result.eligible_leads)
    return result


def _capacity_note(rule, partner, cap, found):
    if cap is None:
        return (f"{partner.size_class}는 {rule.name_ko} 과제의 협력기업이 될 수 없음",
                f"a {partner.size_class} may not partner in {rule.name_ko}")
    upto = f"{cap.max}" if cap.max else "제한 없음"
    ko = f"{rule.name_ko}: {partner.size_class} 협력기업은 주관기업 {cap.min}~{upto}곳과 협약"
    en = f"{rule.name_en}: a {partner.size_class} partner signs with {cap.min} to {cap.max or 'any number of'} leads"
    if cap.min > 1:
        ko += f" (최소 {cap.min}곳 필요"
        en += f" (needs at least {cap.min}"
        if found < cap.min:
            ko += f"; 적격 후보 {found}곳뿐이라 참여 불가"
            en += f"; only {found} eligible candidates, so it cannot take part"
        ko, en = ko + ")", en + ")"
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


def recommend_for_brn(session, brn, track=None, k=10, as_partner=False, filters=None, round_name=None):
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
    as_partner : bool
        False: partners for the firm as lead. True: leads the firm (as partner) should invite.
    filters : dict, optional
        See :func:`apply_filters` (applied to the recommended side).
    round_name : str, optional
        Default: the latest round; with no round at all, every firm is a candidate and
        rules are judged on today's date.

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
        No ``track`` given and no track open in the round.
    """
    firm_row = db.get_firm(session, brn)
    firm = db.firm_from_row(firm_row)
    round_row = db.get_round(session, round_name) if round_name else db.latest_round(session)
    rules = round_rules(round_row) if round_row else load_rules()
    on = round_row.reference_date if round_row else date.today()
    role, other = ("partner", "lead") if as_partner else ("lead", "partner")
    own = _own_application(session, round_row, firm_row, role, track)
    track = track or (own.track if own else _first_track(rules, firm, role, on, round_row))
    rule = rule_for(track, rules)
    pool = _pool(session, round_row, rule.key, other)
    base = {"firm": {"brn": firm.brn, "name": firm.name, "size_class": firm.size_class, "region": firm.region},
            "role": role, "track": rule.key, "track_name": rule.label, "round": round_row.name if round_row else None,
            "on": on.isoformat(), "pool_size": len(pool), "note_ko": "", "note_en": ""}
    own_app = db.application_from_row(own) if own else None
    if as_partner:
        res = recommend_leads(firm, rule, k, filters, leads=pool, rules=rules, on=on, partner_application=own_app)
        recs, reasons = res.recommendations, res.reasons
        base.update(note_ko=res.note_ko, note_en=res.note_en, min_leads=res.min_leads, max_leads=res.max_leads,
                    eligible_leads=res.eligible_leads)
    else:
        reasons = lead_reasons(rule, firm, on)
        recs = [] if reasons else recommend_partners(firm, rule, k, filters, partners=pool, rules=rules,
                                                     on=on, lead_application=own_app)
    base["reasons"] = [{"code": r.code, "ko": r.ko, "en": r.en} for r in reasons]
    base["recommendations"] = [r.to_dict() for r in recs]
    return base


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
    if round_row is not None:
        apps = round_applications(session, round_row, role=role, track=track)
        if apps:
            return [(db.firm_from_row(a.firm), db.application_from_row(a)) for a in apps]
    return _all_firms(session)
