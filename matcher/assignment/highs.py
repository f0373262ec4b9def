"""HiGHS through ``highspy``, with the deadline enforced by us.

``scipy.optimize.linprog/milp`` pass a time limit to HiGHS and hope; HiGHS checks it only
between some phases (a 100k-lead MILP ran 452 s with a 300 s limit). Here the same HiGHS
runs with interrupt callbacks (simplex iterations, interior point iterations, MIP
nodes and heuristics) that compare the clock with our deadline and stop the solve;
HiGHS' own ``time_limit`` is set as well, for the phases without a callback.
"""

from __future__ import annotations

import atexit
import time
from dataclasses import dataclass

import highspy
import numpy as np

SETUP_SECONDS_PER_NONZERO = 1e-6
"""HiGHS calls its first interrupt callback only after setting up (scaling, first basis): 1.3 s at 100k
leads (1.4 million nonzeros) plus 0.4 s to pass the model. A solve is not started with less time left
than this per nonzero (1.4 s there): it could not get anywhere."""

_CB = highspy.cb.HighsCallbackType
_INTERRUPTS = (_CB.kCallbackSimplexInterrupt, _CB.kCallbackIpmInterrupt, _CB.kCallbackMipInterrupt)
_OPTIMAL = highspy.HighsModelStatus.kOptimal
_INFEASIBLE = (highspy.HighsModelStatus.kInfeasible, highspy.HighsModelStatus.kUnboundedOrInfeasible)


@dataclass
class HighsResult:
    status: str                 # "optimal", "infeasible", "limit" (stopped: x may still hold a MIP incumbent)
    x: np.ndarray | None        # column values
    objective: float | None     # minimised objective of x
    bound: float | None         # MIP: dual (lower) bound on the minimised objective
    row_dual: np.ndarray | None
    col_dual: np.ndarray | None


def solve(c, A, row_upper, lower, upper, integer=False, deadline=None, mip_rel_gap=1e-10, simplex=True):
    """Minimise ``c x`` subject to ``A x <= row_upper``, ``lower <= x <= upper``.

    Parameters
    ----------
    A : scipy.sparse matrix
    integer : bool
        Every column integer (a MILP); otherwise an LP solved by dual simplex.
    deadline : float, optional
        ``time.perf_counter()`` value at which the solve is interrupted.
    """
    h = highspy.Highs()
    h.silent()
    h.setOptionValue("output_flag", False)
    h.setOptionValue("threads", 1)
    if simplex and not integer:
        h.setOptionValue("solver", "simplex")
        h.setOptionValue("simplex_strategy", 1)  # dual
        h.setOptionValue("presolve", "off")  # 20k leads: 1.4 s against 3.0 s with presolve
    if integer:
        h.setOptionValue("mip_rel_gap", mip_rel_gap)
    if deadline is not None:
        left = deadline - time.perf_counter()
        if left <= SETUP_SECONDS_PER_NONZERO * A.nnz:  # it could not even reach its first interrupt
            return HighsResult("limit", None, None, None, None, None)
        h.setOptionValue("time_limit", float(left))
        h.setCallback(_interrupt, deadline)
        for kind in _INTERRUPTS:
            h.startCallback(kind)
    lp = highspy.HighsLp()
    csc = A.tocsc()
    lp.num_col_, lp.num_row_ = A.shape[1], A.shape[0]
    lp.col_cost_ = np.asarray(c, dtype=float)
    lp.col_lower_ = np.asarray(lower, dtype=float)
    lp.col_upper_ = np.asarray(upper, dtype=float)
    lp.row_lower_ = np.full(A.shape[0], -highspy.kHighsInf)
    lp.row_upper_ = np.asarray(row_upper, dtype=float)
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = csc.indptr.astype(np.int32)
    lp.a_matrix_.index_ = csc.indices.astype(np.int32)
    lp.a_matrix_.value_ = csc.data.astype(float)
    if integer:
        lp.integrality_ = [highspy.HighsVarType.kInteger] * A.shape[1]
    h.passModel(lp)
    if deadline is None:
        h.run()
    elif not _run_until(h, deadline):
        return HighsResult("limit", None, None, None, None, None)
    status = h.getModelStatus()
    if status in _INFEASIBLE:
        return HighsResult("infeasible", None, None, None, None, None)
    info = h.getInfo()
    sol = h.getSolution()
    has_x = info.primal_solution_status == 2  # kSolutionStatusFeasible
    x = np.array(sol.col_value) if has_x else None
    objective = float(info.objective_function_value) if has_x else None
    bound = float(info.mip_dual_bound) if integer else None
    if bound is not None and not np.isfinite(bound):
        bound = None
    if status == _OPTIMAL:
        duals = (np.array(sol.row_dual), np.array(sol.col_dual)) if not integer else (None, None)
        return HighsResult("optimal", x, objective, bound if integer else objective, *duals)
    if not integer and sol.dual_valid:  # an interrupted dual simplex: its duals still give a bound
        return HighsResult("limit", None, None, None, np.array(sol.row_dual), None)
    return HighsResult("limit", x if integer else None, objective if integer else None, bound, None, None)


_ABANDONED = []
"""Solves still setting up when their deadline came: kept alive until their thread ends (their
callback stops them at its first check)."""
GRACE = 0.05
"""Seconds a solve may take past its deadline to stop by itself before it is abandoned."""


@atexit.register
def _finish_abandoned():
    """Let abandoned solves stop (their callback does it) before the interpreter exits, which would
    otherwise abort on their running thread."""
    for h in _ABANDONED:
        h.wait()


def _run_until(h, deadline):
    """Run ``h`` in highspy's solver thread; False when it is still running at the deadline.

    HiGHS reaches its first interrupt check only after its setup (1.3 s for a 100k-lead LP on a
    quiet machine, more under load); a solve that has not stopped by ``deadline + GRACE`` is left
    to stop by itself and the caller answers without it.
    """
    _ABANDONED[:] = [a for a in _ABANDONED if a.is_solver_running()]
    h.startSolve()
    done, _status = h.wait(timeout=max(deadline - time.perf_counter(), 0.0) + GRACE)
    if not done:
        _ABANDONED.append(h)
    return done


def _interrupt(kind, message, data_out, data_in, deadline):
    if time.perf_counter() >= deadline:
        data_in.user_interrupt = True
