"""조합 (cooperative) leads: a lead standing for N SMEs counts N toward a multi-lead partner's
minimum and maximum. The solver against brute force with a slow obvious checker; worked examples."""

import importlib.util
import itertools
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from matcher.assignment import check_feasible, solve
from matcher.assignment.check import load_text
from matcher.errors import InfeasibleError, ValidationError
from matcher.stable import stable_with_minimums

BENCH = Path(__file__).resolve().parents[1] / "bench"


def bench_module(name):
    spec = importlib.util.spec_from_file_location(f"bench_{name}", BENCH / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def slow_violations(pairs, partners, edges, locks, forbid, members):
    """The rules written out plainly, one loop each (what ``check_feasible`` must agree with)."""
    found = []
    leads = [lead for lead, _p in pairs]
    for lead in set(leads):
        if leads.count(lead) > 1:
            found.append("lead twice")
    eligible = [tuple(e[:2]) for e in edges]
    for pair in pairs:
        if pair not in eligible:
            found.append("not eligible")
        if pair in [tuple(f) for f in forbid]:
            found.append("forbidden")
    for lock in locks:
        if tuple(lock) not in pairs:
            found.append("lock missing")
    for p, lo, hi in partners:
        chosen = [lead for lead, q in pairs if q == p]
        multi = hi is None or hi > 1 or lo > 1
        load = sum(members.get(lead, 1) for lead in chosen) if multi else len(chosen)
        if hi is not None and load > hi:
            found.append("over maximum")
        if lo > 1 and 0 < load < lo:
            found.append("under minimum")
    return found


def brute_force(leads, partners, edges, locks, forbid, members):
    options = {lead: [None] + [(p, s) for m, p, s in edges if m == lead] for lead in leads}
    best = None
    for choice in itertools.product(*(options[lead] for lead in leads)):
        pairs = [(lead, c[0]) for lead, c in zip(leads, choice) if c]
        if not slow_violations(pairs, partners, edges, locks, forbid, members):
            total = sum(c[1] for c in choice if c)
            best = total if best is None else max(best, total)
    return best


@st.composite
def weighted_instances(draw):
    n_leads = draw(st.integers(1, 6))
    leads = [f"L{i}" for i in range(n_leads)]
    members = {lead: draw(st.sampled_from([1, 1, 2, 3, 5])) for lead in leads}
    partners = []
    for j in range(draw(st.integers(1, 3))):
        lo = draw(st.sampled_from([0, 1, 3, 5]))
        hi = draw(st.sampled_from([None, 1, 3, 5, 7]))
        if hi is not None and hi < lo:
            hi = lo
        partners.append((f"P{j}", lo, hi))
    pairs = [(lead, p) for lead in leads for p, _, _ in partners]
    chosen = draw(st.lists(st.sampled_from(pairs), unique=True, max_size=min(len(pairs), 9)))
    edges = [(lead, p, draw(st.integers(0, 9))) for lead, p in chosen]
    locks = draw(st.lists(st.sampled_from(chosen), unique=True, max_size=2)) if chosen else []
    forbid = draw(st.lists(st.sampled_from(chosen), unique=True, max_size=1)) if chosen else []
    return leads, partners, edges, locks, forbid, members


def _solved_or_refused(instance, feasible):
    """The solution of ``instance``, checked by the slow checker; or None after checking it is refused."""
    leads, partners, edges, locks, forbid, members = instance
    if not feasible:
        with pytest.raises(InfeasibleError):
            solve(leads, partners, edges, locks, forbid, members=members)
        return None
    sol = solve(leads, partners, edges, locks, forbid, members=members)
    pairs = list(zip(sol.pairs.lead_id, sol.pairs.partner_id))
    assert slow_violations(pairs, partners, edges, locks, forbid, members) == []
    return sol


@pytest.mark.slow
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(weighted_instances())
def test_weighted_minimums_match_brute_force(instance):
    leads, partners, edges, locks, forbid, members = instance
    best = brute_force(leads, partners, edges, locks, forbid, members)
    sol = _solved_or_refused(instance, best is not None)
    if sol is None:
        return
    assert check_feasible(sol.pairs, partners, edges, locks, forbid, members=members) == []
    assert sol.status == "optimal" and sol.objective == pytest.approx(best, abs=1e-9)
    cut = solve(leads, partners, edges, locks, forbid, members=members, time_limit=0)
    cut_pairs = list(zip(cut.pairs.lead_id, cut.pairs.partner_id))
    assert slow_violations(cut_pairs, partners, edges, locks, forbid, members) == []
    assert cut.objective <= best + 1e-9 <= cut.bound + 2e-9


@pytest.mark.slow
@settings(max_examples=300, deadline=None)
@given(weighted_instances(), st.data())
def test_check_feasible_agrees_with_the_slow_checker(instance, data):
    leads, partners, edges, locks, forbid, members = instance
    pairs = data.draw(st.lists(st.sampled_from([(lead, p) for lead in leads for p, _, _ in partners]),
                               unique=True, max_size=6))
    fast = check_feasible(pairs, partners, edges, locks, forbid, members=members)
    assert bool(fast) == bool(slow_violations(pairs, partners, edges, locks, forbid, members))


def test_check_feasible_is_linear():
    # 200,000 chosen pairs and 200,000 locks: the quadratic version (list.count per lead, the chosen
    # set rebuilt per lock) would take minutes; counted in operations, not timed: the chosen set is
    # built once, so locks cost one lookup each
    n = 200_000
    pairs = [(f"L{i}", f"P{i % 1000}") for i in range(n)]
    partners = [(f"P{j}", 0, None) for j in range(1000)]
    import time
    start = time.process_time()
    assert check_feasible(pairs, partners, pairs, locks=pairs) == []
    assert time.process_time() - start < 20  # the quadratic version: 4e10 comparisons


def test_a_cooperative_of_seven_fills_a_minimum_of_five_alone():
    sol = solve(["coop", "a"], [("LG", 5, 15), ("s", 0, 1)], [("coop", "LG", 3.0), ("a", "LG", 1.0), ("a", "s", 0.5)],
                members={"coop": 7})
    assert sorted(zip(sol.pairs.lead_id, sol.pairs.partner_id)) == [("a", "LG"), ("coop", "LG")]
    assert sol.cooperative_notes() == [{"partner_id": "LG", "ko": "LG: 주관기업 2곳(중소기업 8개사), 최소 5, 최대 15",
                                        "en": "LG: 2 leads standing for 8 SMEs, minimum 5, maximum 15"}]
    # without the members the large partner cannot open: only the SME pair is left
    assert list(solve(["coop", "a"], [("LG", 5, 15), ("s", 0, 1)],
                      [("coop", "LG", 3.0), ("a", "LG", 1.0), ("a", "s", 0.5)]).pairs.partner_id) == ["s"]


def test_members_count_toward_the_maximum_too():
    # max 15: cooperatives of 8 and 8 cannot both join; 8 + 1 + 1 + 1 can
    leads = ["c1", "c2", "a", "b", "c"]
    edges = [(lead, "LG", 10.0) for lead in leads]
    sol = solve(leads, [("LG", 5, 15)], edges, members={"c1": 8, "c2": 8})
    assert sol.status == "optimal" and sol.objective == 40.0
    assert check_feasible(sol.pairs, [("LG", 5, 15)], edges, members={"c1": 8, "c2": 8}) == []


def test_a_one_to_one_partner_takes_a_cooperative_as_one_lead():
    sol = solve(["coop"], [("s", 0, 1)], [("coop", "s", 2.0)], members={"coop": 9})
    assert sol.matched == 1


def test_infeasible_lock_names_leads_and_smes():
    with pytest.raises(InfeasibleError) as err:
        solve(["c", "a", "b"], [("LG", 10, None)], [("c", "LG", 1), ("a", "LG", 1), ("b", "LG", 1)],
              locks=[("c", "LG"), ("a", "LG")], members={"c": 3, "a": 4})
    assert err.value.reasons == ["partner LG locked with 2 leads standing for 7 SMEs but needs at least 10 "
                                 "and has only 3 leads standing for 8 SMEs eligible"]


def test_load_wording():
    assert load_text(3, 7) == "3 leads standing for 7 SMEs"
    assert load_text(3, 7, "ko") == "주관기업 3곳(중소기업 7개사)"
    assert load_text(4, 4, "ko") == "주관기업 4곳"


@pytest.mark.parametrize("members", [{"a": 0}, {"a": -2}, {"a": 2.5}, {"a": True}, [1, 2]])
def test_bad_member_counts_are_refused(members):
    with pytest.raises(ValidationError, match="members"):
        solve(["a"], [("P", 0, 1)], [("a", "P", 1)], members=members)


def test_members_as_a_sequence_aligned_with_leads():
    sol = solve(["a", "b"], [("LG", 5, None)], [("a", "LG", 1), ("b", "LG", 1)], members=[2, 3])
    assert sol.matched == 2


def test_stable_mode_weighted_capacities_and_minimums():
    # LG (min 5, max 6) prefers the cooperative c (4 SMEs) then a, b, d; with c and a it has 5 SMEs,
    # b (1) still fits (6), d does not; s takes d
    lead_prefs = {"c": ["LG"], "a": ["LG"], "b": ["LG"], "d": ["LG", "s"]}
    partner_rank = {"LG": {"c": 0, "a": 1, "b": 2, "d": 3}, "s": {"d": 0}}
    weight = {("c", "LG"): 4}
    assignment, closed, complete = stable_with_minimums(lead_prefs, partner_rank, {"LG": 6, "s": 1},
                                                        {"LG": 5, "s": 0}, weight=weight)
    assert complete and not closed
    assert assignment == {"c": "LG", "a": "LG", "b": "LG", "d": "s"}


@pytest.mark.slow
def test_generated_cooperative_shape_is_exact_against_the_whole_milp():
    shapes = bench_module("shapes")
    leads, partners, edges, members = shapes.coop(900, seed=3)
    sol = solve(leads, partners, edges, members=members)
    assert sol.status == "optimal"
    part = list(partners.itertuples(index=False, name=None))
    member_map = dict(zip(leads, members))
    assert check_feasible(sol.pairs, part, list(edges.itertuples(index=False, name=None)), members=member_map) == []
    assert sol.objective == pytest.approx(bench_module("bench_solver").whole_milp(leads, partners, edges, members)[0],
                                          rel=1e-9)


def _relabel(instance, tag):
    leads, partners, edges, locks, forbid, members = instance
    name = lambda x: f"{tag}{x}"  # noqa: E731
    return ([name(x) for x in leads], [(name(p), lo, hi) for p, lo, hi in partners],
            [(name(a), name(b), s) for a, b, s in edges], [(name(a), name(b)) for a, b in locks],
            [(name(a), name(b)) for a, b in forbid], {name(k): v for k, v in members.items()})


@pytest.mark.slow
@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(weighted_instances(), weighted_instances())
def test_components_with_cooperatives_are_solved_each_exactly(first, second):
    """Components with 조합 leads go straight to their own MILP (beside plain and unweighted ones):
    the optimum of two independent instances side by side is the sum of their brute-force optima."""
    a, b = _relabel(first, "a"), _relabel(second, "b")
    best_a, best_b = brute_force(*a), brute_force(*b)
    both = tuple(x + y if isinstance(x, list) else {**x, **y} for x, y in zip(a, b))
    sol = _solved_or_refused(both, best_a is not None and best_b is not None)
    if sol is None:
        return
    assert sol.status == "optimal" and sol.objective == pytest.approx(best_a + best_b, abs=1e-9)
