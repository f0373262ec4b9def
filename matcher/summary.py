"""A round at a glance, as pure functions over its pools: firms and applications per track and role, and
how many pairs the rules allow (the round service's :func:`matcher.rounds.round_summary` reads the pools;
``matcher summary`` prints it, and the round page's eligible counts are the same numbers).

Eligibility is :func:`matcher.eligibility.eligibility_table`, the same table matching uses:
rules evaluated once per firm, the pair-level conditions (same firm, same affiliate group,
the partner's certificate covering the lead's product) on arrays. A test checks the count
against :func:`~matcher.tracks.pair_reasons` on every pair, with the lead's product.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import numpy as np

from .eligibility import eligibility_table


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


def track_summary(rule, applications, firms, on):
    """Counts for one track; ``firms`` maps 사업자등록번호 to :class:`~matcher.firms.Firm`."""
    leads = [(firms[a.brn], a) for a in applications if a.role == "lead"]
    partners = [(firms[a.brn], a) for a in applications if a.role == "partner"]
    return pool_summary(rule, leads, partners, on)


def pool_summary(rule, leads, partners, on, pairs=True):
    """Counts for one track's pool: ``leads`` and ``partners`` are ``(Firm, Application)`` pairs.

    Eligibility comes from :func:`matcher.eligibility.eligibility_table`, as in matching:
    a partner's certificate is judged against each lead's product, not the partner's own.
    ``pairs=False`` leaves ``allowed_pairs`` at 0 (the round page needs only the firms' counts).
    """
    s = TrackSummary(rule.key, rule.name_ko)
    s.leads, s.partners = len(leads), len(partners)
    s.large_partners = sum(1 for firm, _a in partners if firm.is_large)
    table = eligibility_table(leads, partners, rule, on)
    for reasons in (*table.lead_reasons, *table.partner_reasons):
        s.refusals.update({r.code.removeprefix("eligibility.") for r in reasons})
    s.eligible_leads, s.eligible_partners = int(table.lead_ok.sum()), int(table.partner_ok.sum())
    if not pairs:
        return s
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
