"""Components without a binding minimum: a transportation problem, solved exactly as a min-cost flow.

The network: a node per lead (supply 1), per partner, and a sink; arcs lead → partner (capacity 1,
cost minus the score), lead → sink (the lead stays unmatched, cost 0) and partner → sink (capacity
``min(max_leads, degree)``). OR-Tools' cost-scaling push-relabel (``SimpleMinCostFlow``, :mod:`.flow`)
solves it; on every shape measured it is the fastest or within 2× of the fastest (bench/RESULTS.md,
"Solver": the 100k round's 1:1 track in 2.2 s, where the HiGHS LP took 10 s and LAPJVsp 69 s).

Integer costs: ``c_e = round(S * score_e)``. For every assignment ``X``,
``S * score(X) <= c(X) + |X| * err <= C* + m * err`` (``err`` the largest rounding error, ``m`` the
most pairs any assignment has, ``C*`` the flow's optimum), so ``(C* + m * err) / S`` is an upper bound
on the optimum, returned with the answer. ``S`` is the smallest power of ten up to 10^6 that makes every
score whole (scores with two decimals: ``S = 100``, ``err`` ≈ 1e-13, so the bound is the optimum);
otherwise the largest scale OR-Tools takes (costs times nodes below 2^60, costs below 2^50 where a float
still holds them exactly enough), relative gap ~1e-13.

Under a deadline the flow (which cannot be interrupted) of a part above :data:`IN_PROCESS_EDGES`
runs in a worker process of :mod:`.highs`, killed at the deadline; parts are solved component by
component in batches, smallest first. In the last stretch before the deadline this process prepares the
answer for a cut (:class:`_Cut`): best pairs first (:func:`.proposals.greedy_solution`), then partner
prices — subgradient steps on the Lagrangian of the partners' capacity rows — that lower the bound and
order further greedy passes; the best of those answers and the lowest bound stand when the flow does not
come in time.
"""

from __future__ import annotations

import time
from dataclasses import replace

import numpy as np

from . import highs
from .flow import solve_network
from .model import build_model, is_integral, solve_lp
from .problem import edge_components
from .proposals import greedy_solution

IN_PROCESS_EDGES = 20_000
"""Parts up to this size are solved in this process even under a deadline (about 0.05 s)."""
BATCH_EDGES = 100_000
"""Under a deadline, components are solved together up to about this many edges, smallest first."""
SCALE_DIGITS = 6
"""Scores with up to this many decimals are made whole exactly (``S = 10**digits``)."""
COST_RANGE = 2 ** 60
"""The largest cost times the number of nodes stays below this (OR-Tools scales the costs by the nodes)."""
EXACT_FLOAT = 2.0 ** 50
"""… and below this, where a float still holds it to a quarter (so rounding stays within 0.75)."""
MAX_SCALE = 1e250
"""A finite scale even for subnormal scores (they round to 0; the rounding error still bounds the loss)."""
WHOLE_ULPS = 8
"""Scaled scores count as whole when no further from a whole number than this many float steps of the
largest (what a decimal like 12.34 is off by once scaled: 1233.9999999999998); the error goes into the bound."""
CUT_SECONDS_PER_EDGE = 5e-6
"""Time before the deadline for preparing a cut answer (on the other core, while the flow runs): 2.4 s at
480,000 edges (a greedy pass 0.4 s, a price step 0.02–0.03 s; 12 steps take that instance's gap from 0.49
to 0.03) …"""
CUT_SHARE = 0.5
"""… but at most this share of the time left."""
PRICE_STEPS = 8
"""Price steps between two greedy passes in price order."""


def solve_plain(problem, deadline=None, with_bound=False):
    """Optimal pairs of a problem whose partners have no binding minimum (every weight 1).

    With a ``deadline`` (``time.perf_counter()``) that comes before a part's flow, that part gets the
    cut answer (see the module docstring): feasible, not optimal, with a valid bound.

    Returns
    -------
    ndarray of int
        ``edge_id`` of the chosen edges (the problem's fixed part not included).
    float
        Only ``with_bound``: an upper bound on the free edges' best total (the optimum, up to the
        integer costs' rounding, when every part was solved; else the cut parts' own bounds).
    """
    if problem.n_edges == 0:
        return (problem.edge_id[:0], 0.0) if with_bound else problem.edge_id[:0]
    chosen, bound = [], 0.0
    for mask in _batches(problem, deadline):
        found, part_bound = _solve_part(problem.keep(mask), deadline)
        chosen.append(found)
        bound += part_bound
    chosen = np.concatenate(chosen)
    return (chosen, bound) if with_bound else chosen


def _batches(problem, deadline):
    """Edge masks: all at once without a deadline, else components in batches, smallest first."""
    if deadline is None or problem.n_edges <= BATCH_EDGES:
        return [np.ones(problem.n_edges, bool)]
    comp = edge_components(problem)
    sizes = np.bincount(comp)
    order = np.argsort(sizes, kind="stable")
    batch = np.empty(len(sizes), np.int64)
    batch[order] = np.cumsum(sizes[order]) // BATCH_EDGES
    labels = batch[comp]
    return [labels == b for b in np.unique(labels)]


def network(problem):
    """The flow request of a plain problem and what turns its optimum into a bound.

    Returns
    -------
    request : dict
        ``kind="flow"``, arcs (``tails, heads, capacities, costs``; the first ``n_flows`` are the
        edges, in order), ``supplies`` per node.
    scale, err : float
        Costs are ``round(scale * score)``, each off by at most ``err``.
    most : int
        The most pairs any assignment of the problem has.
    """
    leads, lrow = np.unique(problem.lead, return_inverse=True)
    parts, prow = np.unique(problem.partner, return_inverse=True)
    n_leads, n_parts = len(leads), len(parts)
    slots = np.minimum(problem.cap_max[parts], np.bincount(prow, minlength=n_parts)).astype(np.int64)
    sink = n_leads + n_parts
    scale, err = _scale(problem.score, sink + 1)
    costs = np.rint(problem.score * scale).astype(np.int64)
    request = dict(
        kind="flow", n_flows=problem.n_edges,
        tails=np.concatenate([lrow, np.arange(n_leads), n_leads + np.arange(n_parts)]).astype(np.int64),
        heads=np.concatenate([n_leads + prow, np.full(n_leads + n_parts, sink)]).astype(np.int64),
        capacities=np.concatenate([np.ones(problem.n_edges + n_leads, np.int64), slots]),
        costs=np.concatenate([-costs, np.zeros(n_leads + n_parts, np.int64)]),
        supplies=np.concatenate([np.ones(n_leads, np.int64), np.zeros(n_parts, np.int64), [-n_leads]]))
    return request, scale, err, int(min(n_leads, slots.sum()))


def _scale(score, n_nodes):
    """``(scale, err)``: the smallest power of ten that makes the scores whole, else the largest scale
    OR-Tools takes; ``err`` bounds ``|scale * score - round(scale * score)|`` (float error included)."""
    top = float(score.max())
    if top <= 0:
        return 1.0, 0.0
    most = min(min(COST_RANGE / n_nodes, EXACT_FLOAT) / top, MAX_SCALE)
    for digits in range(SCALE_DIGITS + 1):
        scale = 10.0 ** digits
        if scale > most:
            break
        scaled = score * scale
        err = float(np.abs(scaled - np.rint(scaled)).max())
        if err <= WHOLE_ULPS * top * scale * 2.0 ** -52:
            return scale, err + top * scale * 2.0 ** -52
    return most, 0.5 + top * most * 2.0 ** -52


def _solve_part(part, deadline):
    """``(edge ids, bound)`` of one part: its flow, or the cut answer when the deadline came first."""
    if deadline is not None and part.n_edges > IN_PROCESS_EDGES and time.perf_counter() >= deadline:
        return _Cut(part).answer()  # not even the network would be built in time
    request, scale, err, most = network(part)
    if deadline is None or part.n_edges <= IN_PROCESS_EDGES:
        answer, cut = solve_network(request), None
    else:
        answer, cut = _in_worker(part, request, deadline)
    if answer is None:
        return cut.answer()
    status, cost, flow = answer
    if status != "optimal":  # OR-Tools refused the network (not seen: the scale keeps costs in range)
        return _by_lp(part, deadline)
    take = flow > 0
    value = float(part.score[take].sum())
    return part.edge_id[take], max(value, (-cost + most * err) / scale)


def _in_worker(part, request, deadline):
    """The flow in a worker process: ``(answer or None, the cut answer being prepared)``."""
    cut = _Cut(part)
    job = highs.submit(request, deadline)
    if job is None:
        return None, cut
    try:
        left = max(deadline - time.perf_counter(), 0.0)
        answer = job.wait(deadline - min(CUT_SHARE * left, CUT_SECONDS_PER_EDGE * part.n_edges))
        while answer is None and cut.improve(deadline):
            answer = job.wait(0.0)
        if answer is None:
            answer = job.wait(deadline)
    finally:
        job.cancel()  # still solving at the deadline: killed (nothing happens once it has answered)
    return answer, cut


class _Cut:
    """The answer for a part whose flow does not come in time, improved step by step while it is awaited.

    The bound is the Lagrangian of the partners' capacity rows at prices ``v >= 0``:
    ``sum over leads of max(0, best score - v) + sum over partners of slots * v`` (weak duality; at
    ``v = 0`` it is the greedy's bound, each lead's best pair). Each step moves the prices against the
    subgradient (slots minus the leads asking for the partner) with a Polyak step toward the best answer.
    """

    def __init__(self, part):
        self.part = part
        self.chosen, self.value, self.bound = None, -np.inf, np.inf
        self.slots = np.zeros(part.n_partners, np.int64)
        degree = np.bincount(part.partner, minlength=part.n_partners)
        self.slots[part.partner] = np.minimum(part.cap_max[part.partner], degree[part.partner])
        self.by_lead = np.argsort(part.lead, kind="stable")
        lead = part.lead[self.by_lead]
        self.starts = np.flatnonzero(np.r_[True, lead[1:] != lead[:-1]])
        self.sizes = np.diff(np.r_[self.starts, part.n_edges])
        self.group = np.repeat(np.arange(len(self.starts)), self.sizes)
        self.prices = np.zeros(part.n_partners)
        self.rate, self.stalled, self.since_greedy = 1.0, 0, 0
        self.seconds = {"greedy": 0.0, "step": 0.0}

    def improve(self, deadline):
        """One more step if it fits before ``deadline`` (False when none does): price steps, a greedy pass
        in price order every :data:`PRICE_STEPS` and as the last step (it gives the answer)."""
        now, greedy, step = time.perf_counter(), self.seconds["greedy"], self.seconds["step"]
        last = now + step + greedy > deadline  # no time for a step and a greedy pass after it
        if self.chosen is None or (self.since_greedy and (last or self.since_greedy >= PRICE_STEPS)):
            kind = "greedy"
        elif last:
            return False
        else:
            kind = "step"
        if self.chosen is not None and now + self.seconds[kind] > deadline:
            return False
        if kind == "greedy":
            self._greedy()
        else:
            self._price_step()
        self.seconds[kind] = max(self.seconds[kind], time.perf_counter() - now)
        return True

    def answer(self):
        """``(edge ids, bound)``: the best answer so far (a greedy pass now if there is none)."""
        if self.chosen is None:
            self._greedy()
        return self.chosen, max(self.bound, self.value)

    def _greedy(self):
        part = self.part
        ordered = replace(part, score=part.score - self.prices[part.partner])
        chosen, bound = greedy_solution(ordered)
        value = float(part.score[np.isin(part.edge_id, chosen)].sum())
        if value > self.value:
            self.chosen, self.value = chosen, value
        if not self.prices.any():  # then its bound is the Lagrangian at v = 0
            self.bound = min(self.bound, bound)
        self.since_greedy = 0

    def _price_step(self):
        part = self.part
        partner = part.partner[self.by_lead]
        reduced = part.score[self.by_lead] - self.prices[partner]
        best = np.maximum.reduceat(reduced, self.starts)
        bound = float(np.maximum(best, 0.0).sum() + (self.slots * self.prices).sum())
        self.stalled = 0 if bound < self.bound else self.stalled + 1
        self.bound = min(self.bound, bound)
        if self.stalled >= 3:
            self.rate, self.stalled = self.rate / 2, 0
        asking = np.flatnonzero((reduced >= np.repeat(best, self.sizes)) & np.repeat(best > 0, self.sizes))
        group = self.group[asking]
        first = asking[np.r_[True, group[1:] != group[:-1]]] if len(asking) else asking
        demand = np.bincount(partner[first], minlength=part.n_partners)
        slope = self.slots - demand
        norm = float((slope * slope).sum())
        if norm > 0 and np.isfinite(self.value):
            step = self.rate * max(bound - self.value, 0.0) / norm
            self.prices = np.maximum(self.prices - step * slope, 0.0)
        self.since_greedy += 1


def _by_lp(part, deadline):
    """The transportation LP (totally unimodular, so the simplex vertex is integral); greedy if it fails."""
    lp = solve_lp(build_model(part), deadline=deadline)
    if lp.status == "optimal" and is_integral(lp.x):
        return part.edge_id[lp.x > 0.5], lp.value
    chosen, bound = greedy_solution(part)
    return chosen, bound if lp.bound is None else min(bound, lp.bound)
