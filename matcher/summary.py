"""A round at a glance: firms and applications per track and role, and how many pairs the rules allow.

Rules are evaluated once per firm (:func:`~matcher.tracks.lead_reasons`,
:func:`~matcher.tracks.partner_reasons`, the latter once per product when the partner's
certificate must cover it); only the pair-level conditions (same firm, same affiliate
group) are checked per pair. A test checks the count against
:func:`~matcher.tracks.pair_reasons` on every pair.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from sqlalchemy import select

from . import db
from .errors import NotFoundError
from .tracks import lead_reasons, partner_reasons, round_rules


@dataclass
class TrackSummary:
    """One track of a round: applications, eligible firms, allowed pairs and why firms are refused."""

    track: str
    name_ko: str
    leads: int = 0
    partners: int = 0
    large_partners: int = 0
    eligible_leads: int = 0
    eligible_partners: int = 0
    allowed_pairs: int = 0
    refusals: Counter = field(default_factory=Counter)  # reason code → firms refused for it


@dataclass
class RoundSummary:
    name: str
    reference_date: object
    firms: int
    tracks: list


def round_summary(session, round_name=None):
    """Summarise ``round_name`` (default: the most recently created round).

    Returns
    -------
    RoundSummary

    Raises
    ------
    NotFoundError
        When there is no such round (or no round at all).
    """
    if round_name is None:
        row = session.scalars(select(db.RoundRow).order_by(db.RoundRow.id.desc())).first()
        if row is None:
            raise NotFoundError("no round yet; create one with: matcher round create NAME --reference-date YYYY-MM-DD")
    else:
        row = db.get_round(session, round_name)
    rules = round_rules(row)
    apps = [db.application_from_row(a) for a in row.applications]
    firm_rows = {a.firm.brn: a.firm for a in row.applications}
    firms = {brn: db.firm_from_row(r) for brn, r in firm_rows.items()}
    tracks = [track_summary(rules[t], [a for a in apps if a.track == t], firms, row.reference_date)
              for t in rules if t in (row.open_tracks or []) or any(a.track == t for a in apps)]
    return RoundSummary(row.name, row.reference_date, len(firms), tracks)


def track_summary(rule, applications, firms, on):
    """Counts for one track; ``firms`` maps 사업자등록번호 to :class:`~matcher.firms.Firm`."""
    s = TrackSummary(rule.key, rule.name_ko)
    leads = [a for a in applications if a.role == "lead"]
    partners = [a for a in applications if a.role == "partner"]
    s.leads, s.partners = len(leads), len(partners)
    s.large_partners = sum(1 for a in partners if firms[a.brn].is_large)
    ok_leads = []
    for a in leads:
        reasons = lead_reasons(rule, firms[a.brn], on)
        s.refusals.update({r.code for r in reasons})
        if not reasons:
            ok_leads.append(a)
    s.eligible_leads = len(ok_leads)
    partner_ok = {}
    for p in partners:
        reasons = partner_reasons(rule, firms[p.brn], on, p.product_code)
        s.refusals.update({r.code for r in reasons})
        s.eligible_partners += not reasons
        partner_ok[p.brn] = _partner_checker(rule, firms[p.brn], on)
    for lead in ok_leads:
        lf = firms[lead.brn]
        for p in partners:
            pf = firms[p.brn]
            if lf.brn == pf.brn or (lf.affiliate_group and lf.affiliate_group == pf.affiliate_group):
                continue
            if partner_ok[p.brn](lead.product_code):
                s.allowed_pairs += 1
    return s


def _partner_checker(rule, firm, on):
    """A cached ``product_code → bool`` of ``partner_reasons`` being empty."""
    cache = {}

    def ok(product_code):
        key = product_code if rule.certificate_covers_product else ""
        if key not in cache:
            cache[key] = not partner_reasons(rule, firm, on, key)
        return cache[key]
    return ok


def format_summary(summary):
    """The summary as text for the terminal."""
    lines = [f"round {summary.name} (reference date {summary.reference_date}): {summary.firms} firms applied"]
    lines.append(f"{'track':<14}{'leads':>7}{'partners':>10}{'large':>7}{'ok leads':>10}"
                 f"{'ok partners':>13}{'allowed pairs':>15}")
    for t in summary.tracks:
        lines.append(f"{t.track:<14}{t.leads:>7}{t.partners:>10}{t.large_partners:>7}{t.eligible_leads:>10}"
                     f"{t.eligible_partners:>13}{t.allowed_pairs:>15}")
    for t in summary.tracks:
        if t.refusals:
            top = ", ".join(f"{code} {n}" for code, n in t.refusals.most_common())
            lines.append(f"  {t.name_ko} ({t.track}) firms refused: {top}")
    return "\n".join(lines)
