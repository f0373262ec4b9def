"""Work on a second core: some items of a pure computation done in a forked child process.

A round's tracks are scored independently of each other (their own eligibility table, text model and
passes), so a run can score some tracks in a child while the parent scores the others, and take every
result in track order: the same graph as one process builds, in about 60 % of the time on 2 cores
(``matcher match``; the sparse products hold Python's lock, so threads would not help).

The child is forked (it inherits the input; nothing is pickled on the way there) and sends back each
item's result and each of its progress messages through a pipe. The parent reports the child's progress
as its own, between its own steps and while it waits; so a cancel (``progress`` raising) and the run's
time limit (``check``) are noticed as often as in one process, and the child is killed when the parent
stops for any reason. A child that fails in any other way (its pipe broken, an error of its own) is not
trusted with anything: the parent computes that child's remaining items itself.
"""

from __future__ import annotations

import gc
import logging
import multiprocessing
import os
import sys
import time
import traceback
import warnings

_log = logging.getLogger(__name__)

POLL_SECONDS = 0.1
"""How often a waiting parent checks the time limit when the child sends nothing."""


class _Stop(Exception):
    """The child's deadline passed (the parent raises the run's own error)."""


def processes_available():
    """2 when this machine has 2 cores or more and processes can be forked, else 1."""
    if "fork" not in multiprocessing.get_all_start_methods():
        return 1
    return 2 if (os.cpu_count() or 1) >= 2 else 1


def map_forked(items, work, in_child, progress, check=lambda: None, deadline=None):
    """``[work(item, report) for item in items]``, the items in ``in_child`` computed in a forked process.

    Parameters
    ----------
    items : list
    work : callable
        ``work(item, report)`` → a picklable result; ``report(part, message)`` tells how far it is
        (0..1) and may raise to stop it.
    in_child : set
        The items the child computes (empty: everything here, no process).
    progress : callable
        ``progress(item, part, message)``, called in this process for every report of either side,
        in the order they arrive; it may raise (a cancel, the time limit) to stop everything.
    check : callable
        Called while waiting for the child (every :data:`POLL_SECONDS`); raises to stop.
    deadline : float, optional
        ``time.perf_counter()`` past which the child stops by itself (the parent's ``check`` decides
        what that means).

    Returns
    -------
    list
        The results in the order of ``items``.
    """
    in_child = [i for i in items if i in in_child]
    if in_child:
        started = _start(in_child, work, deadline)
        if started is None:  # no process to be had (fork refused): everything here
            in_child = []
    if not in_child:
        return [work(item, lambda part, message, item=item: progress(item, part, message)) for item in items]
    child, receive = started
    results, failed = {}, []
    try:
        def drain(block=False):
            while not failed and any(i not in results for i in in_child) and receive.poll(POLL_SECONDS * block):
                _take(receive, results, failed, progress)
                block = False

        for item in items:
            if item not in in_child:
                def report(part, message, item=item):
                    progress(item, part, message)
                    drain()
                results[item] = work(item, report)
                drain()
        while not failed and any(i not in results for i in in_child):
            check()
            drain(block=True)
        if failed and failed[0] != "late":
            _log.warning("the second process failed (%s); this process does its remaining work", failed[0])
        for item in in_child:  # the child failed: what it did not send is done here
            if item not in results:
                results[item] = work(item, lambda part, message, item=item: progress(item, part, message))
    finally:
        if child.is_alive():
            child.kill()
        child.join()
        receive.close()
    return [results[item] for item in items]


def _start(items, work, deadline):
    """The started child and the parent's end of its pipe, or None when the system refuses the fork."""
    context = multiprocessing.get_context("fork")
    for stream in (sys.stdout, sys.stderr):  # else the child's exit writes the parent's buffered text again
        stream.flush()
    receive, send = context.Pipe(duplex=False)
    child = context.Process(target=_child, args=(send, items, work, deadline), daemon=True)
    gc.freeze()  # the child's garbage collections leave the inherited objects alone (no copied pages)
    try:
        with warnings.catch_warnings():  # Python 3.12+ warns when a process with threads forks: the child
            warnings.filterwarnings("ignore", "This process .* is multi-threaded", DeprecationWarning)  # computes
            child.start()
    except OSError:  # EAGAIN/ENOMEM: no more processes or memory for one
        receive.close()
        return None
    finally:
        gc.unfreeze()
        send.close()
    return child, receive


def _take(receive, results, failed, progress):
    try:
        message = receive.recv()
    except (EOFError, OSError):  # the child died without a word
        failed.append("died")
        return
    kind = message[0]
    if kind == "progress":
        progress(*message[1:])
    elif kind == "done":
        results[message[1]] = message[2]
    elif kind == "late":
        progress(message[1], message[2], message[3])  # the parent's own check refuses the limit
        failed.append("late")
    else:
        failed.append(message[1])


def _child(send, items, work, deadline):
    """Compute ``items`` and send each result; stop at ``deadline``; never raise."""
    try:
        for item in items:
            def report(part, message, item=item):
                if deadline is not None and time.perf_counter() >= deadline:
                    send.send(("late", item, part, message))
                    raise _Stop
                send.send(("progress", item, part, message))

            send.send(("done", item, work(item, report)))
    except _Stop:
        pass
    except BaseException:  # noqa: BLE001 - reported to the parent, which does the work itself
        try:
            send.send(("failed", traceback.format_exc()))
        except Exception:  # noqa: BLE001 - the pipe is gone: the parent sees EOF
            pass
    finally:
        send.close()


__all__ = ["map_forked", "processes_available"]
