"""Deferred acceptance: no blocking pairs, lead-optimal (brute force), minimums and locks handled."""

import itertools

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from matcher.assignment import check_feasible, solve
from matcher.errors import InfeasibleError
from matcher.stable import (blocking_pairs, deferred_acceptance, preferences, stable_assignment,
                            stable_with_minimums)


@st.composite
def markets(draw, max_leads=6, max_partners=3):
    leads = [f"l{i}" for i in range(draw(st.integers(1, max_leads)))]
    partners = [f"p{j}" for j in range(draw(st.integers(1, max_partners)))]
    pairs = [(l, p) for l in leads for p in partners]
    chosen = draw(st.lists(st.sampled_from(pairs), unique=True))
    # different scores on each side: a lead ranks by one number, a partner by another
    edges = [(l, p, draw(st.integers(0, 20))) for l, p in chosen]
    lead_prefs, _ = preferences(edges)
    partner_edges = [(l, p, draw(st.integers(0, 20))) for l, p, _ in edges]
    _, partner_rank = preferences(partner_edges)
    capacity = {p: draw(st.integers(0, 3)) for p in partners}
    return lead_prefs, partner_rank, capacity


def all_matchings(lead_prefs, capacity):
    leads = list(lead_prefs)
    for choice in itertools.product(*([None] + lead_prefs[l] for l in leads)):
        load = {}
        for p in choice:
            if p is not None:
                load[p] = load.get(p, 0) + 1
        if all(n <= capacity.get(p, 0) for p, n in load.items()):
            yield {l: p for l, p in zip(leads, choice) if p is not None}


@settings(max_examples=200, deadline=None)
@given(markets(max_leads=10, max_partners=4))
def test_deferred_acceptance_leaves_no_blocking_pair(market):
    lead_prefs, partner_rank, capacity = market
    assignment = deferred_acceptance(lead_prefs, partner_rank, capacity)
    load = {}
    for lead, p in assignment.items():
        assert p in lead_prefs[lead] and lead in partner_rank[p]
        load[p] = load.get(p, 0) + 1
    assert all(n <= capacity[p] for p, n in load.items())
    assert blocking_pairs(assignment, lead_prefs, partner_rank, capacity) == []


@settings(max_examples=100, deadline=None)
@given(markets(max_leads=4, max_partners=3))
def test_deferred_acceptance_is_lead_optimal(market):
    lead_prefs, partner_rank, capacity = market
    found = deferred_acceptance(lead_prefs, partner_rank, capacity)
    stable = [m for m in all_matchings(lead_prefs, capacity)
              if not blocking_pairs(m, lead_prefs, partner_rank, capacity)]
    assert found in stable

    def rank(lead, m):
        return lead_prefs[lead].index(m[lead]) if lead in m else len(lead_prefs[lead])

    for other in stable:
        assert all(rank(lead, found) <= rank(lead, other) for lead in lead_prefs)


def test_blocking_pair_found():
    lead_prefs = {"a": ["P", "Q"], "b": ["Q"]}
    partner_rank = {"P": {"a": 0}, "Q": {"a": 1, "b": 0}}
    capacity = {"P": 1, "Q": 1}
    assert blocking_pairs({"a": "Q"}, lead_prefs, partner_rank, capacity) == [("a", "P"), ("b", "Q")]


def test_partner_below_minimum_is_closed_and_its_leads_reenter():
    # L (min 5) gets only 3 proposals; closing it sends a, b, c to s (capacity 1): the best one stays
    edges = [(x, "L", 9) for x in "abc"] + [(x, "s", s) for x, s in zip("abc", (1, 2, 3))]
    lead_prefs, partner_rank = preferences(edges)
    assignment, closed, complete = stable_with_minimums(lead_prefs, partner_rank, {"L": 10, "s": 1}, {"L": 5, "s": 1})
    assert complete
    assert closed == {"L"} and assignment == {"c": "s"}


def test_stated_preferences_come_first():
    lead_prefs, partner_rank = preferences([("a", "P", 1), ("a", "Q", 9)], stated={"a": ["P"]})
    assert lead_prefs["a"] == ["P", "Q"]


def _stable(leads, partners, edges, locks=(), forbid=()):
    frame = pd.DataFrame(edges, columns=["lead_id", "partner_id", "score"])
    return stable_assignment({}, leads, partners, frame, list(locks), list(forbid))


def test_partner_forced_open_by_a_lock_reaches_its_minimum():
    # b..e prefer their own SME partner, f only has L: deferred acceptance alone gives L two leads
    leads = list("abcdef")
    partners = [("L", 5, None)] + [(f"s{i}", 1, 1) for i in range(4)]
    edges = [(x, "L", 0.1) for x in leads] + [(x, f"s{i}", 0.9) for i, x in enumerate("bcde")]
    chosen, summary = _stable(leads, partners, edges, locks=[("a", "L")])
    assert check_feasible(chosen, partners, edges, [("a", "L")]) == []
    assert sum(1 for _, p, _ in chosen if p == "L") >= 5 and summary["status"] == "stable"


@pytest.mark.parametrize("locks,message", [
    ([("a", "P"), ("a", "Q")], "lead a locked with 2 partners"),
    ([("a", "P"), ("b", "P")], "partner P locked with 2 leads but takes at most 1"),
    ([("a", "L")], "partner L locked with 1 lead but needs at least 5 and has only 4 eligible"),
])
def test_locks_are_checked_as_the_solver_checks_them(locks, message):
    leads = list("abcd")
    partners = [("P", 1, 1), ("Q", 1, 1), ("L", 5, None)]
    edges = [(x, p, 1.0) for x in leads for p in "PQL"]
    with pytest.raises(InfeasibleError, match=message):
        _stable(leads, partners, edges, locks=locks)
    with pytest.raises(InfeasibleError, match=message):
        solve(leads, partners, edges, locks=locks)


@st.composite
def instances(draw):
    leads = [f"l{i}" for i in range(draw(st.integers(1, 7)))]
    partners = []
    for j in range(draw(st.integers(1, 3))):
        lo = draw(st.sampled_from([0, 1, 2, 3]))
        hi = draw(st.sampled_from([None, 1, 2, 4]))
        partners.append((f"p{j}", lo, hi if hi is None or hi >= lo else lo))
    pairs = [(l, p) for l in leads for p, _, _ in partners]
    chosen = draw(st.lists(st.sampled_from(pairs), unique=True, max_size=12))
    edges = [(l, p, draw(st.integers(0, 9))) for l, p in chosen]
    locks = draw(st.lists(st.sampled_from(chosen), unique=True, max_size=3)) if chosen else []
    forbid = draw(st.lists(st.sampled_from(chosen), unique=True, max_size=2)) if chosen else []
    return leads, partners, edges, locks, forbid


@pytest.mark.slow
@settings(max_examples=300, deadline=None)
@given(instances())
def test_stable_mode_is_feasible_exactly_when_the_solver_is(instance):
    leads, partners, edges, locks, forbid = instance
    try:
        solve(leads, partners, edges, locks, forbid)
    except InfeasibleError:
        with pytest.raises(InfeasibleError):
            _stable(leads, partners, edges, locks, forbid)
        return
    chosen, _summary = _stable(leads, partners, edges, locks, forbid)
    assert check_feasible(chosen, partners, edges, locks, forbid) == []
