"""Exact search: components, one LP over the constrained ones, work only where it is fractional.

1. Components without a binding minimum are transportation problems, solved exactly by
   :func:`.plain.solve_plain`.
2. The others get one LP relaxation together (:mod:`.model`, strong form). Every
   component whose LP answer is integral is optimal as it stands.
3. In each fractional component, round the LP for an incumbent (:func:`_round`: the
   fractional large partners closed or opened, then switched one by one; the rest a
   totally unimodular LP, so integral).
4. Reduced-cost fixing: an edge or partner whose LP reduced cost exceeds the
   component's gap (LP value minus incumbent) takes its LP value in every better
   solution. What is left falls apart into smaller components, solved the same way
   (up to :data:`MAX_DEPTH` rounds), with an exact MILP (HiGHS) where still fractional.

The bound reported is the sum of the component bounds: the proven optimum where one
was proven, otherwise the LP, MILP dual or relaxation bound (never less than the
incumbent). When time runs out before an LP ends, :func:`_fallback` answers from the
transportation relaxation.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components

from ..errors import InfeasibleError
from .model import INTEGRAL_TOL, build_model, is_integral, solve_lp, solve_milp
from .greedy import quick_solution
from .plain import solve_plain
from .problem import fix

FIX_EPS = 1e-7
MAX_DEPTH = 3
"""Rounds of LP → round → reduced-cost fixing before the MILP takes what is left."""
SHRINK = 0.95
"""Go on fixing only while a round removes at least 5 % of the edges."""
ROUND_RADIUS = 2
"""Steps (partner → its leads → their partners) around the fractional part that rounding re-solves."""
FULL_ROUND_EDGES = 50_000
"""Components up to this size are re-solved whole when rounding (cheap, and a better incumbent)."""
MILP_ROOT_FACTOR = 4.0
"""A MILP is started only with this many times its LP's expected time left."""
SWITCH_SECONDS = 5.0
"""Time for switching fractional large partners one by one (opened/closed) to improve the rounding."""


@dataclass
class Outcome:
    """Chosen edges (``edge_id``), their total score, and an upper bound on the optimum."""

    chosen: np.ndarray
    value: float
    bound: float
    stats: dict = field(default_factory=dict)


def solve_problem(problem, deadline=None, depth=0):
    """Solve ``problem`` (its fixed part included); see the module docstring.

    Components without a binding minimum go to :func:`.plain.solve_plain` (exact
    assignment); the others to the LP-based search.

    Raises
    ------
    InfeasibleError
        When the fixed pairs and forced partners admit no assignment.
    """
    out = Outcome(problem.fixed.copy(), problem.fixed_score, problem.fixed_score, _stats())
    if problem.n_edges == 0:
        return out
    comp = edge_components(problem)
    constrained = np.zeros(comp.max() + 1, bool)
    constrained[comp[problem.binding()[problem.partner]]] = True
    plain = ~constrained[comp]
    out.stats["components"] = len(constrained)
    if plain.any():
        chosen = solve_plain(problem.keep(plain))
        _add(out, Outcome(chosen, float(problem.score[np.isin(problem.edge_id, chosen)].sum()), 0.0))
        out.bound = out.value
    if not plain.all():
        rest = replace(problem.keep(~plain), fixed=problem.fixed[:0], fixed_score=0.0)
        _add(out, _solve_constrained(rest, comp[~plain], deadline, depth))
    return out


def _add(out, part):
    out.chosen = np.concatenate([out.chosen, part.chosen])
    out.value += part.value
    out.bound += part.bound
    _merge(out.stats, part.stats)


def _solve_constrained(problem, comp, deadline, depth):
    """LP over the components with a binding minimum; exact work only where it is fractional."""
    model = build_model(problem)
    started = time.perf_counter()
    lp = solve_lp(model, time_limit=_remaining(deadline))
    seconds_per_var = (time.perf_counter() - started) / max(model.n_vars, 1)
    if lp.status == "infeasible":
        raise InfeasibleError(["the locked pairs cannot all hold together: the partners they force open "
                               "cannot all reach their minimum number of leads"])
    if lp.status == "limit":
        return _fallback(problem)
    x, y = lp.x[:model.n_x], lp.x[model.n_x:]
    part_comp = np.full(problem.n_partners, -1)
    part_comp[problem.partner] = comp
    frac = np.abs(x - np.round(x)) > INTEGRAL_TOL
    frac_y = np.abs(y - np.round(y)) > INTEGRAL_TOL
    bad = np.union1d(comp[frac], part_comp[model.y_partner[frac_y]])
    settled = ~np.isin(comp, bad) & (x > 0.5)
    value = float(problem.score[settled].sum())
    out = Outcome(problem.edge_id[settled], value, value, _stats(fractional=len(bad)))
    for i, c in enumerate(bad):
        part = _component(problem, comp == c, model, lp, part_comp == c)
        part[1]["seconds_per_var"] = seconds_per_var
        share = None if deadline is None else time.perf_counter() + _remaining(deadline) / (len(bad) - i)
        _add(out, _solve_fractional(*part, deadline=share, depth=depth))
    return out


def _component(problem, mask, model, lp, part_mask):
    """One component as its own problem, with the global LP's values and reduced costs restricted to it."""
    sub = replace(problem.keep(mask), fixed=problem.fixed[:0], fixed_score=0.0)
    ycols = model.n_x + np.flatnonzero(part_mask[model.y_partner])
    cols = np.concatenate([np.flatnonzero(mask), ycols])
    info = {
        "x": lp.x[cols], "rl": lp.reduced_lower[cols], "ru": lp.reduced_upper[cols],
        "y_partner": model.y_partner[ycols - model.n_x],
        "value": float(np.dot(problem.score[mask], lp.x[:model.n_x][mask])),
    }
    return sub, info


def _solve_fractional(sub, info, deadline, depth):
    incumbent = _round(sub, info, deadline)
    if incumbent is None or depth >= MAX_DEPTH:
        return _better(_milp(sub, deadline, info["seconds_per_var"]), incumbent, sub, info["value"])
    gap = info["value"] - incumbent.value
    try:
        reduced = _reduced_cost_fix(sub, info, gap)
        if depth + 1 >= MAX_DEPTH or reduced.n_edges > SHRINK * sub.n_edges:
            found = _milp(reduced, deadline, info["seconds_per_var"])
        else:
            found = solve_problem(reduced, deadline, depth + 1)
    except InfeasibleError:  # nothing beats the incumbent
        incumbent.bound = incumbent.value
        return incumbent
    found.stats = _merge(found.stats, {"fixed_edges": sub.n_edges - reduced.n_edges})
    return _better(found, incumbent, sub, info["value"])


def _better(found, incumbent, sub, lp_value):
    """The better of a search result and the incumbent, with the bound both give (at most the LP's).

    ``found`` bounds only the solutions better than the incumbent (after reduced-cost
    fixing), so the bound is the larger of its bound and the incumbent's value. With
    neither a result nor an incumbent (time up), the quick answer stands in.
    """
    if incumbent is None and not np.isfinite(found.value):
        quick = _fallback(sub)
        quick.bound = min(quick.bound, found.bound)
        found = quick
    best = found if incumbent is None or found.value > incumbent.value else incumbent
    best.bound = min(max(found.bound, best.value), lp_value)
    best.stats = found.stats
    return best


def _round(sub, info, deadline=None):
    """An integral solution near the LP's, for reduced-cost fixing.

    Pairs away from the fractional part are kept; the fractional large partners are
    closed, opened when ``y > 0.5``, or all opened (the best of the three), then each
    in turn switched while that helps; the rest is a totally unimodular LP.
    """
    n_x = sub.n_edges
    y, partners = info["x"][n_x:], info["y_partner"]
    keep = _keep_outside(sub, info)
    tries = [y > t for t in (1 - INTEGRAL_TOL, 0.5, INTEGRAL_TOL)]
    results = [(_rounded(sub, keep, partners, is_open), is_open) for is_open in tries]
    results = [(out, is_open) for out, is_open in results if out is not None]
    if not results:
        return None
    best, is_open = max(results, key=lambda r: r[0].value)
    fractional = np.flatnonzero(np.abs(y - np.round(y)) > INTEGRAL_TOL)
    stop = time.perf_counter() + SWITCH_SECONDS
    stop = stop if deadline is None else min(stop, time.perf_counter() + 0.2 * _remaining(deadline))
    for i in fractional:
        if time.perf_counter() > stop:
            break
        trial = is_open.copy()
        trial[i] = not trial[i]
        out = _rounded(sub, keep, partners, trial)
        if out is not None and out.value > best.value:
            best, is_open = out, trial
    return best


def _keep_outside(sub, info):
    """Edges chosen by the LP far enough from its fractional part to be kept as they are."""
    n_x = sub.n_edges
    x, y = info["x"][:n_x], info["x"][n_x:]
    frac = np.abs(x - np.round(x)) > INTEGRAL_TOL
    near = np.zeros(sub.n_partners, bool)
    near[sub.partner[frac]] = True
    near[info["y_partner"][np.abs(y - np.round(y)) > INTEGRAL_TOL]] = True
    busy = np.zeros(sub.n_leads, bool)
    busy[sub.lead[frac]] = True
    if sub.n_edges <= FULL_ROUND_EDGES:
        near[:] = True
    for _step in range(ROUND_RADIUS):
        if near[sub.partner].mean() > 0.1:  # keep the re-solve small
            break
        busy[sub.lead[near[sub.partner]]] = True
        near[sub.partner[busy[sub.lead]]] = True
    return (x > 1 - INTEGRAL_TOL) & ~near[sub.partner] & ~busy[sub.lead]


def _rounded(sub, keep, partners, is_open):
    opened = np.zeros(sub.n_partners, bool)
    closed = np.zeros(sub.n_partners, bool)
    opened[partners[is_open]] = True
    closed[partners[~is_open]] = True
    try:
        return _lp_exact(fix(sub, ones=keep, opened=opened, closed=closed))
    except InfeasibleError:
        return None


def _lp_exact(problem):
    """Solve a problem without optional partners (TU) by LP; None when infeasible."""
    if problem.n_edges == 0:
        return Outcome(problem.fixed.copy(), problem.fixed_score, problem.fixed_score, _stats())
    model = build_model(problem)
    lp = solve_lp(model)
    if lp.status != "optimal" or not is_integral(lp.x):
        return None
    take = lp.x[:model.n_x] > 0.5
    value = problem.fixed_score + float(problem.score[take].sum())
    return Outcome(np.concatenate([problem.fixed, problem.edge_id[take]]), value, value, _stats())


def _reduced_cost_fix(sub, info, gap):
    limit = gap + FIX_EPS * max(1.0, abs(info["value"]))
    x, rl, ru = info["x"], info["rl"], info["ru"]
    n_x = sub.n_edges
    at0 = (x < INTEGRAL_TOL) & (rl > limit)
    at1 = (x > 1 - INTEGRAL_TOL) & (ru > limit)
    opened = np.zeros(sub.n_partners, bool)
    closed = np.zeros(sub.n_partners, bool)
    opened[info["y_partner"][at1[n_x:]]] = True
    closed[info["y_partner"][at0[n_x:]]] = True
    return fix(sub, ones=at1[:n_x], zeros=at0[:n_x], opened=opened, closed=closed)


def _milp(sub, deadline, seconds_per_var=0.0):
    """Exact MILP on ``sub``; skipped (no answer, no bound) when its root LP would not fit in the time left.

    HiGHS checks its time limit only between phases, so a MILP started too late overruns it.
    """
    model = build_model(sub)
    left = _remaining(deadline)
    if left is not None and left < MILP_ROOT_FACTOR * seconds_per_var * model.n_vars:
        return Outcome(sub.fixed[:0], -np.inf, np.inf, _stats())
    status, value, x, bound = solve_milp(model, time_limit=left)
    stats = _stats(milp=1)
    if status == "infeasible":
        raise InfeasibleError(["the locked pairs cannot all hold together"])
    bound = sub.fixed_score + bound if bound is not None and np.isfinite(bound) else np.inf
    if status == "limit":  # no solution in time: the caller falls back on its incumbent
        return Outcome(sub.fixed[:0], -np.inf, bound, stats)
    take = x[:model.n_x] > 0.5
    value = sub.fixed_score + float(sub.score[take].sum())
    bound = value if status == "optimal" else max(value, bound)
    return Outcome(np.concatenate([sub.fixed, sub.edge_id[take]]), value, bound, stats)


def _fallback(problem):
    """The quick answer (:mod:`.greedy`) when the time limit cuts the LP short.

    Its value is ``-inf`` (no answer) when a partner forced open by a lock is left
    short; the bound (the transportation relaxation) is valid either way.
    """
    chosen, bound = quick_solution(problem, rounds=0)
    taken = np.isin(problem.edge_id, chosen)
    count = np.bincount(problem.partner[taken], minlength=problem.n_partners)
    value = problem.fixed_score + float(problem.score[taken].sum())
    if np.any(problem.must_open & (count < problem.cap_min)):
        chosen, value = problem.fixed[:0], -np.inf
    return Outcome(np.concatenate([problem.fixed, chosen]), value, problem.fixed_score + bound, _stats(greedy=1))


def edge_components(problem):
    """Connected-component label of each edge of the lead–partner graph."""
    n = problem.n_leads + problem.n_partners
    graph = sp.coo_matrix((np.ones(problem.n_edges), (problem.lead, problem.n_leads + problem.partner)),
                          shape=(n, n))
    _n, labels = connected_components(graph, directed=False)
    _used, comp = np.unique(labels[problem.lead], return_inverse=True)
    return comp


def _remaining(deadline):
    return None if deadline is None else max(deadline - time.perf_counter(), 0.0)


def _stats(**counts):
    base = {"components": 0, "fractional": 0, "milp": 0, "greedy": 0, "fixed_edges": 0}
    base.update(counts)
    return base


def _merge(into, other):
    for key, value in other.items():
        into[key] = into.get(key, 0) + value
    return into
