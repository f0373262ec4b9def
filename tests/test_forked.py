"""Items of a pure computation done in a forked child: the same results in order, whatever the child does."""

import multiprocessing
import os
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from matcher.errors import CancelledError
from matcher.messages import msg
from matcher.forked import map_forked

pytestmark = pytest.mark.skipif("fork" not in multiprocessing.get_all_start_methods(), reason="no fork here")


def _square(item, report):
    for part in (0.25, 0.5, 1.0):
        report(part, f"{item} at {part}")
    return item * item


@settings(max_examples=10, deadline=None)
@given(st.lists(st.integers(0, 50), unique=True, max_size=6), st.data())
def test_results_come_in_item_order_and_every_report_arrives(items, data):
    in_child = set(data.draw(st.lists(st.sampled_from(items), unique=True)) if items else [])
    heard = []
    got = map_forked(items, _square, in_child, lambda item, part, message: heard.append((item, part)))
    assert got == [i * i for i in items]
    for item in items:  # each item's reports, in its own order
        assert [p for i, p in heard if i == item] == [0.25, 0.5, 1.0]
    assert not multiprocessing.active_children()


def test_the_child_really_computes_its_items():
    parent = os.getpid()
    got = map_forked([1, 2, 3], lambda item, report: (item, os.getpid() == parent), {2}, lambda *a: None)
    assert got == [(1, True), (2, False), (3, True)]


@pytest.mark.parametrize("how", ["raises", "dies"])
def test_a_child_that_fails_leaves_its_items_to_the_parent(how):
    parent = os.getpid()

    def work(item, report):
        if os.getpid() != parent:
            if how == "raises":
                raise RuntimeError("a bug in the child")
            os._exit(3)
        return item + 100

    assert map_forked([1, 2, 3], work, {2, 3}, lambda *a: None) == [101, 102, 103]


def test_a_cancel_heard_from_the_child_stops_everything_and_kills_the_child():
    def slow(item, report):
        for k in range(100):
            report(k / 100, "working")
            time.sleep(0.05)
        return item

    heard = []

    def progress(item, part, message):
        heard.append(part)
        if item == "child" and part >= 0.1:
            raise CancelledError(msg("job.cancelled"))

    with pytest.raises(CancelledError):
        map_forked(["child"], slow, {"child"}, progress)
    assert not multiprocessing.active_children()
    assert max(heard) < 0.5  # stopped near its 10 %, not after its work (the child's own 5 s)


def test_the_child_stops_at_the_deadline_and_the_parent_s_check_decides():
    deadline = time.perf_counter() + 0.5

    def slow(item, report):
        for k in range(200):
            report(k / 200, "working")
            time.sleep(0.02)
        return item

    heard = []

    def check():
        if time.perf_counter() >= deadline:
            raise TimeoutError("the run's limit")

    def progress(item, part, message):
        heard.append(part)
        check()

    with pytest.raises(TimeoutError):
        map_forked(["a"], slow, {"a"}, progress, check=check, deadline=deadline)
    assert not multiprocessing.active_children()
    assert max(heard, default=0) < 0.99  # stopped at the deadline, before the child's 4 s of work ended


def test_a_refused_fork_leaves_everything_to_the_parent(monkeypatch):
    def no_fork(self):
        raise OSError(11, "Resource temporarily unavailable")

    monkeypatch.setattr(multiprocessing.get_context("fork").Process, "start", no_fork)
    parent = os.getpid()
    assert map_forked([1, 2], lambda item, report: (item, os.getpid() == parent), {2}, lambda *a: None) == [
        (1, True), (2, True)]
