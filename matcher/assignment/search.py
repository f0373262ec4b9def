"""Exact search: components, one LP over the constrained ones, work only where it is fractional.

1. Components without a binding minimum are transportation problems, solved exactly by
   :func:`.plain.solve_plain`.
   Without a time limit, components with 조합 leads at multi-lead partners go to one exact
   MILP each (:func:`_solve_weighted`: the steps below do not pay off on them).
2. The others get one LP relaxation together (:mod:`.model`, strong form). Every
   component whose LP answer is integral is optimal as it stands.
3. In each fractional component, round the LP for an incumbent (:func:`_round`: the
   fractional large partners closed or opened, then switched one by one; the rest a
   totally unimodular LP, so integral).
4. Region bound (:func:`_region_bound`, a Lagrangian decomposition): the partners
   touching the fractional part and their neighbours (``REGION_RADIUS`` steps) form a
   region; the leads it shares with the rest keep their LP dual ``u`` as a price. Then
   ``bound = LP - (LP_region(u) - MILP_region(u))``: the LP of the rest is integral and
   optimal for its prices, so only the region needs an exact (small) MILP. On the
   issue-9 shape this closes the LP gap from 1.8e-4 to 3e-6 in a quarter of a second.
   A second small MILP with the rest fixed at its LP values gives the incumbent.
5. Reduced-cost fixing: an edge or partner outside the region whose LP reduced cost
   exceeds ``bound - incumbent`` (inside: ``LP - incumbent``) takes its LP value in every
   better solution. What is left falls apart into smaller components, solved the same
   way (up to :data:`MAX_DEPTH` rounds), with an exact MILP (HiGHS) where still fractional.

The bound reported is the sum of the component bounds: the proven optimum where one
was proven, otherwise the region, LP or MILP dual bound (never less than the
incumbent). Every LP and MILP runs with the deadline enforced by :mod:`.highs`; when
time runs out before an LP ends, :func:`_fallback` answers greedily
(:func:`.greedy.greedy_solution`, linear time).
"""

from __future__ import annotations

import contextvars
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace

import numpy as np

from ..errors import InfeasibleError
from .model import INTEGRAL_TOL, build_model, is_integral, solve_lp, solve_milp
from .greedy import greedy_answer, greedy_solution
from .plain import solve_plain
from .problem import edge_components, fix

WHOLE_MILP_EDGES = 300
"""A problem this small is one MILP (HiGHS in this process, from the greedy answer) while OR-Tools is not
loaded: importing it for the flow costs 0.4 s, more than the whole MILP (``matcher solve`` on 100 edges).
Once it is loaded the usual path is faster (bench/bench_buckets.py, warm process: 0.97 against 1.25 × HiGHS
up to 50 edges, 0.81 against 1.25 up to 500); both are exact."""
FIX_EPS = 1e-7
OPTIMAL_GAP = 1e-10
"""Relative gap at which a component counts as proven (the solver reports optimal at 1e-9)."""
TARGET_GAP = contextvars.ContextVar("TARGET_GAP", default=OPTIMAL_GAP)
"""Relative gap at which the search may stop short of a proof (``solve(gap=…)``; HiGHS' MILPs get it as
``mip_rel_gap``). Each component stops within it, so the whole answer does too."""
MAX_DEPTH = 3
"""Rounds of LP → round → reduced-cost fixing before the MILP takes what is left."""
SHRINK = 0.95
"""Go on fixing only while a round removes at least 5 % of the edges."""
RECURSE_SHARE = 0.5
"""Fixing that leaves more than this share of the edges is followed by one MILP (from the incumbent), not
another LP round: on a 92k-edge component of the 100k round (58 % left) 35 s against 82 s for two more rounds."""
ROUND_RADIUS = 2
"""Steps (partner → its leads → their partners) around the fractional part that rounding re-solves."""
FULL_ROUND_EDGES = 50_000
"""Components up to this size are re-solved whole when rounding (cheap, and a better incumbent)."""
REGION_RADIUS = 1
"""Steps (partner → its leads → their partners) the region grows from the fractional part."""
DIRECT_MILP_EDGES = 20_000
"""A fractional component this small without a region goes straight to the MILP."""
REGION_ROUNDS = 10
"""Times the region grows by its disputed leads before the search falls back on fixing."""
FIX_SHARE = 0.2
"""The region rounds stop once reduced-cost fixing would leave at most this share of the edges."""
REGION_SHARE = 0.6
"""No region bound when the region would hold more than this share of the component's edges."""
WEIGHTED_BATCH_EDGES = 5_000
"""Components with 조합 leads smaller than this share one MILP (one HiGHS set-up instead of many)."""
CONTINUOUS_X_EDGES = 20_000
"""A MILP this large without 조합 weights keeps its pair columns continuous (only the partners' ``y``
integer): exact, and on the 100k round's components with a start solution far faster (44k edges: 4.3 s
against 48 s all-binary; 119k: 10 s against more than 2 minutes still in presolve). Below this size
all-binary was the faster one (a 2,000-lead instance: 3.0 s against 6.5 s)."""
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
    if depth == 0 and problem.n_edges <= WHOLE_MILP_EDGES and "ortools" not in sys.modules:
        whole = problem.part(np.ones(problem.n_edges, bool))
        _add(out, _better(_milp(whole, deadline), None, whole, np.inf))
        return out
    comp = edge_components(problem)
    constrained = np.zeros(comp.max() + 1, bool)
    constrained[comp[problem.binding()[problem.partner] | (problem.weight > 1)]] = True
    plain = ~constrained[comp]
    out.stats["components"] = len(constrained)
    weighted = np.zeros(len(constrained), bool)
    weighted[comp[problem.weight > 1]] = True
    # under a time limit the LP-based search keeps them: its LP bound and incumbents come early, where an
    # interrupted whole MILP often has no solution yet (coop-20000 at 20 s: gap 0.67 from the greedy)
    heavy = weighted[comp] if deadline is None else np.zeros(problem.n_edges, bool)
    light = ~plain & ~heavy
    with ThreadPoolExecutor(max_workers=1) as pool:
        constrained_job = None
        if light.any() and plain.any() and depth == 0:  # its LP runs in a HiGHS worker while the plain part is solved
            sent = threading.Event()
            constrained_job = pool.submit(contextvars.copy_context().run, _solve_constrained, problem.part(light),
                                          comp[light], deadline, depth, sent.set)
            while not sent.wait(0.05) and not constrained_job.done():
                pass  # LAPJVsp holds Python's lock: let the LP be built and sent first
        if plain.any():  # the bound is the optimum unless time ran out (then the greedy's bound for that part)
            # the whole deadline, not a share by edges: exact plain parts are cheap per edge, and a share left the
            # 100k round's 1:1 track greedy (gap 0.26) while the constrained LP could not finish in 60 s anyway
            chosen, bound = solve_plain(problem.keep(plain), deadline, with_bound=True)
            value = float(problem.score[np.isin(problem.edge_id, chosen)].sum())
            _add(out, Outcome(chosen, value, max(bound, value)))
        if constrained_job is not None:
            _add(out, constrained_job.result())
        elif light.any():
            _add(out, _solve_constrained(problem.part(light), comp[light], deadline, depth))
    if heavy.any():
        _add(out, _solve_weighted(problem.part(heavy), comp[heavy], deadline))
    return out


def _share(deadline, fraction):
    """A deadline for a part of the work worth ``fraction`` of what is left (None without a deadline)."""
    if deadline is None:
        return None
    return time.perf_counter() + fraction * _remaining(deadline)


def _solve_weighted(problem, comp, deadline):
    """Components with 조합 leads at multi-lead partners: one exact MILP each (small ones batched).

    With member weights every large partner is a knapsack and the LP is weak (coop-5000: LP
    gap 1e-3, against 2e-5 without weights); its fractional part is spread over a fifth of the
    large partners, so the region bound grows to half the instance and its pieces' MILPs cost
    more than HiGHS on the whole component, which closes the gap at its root node with its own
    cuts (bench/RESULTS.md, "Solver"). So without a time limit these components go to HiGHS
    directly. (Under a limit they stay with the LP-based search: see :func:`solve_problem`.)
    """
    _labels, comp = np.unique(comp, return_inverse=True)
    sizes = np.bincount(comp)
    order = np.argsort(sizes, kind="stable")
    batches, current, count = [], [], 0
    for c in order:  # small components together, up to WEIGHTED_BATCH_EDGES edges per MILP
        if current and count + sizes[c] > WEIGHTED_BATCH_EDGES:
            batches.append(current)
            current, count = [], 0
        current.append(c)
        count += sizes[c]
    batches.append(current)
    out = Outcome(problem.fixed[:0], 0.0, 0.0, _stats())
    done = 0
    for batch in batches:
        mask = np.isin(comp, batch)
        share = _share(deadline, mask.sum() / max(problem.n_edges - done, 1))
        done += int(mask.sum())
        sub = problem.part(mask)
        found = _better(_milp(sub, share), None, sub, np.inf)
        found.stats = _merge(found.stats, {"weighted": len(batch)})
        _add(out, found)
    return out


def _add(out, part):
    out.chosen = np.concatenate([out.chosen, part.chosen])
    out.value += part.value
    out.bound += part.bound
    _merge(out.stats, part.stats)


def _solve_constrained(problem, comp, deadline, depth, building_done=None):
    """LP over the components with a binding minimum; exact work only where it is fractional.

    ``building_done`` (optional) is called once the LP is built, before it is sent to HiGHS.
    """
    started = time.perf_counter()
    model = build_model(problem)
    if building_done is not None:
        building_done()
    lp = solve_lp(model, deadline=deadline)
    lp_seconds = time.perf_counter() - started
    if lp.status == "infeasible":
        raise InfeasibleError(["the locked pairs cannot all hold together: the partners they force open "
                               "cannot all reach their minimum number of leads"])
    if lp.status == "limit":
        return _fallback(problem, lp.bound)
    x, y = lp.x[:model.n_x], lp.x[model.n_x:]
    part_comp = np.full(problem.n_partners, -1)
    part_comp[problem.partner] = comp
    frac = np.abs(x - np.round(x)) > INTEGRAL_TOL
    frac_y = np.abs(y - np.round(y)) > INTEGRAL_TOL
    bad = np.union1d(comp[frac], part_comp[model.y_partner[frac_y]])
    settled = ~np.isin(comp, bad) & (x > 0.5)
    value = float(problem.score[settled].sum())
    out = Outcome(problem.edge_id[settled], value, value, _stats(fractional=len(bad), t_lp=lp_seconds))
    u = np.zeros(problem.n_leads)
    u[np.unique(problem.lead)] = lp.row_dual[:len(np.unique(problem.lead))]
    for i, c in enumerate(bad):
        part = _component(problem, comp == c, model, lp, part_comp == c)
        part[1]["u"] = u
        share = None if deadline is None else time.perf_counter() + _remaining(deadline) / (len(bad) - i)
        _add(out, _solve_fractional(*part, deadline=share, depth=depth))
    return out


def _component(problem, mask, model, lp, part_mask):
    """One component as its own problem, with the global LP's values and reduced costs restricted to it."""
    sub = problem.part(mask)
    ycols = model.n_x + np.flatnonzero(part_mask[model.y_partner])
    cols = np.concatenate([np.flatnonzero(mask), ycols])
    info = {
        "x": lp.x[cols], "rl": lp.reduced_lower[cols], "ru": lp.reduced_upper[cols],
        "y_partner": model.y_partner[ycols - model.n_x],
        "value": float(np.dot(problem.score[mask], lp.x[:model.n_x][mask])),
    }
    return sub, info


def _solve_fractional(sub, info, deadline, depth):
    times = {}
    clock = time.perf_counter()
    bound, region, incumbent = ((info["value"], None, None) if depth >= MAX_DEPTH
                                else _region_bound(sub, info, deadline))
    times["t_region"] = time.perf_counter() - clock
    if incumbent is not None and incumbent.bound >= bound:  # proven by the region bound
        incumbent.stats = _merge(incumbent.stats, times)
        return incumbent
    if region is None and sub.n_edges <= DIRECT_MILP_EDGES:
        return _better(_milp(sub, deadline), None, sub, info["value"])
    if incumbent is None:
        clock = time.perf_counter()
        incumbent = _round(sub, info, deadline)
        times["t_round"] = time.perf_counter() - clock
    if incumbent is None or depth >= MAX_DEPTH:
        return _better(_milp(sub, deadline, incumbent), incumbent, sub, min(bound, info["value"]))
    incumbent.stats = _merge(incumbent.stats, times)
    if _close(min(bound, info["value"]), incumbent.value):  # within the gap asked for: no more search
        incumbent.bound = max(incumbent.value, min(bound, info["value"]))
        return incumbent
    try:
        reduced = _reduced_cost_fix(sub, info, info["value"] - incumbent.value, bound - incumbent.value, region)
        if reduced.n_edges > SHRINK * sub.n_edges:  # fixing hardly helps: the whole part, from the incumbent
            found = _milp(sub, deadline, incumbent)
        elif depth + 1 >= MAX_DEPTH or reduced.n_edges > RECURSE_SHARE * sub.n_edges:
            found = _milp(reduced, deadline, incumbent)
        else:
            found = solve_problem(reduced, deadline, depth + 1)
    except InfeasibleError:  # nothing beats the incumbent
        incumbent.bound = incumbent.value
        return incumbent
    found.stats = _merge(found.stats, {"fixed_edges": sub.n_edges - reduced.n_edges,
                                       "region": int(region is not None)})
    return _better(found, incumbent, sub, min(bound, info["value"]))


def _region_bound(sub, info, deadline):
    """The Lagrangian region bound (module docstring, step 4), grown until the pieces agree.

    The region starts as the partners touching the LP's fractional part and their
    neighbours; each connected piece of it gets its own small MILP (cached while the piece
    is unchanged). A boundary lead is *disputed* when its piece's answer and the LP outside
    both take it, or neither does though its price is positive; the partners of disputed
    leads join the region and the pieces are solved again (up to :data:`REGION_ROUNDS`).
    With no dispute left, the pieces' answers and the LP outside together are a solution
    whose value is the bound: proven optimal.

    Returns
    -------
    bound : float
        The best (lowest) region bound found, at most the LP value.
    region : ndarray of bool or None
        The last region's edges (None when no region is small enough).
    incumbent : Outcome or None
        The proven optimum when no dispute was left or the bound came down to the
        incumbent (whose bound is then set); else the best solution found (the first
        round's region grown by its disputed leads, rest at the LP values), or None.
    """
    n_x = sub.n_edges
    x, y = info["x"][:n_x], info["x"][n_x:]
    near = np.zeros(sub.n_partners, bool)
    near[sub.partner[np.abs(x - np.round(x)) > INTEGRAL_TOL]] = True
    near[info["y_partner"][np.abs(y - np.round(y)) > INTEGRAL_TOL]] = True
    for _step in range(REGION_RADIUS):
        leads = np.zeros(sub.n_leads, bool)
        leads[sub.lead[near[sub.partner]]] = True
        near[sub.partner[leads[sub.lead]]] = True
    cache = {}
    best, region, incumbent, stalled = info["value"], None, None, 0
    for _round in range(REGION_ROUNDS):
        inside = near[sub.partner]
        if inside.sum() > REGION_SHARE * n_x or (deadline is not None and time.perf_counter() >= deadline):
            break
        bound, z, complete = _pieces(sub, info, inside, cache, deadline)
        stalled = stalled + 1 if bound >= best - OPTIMAL_GAP * max(abs(best), 1.0) and region is not None else 0
        best, region = min(best, bound), inside
        disputed = _disputed(sub, info, inside, z)
        grown = inside | np.isin(sub.partner, sub.partner[disputed[sub.lead] & ~inside])
        if complete and not disputed.any():
            chosen = (inside & z) | (~inside & (x > 0.5))
            value = float(sub.score[chosen].sum())
            return best, region, Outcome(sub.edge_id[chosen], value, max(value, best),
                                         _stats(region=1, region_rounds=_round + 1))
        found = [_repair(sub, (inside & z) | (~inside & (x > 0.5)), disputed, deadline)]
        if incumbent is None or stalled == 1 or _round == REGION_ROUNDS - 1:
            found.append(_restricted(sub, info, grown, deadline))
        for candidate in found:  # its own bound is over the restricted problem, not this one: dropped
            if candidate is not None and (incumbent is None or candidate.value > incumbent.value):
                incumbent = replace(candidate, bound=candidate.value)
        if incumbent is not None and _close(best, incumbent.value):
            incumbent.bound = max(incumbent.value, best)
            incumbent.stats = _merge(incumbent.stats, {"region": 1, "region_rounds": _round + 1})
            return best, region, incumbent
        if stalled >= 3 or (incumbent is not None and _fixing_leaves(sub, info, best, incumbent, inside) <= FIX_SHARE):
            break
        near[sub.partner[grown]] = True
    return best, region, incumbent


def _fixing_leaves(sub, info, bound, incumbent, region):
    """Share of the edges reduced-cost fixing would leave with this bound and incumbent."""
    try:
        return _reduced_cost_fix(sub, info, info["value"] - incumbent.value, bound - incumbent.value,
                                 region).n_edges / max(sub.n_edges, 1)
    except InfeasibleError:
        return 0.0


def _pieces(sub, info, inside, cache, deadline):
    """Solve each connected piece of the region with its boundary leads priced; (bound, z, all solved)."""
    x = info["x"][:sub.n_edges]
    on_boundary = np.zeros(sub.n_leads, bool)
    on_boundary[sub.lead[~inside]] = True
    edges = np.flatnonzero(inside)
    region = sub.keep(inside)
    comp = edge_components(region)
    order = np.argsort(comp, kind="stable")
    cuts = np.flatnonzero(np.diff(comp[order])) + 1
    z = np.zeros(sub.n_edges, bool)
    gain, complete = 0.0, True
    for piece in np.split(order, cuts):
        ids = edges[piece]
        key = ids.tobytes()
        if key not in cache:
            part = sub.keep(np.isin(np.arange(sub.n_edges), ids))
            price = np.where(on_boundary[part.lead], info["u"][part.lead], 0.0)
            part = replace(part, score=part.score - price)
            lp_part = float(np.dot(part.score, x[ids]))
            model = build_model(part)
            status, _value, sol, bound = solve_milp(model, deadline=deadline)
            if status == "infeasible" or bound is None:
                cache[key] = (0.0, np.zeros(len(ids), bool), False)
            else:
                take = np.zeros(len(ids), bool) if sol is None else sol[:model.n_x] > 0.5
                cache[key] = (max(lp_part - bound, 0.0), take, status == "optimal")
        piece_gain, take, solved = cache[key]
        gain += piece_gain
        z[ids[take]] = True
        complete &= solved
    return info["value"] - gain, z, complete


def _disputed(sub, info, inside, z):
    """Boundary leads (mask over leads) that the region's answer ``z`` and the LP outside disagree on."""
    x = info["x"][:sub.n_edges]
    used_in = np.zeros(sub.n_leads, bool)
    used_in[sub.lead[inside & z]] = True
    used_out = np.zeros(sub.n_leads, bool)
    used_out[sub.lead[~inside & (x > 0.5)]] = True
    on_boundary = np.zeros(sub.n_leads, bool)
    on_boundary[sub.lead[~inside]] = True
    in_region = np.zeros(sub.n_leads, bool)
    in_region[sub.lead[inside]] = True
    on_boundary &= in_region
    return on_boundary & ((used_in & used_out) | (~used_in & ~used_out & (info["u"] > FIX_EPS)))


def _repair(sub, chosen, disputed, deadline):
    """A solution near ``chosen`` (the pieces' answers and the LP outside, which clash at the
    ``disputed`` leads): the partners of disputed leads are re-decided by a small MILP, every
    other pair stays as chosen. None when that is infeasible or out of time."""
    free = np.zeros(sub.n_partners, bool)
    free[sub.partner[disputed[sub.lead]]] = True
    open_edges = free[sub.partner]
    try:
        rest = fix(sub, ones=chosen & ~open_edges, zeros=~chosen & ~open_edges)
        found = _milp(rest, deadline)
    except InfeasibleError:
        return None
    return found if np.isfinite(found.value) else None


def _restricted(sub, info, region, deadline):
    """The best solution with everything outside ``region`` at its LP value (a small MILP), or None."""
    x = info["x"][:sub.n_edges]
    try:
        rest = fix(sub, ones=~region & (x > 0.5), zeros=~region & (x <= 0.5))
        found = _milp(rest, deadline)
    except InfeasibleError:
        return None
    return found if np.isfinite(found.value) else None


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
    best.stats = found.stats if incumbent is None else _merge(dict(found.stats), incumbent.stats)
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
    results = [(_rounded(sub, keep, partners, is_open, deadline), is_open) for is_open in tries]
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
        out = _rounded(sub, keep, partners, trial, stop)
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


def _rounded(sub, keep, partners, is_open, deadline=None):
    opened = np.zeros(sub.n_partners, bool)
    closed = np.zeros(sub.n_partners, bool)
    opened[partners[is_open]] = True
    closed[partners[~is_open]] = True
    try:
        return _lp_exact(fix(sub, ones=keep, opened=opened, closed=closed), deadline)
    except InfeasibleError:
        return None


def _lp_exact(problem, deadline=None):
    """Solve a problem without optional partners (TU) by LP; None when infeasible, out of time or fractional."""
    if problem.n_edges == 0:
        return Outcome(problem.fixed.copy(), problem.fixed_score, problem.fixed_score, _stats())
    model = build_model(problem)  # its time is the caller's: rounding (t_round) is its only user
    lp = solve_lp(model, deadline=deadline)
    if lp.status != "optimal" or not is_integral(lp.x):
        return None
    take = lp.x[:model.n_x] > 0.5
    value = problem.fixed_score + float(problem.score[take].sum())
    return Outcome(np.concatenate([problem.fixed, problem.edge_id[take]]), value, value, _stats())


def _reduced_cost_fix(sub, info, gap, region_gap=None, region=None):
    """Fix every column whose reduced cost exceeds the gap at its LP value.

    ``gap`` is LP value − incumbent; columns outside ``region`` (edges, and the ``y`` of
    partners without an edge in it) may use ``region_gap`` (region bound − incumbent).
    """
    eps = FIX_EPS * max(1.0, abs(info["value"]))
    x, rl, ru = info["x"], info["rl"], info["ru"]
    n_x = sub.n_edges
    limit = np.full(len(x), gap + eps)
    if region is not None:
        touched = np.zeros(sub.n_partners, bool)
        touched[sub.partner[region]] = True
        outside = np.concatenate([~region, ~touched[info["y_partner"]]])
        limit[outside] = min(gap, region_gap) + eps
    at0 = (x < INTEGRAL_TOL) & (rl > limit)
    at1 = (x > 1 - INTEGRAL_TOL) & (ru > limit)
    opened = np.zeros(sub.n_partners, bool)
    closed = np.zeros(sub.n_partners, bool)
    opened[info["y_partner"][at1[n_x:]]] = True
    closed[info["y_partner"][at0[n_x:]]] = True
    return fix(sub, ones=at1[:n_x], zeros=at0[:n_x], opened=opened, closed=closed)


def _milp(sub, deadline, incumbent=None):
    """Exact MILP on ``sub`` (HiGHS, stopped by us at the deadline with its incumbent and dual bound).

    ``incumbent`` (an :class:`Outcome`) is HiGHS' start solution when it is a solution of
    ``sub`` (see :func:`_start`).
    """
    if sub.n_edges == 0:
        return Outcome(sub.fixed.copy(), sub.fixed_score, sub.fixed_score, _stats())
    if incumbent is None:  # HiGHS cut short answers its own first solution, which can be all zero (issue 23)
        floor = _greedy_outcome(sub)
        found = _milp_from(sub, deadline, floor)
        if np.isfinite(floor.value) and found.value < floor.value:
            return replace(floor, bound=max(found.bound, floor.value), stats=found.stats)
        return found
    return _milp_from(sub, deadline, incumbent)


def _greedy_outcome(sub):
    """The full greedy answer of ``sub`` (:func:`.greedy.greedy_answer`) as an incumbent."""
    chosen, value = greedy_answer(sub)
    return Outcome(chosen, value, np.inf, _stats())


def _milp_from(sub, deadline, incumbent):
    model = build_model(sub)
    clock = time.perf_counter()
    continuous_x = sub.n_edges >= CONTINUOUS_X_EDGES and not sub.weighted
    target = TARGET_GAP.get()
    status, value, x, bound = solve_milp(model, deadline=deadline, start=_start(sub, model, incumbent),
                                         continuous_x=continuous_x, mip_rel_gap=max(target, OPTIMAL_GAP))
    proven = status == "optimal" and target <= OPTIMAL_GAP  # else HiGHS' "optimal" means within the target
    stats = _stats(milp=1, t_milp=time.perf_counter() - clock)
    if status == "infeasible":
        raise InfeasibleError(["the locked pairs cannot all hold together"])
    bound = sub.fixed_score + bound if bound is not None and np.isfinite(bound) else np.inf
    if status == "limit":  # no solution in time: the caller falls back on its incumbent
        return Outcome(sub.fixed[:0], -np.inf, bound, stats)
    if continuous_x and not is_integral(x[:model.n_x]):  # a tie left fractional: the same y, at a vertex
        exact = _rounded(sub, np.zeros(sub.n_edges, bool), model.y_partner, x[model.n_x:] > 0.5, deadline)
        if exact is None:  # out of time: the caller falls back on its incumbent
            return Outcome(sub.fixed[:0], -np.inf, bound, stats)
        return replace(exact, bound=exact.value if proven else max(exact.value, bound), stats=stats)
    take = x[:model.n_x] > 0.5
    value = sub.fixed_score + float(sub.score[take].sum())
    bound = value if proven else max(value, bound)
    return Outcome(np.concatenate([sub.fixed, sub.edge_id[take]]), value, bound, stats)


def _close(bound, value):
    """True when ``value`` is within the target gap of ``bound`` (:data:`TARGET_GAP`)."""
    return bound - value <= max(TARGET_GAP.get(), OPTIMAL_GAP) * max(abs(bound), 1.0)


def _start(sub, model, incumbent):
    """``incumbent`` as a value per column of ``model``, or None when it is not a solution of ``sub``.

    It must contain ``sub``'s fixed pairs and choose its other pairs among ``sub``'s edges (after
    reduced-cost fixing it may not: then HiGHS gets no start). Capacities are HiGHS' to check.
    """
    if incumbent is None or not np.isfinite(incumbent.value):
        return None
    chosen = np.setdiff1d(incumbent.chosen, sub.fixed)
    if len(chosen) != len(incumbent.chosen) - len(np.unique(sub.fixed)) or not np.isin(chosen, sub.edge_id).all():
        return None
    x = np.isin(sub.edge_id, chosen)
    used = np.zeros(sub.n_partners, bool)
    used[sub.partner[x]] = True
    return np.concatenate([x, used[model.y_partner]]).astype(float)


def _fallback(problem, lp_bound=None):
    """The quick answer (:func:`.greedy.greedy_solution`) when the time limit cuts the LP short.

    Its value is ``-inf`` (no answer) when a partner forced open by a lock is left
    short; the bound (each lead's best pair, or the interrupted LP's Lagrangian bound
    when lower) is valid either way.
    """
    chosen, bound = greedy_solution(problem, rounds=1)
    if lp_bound is not None:
        bound = min(bound, lp_bound)
    taken = np.isin(problem.edge_id, chosen)
    count = problem.load(taken)
    value = problem.fixed_score + float(problem.score[taken].sum())
    if np.any(problem.must_open & (count < problem.cap_min)):
        chosen, value = problem.fixed[:0], -np.inf
    return Outcome(np.concatenate([problem.fixed, chosen]), value, problem.fixed_score + bound, _stats(greedy=1))


def _remaining(deadline):
    return None if deadline is None else max(deadline - time.perf_counter(), 0.0)


def _stats(**counts):
    base = {"components": 0, "fractional": 0, "milp": 0, "greedy": 0, "fixed_edges": 0, "region": 0, "weighted": 0}
    base.update(counts)
    return base


def _merge(into, other):
    for key, value in other.items():
        into[key] = into.get(key, 0) + value
    return into
