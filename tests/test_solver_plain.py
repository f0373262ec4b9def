"""The plain (no-minimum) solver, :mod:`matcher.assignment.plain`: OR-Tools' min-cost flow against brute force
and the HiGHS LP, the integer-cost bound, the worker under a deadline, and the answer for a cut flow."""

import importlib.util
import itertools
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from matcher.assignment import plain, solve
from matcher.assignment.problem import make_problem
from matcher.assignment.proposals import greedy_solution

BENCH = Path(__file__).resolve().parents[1] / "bench"


def _shapes():
    spec = importlib.util.spec_from_file_location("bench_shapes", BENCH / "shapes.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _brute_force(n_leads, cap, lead, partner, score):
    """Best total over every way of giving each lead one of its partners or none (slow and obvious)."""
    options = [[None] + [e for e in range(len(lead)) if lead[e] == i] for i in range(n_leads)]
    best = 0.0
    for pick in itertools.product(*options):
        edges = [e for e in pick if e is not None]
        load = np.bincount([partner[e] for e in edges], minlength=len(cap))
        if np.all(load <= cap):
            best = max(best, float(sum(score[e] for e in edges)))
    return best


def _assert_feasible(problem, chosen):
    taken = np.isin(problem.edge_id, chosen)
    assert np.bincount(problem.lead[taken], minlength=problem.n_leads).max(initial=0) <= 1
    assert np.all(np.bincount(problem.partner[taken], minlength=problem.n_partners) <= problem.cap_max)
    return float(problem.score[taken].sum())


SCORES = st.one_of(
    st.sampled_from([0.0, 1.0, 2.0, 3.0]),                      # ties everywhere, zero-score pairs
    st.floats(0, 100, allow_nan=False).map(lambda x: round(x, 2)),  # two decimals, as the scorer writes
    st.floats(0, 1, allow_nan=False),                          # any float: the general scale
    st.sampled_from([1e-6, 1e-9, 5e-324, 1e12]),               # tiny, subnormal, the largest the files accept
)


@st.composite
def plain_instances(draw):
    n_leads = draw(st.integers(1, 5))
    n_partners = draw(st.integers(1, 4))
    cap = draw(st.lists(st.sampled_from([1, 1, 2, 3, -1]), min_size=n_partners, max_size=n_partners))
    pairs = draw(st.lists(st.tuples(st.integers(0, n_leads - 1), st.integers(0, n_partners - 1)),
                          min_size=1, max_size=12, unique=True))
    score = draw(st.lists(SCORES, min_size=len(pairs), max_size=len(pairs)))
    lead, partner = zip(*pairs)
    return make_problem(n_leads, np.zeros(n_partners), cap, lead, partner, score)


@pytest.mark.slow
@settings(max_examples=300, deadline=None)
@given(plain_instances())
def test_flow_equals_brute_force(problem):
    chosen, bound = plain.solve_plain(problem, with_bound=True)
    value = _assert_feasible(problem, chosen)
    cap = np.minimum(problem.cap_max, problem.n_leads)
    best = _brute_force(problem.n_leads, cap, problem.lead, problem.partner, problem.score)
    tol = 1e-9 * max(1.0, best)  # what the solver calls optimal (with 1e12 scores, floats hold no more)
    assert best - tol <= value <= best + tol
    assert best - tol <= bound <= value + tol  # a valid bound, and tight


@settings(max_examples=8, deadline=None)
@given(st.integers(0, 50), st.sampled_from(["capped", "hubs", "round"]))
def test_flow_equals_the_lp_on_generated_plain_instances(seed, shape):
    leads, partners, edges, _members = _shapes().SHAPES[shape](400, seed=seed)
    rng = np.random.default_rng(seed)
    # scores of no fixed number of decimals (the general integer scale), many leads left unmatched
    score = edges.score.to_numpy() * rng.uniform(0.5, 1.5, len(edges)) / 7.0
    part_index = {p: i for i, p in enumerate(partners.partner_id)}
    lead_index = {lead: i for i, lead in enumerate(leads)}
    problem = make_problem(len(leads), np.zeros(len(partners)), partners.max_leads.fillna(-1).astype(int),
                           edges.lead_id.map(lead_index), edges.partner_id.map(part_index), score)
    chosen, bound = plain.solve_plain(problem, with_bound=True)
    value = _assert_feasible(problem, chosen)
    lp_chosen, lp_value = plain._by_lp(problem, None)
    assert value == pytest.approx(lp_value, rel=1e-12)
    assert lp_value - 1e-9 <= bound <= value * (1 + 1e-12)


def test_two_decimal_scores_are_scaled_exactly_and_any_others_within_the_rounding_bound():
    assert plain._scale(np.array([12.34, 0.5, 99.99]), 10)[0] == 100.0
    assert plain._scale(np.array([3.0, 7.0]), 10)[0] == 1.0
    assert plain._scale(np.array([1e-6, 0.0]), 10)[0] == 1e6  # not 1: the pair would count for nothing
    scale, err = plain._scale(np.array([np.pi, np.e]), 10)
    assert scale > 1e13 and 0.5 <= err <= 0.75  # no whole scale: the largest that float and OR-Tools take
    # scores up to the largest the files accept (1e12) still fit OR-Tools' cost range
    scale, err = plain._scale(np.array([1e12, 1.0]), 200_001)
    assert scale * 1e12 * 200_001 <= plain.COST_RANGE


def test_a_cut_answer_improves_on_the_greedy_and_keeps_a_valid_bound():
    leads, partners, edges, _members = _shapes().capped(3_000, seed=4)
    partners = partners.assign(min_leads=0)
    whole = solve(leads, partners, edges)
    from matcher.assignment.instance import prepare
    problem, _edges, _names = prepare(leads, partners, edges)
    greedy, greedy_bound = greedy_solution(problem)
    cut = plain._Cut(problem)
    for _step in range(40):
        assert cut.improve(deadline=float("inf"))
    chosen, bound = cut.answer()
    value = _assert_feasible(problem, chosen)
    assert value >= _assert_feasible(problem, greedy)
    assert whole.objective - 1e-6 <= bound < greedy_bound  # the prices brought the bound down, still valid
    assert value <= whole.objective + 1e-6


def test_a_plain_part_in_a_worker_process_is_exact(monkeypatch):
    leads, partners, edges, _members = _shapes().round_shape(1_000, seed=3)
    edges = edges[edges.partner_id.isin(set(partners.partner_id[partners.min_leads <= 1]))]
    exact = solve(leads, partners, edges)
    monkeypatch.setattr(plain, "IN_PROCESS_EDGES", 0)
    monkeypatch.setattr(plain, "BATCH_EDGES", 1_000)  # components in several batches, smallest first
    limited = solve(leads, partners, edges, time_limit=60)
    assert limited.status == "optimal" and limited.objective == pytest.approx(exact.objective, rel=1e-12)


def test_a_refused_network_falls_back_on_the_lp(monkeypatch):
    leads, partners, edges, _members = _shapes().capped(500, seed=1)
    partners = partners.assign(min_leads=0)
    exact = solve(leads, partners, edges)
    monkeypatch.setattr(plain, "solve_network", lambda request: ("failed", "BAD_COST_RANGE", None))
    again = solve(leads, partners, edges)
    assert again.status == "optimal" and again.objective == pytest.approx(exact.objective, rel=1e-12)


def test_relaxed_problem_keeps_the_fixed_part_out():
    # solve_plain answers for the free edges only: a problem's fixed pairs are the caller's
    problem = make_problem(2, [0, 0], [1, 1], [0, 1], [0, 1], [5.0, 4.0])
    problem = replace(problem, fixed=np.array([7]), fixed_score=3.0)
    chosen, bound = plain.solve_plain(problem, with_bound=True)
    assert sorted(chosen) == [0, 1] and bound == pytest.approx(9.0)
