"""A quick answer for when the time limit cuts the LP short: never reported as optimal.

Drop the minimums and the problem is a transportation problem, solved exactly and fast
(:func:`.plain.solve_plain`); its optimum is a valid upper bound (a relaxation). Then
close every large partner left below its minimum and solve again without it (``rounds``
times); the pairs of partners still short are then dropped: a feasible answer.

Partners forced open by a lock are first given the leads they need (:func:`fill_forced`),
so that a time limit never leaves them short.

:func:`.proposals.greedy_solution` (best pairs first, imported here for the callers) is the answer
when the deadline has already passed.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from ..errors import InfeasibleError
from .plain import solve_plain
from .problem import fix
from .proposals import HARD_DEADLINE, greedy_solution  # noqa: F401 - the callers' names for them


def greedy_answer(problem):
    """The greedy answer in full, never cut by the time limit: the floor of every answer :func:`.solve` gives.

    Forced partners (locks) are filled first (:func:`fill_forced`), then :func:`greedy_solution` with
    one closing round runs to its end whatever the deadline (linear: 2 ms at 1,500 edges, 0.4 s at
    480,000; the solver keeps that time back from its limit).

    Returns
    -------
    chosen : ndarray of int
        ``edge_id`` of the chosen edges, the problem's fixed part included.
    value : float
        Their total score; ``-inf`` (and no edges) when the forced partners cannot be filled.
    """
    token = HARD_DEADLINE.set(None)
    try:
        filled = fill_forced(problem)
        chosen, _bound = greedy_solution(filled, rounds=1)
    except InfeasibleError:
        return problem.fixed[:0], -np.inf
    finally:
        HARD_DEADLINE.reset(token)
    taken = np.isin(filled.edge_id, chosen)
    if np.any(filled.must_open & (filled.load(taken) < filled.cap_min)):
        return problem.fixed[:0], -np.inf
    return np.concatenate([filled.fixed, chosen]), filled.fixed_score + float(filled.score[taken].sum())


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
