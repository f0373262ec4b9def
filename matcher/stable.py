"""Two-sided view: preferences, blocking pairs and deferred acceptance with capacities.

Preferences come from the applications' stated preferences (BRNs, best first) and,
after those, from the pair scores (higher first); a pair is acceptable to both sides
only when it is eligible. Deferred acceptance has the leads propose (the
hospitals/residents algorithm), so the result is the lead-optimal stable assignment.

The 5-SME minimum: stability and minimums conflict (a stable matching may leave a
large partner with 1–4 leads). We run deferred acceptance, close every partner left
below its minimum (its leads re-enter the market), and repeat until no partner is
short. Staff locks are fixed first, and a partner a lock forces open is first given
the leads it needs to reach its minimum (its best by its own preferences); it is never closed.

조합 leads: a lead standing for N SMEs takes N places of a partner that takes several
leads (as in the solver); a partner over its capacity rejects its worst-ranked leads
until it fits. A time limit stops the closing rounds (and deferred acceptance itself)
at the deadline: the partners still short are then closed, their pairs dropped, and the
result is feasible but reported as ``"feasible"``, not ``"stable"``.
"""

from __future__ import annotations

import heapq
import time
from collections import deque

import numpy as np

from .assignment import check_feasible
from .assignment.greedy import fill_forced
from .assignment.instance import prepare
from .errors import MatcherError


POST_SECONDS_PER_LEAD = 3e-6
"""Time kept back from a deadline per lead for the work after deferred acceptance stops (0.3 s at 100k)."""


def deferred_acceptance(lead_prefs, partner_rank, capacity, weight=None, deadline=None):
    """Lead-proposing deferred acceptance with partner capacities.

    Parameters
    ----------
    lead_prefs : dict of lead -> list of partner
        Acceptable partners, best first.
    partner_rank : dict of partner -> dict of lead -> int
        Rank of each acceptable lead (0 = best); leads not listed are unacceptable.
    capacity : dict of partner -> int
    weight : dict of (lead, partner) -> int, optional
        Places the lead takes at the partner (a 조합's members; default 1).
    deadline : float, optional
        ``time.perf_counter()`` value; proposals stop there (what is held is returned).

    Returns
    -------
    dict of lead -> partner
        Matched leads only.

    Examples
    --------
    >>> deferred_acceptance({"a": ["P"], "b": ["P"]}, {"P": {"a": 1, "b": 0}}, {"P": 1})
    {'b': 'P'}
    """
    weight = weight or {}
    next_choice = {lead: 0 for lead in lead_prefs}
    held = {p: [] for p in partner_rank}  # max-heap on rank: worst held lead on top
    load = dict.fromkeys(partner_rank, 0)
    free = deque(lead_prefs)
    steps = 0
    while free:
        steps += 1
        if deadline is not None and steps % 256 == 0 and time.perf_counter() >= deadline:
            break
        lead = free.popleft()
        prefs = lead_prefs[lead]
        while next_choice[lead] < len(prefs):
            p = prefs[next_choice[lead]]
            next_choice[lead] += 1
            rank = partner_rank.get(p, {}).get(lead)
            w = weight.get((lead, p), 1)
            if rank is None or capacity.get(p, 0) < w:
                continue
            heapq.heappush(held[p], (-rank, lead))
            load[p] += w
            kept = True
            while load[p] > capacity[p]:
                _, rejected = heapq.heappop(held[p])
                load[p] -= weight.get((rejected, p), 1)
                if rejected == lead:
                    kept = False
                else:
                    free.append(rejected)
            if kept:
                break
    return {lead: p for p, heap in held.items() for _, lead in heap}


def blocking_pairs(assignment, lead_prefs, partner_rank, capacity):
    """Pairs (lead, partner) who would both rather be together than with what ``assignment`` gives them.

    A partner wants a lead when it has a free place or ranks the lead above one it holds.

    Returns
    -------
    list of (lead, partner)
    """
    held = {}
    for lead, p in assignment.items():
        held.setdefault(p, []).append(partner_rank[p][lead])
    worst = {p: max(ranks) for p, ranks in held.items()}
    found = []
    for lead, prefs in lead_prefs.items():
        current = assignment.get(lead)
        for p in prefs:
            if p == current:
                break
            rank = partner_rank.get(p, {}).get(lead)
            if rank is None:
                continue
            if len(held.get(p, ())) < capacity.get(p, 0) or (p in worst and rank < worst[p]):
                found.append((lead, p))
    return found


def preferences(edges, stated=None):
    """Both sides' preferences from scored pairs, stated preferences first.

    Parameters
    ----------
    edges : iterable of (lead, partner, score)
    stated : dict, optional
        ``{node: [other side's nodes, best first]}`` from the applications.

    Returns
    -------
    lead_prefs : dict of lead -> list of partner
    partner_rank : dict of partner -> dict of lead -> int
    """
    stated = stated or {}
    by_lead, by_partner = {}, {}
    for lead, p, score in edges:
        by_lead.setdefault(lead, []).append((p, score))
        by_partner.setdefault(p, []).append((lead, score))

    def order(node, options):
        said = {other: i for i, other in enumerate(stated.get(node, []))}
        return [o for o, s in sorted(options, key=lambda t: (said.get(t[0], len(said)), -t[1], str(t[0])))]

    lead_prefs = {lead: order(lead, opts) for lead, opts in by_lead.items()}
    partner_rank = {p: {lead: i for i, lead in enumerate(order(p, opts))} for p, opts in by_partner.items()}
    return lead_prefs, partner_rank


def stable_with_minimums(lead_prefs, partner_rank, capacity, minimum, forced=(), weight=None, deadline=None):
    """Deferred acceptance, closing partners left below their minimum until none is.

    Parameters
    ----------
    weight : dict of (lead, partner) -> int, optional
        As for :func:`deferred_acceptance`; minimums count the same places.
    deadline : float, optional
        When it passes, the partners still short are closed and their pairs dropped.

    Returns
    -------
    assignment : dict of lead -> partner
    closed : set of partner
        Partners closed because they stayed below their minimum.
    complete : bool
        False when the deadline cut the rounds short (the assignment is feasible, not stable).
    """
    weight = weight or {}
    closed = set()
    # the work after deferred acceptance stops (loads, closing, the result) is linear in the leads
    stop = None if deadline is None else deadline - POST_SECONDS_PER_LEAD * len(lead_prefs)
    while True:
        caps = {p: (0 if p in closed else c) for p, c in capacity.items()}
        assignment = deferred_acceptance(lead_prefs, partner_rank, caps, weight, stop)
        load = {}
        for lead, p in assignment.items():
            load[p] = load.get(p, 0) + weight.get((lead, p), 1)
        short = {p for p, n in load.items() if minimum.get(p, 0) > 1 and n < minimum[p] and p not in forced}
        if not short:
            return assignment, closed, True
        closed |= short
        if stop is not None and time.perf_counter() >= stop:
            return {lead: p for lead, p in assignment.items() if p not in closed}, closed, False


def stable_assignment(stated, leads, partners, edges, locks, forbid, members=None, time_limit=None):
    """``--mode stable`` for round matching: (chosen pairs, run summary).

    Locks and forbids are checked as the solver checks them (same :class:`InfeasibleError`
    messages); locked pairs are fixed first, and each partner a lock forces open gets the
    leads it still needs to reach its minimum, best in its own preferences first
    (:func:`matcher.assignment.greedy.fill_forced`). The leads left then go through
    :func:`stable_with_minimums` (forbidden pairs unacceptable). The result is checked
    with :func:`matcher.assignment.check_feasible`. ``members`` (lead -> SMEs of a 조합)
    and ``time_limit`` (seconds) as for :func:`matcher.assignment.solve`.
    """
    deadline = None if time_limit is None else time.perf_counter() + float(time_limit)
    problem, frame, names, (base, _ids) = prepare(leads, partners, edges, locks, forbid, members=members,
                                                  with_base=True)
    rows = list(frame.itertuples(index=False, name=None))
    forbidden = set(forbid)
    _lead_prefs, partner_rank = preferences([r for r in rows if r[:2] not in forbidden], stated)
    rank = np.array([partner_rank.get(p, {}).get(lead, len(rows)) for lead, p, _s in rows], dtype=float)
    filled = fill_forced(problem, priority=1.0 / (1.0 + rank[problem.edge_id]), names=names)
    part_ids = [p for p, _lo, _hi in partners]
    lead_prefs, partner_rank = preferences([rows[e] for e in filled.edge_id], stated)
    capacity = {p: int(filled.cap_max[j]) for j, p in enumerate(part_ids)}
    minimum = {p: int(filled.cap_min[j]) for j, p in enumerate(part_ids)}
    forced = {p for j, p in enumerate(part_ids) if filled.must_open[j]}
    weight = {rows[e][:2]: int(base.weight[e]) for e in np.flatnonzero(base.weight > 1)}
    assignment, _closed, complete = stable_with_minimums(lead_prefs, partner_rank, capacity, minimum, forced=forced,
                                                         weight=weight, deadline=deadline)
    score = {(lead, p): s for lead, p, s in rows}
    chosen = [rows[e] for e in filled.fixed] + [(lead, p, score[(lead, p)]) for lead, p in sorted(assignment.items())]
    broken = check_feasible(chosen, partners, rows, locks, forbid, members=_member_map(leads, members))
    if broken:  # a bug, not bad input
        raise MatcherError("stable mode produced an infeasible assignment: " + "; ".join(broken))
    total = float(sum(s for _, _, s in chosen))
    return chosen, {"status": "stable" if complete else "feasible", "objective": total, "bound": None, "gap": None}


def _member_map(leads, members):
    if members is None or isinstance(members, dict):
        return members
    return dict(zip(leads, members))
