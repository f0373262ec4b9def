"""The linear model of a :class:`~matcher.assignment.problem.Problem` and its LP/MILP solves.

Variables: ``x_e`` in [0, 1] per edge, and ``y_p`` in {0, 1} per *optional* binding
partner (minimum > 1, not forced open). Rows (all ``<=``):

- each lead: ``sum x <= 1``;
- each partner: ``sum w x <= U`` (``sum w x - U y <= 0`` when optional);
- optional partner: ``-sum w x + L y <= 0`` and ``x_e - y_p <= 0`` for its edges (the
  strong form: its LP relaxation is nearly always integral on intake-shaped data);
- forced partner: ``-sum w x <= -L``.

``w`` is the edge's weight (a 조합 lead's member count, else 1). Without optional
partners and with every weight 1 the matrix is totally unimodular, so a simplex vertex
is integral and the LP answer is the exact optimum.

LPs and MILPs run in HiGHS through :mod:`.highs`, which enforces the deadline itself.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from . import highs

INTEGRAL_TOL = 1e-6


@dataclass
class Model:
    c: np.ndarray          # objective to minimise (minus the scores), shape (n_vars,)
    A: sp.csr_matrix       # shape (n_rows, n_vars)
    b: np.ndarray          # right-hand sides, shape (n_rows,)
    n_x: int
    y_partner: np.ndarray  # partner index of each y column

    @property
    def n_vars(self):
        return len(self.c)


@dataclass
class LPResult:
    status: str             # "optimal", "infeasible", "limit"
    value: float | None     # maximised total score (without the problem's fixed part)
    x: np.ndarray | None    # all variables
    reduced_lower: np.ndarray | None  # >= 0: objective loss per unit raised from 0
    reduced_upper: np.ndarray | None  # >= 0: objective loss per unit lowered from 1
    row_dual: np.ndarray | None = None  # >= 0 per row (rows of build_model, leads first)
    bound: float | None = None  # "limit": an upper bound from the interrupted duals (Lagrangian), if any


def build_model(problem):
    """The model of ``problem`` (edges as given; partners without edges have no rows)."""
    ne = problem.n_edges
    parts, prow = np.unique(problem.partner, return_inverse=True)
    leads, lrow = np.unique(problem.lead, return_inverse=True)
    w = problem.weight.astype(float)
    deg = np.bincount(prow, weights=w, minlength=len(parts))
    lo = problem.cap_min[parts]
    up = np.minimum(problem.cap_max[parts], deg).astype(float)
    optional = (lo > 1) & ~problem.must_open[parts]
    forced = problem.must_open[parts] & (lo > 0)
    ycol = np.full(len(parts), -1)
    ycol[optional] = ne + np.arange(optional.sum())
    n_vars = ne + int(optional.sum())
    ones = np.ones(ne)
    e = np.arange(ne)
    blocks = [
        (sp.csr_matrix((ones, (lrow, e)), shape=(len(leads), n_vars)), np.ones(len(leads))),
        _upper_rows(prow, ycol, up, optional, n_vars, w),
        _lower_rows(prow, ycol, lo, optional, forced, n_vars, w),
        _link_rows(prow, ycol, optional, n_vars),
    ]
    A = sp.vstack([blk for blk, _ in blocks], format="csr")
    b = np.concatenate([rhs for _, rhs in blocks])
    c = np.concatenate([-problem.score, np.zeros(n_vars - ne)])
    return Model(c=c, A=A, b=b, n_x=ne, y_partner=parts[optional])


def _upper_rows(prow, ycol, up, optional, n_vars, w):
    ne = len(prow)
    rows = np.concatenate([prow, np.flatnonzero(optional)])
    cols = np.concatenate([np.arange(ne), ycol[optional]])
    vals = np.concatenate([w, -up[optional]])
    A = sp.csr_matrix((vals, (rows, cols)), shape=(len(up), n_vars))
    return A, np.where(optional, 0.0, up)


def _lower_rows(prow, ycol, lo, optional, forced, n_vars, w):
    which = np.flatnonzero(optional | forced)
    index = np.full(len(lo), -1)
    index[which] = np.arange(len(which))
    e = np.flatnonzero(index[prow] >= 0)
    opt = np.flatnonzero(optional)
    rows = np.concatenate([index[prow[e]], index[opt]])
    cols = np.concatenate([e, ycol[opt]])
    vals = np.concatenate([-w[e], lo[opt].astype(float)])
    A = sp.csr_matrix((vals, (rows, cols)), shape=(len(which), n_vars))
    return A, np.where(forced[which], -lo[which], 0).astype(float)


def _link_rows(prow, ycol, optional, n_vars):
    e = np.flatnonzero(optional[prow])
    r = np.arange(len(e))
    A = sp.csr_matrix((np.r_[np.ones(len(e)), -np.ones(len(e))], (np.r_[r, r], np.r_[e, ycol[prow[e]]])),
                      shape=(len(e), n_vars))
    return A, np.zeros(len(e))


def solve_lp(model, lower=None, upper=None, deadline=None):
    """Solve the LP relaxation with HiGHS' dual simplex (a vertex, so integral when the matrix is TU).

    ``status`` is ``"limit"`` when the deadline (a ``time.perf_counter()`` value) stopped it.
    """
    lower = np.zeros(model.n_vars) if lower is None else lower
    upper = np.ones(model.n_vars) if upper is None else upper
    res = highs.solve(model.c, model.A, model.b, lower, upper, deadline=deadline)
    if res.status == "infeasible":
        return LPResult("infeasible", None, None, None, None)
    if res.status != "optimal":
        bound = None if res.row_dual is None else lagrangian_bound(model, res.row_dual, lower, upper)
        return LPResult("limit", None, None, None, None, bound=bound)
    rc = res.col_dual
    return LPResult("optimal", -res.objective, res.x, np.maximum(rc, 0.0), np.maximum(-rc, 0.0),
                    np.maximum(-res.row_dual, 0.0))


def solve_milp(model, lower=None, upper=None, deadline=None, start=None, continuous_x=False):
    """Exact MILP, every variable binary (only the ``y`` with ``continuous_x``).

    (``x`` continuous would do in theory — integral once ``y`` is — but HiGHS branches
    faster with all variables integer: 2,000-lead hard instance 3.0 s against 6.5 s.)
    ``start`` (a value per column) is handed to HiGHS as its first incumbent: without one it
    searches for a first solution itself, which took 160 of 190 s on a 119k-edge component of
    the 100k round; with the rounding's answer as the start, 10 s. On such large components
    ``continuous_x`` (exact without 조합 weights: once ``y`` is integral the rest is totally
    unimodular) is what makes it fast: all-binary, HiGHS' presolve of the same component had not
    finished after 2 minutes. The caller makes ``x`` integral where HiGHS leaves a tie fractional.

    Returns
    -------
    status : str
        ``"optimal"``, ``"feasible"`` (stopped with a solution), ``"limit"`` (none) or ``"infeasible"``.
    value : float or None
    x : ndarray or None
    bound : float or None
        The dual (upper) bound on the maximised score.
    """
    lower = np.zeros(model.n_vars) if lower is None else lower
    upper = np.ones(model.n_vars) if upper is None else upper
    integer = True
    if continuous_x:
        integer = np.arange(model.n_vars) >= model.n_x
    res = highs.solve(model.c, model.A, model.b, lower, upper, integer=integer, deadline=deadline, start=start)
    if res.status == "infeasible":
        return "infeasible", None, None, None
    bound = None if res.bound is None else -res.bound
    if res.x is None:
        return "limit", None, None, bound
    return ("optimal" if res.status == "optimal" else "feasible"), -res.objective, res.x, bound


def lagrangian_bound(model, row_dual, lower, upper):
    """Upper bound on the maximised score from any row prices (weak duality; valid whatever HiGHS' status).

    With ``y = min(row_dual, 0)`` (HiGHS' sign for ``<=`` rows), ``min over the box of
    (c - A'y) x + b'y`` is at most the LP minimum; its negation bounds the maximum.
    """
    y = np.minimum(np.nan_to_num(row_dual), 0.0)
    reduced = model.c - model.A.T @ y
    low = float(model.b @ y + np.minimum(reduced * lower, reduced * upper).sum())
    return -low


def is_integral(values):
    return bool(np.all(np.abs(values - np.round(values)) <= INTEGRAL_TOL))
