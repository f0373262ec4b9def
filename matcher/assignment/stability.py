"""Stability with sizes (조합 leads) in index form: blocking pairs, blocking groups, and a MILP whose
every solution is stable.

Preferences are strict ranks per edge: ``lead_rank[e]`` is the place of ``e``'s partner in its lead's
order (0 = best), ``part_rank[e]`` the place of ``e``'s lead in its partner's order. A partner compares
sets of leads lexicographically by its ranks (its best lead first): taking a lead it ranks above
every lead it gives up is always better for it.

**Blocking pair** (the weighted condition). With an assignment ``M`` (the problem's locked pairs
fixed, so capacities are what the locks leave), an eligible pair ``(l, p)`` not in ``M`` blocks when

1. ``l`` is unmatched or ranks ``p`` above ``M(l)``, and
2. ``p`` can take ``l`` by giving up only leads it ranks below ``l``: some set ``S`` of those
   (never a locked lead) leaves ``load(p) − w(S) + w(l) ≥ lo(p)`` and ``≤ U(p)``,

where ``w`` counts SMEs (a 조합's members at a partner that takes several leads, else 1), ``U(p)`` is
the partner's maximum and ``lo(p)`` its minimum where it binds (``min_leads > 1`` or forced open by a
lock; else 0). A closed partner has load 0, so a lead alone opens it only when its own SMEs reach the
minimum. **Blocking group**: an unused partner with a binding minimum and a set of leads who each rank
it above their match whose SMEs reach ``[lo, U]`` — they could open it together; not a blocking
pair, shown to staff as a diagnostic.

**The stability MILP** adds to the assignment model (:func:`.model.build_model`) one row per edge
``e = (l, p)`` with ``K = U' − w(l) + 1`` (``U' = min(U, SMEs of p's edges)``):

    K · (1 − Σ_{f of l ranked ≤ e} x_f) ≤ Σ_{g of p ranked above l} w_g x_g  [+ K (1 − y_p) if w(l) < lo(p)]

"unless ``l`` has ``p`` or better, ``p`` is full with leads it prefers to ``l``". Every solution has
no blocking pair (condition 2 needs at least ``better + w(l) ≤ U``). The converse holds — so an
infeasible MILP proves that no stable assignment exists — when at every partner with a binding
minimum each lead's SMEs are at most ``U − lo + 1`` (or ``U`` is at least all its edges' SMEs): then
giving up worse leads one by one always lands in ``[lo, U]`` (:func:`exact`). A minimum of 5 with a
maximum of 7 and a 조합 of 6 breaks it.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from . import highs
from .model import build_model


def floor_bounds(problem):
    """``(lo, U)`` per partner in SMEs: the binding minimum (else 0) and the maximum."""
    lo = np.where(problem.binding(), problem.cap_min, 0)
    return lo.astype(np.int64), problem.cap_max.astype(np.int64)


def blocking_edges(problem, lead_rank, part_rank, chosen):
    """Mask of the edges that block the assignment ``chosen`` (a mask over ``problem``'s edges).

    Vectorised; only pairs at a full partner with a binding minimum whose leads' SMEs could jump over
    the window ``[lo, U]`` get a subset-sum in Python (few, and at most ``U`` leads each).
    """
    n = problem.n_edges
    if n == 0:
        return np.zeros(0, bool)
    lead, part, w = problem.lead, problem.partner, problem.weight.astype(np.int64)
    lo, up = floor_bounds(problem)
    load = problem.load(chosen)
    cur = np.full(problem.n_leads, np.iinfo(np.int64).max)
    cur[lead[chosen]] = lead_rank[chosen]
    cand = ~chosen & (lead_rank < cur[lead])
    better = _better_load(problem, part_rank, chosen)
    fits = cand & (better + w <= up[part])
    as_is = fits & (load[part] + w <= up[part]) & (load[part] + w >= lo[part])
    rest = fits & ~as_is & (load[part] + w > up[part])
    heavy = np.zeros(problem.n_partners, np.int64)
    np.maximum.at(heavy, part[chosen], w[chosen])
    smooth = rest & (heavy[part] <= up[part] - lo[part] + 1)
    out = as_is | smooth
    for e in np.flatnonzero(rest & ~smooth):
        p = part[e]
        worse = w[chosen & (part == p) & (part_rank > part_rank[e])]
        out[e] = _some_drop(worse, load[p] + w[e] - up[p], load[p] + w[e] - lo[p])
    return out


def _better_load(problem, part_rank, chosen):
    """Per edge ``(l, p)``: SMEs of the chosen leads ``p`` ranks above ``l``."""
    width = int(part_rank.max()) + 2 if len(part_rank) else 1
    key = problem.partner.astype(np.int64) * width + part_rank
    held = np.flatnonzero(chosen)
    order = held[np.argsort(key[held], kind="stable")]
    cum = np.r_[0, np.cumsum(problem.weight[order])]
    pos_hi = np.searchsorted(key[order], key, side="left")
    pos_lo = np.searchsorted(key[order], problem.partner.astype(np.int64) * width, side="left")
    return cum[pos_hi] - cum[pos_lo]


def _some_drop(weights, low, high):
    """True when some subset of ``weights`` sums to a value in ``[low, high]``."""
    if high < 0 or low > int(np.sum(weights)):
        return False
    reach = 1
    for wt in weights:
        reach |= reach << int(wt)
    window = ((1 << (high + 1)) - 1) ^ ((1 << max(low, 0)) - 1)
    return bool(reach & window)


def blocking_groups(problem, lead_rank, chosen):
    """Unused partners with a binding minimum that leads preferring them could open together.

    Returns
    -------
    list of (partner index, ndarray of edge indices)
        The edges of the leads who rank the partner above their match (all of them; their SMEs can
        reach the partner's ``[lo, U]``).
    """
    lo, up = floor_bounds(problem)
    load = problem.load(chosen)
    cur = np.full(problem.n_leads, np.iinfo(np.int64).max)
    cur[problem.lead[chosen]] = lead_rank[chosen]
    wants = ~chosen & (lead_rank < cur[problem.lead]) & (lo[problem.partner] > 1) & (load[problem.partner] == 0)
    groups = []
    for p in np.unique(problem.partner[wants]):
        edges = np.flatnonzero(wants & (problem.partner == p))
        w = problem.weight[edges]
        if (w >= lo[p]).any():  # one lead alone opens it: that is a blocking pair, not a group
            continue
        if _some_drop(w, lo[p], up[p]):
            groups.append((int(p), edges))
    return groups


def exact(problem):
    """True when the stability MILP's rows are exactly "no blocking pair" (module docstring)."""
    lo, up = floor_bounds(problem)
    deg = problem.load(np.ones(problem.n_edges, bool))
    heavy = np.zeros(problem.n_partners, np.int64)
    np.maximum.at(heavy, problem.partner, problem.weight)
    tight = (lo > 0) & (up < deg) & (heavy > up - lo + 1)
    return not tight.any()


def stable_nonzeros(problem):
    """Nonzeros the stability rows would add (pairs of edges sharing a lead or a partner)."""
    lead_deg = np.bincount(problem.lead, minlength=problem.n_leads).astype(np.int64)
    part_deg = np.bincount(problem.partner, minlength=problem.n_partners).astype(np.int64)
    return int((lead_deg * (lead_deg + 1) // 2).sum() + (part_deg * (part_deg - 1) // 2).sum())


def stable_milp(problem, lead_rank, part_rank, deadline=None):
    """The best-scoring assignment with no blocking pair among those the stability rows allow.

    Returns
    -------
    status : str
        ``"optimal"`` / ``"feasible"`` (``chosen`` holds one), ``"infeasible"`` (no assignment passes
        the rows: none is stable when :func:`exact`), ``"limit"`` (time ran out without one).
    chosen : ndarray of bool or None
        Over ``problem``'s edges.
    """
    if problem.n_edges == 0:
        return "optimal", np.zeros(0, bool)
    model = build_model(problem)
    rows, rhs = _stability_rows(problem, lead_rank, part_rank, model)
    A = sp.vstack([model.A, rows], format="csr")
    b = np.concatenate([model.b, rhs])
    n = model.n_vars
    res = highs.solve(model.c, A, b, np.zeros(n), np.ones(n), integer=True, deadline=deadline)
    if res.status == "infeasible":
        return "infeasible", None
    if res.x is None:
        return "limit", None
    return ("optimal" if res.status == "optimal" else "feasible"), res.x[:model.n_x] > 0.5


def _stability_rows(problem, lead_rank, part_rank, model):
    """One row per edge (module docstring), ``<=`` form: ``−K s − better + K·ind·y ≤ K·ind − K``."""
    n = problem.n_edges
    lo, up = floor_bounds(problem)
    w = problem.weight.astype(float)
    deg = problem.load(np.ones(n, bool))
    cap = np.minimum(up, deg)[problem.partner]
    K = (cap - problem.weight + 1).astype(float)
    r1, c1 = _pairs_within(problem.lead, lead_rank, strict=False)     # f of the same lead ranked <= e
    r2, c2 = _pairs_within(problem.partner, part_rank, strict=True)   # g of the same partner ranked above e
    ycol = np.full(problem.n_partners, -1)
    ycol[model.y_partner] = model.n_x + np.arange(len(model.y_partner))
    ind = (ycol[problem.partner] >= 0) & (problem.weight < lo[problem.partner])
    e3 = np.flatnonzero(ind)
    rows = np.concatenate([r1, r2, e3])
    cols = np.concatenate([c1, c2, ycol[problem.partner[e3]]])
    vals = np.concatenate([-K[r1], -w[c2], K[e3]])
    A = sp.csr_matrix((vals, (rows, cols)), shape=(n, model.n_vars))
    return A, np.where(ind, 0.0, -K)


def _pairs_within(group, rank, strict):
    """``(row, col)`` edge pairs of the same group with ``rank[col] < rank[row]`` (``<=`` when not strict)."""
    order = np.lexsort((rank, group))
    g = group[order]
    starts = np.r_[0, np.flatnonzero(g[1:] != g[:-1]) + 1]
    sizes = np.diff(np.r_[starts, len(g)])
    pos = np.arange(len(g)) - np.repeat(starts, sizes)      # place within the group
    count = pos + (0 if strict else 1)                      # how many come before (or up to) each
    row = np.repeat(order, count)
    first = np.repeat(np.repeat(starts, sizes), count)
    offset = np.arange(count.sum()) - np.repeat(np.cumsum(count) - count, count)
    col = order[first + offset]
    return row, col


ENUMERATE_LIMIT = 20_000
"""Assignments :func:`enumerate_stable` tries at most (each lead: unmatched or one of its edges)."""


def enumerate_stable(problem, lead_rank, part_rank, deadline=None):
    """Exact search by enumeration, for the small components where the MILP's rows are not exact.

    Returns
    -------
    status : str
        ``"optimal"`` (``chosen`` is the best-scoring stable assignment), ``"infeasible"`` (none is
        stable: proven), ``"limit"`` (too many assignments, or the deadline).
    chosen : ndarray of bool or None
    """
    import itertools
    import time

    leads = np.unique(problem.lead)
    options = [np.r_[-1, np.flatnonzero(problem.lead == lead)] for lead in leads]
    if np.prod([float(len(o)) for o in options]) > ENUMERATE_LIMIT:
        return "limit", None
    lo, up = floor_bounds(problem)
    best, best_value = None, -np.inf
    for i, choice in enumerate(itertools.product(*options)):
        if deadline is not None and i % 256 == 0 and time.perf_counter() >= deadline:
            return "limit", None
        chosen = np.zeros(problem.n_edges, bool)
        picked = [e for e in choice if e >= 0]
        chosen[picked] = True
        load = problem.load(chosen)
        opened = (load > 0) | problem.must_open
        if (load > up).any() or (opened & (load < lo)).any():
            continue
        value = float(problem.score[chosen].sum())
        if value > best_value and not blocking_edges(problem, lead_rank, part_rank, chosen).any():
            best, best_value = chosen, value
    return ("optimal", best) if best is not None else ("infeasible", None)
