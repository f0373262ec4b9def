"""HiGHS through ``highspy``, with the deadline enforced by us.

``scipy.optimize.linprog/milp`` pass a time limit to HiGHS and hope; HiGHS checks it only
between some phases (a 100k-lead MILP ran 452 s with a 300 s limit). Here the same HiGHS
runs in a worker process (:mod:`matcher.assignment.highs_worker`) with interrupt callbacks
(simplex iterations, interior point iterations, MIP nodes and heuristics) that compare the
clock with our deadline and stop the solve, and HiGHS' own ``time_limit`` set as well. When
the answer has not come :data:`GRACE` seconds after the deadline, the worker is killed: HiGHS
does not reach an interrupt check in every phase (a 20k-lead MILP stopped at 3 s went on for
135 s in its root LP), and a solve left running in-process would hold the core, its memory and
highspy's one-solve-per-process lock, so every later solve of a web server would wait for it.
Each solve has a worker of its own: two matching jobs solve side by side.
"""

from __future__ import annotations

import atexit
import os
import pickle
import select
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

SETUP_SECONDS_PER_NONZERO = 1e-6
"""HiGHS calls its first interrupt callback only after setting up (scaling, first basis): 1.3 s at 100k
leads (1.4 million nonzeros) plus 0.4 s to pass the model. A solve is not started with less time left
than this per nonzero (1.4 s there): it could not get anywhere."""
IN_PROCESS_NONZEROS = 20_000
"""Models up to this many nonzeros (about 4,000 edges) are solved in this process: a worker costs 0.2–1 s to
start, more than HiGHS takes on them (issue 23: a 50-edge round took 3 ms against HiGHS' 1.6 ms, the first
one 0.2 s). One at a time (highspy allows one solve per process); another thread meanwhile uses a worker."""
_IN_PROCESS = threading.Lock()
GRACE = 0.05
"""Seconds a solve may take past its deadline to stop by itself before its worker is killed."""
WORKER = Path(__file__).with_name("highs_worker.py")


@dataclass
class HighsResult:
    status: str                 # "optimal", "infeasible", "limit" (stopped: x may still hold a MIP incumbent)
    x: np.ndarray | None        # column values
    objective: float | None     # minimised objective of x
    bound: float | None         # MIP: dual (lower) bound on the minimised objective
    row_dual: np.ndarray | None
    col_dual: np.ndarray | None


def solve(c, A, row_upper, lower, upper, integer=False, deadline=None, mip_rel_gap=1e-10, simplex=True, start=None):
    """Minimise ``c x`` subject to ``A x <= row_upper``, ``lower <= x <= upper``.

    Parameters
    ----------
    A : scipy.sparse matrix
    integer : bool or ndarray of bool
        Every column integer (a MILP), or those where the mask is true; otherwise (False) an LP
        solved by dual simplex.
    deadline : float, optional
        ``time.perf_counter()`` value at which the solve is interrupted (the call returns by
        ``deadline + GRACE``, with ``status="limit"`` and whatever HiGHS had by then).
    start : ndarray, optional
        A MILP start solution (every column's value). HiGHS checks it and ignores it when infeasible;
        a feasible one saves its own search for a first solution (on the 100k round's components that
        search, feasibility jump and sub-MIPs, took 160 of 190 s; with a start the same MILP took 10 s).
    """
    if deadline is not None and deadline - time.perf_counter() <= SETUP_SECONDS_PER_NONZERO * A.nnz:
        return _LIMIT  # it could not even reach its first interrupt
    csc = A.tocsc()
    mask = None if isinstance(integer, bool) else np.asarray(integer, bool)
    start = None if start is None else np.asarray(start, dtype=float)
    request = dict(shape=A.shape, integer=bool(np.any(integer)), integer_mask=mask, simplex=simplex,
                   mip_rel_gap=mip_rel_gap, deadline=deadline, start=start,
                   c=np.asarray(c, dtype=float), lower=np.asarray(lower, dtype=float),
                   upper=np.asarray(upper, dtype=float), row_upper=np.asarray(row_upper, dtype=float),
                   indptr=csc.indptr.astype(np.int32), indices=csc.indices.astype(np.int32),
                   data=csc.data.astype(float))
    if A.nnz <= IN_PROCESS_NONZEROS and _IN_PROCESS.acquire(blocking=False):
        try:  # a small model: no worker process to start, pass it to, or pickle the answer back from
            from . import highs_worker
            _quiet_banner()
            return HighsResult(*highs_worker.solve(request))
        finally:
            _IN_PROCESS.release()
    job = submit(request, deadline)
    if job is None:  # no worker was ready before the deadline
        return _LIMIT
    answer = job.wait(None if deadline is None else deadline + GRACE)
    if answer is None:
        job.cancel()
        return _LIMIT
    return HighsResult(*answer)


_BANNER = []


def _quiet_banner():
    """HiGHS prints its banner on standard output at its first ``Highs()`` in a process (``matcher solve``
    prints its JSON there): the first one is made with descriptor 1 on /dev/null (the worker's stdout is)."""
    if _BANNER:
        return
    import ctypes

    import highspy
    sys.stdout.flush()
    saved, null = os.dup(1), os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(null, 1)
        _BANNER.append(highspy.Highs())
        ctypes.CDLL(None).fflush(None)
    finally:
        os.dup2(saved, 1)
        os.close(saved)
        os.close(null)


def submit(request, deadline=None):
    """Send ``request`` (a dict for ``highs_worker.py``) to a worker of its own; a :class:`Job`, or None
    when no worker was ready by ``deadline``. The caller waits for the answer, and cancels the job when
    it gives up (the worker is killed)."""
    worker = _pool().take(deadline)
    if worker is None:
        return None
    try:
        worker.send(request)
    except BaseException:
        _pool().discard(worker)
        raise
    return Job(worker)


class Job:
    """A request being solved in a worker process."""

    def __init__(self, worker):
        self.worker = worker

    def wait(self, until=None):
        """The answer, or None when none has come by ``until`` (perf_counter; 0 or past: just look)."""
        try:
            answer = self.worker.receive(until)
        except BaseException:
            self.cancel()
            raise
        if answer is not None:
            _pool().give_back(self.worker)
            self.worker = None
        return answer

    def cancel(self):
        """Kill the worker if it is still solving (a fresh one takes its place in the pool)."""
        if self.worker is not None:
            _pool().discard(self.worker)
            self.worker = None


_LIMIT = HighsResult("limit", None, None, None, None, None)


class _Worker:
    """A ``highs_worker.py`` process: requests on its stdin, answers on a pipe of its own.

    The worker says ``"ready"`` once it has imported highspy; the deadline goes with each request as
    a ``time.perf_counter()`` value (one monotonic clock for every process of the machine).
    """

    def __init__(self):
        read, write = os.pipe()
        self.proc = subprocess.Popen([sys.executable, str(WORKER), str(write)], stdin=subprocess.PIPE,
                                     stdout=subprocess.DEVNULL, pass_fds=(write,), start_new_session=True)
        os.close(write)
        self.answers = os.fdopen(read, "rb")
        self.ready = False

    def wait_ready(self, until):
        """True once the worker has started (waiting until ``until``, or for ever when None)."""
        if not self.ready:
            self.ready = self.receive(until) == "ready"
        return self.ready

    def send(self, request):
        pickle.dump(request, self.proc.stdin, protocol=pickle.HIGHEST_PROTOCOL)
        self.proc.stdin.flush()

    def receive(self, until):
        """The next answer, or None when none has come by ``until`` (perf_counter; None: wait for ever)."""
        wait = None if until is None else max(until - time.perf_counter(), 0.0)
        if not select.select([self.answers], [], [], wait)[0]:
            return None
        try:
            return pickle.load(self.answers)
        except EOFError:
            raise RuntimeError(f"the HiGHS worker exited with status {self.proc.wait()}") from None

    def stop(self, kill=False):
        if kill:
            self.proc.kill()
        self.proc.stdin.close()  # a live worker returns at the end of its input
        self.proc.wait()
        self.answers.close()


class _Pool:
    """Idle workers, one taken per solve; a worker still solving at its deadline is killed, not kept
    (and a fresh one started in its place, so that the next solve finds it ready)."""

    def __init__(self):
        self.idle, self.lock = [], threading.Lock()

    def take(self, deadline=None):
        """A ready worker, or None when none is ready by ``deadline`` (a starting one stays in the pool)."""
        with self.lock:
            ready = [w for w in self.idle if w.ready]
            worker = (ready or self.idle or [None])[-1]
            if worker is not None:
                self.idle.remove(worker)
        worker = worker or _Worker()
        try:
            if worker.wait_ready(deadline):
                return worker
        except BaseException:
            worker.stop(kill=True)
            raise
        self.give_back(worker)
        return None

    def give_back(self, worker):
        with self.lock:
            self.idle.append(worker)

    def prestart(self, n):
        """Start workers until ``n`` are idle or starting (they import highspy meanwhile)."""
        with self.lock:
            self.idle += [_Worker() for _ in range(n - len(self.idle))]

    def discard(self, worker):
        worker.stop(kill=True)
        self.give_back(_Worker())

    def close(self):
        with self.lock:
            idle, self.idle = self.idle, []
        for worker in idle:
            worker.stop()


_POOL = None
_POOL_GUARD = threading.Lock()


def _pool():
    """The process's pool of workers, made at its first use (importing this module starts nothing; the
    pool's workers are stopped when the process exits)."""
    global _POOL
    with _POOL_GUARD:
        if _POOL is None:
            _POOL = _Pool()
            atexit.register(_POOL.close)
        return _POOL


def prestart(n=2):
    """Have ``n`` workers idle or starting, so that a solve soon after does not wait for one.

    A worker takes about 1 s to start (Python, numpy, highspy, OR-Tools); a round's run calls this before
    it reads the round, whose reading leaves the second core free (a run's solve takes up to two at once:
    the plain tracks' flow beside the constrained tracks' LP).
    """
    _pool().prestart(n)
