"""One HiGHS process: reads solve requests on stdin, answers on the descriptor given as argv[1]
(its stdout, where HiGHS writes a banner, is /dev/null).

Run by :mod:`matcher.assignment.highs` as a plain script (``python highs_worker.py FD``), so that it
imports only numpy and highspy (and OR-Tools for a min-cost flow request, ``kind="flow"``, answered by
:mod:`.flow`). The parent kills it when a solve is still running at its deadline: HiGHS does not
always reach an interrupt check (a 20k-lead MILP interrupted at 3 s went on for 135 s inside its root
LP), nor does OR-Tools' flow have one at all, and a killed process gives its core and memory back at once.

:func:`solve` also runs in-process for small models (:func:`matcher.assignment.highs.solve`).

A request is a pickled dict (see :func:`matcher.assignment.highs.solve`; its ``deadline`` a
``time.perf_counter()`` value); the answer a pickled tuple
``(status, x, objective, bound, row_dual, col_dual)``.
"""

import os
import pickle
import sys
import time

import highspy
import numpy as np

_CB = highspy.cb.HighsCallbackType
_INTERRUPTS = (_CB.kCallbackSimplexInterrupt, _CB.kCallbackIpmInterrupt, _CB.kCallbackMipInterrupt)
_INTEGER, _CONTINUOUS = highspy.HighsVarType.kInteger, highspy.HighsVarType.kContinuous
_OPTIMAL = highspy.HighsModelStatus.kOptimal
_INFEASIBLE = (highspy.HighsModelStatus.kInfeasible, highspy.HighsModelStatus.kUnboundedOrInfeasible)


def _interrupt(kind, message, data_out, data_in, deadline):
    if time.perf_counter() >= deadline:
        data_in.user_interrupt = True


def solve(req):
    h = highspy.Highs()
    h.silent()
    h.setOptionValue("output_flag", False)
    h.setOptionValue("threads", 1)
    integer = req["integer"]
    if req["simplex"] and not integer:
        h.setOptionValue("solver", "simplex")
        h.setOptionValue("simplex_strategy", 1)  # dual
        h.setOptionValue("presolve", "off")  # 20k leads: 1.4 s against 3.0 s with presolve
    if integer:
        h.setOptionValue("mip_rel_gap", req["mip_rel_gap"])
    if req["deadline"] is not None:
        deadline = req["deadline"]
        left = deadline - time.perf_counter()
        if left <= 0:
            return ("limit", None, None, None, None, None)
        h.setOptionValue("time_limit", float(left))
        h.setCallback(_interrupt, deadline)
        for kind in _INTERRUPTS:
            h.startCallback(kind)
    n_rows, n_cols = req["shape"]
    lp = highspy.HighsLp()
    lp.num_col_, lp.num_row_ = n_cols, n_rows
    lp.col_cost_ = req["c"]
    lp.col_lower_ = req["lower"]
    lp.col_upper_ = req["upper"]
    lp.row_lower_ = np.full(n_rows, -highspy.kHighsInf)
    lp.row_upper_ = req["row_upper"]
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = req["indptr"]
    lp.a_matrix_.index_ = req["indices"]
    lp.a_matrix_.value_ = req["data"]
    if integer:
        mask = req.get("integer_mask")  # None: every column integer
        kinds = np.ones(n_cols, bool) if mask is None else mask
        lp.integrality_ = [_INTEGER if k else _CONTINUOUS for k in kinds]
    h.passModel(lp)
    if integer and req.get("start") is not None:
        start = highspy.HighsSolution()
        start.col_value = list(req["start"])
        start.value_valid = True
        h.setSolution(start)  # HiGHS checks it first and ignores an infeasible start
    h.run()
    status = h.getModelStatus()
    if status in _INFEASIBLE:
        return ("infeasible", None, None, None, None, None)
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
        return ("optimal", x, objective, bound if integer else objective, *duals)
    if not integer and sol.dual_valid:  # an interrupted dual simplex: its duals still give a bound
        return ("limit", None, None, None, np.array(sol.row_dual), None)
    return ("limit", x if integer else None, objective if integer else None, bound, None, None)


def main():
    from flow import solve_network  # flow.py beside this script (its folder is sys.path[0])
    answers = os.fdopen(int(sys.argv[1]), "wb")
    requests = sys.stdin.buffer
    pickle.dump("ready", answers)
    answers.flush()
    while True:
        try:
            req = pickle.load(requests)
        except EOFError:  # the parent closed the pipe (or exited)
            return
        answer = solve_network(req) if req.get("kind") == "flow" else solve(req)
        pickle.dump(answer, answers, protocol=pickle.HIGHEST_PROTOCOL)
        answers.flush()


if __name__ == "__main__":
    main()
