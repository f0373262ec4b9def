"""Components without a binding minimum: a transportation problem, solved exactly as an assignment.

Each partner becomes ``min(max_leads, degree)`` identical slots and each lead gets a
private dummy slot (staying unmatched, score 0), so every lead can be matched and
``scipy.sparse.csgraph.min_weight_full_bipartite_matching`` (LAPJVsp) finds the
optimum. Much faster than simplex on the degenerate assignment LP (OR-Library
assignp5000: 0.2 s against more than a minute) — unless partners take many leads each,
when the slots multiply the edges; then the transportation LP is used.

LAPJVsp cannot be interrupted, so under a deadline a large one runs in a child process
that is killed when the deadline comes (the caller then answers greedily).
"""

from __future__ import annotations

import time

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import min_weight_full_bipartite_matching


SLOT_RATIO = 2.0
"""Above this many partner-slot edges per edge, the LP beats LAPJVsp (100k leads: 9 s against 35 s)."""
CHILD_SLOTS = 200_000
"""Under a deadline, LAPJVsp on more partner-slot edges than this runs in a child process."""


def solve_plain(problem, deadline=None, with_bound=False):
    """Optimal pairs of a problem whose partners have no binding minimum (every weight 1).

    Each connected component gets its own method: LAPJVsp, or the transportation LP where
    partner slots would multiply its edges (the choice was once made for all plain components
    together, so a round's 5-lead construction track decided for its 1:1 innovation track too).
    With a ``deadline`` (``time.perf_counter()``) that comes first, the greedy answer
    (:func:`.greedy.greedy_solution`) stands in for a part not solved in time: feasible, not optimal.

    Returns
    -------
    ndarray of int
        ``edge_id`` of the chosen edges (the problem's fixed part not included).
    float
        Only ``with_bound``: an upper bound on the free edges' best total (their optimum when
        every part was solved exactly, else the greedy's bound for the parts that were not).
    """
    if problem.n_edges == 0:
        return (problem.edge_id[:0], 0.0) if with_bound else problem.edge_id[:0]
    from .search import edge_components  # search builds on this module
    comp = edge_components(problem)
    slots = np.minimum(problem.cap_max[problem.partner], np.bincount(problem.partner)[problem.partner])
    by_lp = (np.bincount(comp, weights=slots) > SLOT_RATIO * np.bincount(comp))[comp]
    chosen, bound = [], 0.0
    parts = [(mask, use_lp) for mask, use_lp in ((by_lp, True), (~by_lp, False)) if mask.any()]
    for i, (mask, use_lp) in enumerate(parts):
        part = problem.keep(mask)
        share = deadline  # the last part gets what is left; the first its share by edges
        if deadline is not None and i < len(parts) - 1:
            share = time.perf_counter() + mask.mean() * max(deadline - time.perf_counter(), 0.0)
        found = _solve_part(part, share, use_lp, slots[mask].sum())
        if found is None:
            from .greedy import greedy_solution  # greedy builds on this module
            found, part_bound = greedy_solution(part)
        else:
            part_bound = float(part.score[np.isin(part.edge_id, found)].sum())
        chosen.append(found)
        bound += part_bound
    chosen = np.concatenate(chosen)
    return (chosen, bound) if with_bound else chosen


def _solve_part(problem, deadline, use_lp, n_slots):
    """Exact pairs of one part (LP or LAPJVsp), or None when the deadline came first."""
    if use_lp:
        chosen = _by_lp(problem, deadline)
        if chosen is not None or (deadline is not None and time.perf_counter() >= deadline):
            return chosen
    if deadline is not None and n_slots > CHILD_SLOTS:
        return _in_child(problem, deadline)
    return _by_assignment(problem)


def _in_child(problem, deadline):
    """:func:`_by_assignment` in a spawned process; None when the deadline comes first (it is killed)."""
    import multiprocessing
    ctx = multiprocessing.get_context("spawn")
    receive, send = ctx.Pipe(duplex=False)
    child = ctx.Process(target=_child_main, args=(problem, send), daemon=True)
    child.start()
    send.close()
    try:
        if receive.poll(max(deadline - time.perf_counter(), 0.0)):
            return receive.recv()
        return None
    except EOFError:  # the child died (memory?): answer greedily
        return None
    finally:
        if child.is_alive():
            child.kill()
        child.join()
        receive.close()


def _child_main(problem, send):
    send.send(_by_assignment(problem))
    send.close()


def _by_lp(problem, deadline=None):
    """The transportation LP (totally unimodular, so the simplex vertex is integral)."""
    from .model import build_model, is_integral, solve_lp
    lp = solve_lp(build_model(problem), deadline=deadline)
    if lp.status != "optimal" or not is_integral(lp.x):
        return None
    return problem.edge_id[lp.x > 0.5]


def _by_assignment(problem):
    leads, lrow = np.unique(problem.lead, return_inverse=True)
    parts, prow = np.unique(problem.partner, return_inverse=True)
    deg = np.bincount(prow, minlength=len(parts))
    slots = np.minimum(problem.cap_max[parts], deg)
    first = np.concatenate([[0], np.cumsum(slots)])
    copies = slots[prow]
    edge = np.repeat(np.arange(problem.n_edges), copies)
    offset = np.arange(len(edge)) - np.repeat(np.cumsum(copies) - copies, copies)
    col = first[prow[edge]] + offset
    n_slots, n_leads = int(first[-1]), len(leads)
    top = problem.score.max() + 1.0
    weights = np.concatenate([top - problem.score[edge], np.full(n_leads, top)])
    rows = np.concatenate([lrow[edge], np.arange(n_leads)])
    cols = np.concatenate([col, n_slots + np.arange(n_leads)])
    matrix = sp.csr_matrix((weights, (rows, cols)), shape=(n_leads, n_slots + n_leads))
    r, c = min_weight_full_bipartite_matching(matrix)
    real = c < n_slots
    slot_part = np.searchsorted(first, np.arange(n_slots), side="right") - 1
    # map (lead row, slot) back to the edge: the edge of that lead with the slot's partner
    key = lrow.astype(np.int64) * len(parts) + prow
    order = np.argsort(key)
    want = r[real].astype(np.int64) * len(parts) + slot_part[c[real]]
    pos = order[np.searchsorted(key[order], want)]
    return problem.edge_id[pos]
