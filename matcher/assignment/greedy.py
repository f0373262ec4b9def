"""A greedy assignment: a quick feasible answer, never reported as optimal."""

from __future__ import annotations

import numpy as np


def greedy(problem):
    """Best-score-first assignment respecting capacities and minimums.

    Partners with a minimum that the first pass leaves short are closed and their
    leads re-offered to the partners that remain. Forced-open partners are not
    guaranteed their minimum (the caller only uses this when the LP ran out of time).

    Returns
    -------
    ndarray of int
        ``edge_id`` of the chosen edges (the problem's fixed part not included).
    """
    order = np.argsort(-problem.score, kind="stable")
    closed = np.zeros(problem.n_partners, bool)
    for _round in range(2):
        take = _pass(problem, order, closed)
        count = np.bincount(problem.partner[take], minlength=problem.n_partners)
        short = (problem.cap_min > 1) & ~problem.must_open & (count > 0) & (count < problem.cap_min)
        if not short.any():
            break
        closed |= short
    take &= ~closed[problem.partner]
    return problem.edge_id[take]


def _pass(problem, order, closed):
    taken = np.zeros(problem.n_leads, bool)
    left = problem.cap_max.copy()
    take = np.zeros(problem.n_edges, bool)
    lead, partner = problem.lead, problem.partner
    for e in order.tolist():
        l, p = lead[e], partner[e]
        if not taken[l] and left[p] > 0 and not closed[p]:
            taken[l] = True
            left[p] -= 1
            take[e] = True
    return take
