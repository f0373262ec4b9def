"""The HiGHS worker pool (matcher/assignment/highs.py): made at first use, workers started ahead of a solve."""

import subprocess
import sys
import time

import numpy as np
from scipy import sparse

from matcher.assignment import highs


def _tiny_lp():
    # max x + y with x + y <= 1.5, 0 <= x, y <= 1: optimum 1.5
    return dict(c=np.array([-1.0, -1.0]), A=sparse.csr_matrix(np.ones((1, 2))), row_upper=np.array([1.5]),
                lower=np.zeros(2), upper=np.ones(2))


def test_prestarted_workers_become_ready_and_are_not_started_twice():
    highs.prestart(2)
    workers = list(highs._pool().idle)
    highs.prestart(2)
    assert highs._pool().idle == workers and len(workers) >= 2
    assert all(w.wait_ready(time.perf_counter() + 60) for w in workers)
    lp = _tiny_lp()
    res = highs.solve(lp["c"], lp["A"], lp["row_upper"], lp["lower"], lp["upper"], integer=False)
    assert res.status == "optimal" and abs(res.objective + 1.5) < 1e-9
    assert sorted(map(id, highs._pool().idle)) == sorted(map(id, workers))  # the worker used came back


def test_importing_the_solver_starts_nothing():
    """No pool, worker or exit hook until a solve asks for one (a web app or CLI command that never solves
    pays nothing)."""
    code = ("import atexit, logging, multiprocessing, numpy, pandas, scipy.sparse, sklearn; "  # their own hooks
            "before = atexit._ncallbacks(); import matcher.assignment, matcher.matching; "
            "from matcher.assignment import highs; assert highs._POOL is None; "
            "assert atexit._ncallbacks() == before, atexit._ncallbacks()")
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)
