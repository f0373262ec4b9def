"""The assignment solver against brute force, worked examples, an exact MILP and OR-Library optima."""

import importlib.util
import itertools
import unittest.mock
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy.optimize import Bounds, LinearConstraint, milp

from matcher.assignment import check_feasible, search, solve
from matcher.assignment.instance import prepare
from matcher.assignment.model import build_model
from matcher.assignment.problem import fix, make_problem
from matcher.errors import InfeasibleError, InvalidValueError

ROOT = Path(__file__).resolve().parents[1]
ORLIB = ROOT.parent / "shared" / "reference" / "orlib-assign"


def _bench():
    spec = importlib.util.spec_from_file_location("bench_solver", ROOT / "bench" / "bench_solver.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


violations = check_feasible  # one feasibility check for the solver, stable mode and these tests


def brute_force(leads, partners, edges, locks=(), forbid=()):
    """Best total score over every assignment (None when none is feasible)."""
    options = {l: [None] + [(p, s) for m, p, s in edges if m == l] for l in leads}
    best = None
    for choice in itertools.product(*(options[l] for l in leads)):
        pairs = pd.DataFrame([(l, c[0]) for l, c in zip(leads, choice) if c], columns=["lead_id", "partner_id"])
        if not violations(pairs, partners, edges, locks, forbid):
            total = sum(c[1] for c in choice if c)
            best = total if best is None else max(best, total)
    return best


@st.composite
def instances(draw):
    n_leads = draw(st.integers(1, 6))
    n_partners = draw(st.integers(1, 3))
    leads = [f"L{i}" for i in range(n_leads)]
    partners = []
    for j in range(n_partners):
        lo = draw(st.sampled_from([0, 1, 2, 3]))
        hi = draw(st.sampled_from([None, 1, 2, 3, 4]))
        if hi is not None and hi < lo:
            hi = lo
        partners.append((f"P{j}", lo, hi))
    pairs = [(l, p) for l in leads for p, _, _ in partners]
    chosen = draw(st.lists(st.sampled_from(pairs), unique=True, max_size=min(len(pairs), 9)))
    edges = [(l, p, draw(st.integers(0, 9))) for l, p in chosen]
    locks = draw(st.lists(st.sampled_from(chosen), unique=True, max_size=2)) if chosen else []
    forbid = draw(st.lists(st.sampled_from(chosen), unique=True, max_size=2)) if chosen else []
    return leads, partners, edges, locks, forbid


@pytest.mark.slow
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(instances())
def test_matches_brute_force(instance):
    leads, partners, edges, locks, forbid = instance
    best = brute_force(leads, partners, edges, locks, forbid)
    if best is None:
        with pytest.raises(InfeasibleError):
            solve(leads, partners, edges, locks, forbid)
        return
    sol = solve(leads, partners, edges, locks, forbid)
    assert violations(sol.pairs, partners, edges, locks, forbid) == []
    assert sol.status == "optimal"
    assert sol.objective == pytest.approx(best, abs=1e-9)
    assert sol.bound >= best - 1e-9
    cut = solve(leads, partners, edges, locks, forbid, time_limit=0)
    assert violations(cut.pairs, partners, edges, locks, forbid) == []
    assert cut.objective <= best + 1e-9 <= cut.bound + 2e-9


def test_large_partner_with_four_eligible_stays_unused():
    leads = ["a", "b", "c", "d"]
    edges = [(l, "LG", 10) for l in leads] + [("a", "s", 1)]
    sol = solve(leads, [("LG", 5, None), ("s", 1, 1)], edges)
    assert list(sol.pairs.itertuples(index=False, name=None)) == [("a", "s", 1.0)]
    assert sol.status == "optimal"


def test_large_partner_with_five_eligible_one_worth_more_elsewhere():
    # e is worth 20 with its SME partner but only 3 with the large one: opening LG
    # (a..e: 4*10 + 3 = 43) beats leaving it closed (e with s: 20)? 43 > 20, so open it;
    # with e's SME worth 50 instead, closing LG (50) beats 43 and a..d stay unmatched.
    leads = ["a", "b", "c", "d", "e"]
    base = [(l, "LG", 10) for l in "abcd"] + [("e", "LG", 3)]
    sol = solve(leads, [("LG", 5, None), ("s", 1, 1)], base + [("e", "s", 20)])
    assert sol.objective == 43 and set(sol.pairs.partner_id) == {"LG"}
    sol = solve(leads, [("LG", 5, None), ("s", 1, 1)], base + [("e", "s", 50)])
    assert sol.objective == 50 and list(sol.pairs.lead_id) == ["e"]


def test_infeasible_lock_names_partner_and_counts():
    leads = [f"L{i}" for i in range(4)]
    edges = [(l, "B0007", 1) for l in leads]
    with pytest.raises(InfeasibleError) as err:
        solve(leads, [("B0007", 5, None)], edges, locks=[("L0", "B0007"), ("L1", "B0007")])
    assert err.value.reasons == ["partner B0007 locked with 2 leads but needs at least 5 and has only 4 eligible"]


def test_lead_locked_twice_and_lock_on_ineligible_pair():
    partners = [("P", 0, 1), ("Q", 0, 1)]
    edges = [("a", "P", 1), ("a", "Q", 2)]
    with pytest.raises(InfeasibleError, match="lead a locked with 2 partners"):
        solve(["a"], partners, edges, locks=[("a", "P"), ("a", "Q")])
    with pytest.raises(InfeasibleError, match="lead a and partner Z are locked but not an eligible pair"):
        solve(["a"], partners, edges, locks=[("a", "Z")])


def test_lock_beyond_maximum():
    edges = [("a", "P", 1), ("b", "P", 1)]
    with pytest.raises(InfeasibleError, match="partner P locked with 2 leads but takes at most 1"):
        solve(["a", "b"], [("P", 0, 1)], edges, locks=[("a", "P"), ("b", "P")])


@pytest.mark.slow
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(instances())
def test_milp_with_continuous_pair_columns_matches_brute_force(instance):
    # the MILP with only the partners' y integer (as on the 100k round's large components), on the
    # whole instance after its locks: exact; small integer scores make ties, where HiGHS may leave
    # x fractional and the answer is made integral with the same y
    leads, partners, edges, locks, forbid = instance
    best = brute_force(leads, partners, edges, locks, forbid)
    try:
        problem = prepare(leads, partners, edges, locks, forbid)[0]
    except InfeasibleError:
        assert best is None
        return
    with unittest.mock.patch.object(search, "CONTINUOUS_X_EDGES", 0):
        try:
            found = search._milp(problem, None)
        except InfeasibleError:
            found = None
    if best is None:
        assert found is None
        return
    assert found.value == pytest.approx(best, abs=1e-9) and found.bound == pytest.approx(best, abs=1e-9)
    chosen = pd.DataFrame([edges[e][:2] for e in found.chosen], columns=["lead_id", "partner_id"])
    assert violations(chosen, partners, edges, locks, forbid) == []


def test_milp_answer_left_fractional_at_a_tie_is_made_integral(monkeypatch):
    # P (min 2, no maximum) can take leads 0, 1, 2 and S (1:1) lead 2, every pair worth 1: an optimum
    # splitting lead 2 half and half is what a MILP with continuous x may return; the answer keeps y
    problem = make_problem(3, [2, 0], [-1, 1], [0, 1, 2, 2], [0, 0, 0, 1], [1.0, 1.0, 1.0, 1.0])
    monkeypatch.setattr(search, "CONTINUOUS_X_EDGES", 0)
    monkeypatch.setattr(search, "solve_milp", lambda model, **kw: ("optimal", 3.0, np.array([1, 1, .5, .5, 1]), 3.0))
    found = search._milp(problem, None)
    assert found.value == found.bound == 3.0
    assert sorted(found.chosen)[:2] == [0, 1] and len(found.chosen) == 3 and len({2, 3} & set(found.chosen)) == 1


def test_start_solution_only_when_it_solves_the_part():
    # three leads, a large partner P (min 2) and an SME partner S; once lead 0 is fixed to S, an
    # incumbent that puts lead 0 with P is no start for what is left
    problem = make_problem(3, [2, 0], [-1, 1], [0, 1, 2, 0], [0, 0, 0, 1], [5.0, 5.0, 4.0, 1.0])
    model = build_model(problem)
    at_p = search.Outcome(np.array([0, 1]), 10.0, 10.0)
    start = search._start(problem, model, at_p)
    assert list(start[:model.n_x]) == [1, 1, 0, 0] and list(start[model.n_x:]) == [1]
    rest = fix(problem, ones=np.array([False, False, False, True]))
    assert search._start(rest, build_model(rest), at_p) is None
    start = search._start(rest, build_model(rest), search.Outcome(np.array([3, 1, 2]), 10.0, 10.0))
    assert list(start) == [1, 1, 1]
    assert search._start(problem, model, search.Outcome(np.array([], int), -np.inf, 3.0)) is None


@pytest.mark.slow
@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(instances(), st.sampled_from([1e-6, 0.01, 0.1, 0.5]))
def test_a_gap_target_keeps_the_answer_within_it_of_the_brute_force_optimum(instance, gap):
    leads, partners, edges, locks, forbid = instance
    best = brute_force(leads, partners, edges, locks, forbid)
    if best is None:
        return
    sol = solve(leads, partners, edges, locks, forbid, gap=gap)
    assert violations(sol.pairs, partners, edges, locks, forbid) == []
    assert sol.bound >= best - 1e-9
    assert sol.objective >= (1 - gap) * best - 1e-9 and sol.gap <= gap + 1e-12
    assert (sol.status == "optimal") == (sol.gap <= 1e-9)


@pytest.mark.parametrize("gap", [1e-3, 0.02])
def test_a_gap_target_reaches_highs_and_keeps_the_bound_valid(hard_instance, gap, monkeypatch):
    leads, partners, edges, best = hard_instance
    asked = []
    real = search.solve_milp

    def recording(*args, **kwargs):  # the real MILP, its gap noted
        asked.append(kwargs.get("mip_rel_gap"))
        return real(*args, **kwargs)

    monkeypatch.setattr(search, "solve_milp", recording)
    sol = solve(leads, partners, edges, gap=gap)
    part = list(partners.itertuples(index=False, name=None))
    assert violations(sol.pairs, part, list(edges.itertuples(index=False, name=None))) == []
    assert sol.bound >= best - 1e-6 and sol.objective >= (1 - gap) * best - 1e-6 and sol.gap <= gap
    # the incumbents' MILPs stop at the target; the region bound's pieces stay exact (None: the default 1e-10)
    assert gap in asked and set(asked) <= {gap, None}


@pytest.mark.parametrize("gap", [-0.1, 1.0, float("nan"), float("inf")])
def test_a_gap_outside_zero_to_one_is_refused(gap):
    with pytest.raises(InvalidValueError, match="gap"):
        solve(["a"], [("P", 0, 1)], [("a", "P", 1)], gap=gap)


def exact_milp(leads, partners, edges):
    """Slow and obvious: the whole instance as one all-integer MILP."""
    li = {l: i for i, l in enumerate(leads)}
    pi = {p: i for i, p in enumerate(partners.partner_id)}
    el = edges.lead_id.map(li).to_numpy()
    ep = edges.partner_id.map(pi).to_numpy()
    ne, npn = len(edges), len(pi)
    lo = partners.min_leads.to_numpy()
    hi = partners.max_leads.fillna(len(leads)).to_numpy().astype(float)
    e = np.arange(ne)
    rows = [sp.csr_matrix((np.ones(ne), (el, e)), shape=(len(leads), ne + npn))]
    rows.append(sp.csr_matrix((np.r_[np.ones(ne), -hi], (np.r_[ep, np.arange(npn)], np.r_[e, ne + np.arange(npn)])),
                              shape=(npn, ne + npn)))
    rows.append(sp.csr_matrix((np.r_[-np.ones(ne), np.where(lo > 1, lo, 0)], (np.r_[ep, np.arange(npn)],
                              np.r_[e, ne + np.arange(npn)])), shape=(npn, ne + npn)))
    A = sp.vstack(rows)
    b = np.r_[np.ones(len(leads)), np.zeros(2 * npn)]
    res = milp(np.r_[-edges.score.to_numpy(), np.zeros(npn)], constraints=LinearConstraint(A, -np.inf, b),
               bounds=Bounds(0, 1), integrality=np.ones(ne + npn), options={"mip_rel_gap": 0})
    return -res.fun


@pytest.mark.parametrize("continuous_x", [False, True])
@pytest.mark.parametrize("seed", [0, 4])
def test_generated_instance_with_fractional_lp_equals_exact_milp(seed, continuous_x, monkeypatch):
    # these instances have components whose LP relaxation is fractional, so they go
    # through rounding, reduced-cost fixing and the MILP; with continuous_x every MILP keeps its
    # pair columns continuous and starts from the rounding's answer (as the 100k round's large ones do)
    if continuous_x:
        monkeypatch.setattr(search, "CONTINUOUS_X_EDGES", 0)
    leads, partners, edges = _bench().generate_instance(600, 200, 2700, large_share=0.15, seed=seed)
    sol = solve(leads, partners, edges)
    assert sol.stats["fractional"] > 0 and sol.stats["milp"] > 0
    part = list(partners.itertuples(index=False, name=None))
    assert violations(sol.pairs, part, list(edges.itertuples(index=False, name=None))) == []
    assert sol.status == "optimal"
    assert sol.objective == pytest.approx(exact_milp(leads, partners, edges), rel=1e-9)


def test_time_limit_still_gives_feasible_answer_and_valid_bound():
    leads, partners, edges = _bench().generate_instance(600, 200, 2700, large_share=0.15, seed=0)
    best = solve(leads, partners, edges).objective
    sol = solve(leads, partners, edges, time_limit=0.0)
    part = list(partners.itertuples(index=False, name=None))
    assert violations(sol.pairs, part, list(edges.itertuples(index=False, name=None))) == []
    assert sol.objective <= best + 1e-6 <= sol.bound + 2e-6
    assert sol.status in ("optimal", "feasible")


@pytest.mark.skipif(not ORLIB.is_dir(), reason="OR-Library files not present")
@pytest.mark.parametrize("name,optimum", [("assignp800", 2239), ("assignp1500", 5839)])
def test_orlib_assignment_optimum(name, optimum):
    leads, partners, edges, cost = _bench().read_orlib(ORLIB / f"{name}.txt")
    sol = solve(leads, partners, edges)
    assert sol.matched == len(leads)
    assert int(cost[sol.edge_index].sum()) == optimum


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 10_000))
def test_plain_assignment_equals_transportation_lp(seed):
    # fast (LAPJVsp on partner slots) against slow (the LP, integral because totally unimodular)
    from matcher.assignment.model import build_model, solve_lp
    from matcher.assignment.plain import solve_plain
    from matcher.assignment.problem import make_problem

    rng = np.random.default_rng(seed)
    n_leads, n_partners, n_edges = 120, 40, 500
    pairs = np.unique(np.c_[rng.integers(0, n_leads, n_edges), rng.integers(0, n_partners, n_edges)], axis=0)
    score = rng.integers(0, 50, len(pairs)).astype(float)
    cap_max = rng.choice([1, 1, 2, 5, -1], n_partners)
    problem = make_problem(n_leads, np.ones(n_partners, int), cap_max, pairs[:, 0], pairs[:, 1], score)
    chosen = solve_plain(problem)
    assert len(set(pairs[chosen, 0])) == len(chosen)
    load = np.bincount(pairs[chosen, 1], minlength=n_partners)
    assert np.all(load <= problem.cap_max)
    assert score[chosen].sum() == pytest.approx(solve_lp(build_model(problem)).value, abs=1e-6)


def test_locks_competing_for_the_same_leads():
    leads = list("abcde")
    edges = [(l, p, 1) for l in leads for p in "PQ"]
    with pytest.raises(InfeasibleError, match="cannot all hold together"):
        solve(leads, [("P", 3, None), ("Q", 3, None)], edges, locks=[("a", "P"), ("b", "Q")])
    sol = solve(leads, [("P", 3, None), ("Q", 2, None)], edges, locks=[("a", "P"), ("b", "Q")])
    assert sol.status == "optimal" and sol.matched == 5
    # the same with a plain component beside it: the constrained part is solved in a thread of its own
    # while the plain one is, and its refusal still reaches the caller
    plain = [(f"s{i}", f"S{i % 3}", 2.0) for i in range(6)]
    partners = [("P", 3, None), ("Q", 3, None)] + [(f"S{j}", 0, 1) for j in range(3)]
    with pytest.raises(InfeasibleError, match="cannot all hold together"):
        solve(leads + [f"s{i}" for i in range(6)], partners, edges + plain, locks=[("a", "P"), ("b", "Q")])


@pytest.mark.slow
@settings(max_examples=150, deadline=None)
@given(instances())
def test_quick_fallback_is_feasible_with_valid_bound(instance):
    from matcher.assignment.greedy import quick_solution
    from matcher.assignment.instance import _edge_frame, _partner_frame
    from matcher.assignment.problem import make_problem

    leads, partners, edges, _locks, _forbid = instance
    parts, frame = _partner_frame(partners), _edge_frame(edges)
    problem = make_problem(len(leads), parts["min_leads"], parts["max_leads"],
                           pd.Index(leads).get_indexer(frame["lead_id"]),
                           pd.Index(parts["partner_id"]).get_indexer(frame["partner_id"]), frame["score"])
    chosen, bound = quick_solution(problem)
    pairs = frame.iloc[np.sort(chosen)]
    assert violations(pairs, partners, edges) == []
    assert pairs.score.sum() <= brute_force(leads, partners, edges) + 1e-9 <= bound + 2e-9


def test_unknown_edge_id_is_refused():
    from matcher.errors import ValidationError
    with pytest.raises(ValidationError, match="row 2, lead_id: 'zz' is not a known id"):
        solve(["a"], [("P", 0, 1)], [("zz", "P", 1)])


@pytest.fixture(scope="module")
def hard_instance():
    leads, partners, edges = _bench().generate_instance(2000, 660, 9000, large_share=0.25, seed=5)
    return leads, partners, edges, solve(leads, partners, edges).objective


@pytest.mark.parametrize("limit", [0.02, 0.3, 0.8])
def test_time_limits_keep_answers_feasible_and_bounds_valid(hard_instance, limit):
    # the limits cut the work at different places: in the LP (fallback), in rounding, in the MILP
    leads, partners, edges, best = hard_instance
    sol = solve(leads, partners, edges, time_limit=limit)
    part = list(partners.itertuples(index=False, name=None))
    assert violations(sol.pairs, part, list(edges.itertuples(index=False, name=None))) == []
    assert sol.objective <= best + 1e-6 and sol.bound >= best - 1e-6
    assert sol.status == ("optimal" if sol.objective >= best - 1e-6 and sol.gap == 0 else "feasible")


def test_time_limit_holds_when_locks_force_partners_open(hard_instance, monkeypatch):
    # the LP is cut at once, its quick fallback leaves the locked large partners short: the forced
    # partners are then filled from their best free leads and the rest solved, within the same deadline
    from matcher.assignment import instance
    leads, partners, edges, _best = hard_instance
    large = set(partners.partner_id[partners.min_leads > 1])
    locks, used = [], set()
    for lead, partner, _score in edges.itertuples(index=False, name=None):
        if partner in large and partner not in {p for _, p in locks} and lead not in used and len(locks) < 30:
            locks.append((lead, partner))
            used.add(lead)
    best = solve(leads, partners, edges, locks=locks).objective
    deadlines = []
    real = instance.solve_problem
    monkeypatch.setattr(instance, "solve_problem", lambda problem, deadline=None: (
        deadlines.append(deadline), real(problem, deadline))[1])
    sol = solve(leads, partners, edges, locks=locks, time_limit=0.0)
    assert len(deadlines) == 2 and None not in deadlines  # the forced fill ran, under the deadline
    part = list(partners.itertuples(index=False, name=None))
    assert violations(sol.pairs, part, list(edges.itertuples(index=False, name=None)), locks) == []
    assert sol.objective <= best + 1e-6 <= sol.bound + 2e-6 and sol.status == "feasible"
    assert sol.seconds < 5


def test_fill_forced_is_exact_where_greedy_is_not():
    # P and Q (min 3) are forced open by locks on leads 0 and 5; lead 1 is P's best by far, but Q can
    # only be filled with leads 1 and 2: taking P's best first would leave Q short
    from matcher.assignment.greedy import fill_forced
    from matcher.assignment.problem import fix, make_problem
    lead, partner = [0, 1, 2, 3, 4, 5, 1, 2], [0, 0, 0, 0, 0, 1, 1, 1]
    locks = np.array([True, False, False, False, False, True, False, False])
    problem = fix(make_problem(6, [3, 3], [-1, -1], lead, partner, [1, 9, 1, 1, 1, 1, 1, 1]), ones=locks)
    rest = fill_forced(problem)
    assert sorted(rest.fixed) == [0, 3, 4, 5, 6, 7] and (rest.cap_min == 0).all()
    short = fix(make_problem(6, [3, 3], [-1, -1], lead[:4] + lead[5:], partner[:4] + partner[5:], [1] * 7),
                ones=np.delete(locks, 4))
    with pytest.raises(InfeasibleError, match="forced open by a lock still needs 2 more leads and can get only 1"):
        fill_forced(short)


@pytest.mark.slow
@pytest.mark.parametrize("n,seed", [(3000, 1), (5000, 2)])
def test_issue9_shape_through_the_region_bound_equals_the_whole_milp(n, seed):
    # large partners 5..15, SME partners 1, one giant component: the LP is fractional, so the answer
    # comes through the region bound (its pieces, disputes, repair) and reduced-cost fixing
    spec = importlib.util.spec_from_file_location("bench_shapes", ROOT / "bench" / "shapes.py")
    shapes = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(shapes)
    leads, partners, edges, _members = shapes.capped(n, seed=seed)
    sol = solve(leads, partners, edges)
    assert sol.stats["fractional"] > 0 and sol.stats["region"] > 0
    part = list(partners.itertuples(index=False, name=None))
    assert violations(sol.pairs, part, list(edges.itertuples(index=False, name=None))) == []
    assert sol.status == "optimal"
    assert sol.objective == pytest.approx(_bench().whole_milp(leads, partners, edges)[0], rel=1e-9)
