"""A quick answer for when the time limit cuts the LP short: never reported as optimal.

Drop the minimums and the problem is a transportation problem, solved exactly and fast
(:func:`.plain.solve_plain`); its optimum is a valid upper bound (a relaxation). Then
close every large partner left below its minimum and solve again without it (``rounds``
times); the pairs of partners still short are then dropped: a feasible answer.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from .plain import solve_plain


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


def _short(problem, chosen):
    count = np.bincount(problem.partner[np.isin(problem.edge_id, chosen)], minlength=problem.n_partners)
    return (problem.cap_min > 1) & ~problem.must_open & (count > 0) & (count < problem.cap_min)


def _value(problem, chosen):
    return float(problem.score[np.isin(problem.edge_id, chosen)].sum())
