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
from .assignment.problem import Problem
from .assignment.stability import (blocking_edges, blocking_groups, enumerate_stable, exact, stable_milp,
                                   stable_nonzeros)
from .errors import MatcherError
from .messages import N_, msg


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
            if load[p] > capacity[p]:  # keep the best that fit, in rank order: a small lead may still fit
                held[p], load[p], rejected = _refit(held[p], capacity[p], p, weight)
                for other in rejected:
                    if other == lead:
                        kept = False
                    else:
                        free.append(other)
            if kept:
                break
    return {lead: p for p, heap in held.items() for _, lead in heap}


def _refit(heap, cap, p, weight):
    """The held leads best first, each kept when it still fits beside the better ones (issue 23: a
    partner over its maximum once rejected from the worst up and never took back one that fit again)."""
    kept, load, rejected = [], 0, []
    for neg_rank, lead in sorted(heap, reverse=True):
        w = weight.get((lead, p), 1)
        if load + w <= cap:
            kept.append((neg_rank, lead))
            load += w
        else:
            rejected.append(lead)
    heapq.heapify(kept)
    return kept, load, rejected


def blocking_pairs(assignment, lead_prefs, partner_rank, capacity, weight=None, minimum=None):
    """Pairs (lead, partner) that block ``assignment`` by the weighted condition of
    :mod:`matcher.assignment.stability`: the lead ranks the partner above its match (or has none), and
    the partner can take it by giving up only leads it ranks lower, staying within its minimum and
    maximum counted in SMEs.

    Parameters
    ----------
    weight : dict of (lead, partner) -> int, optional
        SMEs the lead counts at the partner (a 조합's members; default 1).
    minimum : dict of partner -> int, optional
        Binding when above 1: the partner is unused or holds at least that many SMEs.

    Returns
    -------
    list of (lead, partner)
        In the order of ``lead_prefs`` (each lead's partners best first).

    Examples
    --------
    P takes at most 5 SMEs and ranks B (4 SMEs) above Y (2) above A (1): beside B, A fits and Y does not.

    >>> prefs = {"A": ["P"], "Y": ["P"], "B": ["P"]}
    >>> rank = {"P": {"B": 0, "Y": 1, "A": 2}}
    >>> w = {("B", "P"): 4, ("Y", "P"): 2}
    >>> blocking_pairs({"B": "P"}, prefs, rank, {"P": 5}, w)
    [('A', 'P')]
    >>> blocking_pairs({"B": "P", "A": "P"}, prefs, rank, {"P": 5}, w)
    []
    """
    problem, pairs, lead_rank, part_rank = _index_form(lead_prefs, partner_rank, capacity, weight, minimum)
    chosen = np.array([assignment.get(lead) == p for lead, p in pairs], bool)
    block = blocking_edges(problem, lead_rank, part_rank, chosen)
    return [pairs[e] for e in np.flatnonzero(block)]


def _index_form(lead_prefs, partner_rank, capacity, weight=None, minimum=None):
    """The market as a :class:`~matcher.assignment.problem.Problem` with its ranks per edge."""
    weight, minimum = weight or {}, minimum or {}
    pairs = [(lead, p) for lead, prefs in lead_prefs.items() for p in prefs if lead in partner_rank.get(p, {})]
    lead_ids = {lead: i for i, lead in enumerate(lead_prefs)}
    part_ids = {p: j for j, p in enumerate(dict.fromkeys([*capacity, *partner_rank, *(p for _l, p in pairs)]))}
    lead_rank = np.array([lead_prefs[lead].index(p) for lead, p in pairs], dtype=np.int64)
    part_rank = np.array([partner_rank[p][lead] for lead, p in pairs], dtype=np.int64)
    caps = np.array([capacity.get(p, 0) for p in part_ids], dtype=np.int64)
    mins = np.array([minimum.get(p, 0) for p in part_ids], dtype=np.int64)
    problem = Problem(n_leads=len(lead_ids), n_partners=len(part_ids), cap_min=mins, cap_max=caps,
                      must_open=np.zeros(len(part_ids), bool),
                      lead=np.array([lead_ids[lead] for lead, _p in pairs], dtype=np.int64),
                      partner=np.array([part_ids[p] for _l, p in pairs], dtype=np.int64),
                      score=np.zeros(len(pairs)), edge_id=np.arange(len(pairs)),
                      weight=np.array([weight.get(pair, 1) for pair in pairs], dtype=np.int64))
    return problem, pairs, lead_rank, part_rank


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


STABLE_MILP_NONZEROS = 3_000_000
"""The stability MILP is tried up to this many nonzeros in its stability rows (pairs of edges sharing a
lead or a partner); beyond, the deferred-acceptance answer stands with its blocking pairs counted."""
STABLE_MILP_SECONDS = 60.0
"""Without a time limit the search for a stable assignment stops after this (then: best found)."""
LISTED = 50
"""Blocking pairs and groups listed in a run's summary (all are counted)."""


def stable_assignment(stated, leads, partners, edges, locks, forbid, members=None, time_limit=None):
    """``--mode stable`` for round matching: (chosen pairs, run summary).

    Locks and forbids are checked as the solver checks them (same :class:`InfeasibleError`
    messages) and locked pairs are fixed. Deferred acceptance comes first (a partner a lock forces
    open is first given the leads it needs, :func:`matcher.assignment.greedy.fill_forced`; then
    :func:`stable_with_minimums`), and its answer is checked by the weighted blocking condition
    (:mod:`matcher.assignment.stability`). When a pair blocks it, the stability MILP looks for the
    best-scoring stable assignment (within the time limit, up to :data:`STABLE_MILP_NONZEROS`).
    The status is ``"stable"`` only when no pair blocks the answer; otherwise ``"feasible"``, and
    ``summary["stability"]`` says why: no stable assignment exists (proven), or the best found with
    its blocking pairs listed. Unused partners that leads preferring them could open together are
    listed there too (``groups``). ``members`` (lead -> SMEs of a 조합) and ``time_limit`` as for
    :func:`matcher.assignment.solve`.
    """
    deadline = None if time_limit is None else time.perf_counter() + float(time_limit)
    problem, frame, names, (base, _ids) = prepare(leads, partners, edges, locks, forbid, members=members,
                                                  with_base=True)
    rows = list(frame.itertuples(index=False, name=None))
    assignment, complete = _deferred(stated, problem, rows, base, names, partners, deadline)
    lead_rank, part_rank = _ranks(problem, rows, stated)
    where = {rows[e][:2]: i for i, e in enumerate(problem.edge_id)}
    chosen = np.zeros(problem.n_edges, bool)
    chosen[[where[pair] for pair in assignment.items()]] = True
    block = blocking_edges(problem, lead_rank, part_rank, chosen)
    outcome = "found" if not block.any() else "best_found" if complete else "cut"
    if block.any() and (deadline is None or time.perf_counter() < deadline) \
            and stable_nonzeros(problem) <= STABLE_MILP_NONZEROS:
        status, found = stable_milp(problem, lead_rank, part_rank, _milp_deadline(deadline))
        if found is not None:
            chosen, block = found, blocking_edges(problem, lead_rank, part_rank, found)
            outcome = "found" if not block.any() else "best_found"  # (the rows make it stable: not seen)
        elif status == "infeasible" and exact(problem):
            outcome = "none"
        elif status == "infeasible":  # the rows are stricter than the condition here: try every assignment
            status, found = enumerate_stable(problem, lead_rank, part_rank, _milp_deadline(deadline))
            if found is not None:
                chosen, block, outcome = found, np.zeros(problem.n_edges, bool), "found"
            else:
                outcome = "none" if status == "infeasible" else "best_found"
        else:
            outcome = "cut"
    picked = [rows[e] for e in problem.fixed] + [rows[e] for e in problem.edge_id[chosen]]
    broken = check_feasible(picked, partners, rows, locks, forbid, members=_member_map(leads, members))
    if broken:  # a bug, not bad input
        raise MatcherError("stable mode produced an infeasible assignment: " + "; ".join(broken))
    stability = _stability(problem, rows, lead_rank, chosen, block, outcome)
    total = float(sum(s for _, _, s in picked))
    return picked, {"status": "stable" if outcome == "found" else "feasible",
                    "objective": total, "bound": None, "gap": None, "stability": stability}


def _milp_deadline(deadline):
    """The search's deadline: the run's, and at most :data:`STABLE_MILP_SECONDS` from now without one."""
    cap = time.perf_counter() + STABLE_MILP_SECONDS
    return cap if deadline is None else min(deadline, cap)


def _deferred(stated, problem, rows, base, names, partners, deadline):
    """Deferred acceptance after filling the partners locks force open: (lead -> partner, complete)."""
    _lead_prefs, partner_rank = preferences([rows[e] for e in problem.edge_id], stated)
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
    fill = np.setdiff1d(filled.fixed, problem.fixed)
    assignment.update({rows[e][0]: rows[e][1] for e in fill})
    return assignment, complete


def _ranks(problem, rows, stated):
    """Each edge's place in its lead's and in its partner's preferences (0 = best)."""
    lead_prefs, partner_rank = preferences([rows[e] for e in problem.edge_id], stated)
    place = {lead: {p: i for i, p in enumerate(prefs)} for lead, prefs in lead_prefs.items()}
    pairs = [rows[e][:2] for e in problem.edge_id]
    return (np.array([place[lead][p] for lead, p in pairs], dtype=np.int64),
            np.array([partner_rank[p][lead] for lead, p in pairs], dtype=np.int64))


def _stability(problem, rows, lead_rank, chosen, block, outcome):
    """The stability part of a stable-mode summary: counts, the first pairs and groups, a message."""
    pairs = [list(rows[e][:2]) for e in problem.edge_id[block]]
    groups = []
    for p, group in blocking_groups(problem, lead_rank, chosen):
        groups.append({"partner": rows[problem.edge_id[group[0]]][1],
                       "leads": [rows[e][0] for e in problem.edge_id[group]],
                       "smes": int(problem.weight[group].sum()), "minimum": int(problem.cap_min[p])})
    codes = {"found": N_("solver.stable.found"), "none": N_("solver.stable.none"),
             "best_found": N_("solver.stable.best_found"), "cut": N_("solver.stable.cut")}
    message = msg(codes[outcome], count=len(pairs))
    return {"blocking": len(pairs), "pairs": pairs[:LISTED], "proven_none": outcome == "none",
            "groups": groups[:LISTED], "message": message.to_json()}


def _member_map(leads, members):
    if members is None or isinstance(members, dict):
        return members
    return dict(zip(leads, members))
