"""A quick answer for when the time limit cuts the LP short: never reported as optimal.

Drop the minimums and the problem is a transportation problem, solved exactly and fast
(:func:`.plain.solve_plain`); its optimum is a valid upper bound (a relaxation). Then
close every large partner left below its minimum and solve again without it (``rounds``
times); the pairs of partners still short are then dropped: a feasible answer.

Partners forced open by a lock are first given the leads they need (:func:`fill_forced`),
so that a time limit never leaves them short.

:func:`greedy_solution` is the answer when the deadline has already passed (the LP was
interrupted): best pairs first, short partners closed, in time linear in the edges
(0.4 s at 450,000 edges), with the bound "each lead's best pair" — weak but valid.
"""

from __future__ import annotations

import contextvars
import time
from dataclasses import replace

import numpy as np

from ..errors import InfeasibleError
from .plain import solve_plain
from .problem import fix


def quick_solution(problem, rounds=1):
    """A feasible assignment and an upper bound, without the strong LP.

    Parameters
    ----------
    problem : Problem
    rounds : int
        Re-solves after closing short partners; after the last, the pairs of partners
        still short are dropped.

    Returns
    -------
    chosen : ndarray of int
        ``edge_id`` of the chosen edges (the problem's fixed part not included).
    bound : float
        Upper bound on the best total score of the free edges.
    """
    relaxed = replace(problem, cap_min=np.zeros_like(problem.cap_min),
                      must_open=np.zeros_like(problem.must_open))
    chosen = solve_plain(relaxed)
    bound = _value(problem, chosen)
    closed = np.zeros(problem.n_partners, bool)
    for _round in range(rounds + 1):
        short = _short(problem, chosen)
        if not short.any():
            break
        closed |= short
        if _round < rounds:
            chosen = solve_plain(relaxed.keep(~closed[relaxed.partner]))
    keep = np.isin(problem.edge_id, chosen) & ~closed[problem.partner]
    return problem.edge_id[keep], bound


def greedy_solution(problem, rounds=2):
    """A feasible assignment of the free edges by best pairs first, and a valid upper bound.

    Each round places the leads by proposals (:func:`_greedy_pass`: a lead asks its best
    partner with room, a partner keeps its best proposals); partners left below their
    minimum are then closed and the round repeated (``rounds`` times); the pairs of
    partners still short are dropped. Forced partners are not filled here (see :func:`fill_forced`).

    Returns
    -------
    chosen : ndarray of int
        ``edge_id`` of the chosen edges (the problem's fixed part not included).
    bound : float
        Sum over leads of their best free edge's score (each lead takes one partner).
    """
    if problem.n_edges == 0:
        return problem.edge_id[:0], 0.0
    best = np.zeros(problem.n_leads)
    np.maximum.at(best, problem.lead, problem.score)
    order = np.lexsort((-problem.score, problem.lead))
    closed = np.zeros(problem.n_partners, bool)
    for _round in range(rounds + 1):
        if _round and _past_hard_deadline():
            break
        take = _greedy_pass(problem, order, closed)
        load = problem.load(take)
        short = (problem.cap_min > 1) & ~problem.must_open & (load > 0) & (load < problem.cap_min)
        if not short.any():
            break
        closed |= short
    take &= ~closed[problem.partner]
    return problem.edge_id[take], float(best.sum())


HARD_DEADLINE = contextvars.ContextVar("hard_deadline", default=None)
"""``time.perf_counter()`` at which the caller's time limit ends (set by :func:`.instance.solve`, per
thread): the proposal rounds stop there, keeping what is placed (feasible once short partners are closed)."""
GREEDY_ROUNDS = 60
"""Proposal rounds of :func:`_greedy_pass` at most (each is a few vectorised sorts)."""


def _past_hard_deadline():
    stop = HARD_DEADLINE.get()
    return stop is not None and time.perf_counter() >= stop


def _greedy_pass(problem, by_lead, closed):
    """Rounds of proposals: each free lead asks its best partner that still has room; each partner
    keeps the best proposals that fit (weights counted). Every round places at least one lead per
    partner asked, so few rounds are needed; ``by_lead`` orders the edges by lead, best first."""
    lead, part, weight, score = problem.lead, problem.partner, problem.weight, problem.score
    free = np.ones(problem.n_leads, bool)
    room = problem.cap_max.astype(np.int64).copy()
    alive = ~closed[part]
    take = np.zeros(problem.n_edges, bool)
    for _round in range(GREEDY_ROUNDS):
        if _round and _past_hard_deadline():
            break
        ok = alive & free[lead] & (room[part] >= weight)
        cand = by_lead[ok[by_lead]]
        if not len(cand):
            break
        first = cand[np.r_[True, lead[cand[1:]] != lead[cand[:-1]]]]
        asked = first[np.lexsort((-score[first], part[first]))]
        group = part[asked]
        cum = np.cumsum(weight[asked])
        starts = np.r_[0, np.flatnonzero(group[1:] != group[:-1]) + 1]
        before = np.repeat(np.r_[0, cum[starts[1:] - 1]], np.diff(np.r_[starts, len(asked)]))
        accepted = asked[cum - before <= room[group]]
        take[accepted] = True
        free[lead[accepted]] = False
        room -= np.bincount(part[accepted], weights=weight[accepted], minlength=problem.n_partners).astype(np.int64)
    return take


def _fill_weighted(problem, mask, need, priority):
    """With 조합 leads: a small MILP giving every forced partner ``need`` SMEs (at most its maximum), best priority."""
    import scipy.sparse as sp

    from . import highs
    edges = np.flatnonzero(mask)
    if not len(edges):
        return np.zeros(problem.n_edges, bool)
    leads, lrow = np.unique(problem.lead[edges], return_inverse=True)
    parts, prow = np.unique(problem.partner[edges], return_inverse=True)
    w = problem.weight[edges].astype(float)
    n = len(edges)
    A = sp.vstack([sp.csr_matrix((np.ones(n), (lrow, np.arange(n))), shape=(len(leads), n)),
                   sp.csr_matrix((w, (prow, np.arange(n))), shape=(len(parts), n)),
                   sp.csr_matrix((-w, (prow, np.arange(n))), shape=(len(parts), n))], format="csr")
    b = np.concatenate([np.ones(len(leads)), problem.cap_max[parts].astype(float), -need[parts].astype(float)])
    res = highs.solve(-priority[edges], A, b, np.zeros(n), np.ones(n), integer=True)
    taken = np.zeros(problem.n_edges, bool)
    if res.x is not None:
        taken[edges[res.x > 0.5]] = True
    return taken


def _short(problem, chosen):
    count = np.bincount(problem.partner[np.isin(problem.edge_id, chosen)], minlength=problem.n_partners)
    return (problem.cap_min > 1) & ~problem.must_open & (count > 0) & (count < problem.cap_min)


def _value(problem, chosen):
    return float(problem.score[np.isin(problem.edge_id, chosen)].sum())


def fill_forced(problem, priority=None, names=None):
    """Give every partner forced open (a staff lock) the leads it still needs; return the smaller problem.

    The forced partners take their missing ``cap_min`` leads at once, as a maximum-cardinality
    assignment (:func:`.plain.solve_plain` with a bonus per pair larger than any sum of
    priorities), best ``priority`` first among those; so the fill fails only when no
    assignment can fill them all. The rest of the problem then has no forced partner left short.

    Parameters
    ----------
    problem : Problem
    priority : ndarray of float, shape (n_edges,), optional
        In [0, 1], higher first (default: the scores, scaled).
    names : callable, optional
        ``names(kind, index) -> str`` for messages, as in :func:`.problem.fix`.

    Returns
    -------
    Problem
        With the fill fixed (see :func:`.problem.fix`).

    Raises
    ------
    InfeasibleError
        When the forced partners cannot all reach their minimum from the free leads.
    """
    names = names or (lambda kind, i: f"{kind} {i}")
    need = np.where(problem.must_open, problem.cap_min, 0)
    if not need.any():
        return problem
    if priority is None:
        top = problem.score.max() if problem.n_edges else 1.0
        priority = problem.score / top if top > 0 else np.zeros(problem.n_edges)
    mask = need[problem.partner] > 0
    if problem.keep(mask).weighted:
        taken = _fill_weighted(problem, mask, need, priority)
    else:
        sub = replace(problem.keep(mask), cap_max=need, score=priority[mask] + float(need.sum() + 1))
        taken = np.isin(problem.edge_id, solve_plain(sub))
    got = problem.load(taken)
    short = np.flatnonzero(got < need)
    if short.size:
        unit = "SMEs" if problem.weighted else "leads"
        raise InfeasibleError([f"{names('partner', p)} forced open by a lock still needs {need[p]} more {unit} and can get "
                               f"only {got[p]} from the leads left free" for p in short])
    return fix(problem, ones=taken)
