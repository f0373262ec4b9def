"""The HiGHS worker pool (matcher/assignment/highs.py): workers started ahead of a solve."""

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
    workers = list(highs._POOL.idle)
    highs.prestart(2)
    assert highs._POOL.idle == workers and len(workers) >= 2
    assert all(w.wait_ready(time.perf_counter() + 60) for w in workers)
    lp = _tiny_lp()
    res = highs.solve(lp["c"], lp["A"], lp["row_upper"], lp["lower"], lp["upper"], integer=False)
    assert res.status == "optimal" and abs(res.objective + 1.5) < 1e-9
    assert sorted(map(id, highs._POOL.idle)) == sorted(map(id, workers))  # the worker used came back
