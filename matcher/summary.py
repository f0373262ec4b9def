"""A round at a glance: firms and applications per track and role, and how many pairs the rules allow.

Eligibility is :func:`matcher.eligibility.eligibility_table`, the same table matching uses:
rules evaluated once per firm, the pair-level conditions (same firm, same affiliate group,
the partner's certificate covering the lead's product) on arrays. A test checks the count
against :func:`~matcher.tracks.pair_reasons` on every pair, with the lead's product.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import numpy as np

from . import db
from .errors import NotFoundError
from .eligibility import eligibility_table
from .tracks import round_rules


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
    """Summarise ``round_name`` (default: :func:`matcher.db.latest_round`, the latest reference date).

    Returns
    -------
    RoundSummary

    Raises
    ------
    NotFoundError
        When there is no such round (or no round at all).
    """
    if round_name is None:
        row = db.latest_round(session)
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
    """Counts for one track; ``firms`` maps 사업자등록번호 to :class:`~matcher.firms.Firm`.

    Eligibility comes from :func:`matcher.eligibility.eligibility_table`, as in matching:
    a partner's certificate is judged against each lead's product, not the partner's own.
    """
    s = TrackSummary(rule.key, rule.name_ko)
    leads = [(firms[a.brn], a) for a in applications if a.role == "lead"]
    partners = [(firms[a.brn], a) for a in applications if a.role == "partner"]
    s.leads, s.partners = len(leads), len(partners)
    s.large_partners = sum(1 for firm, _a in partners if firm.is_large)
    table = eligibility_table(leads, partners, rule, on)
    for reasons in (*table.lead_reasons, *table.partner_reasons):
        s.refusals.update({r.code.removeprefix("eligibility.") for r in reasons})
    s.eligible_leads, s.eligible_partners = int(table.lead_ok.sum()), int(table.partner_ok.sum())
    ok_leads, ok_partners = np.flatnonzero(table.lead_ok), np.flatnonzero(table.partner_ok)
    step = max(1, _PAIRS_PER_BLOCK // max(1, len(ok_partners)))
    for start in range(0, len(ok_leads), step):
        block = ok_leads[start:start + step]
        s.allowed_pairs += int(table.pair_ok(np.repeat(block, len(ok_partners)),
                                             np.tile(ok_partners, len(block))).sum())
    return s


_PAIRS_PER_BLOCK = 1_000_000
"""Pairs checked per call of ``pair_ok``, so memory stays bounded on national-scale rounds."""


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
