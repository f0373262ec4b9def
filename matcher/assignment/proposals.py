"""Best pairs first: the answer when the deadline has already passed (an LP or a flow was interrupted).

:func:`greedy_solution` places the leads by proposal rounds, closes partners left short, in time
linear in the edges (0.4 s at 450,000 edges), with the bound "each lead's best pair" — weak but
valid. It uses nothing else of the package, so every solver module can fall back on it (the
package imports in one direction: problem → proposals → plain → greedy → search → instance).
"""

from __future__ import annotations

import contextvars
import time

import numpy as np


def greedy_solution(problem, rounds=2):
    """A feasible assignment of the free edges by best pairs first, and a valid upper bound.

    Each round places the leads by proposals (:func:`_greedy_pass`: a lead asks its best
    partner with room, a partner keeps its best proposals); partners left below their
    minimum are then closed and the round repeated (``rounds`` times); the pairs of
    partners still short are dropped. Forced partners are not filled here (see :func:`.greedy.fill_forced`).

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
