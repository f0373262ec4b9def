"""Deferred acceptance: no blocking pairs, lead-optimal (brute force), minimums and locks handled."""

import itertools

import numpy as np

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
    assert sum(1 for _, p, _ in chosen if p == "L") >= 5
    # and it cannot be stable: L needs three of b..e, each of whom has a free SME partner it prefers
    # (the old check did not see those pairs and said "stable")
    assert summary["status"] == "feasible" and summary["stability"]["proven_none"]
    assert summary["stability"]["blocking"] >= 3


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


# --- the weighted blocking condition (issue 23) against an obviously correct oracle ---------------

def _slow_blocking(assignment, lead_prefs, partner_rank, capacity, weight, minimum, locked=()):
    """Every pair the definition calls blocking, by trying every set of worse leads to give up."""
    found = []
    for lead, prefs in lead_prefs.items():
        if lead in dict(locked):
            continue
        current = assignment.get(lead)
        for p in prefs:
            if p == current:
                break
            rank = partner_rank.get(p, {})
            if lead not in rank:
                continue
            held = [x for x, q in assignment.items() if q == p]
            load = sum(weight.get((x, p), 1) for x in held)
            worse = [x for x in held if rank[x] > rank[lead] and (x, p) not in locked]
            lo = minimum.get(p, 0) if minimum.get(p, 0) > 1 else 0
            w = weight.get((lead, p), 1)
            if any(lo <= load - sum(weight.get((x, p), 1) for x in drop) + w <= capacity.get(p, 0)
                   for k in range(len(worse) + 1) for drop in itertools.combinations(worse, k)):
                found.append((lead, p))
    return found


def _feasible_assignments(lead_prefs, partner_rank, capacity, weight, minimum, locked=()):
    leads = list(lead_prefs)
    fixed = dict(locked)
    options = [[fixed[l]] if l in fixed else [None] + [p for p in lead_prefs[l] if l in partner_rank.get(p, {})]
               for l in leads]
    for choice in itertools.product(*options):
        load = {}
        for l, p in zip(leads, choice):
            if p is not None:
                load[p] = load.get(p, 0) + weight.get((l, p), 1)
        opened = {p for _l, p in locked}
        if all(n <= capacity.get(p, 0) and (minimum.get(p, 0) <= 1 or n >= minimum[p]) for p, n in load.items()) \
                and all(load.get(p, 0) >= minimum.get(p, 0) for p in opened):
            yield {l: p for l, p in zip(leads, choice) if p is not None}


@st.composite
def weighted_markets(draw):
    leads = [f"l{i}" for i in range(draw(st.integers(1, 6)))]
    members = {l: draw(st.sampled_from([1, 1, 1, 2, 3, 4, 6])) for l in leads}
    partners = []
    for j in range(draw(st.integers(1, 3))):
        hi = draw(st.sampled_from([1, 2, 3, 5, 7, None]))
        lo = draw(st.sampled_from([0, 0, 2, 3, 5]))
        lo = 0 if hi is not None and lo > hi else lo
        partners.append((f"p{j}", lo, hi))
    pairs = [(l, p) for l in leads for p, _lo, _hi in partners]
    chosen = draw(st.lists(st.sampled_from(pairs), unique=True, min_size=1, max_size=12))
    edges = [(l, p, draw(st.integers(0, 9))) for l, p in chosen]
    # partners rank by their own stated order, leads by score: the two sides disagree
    stated = {p: draw(st.permutations(leads)) for p, _lo, _hi in partners}
    return leads, members, partners, edges, stated


def _market(leads, members, partners, edges, stated):
    lead_prefs, partner_rank = preferences(edges, stated)
    multi = {p for p, lo, hi in partners if hi != 1 or lo > 1}
    weight = {(l, p): members[l] for l, p, _s in edges if p in multi}
    total = sum(members.values())
    capacity = {p: total if hi is None else hi for p, _lo, hi in partners}
    minimum = {p: lo for p, lo, _hi in partners}
    return lead_prefs, partner_rank, capacity, weight, minimum


@settings(max_examples=300, deadline=None)
@given(weighted_markets(), st.randoms(use_true_random=False))
def test_blocking_pairs_are_the_weighted_condition(market, rnd):
    lead_prefs, partner_rank, capacity, weight, minimum = _market(*market)
    everyone = list(_feasible_assignments(lead_prefs, partner_rank, capacity, weight, minimum))
    assignment = rnd.choice(everyone)
    fast = blocking_pairs(assignment, lead_prefs, partner_rank, capacity, weight, minimum)
    assert sorted(fast) == sorted(_slow_blocking(assignment, lead_prefs, partner_rank, capacity, weight, minimum))


def _stable_weighted(leads, members, partners, edges, stated, locks=()):
    frame = pd.DataFrame(edges, columns=["lead_id", "partner_id", "score"])
    return stable_assignment(stated, leads, partners, frame, list(locks), [], members=members)


@settings(max_examples=300, deadline=None)
@given(weighted_markets(), st.data())
def test_stable_mode_is_stable_exactly_when_a_stable_assignment_exists(market, data):
    """Brute force over every feasible assignment: "stable" only without a blocking pair; a stable answer
    whenever one exists; "no stable assignment exists" only when none does; the pairs counted exactly."""
    leads, members, partners, edges, stated = market
    locks = data.draw(st.lists(st.sampled_from([e[:2] for e in edges]), unique=True, max_size=1))
    lead_prefs, partner_rank, capacity, weight, minimum = _market(*market)
    try:
        chosen, summary = _stable_weighted(leads, members, partners, edges, stated, locks)
    except InfeasibleError:
        assert not list(_feasible_assignments(lead_prefs, partner_rank, capacity, weight, minimum, locks))
        return
    answer = {l: p for l, p, _s in chosen}
    blocking = _slow_blocking(answer, lead_prefs, partner_rank, capacity, weight, minimum, locks)
    stable = [m for m in _feasible_assignments(lead_prefs, partner_rank, capacity, weight, minimum, locks)
              if not _slow_blocking(m, lead_prefs, partner_rank, capacity, weight, minimum, locks)]
    assert summary["stability"]["blocking"] == len(blocking)
    assert (summary["status"] == "stable") == (not blocking)
    assert bool(stable) == (summary["status"] == "stable")
    if summary["stability"]["proven_none"]:
        assert not stable


def test_a_small_lead_that_fits_beside_a_large_one_is_taken():
    """Issue 23's smallest case: P takes at most 5 SMEs; A (1 SME, score 1), Y (2, score 2), B (4, score 5).
    {B} alone was called stable, though A fits beside B; {B, A} is stable (Y does not fit beside B)."""
    leads, members = ["A", "Y", "B"], {"A": 1, "Y": 2, "B": 4}
    partners = [("P", 0, 5)]
    edges = [("A", "P", 1.0), ("Y", "P", 2.0), ("B", "P", 5.0)]
    chosen, summary = _stable_weighted(leads, members, partners, edges, {})
    assert sorted(l for l, _p, _s in chosen) == ["A", "B"] and summary["objective"] == 6
    assert summary["status"] == "stable" and summary["stability"]["blocking"] == 0
    prefs, rank, capacity, weight, minimum = _market(leads, members, partners, edges, {})
    assert blocking_pairs({"B": "P"}, prefs, rank, capacity, weight, minimum) == [("A", "P")]
    assert blocking_pairs({"B": "P", "A": "P"}, prefs, rank, capacity, weight, minimum) == []  # not (Y, P)


def test_a_cooperative_and_the_best_single_lead_open_a_partner_of_min_5_max_7():
    """Issue 23: min 5, max 7, a 조합 of 6 and four single leads: the answer was empty and "stable";
    {조합 + best single} (7 SMEs) is feasible and unblocked."""
    leads = ["C", "a", "b", "c", "d"]
    members = {"C": 6, "a": 1, "b": 1, "c": 1, "d": 1}
    partners = [("P", 5, 7)]
    edges = [("C", "P", 9.0), ("a", "P", 8.0), ("b", "P", 7.0), ("c", "P", 6.0), ("d", "P", 5.0)]
    chosen, summary = _stable_weighted(leads, members, partners, edges, {})
    assert sorted(l for l, _p, _s in chosen) == ["C", "a"] and summary["status"] == "stable"
    # and with the singles ranked above the 조합 by P, {C, a} is still unblocked: giving up C for b
    # leaves P at 2 SMEs, below its minimum
    chosen, summary = _stable_weighted(leads, members, partners, edges, {"P": ["a", "b", "c", "d", "C"]})
    assert summary["status"] == "stable" and len(chosen) == 2 and "C" in {l for l, _p, _s in chosen}


def test_an_unused_partner_that_its_leads_could_open_together_is_listed():
    # L (min 5) is everyone's first choice but only 4 leads want it... plus one more on its own SME
    leads = list("abcde")
    partners = [("L", 5, 15), ("s", 0, 1)]
    edges = [(x, "L", 9.0) for x in leads] + [("e", "s", 1.0)]
    chosen, summary = _stable_weighted(leads, {x: 1 for x in leads}, partners, edges, {})
    assert {p for _l, p, _s in chosen} == {"L"}  # all five open it: stable
    # with e's member count making it a 1:1-only lead elsewhere nothing changes; now close L by hand:
    from matcher.assignment.instance import prepare
    from matcher.assignment.stability import blocking_groups
    frame = pd.DataFrame(edges, columns=["lead_id", "partner_id", "score"])
    problem, _f, _n = prepare(leads, partners, frame)
    lead_rank = np.array([0, 0, 0, 0, 0, 1])
    chosen = np.zeros(problem.n_edges, bool)
    chosen[5] = True  # only e-s
    groups = blocking_groups(problem, lead_rank, chosen)
    assert [(p, list(e)) for p, e in groups] == [(0, [0, 1, 2, 3, 4])]
