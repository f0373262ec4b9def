"""The solver's public entry point: ids and scores in, chosen pairs and a proof out."""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from ..errors import InfeasibleError, InvalidValueError, Problem, ValidationError
from ..messages import msg
from .check import load_text
from . import greedy
from .greedy import fill_forced
from .problem import fix, make_problem
from .search import TARGET_GAP, solve_problem

OPTIMAL_GAP = 1e-9
FLOOR_EDGES = 50_000
"""Up to this many edges the answer is compared with the full greedy answer whatever the limit (it takes
under 50 ms); above, when the limit leaves time for it (about what building the index form took)."""
RESERVE_FACTOR = 3.0
RESERVE_SHARE = 0.4
"""Time kept back from a limit for the work after the search stops (mostly the greedy answer): three
times what building the index form took (both are linear in the edges, so this follows the machine's
load: 0.16 s quiet, 1.1 s loaded at 480k edges), at most 40 % of the limit."""


@dataclass
class Solution:
    """What :func:`solve` returns.

    Attributes
    ----------
    pairs : pandas.DataFrame
        ``lead_id, partner_id, score`` of the chosen pairs, in input edge order.
    edge_index : ndarray of int
        Positions of the chosen pairs in the input edge list.
    status : str
        ``"optimal"`` (proven: relative gap <= 1e-9) or ``"feasible"``.
    objective : float
        Total score of ``pairs``.
    bound : float
        Upper bound on the best possible total score (``>= objective``).
    seconds : float
    stats : dict
        Components, fractional components, MILP calls, edges fixed by reduced costs.
    """

    pairs: pd.DataFrame
    edge_index: np.ndarray
    status: str
    objective: float
    bound: float
    seconds: float
    stats: dict = field(default_factory=dict)
    loads: pd.DataFrame | None = None
    """Per partner with a 조합 lead chosen: ``partner_id, leads, smes, min_leads, max_leads``."""

    @property
    def gap(self):
        """Relative gap ``(bound - objective) / max(|bound|, 1)``."""
        gap = max(self.bound - self.objective, 0.0) / max(abs(self.bound), 1.0)
        return gap if gap > 1e-12 else 0.0  # below that it is floating-point noise in the sums

    @property
    def matched(self):
        return len(self.pairs)

    def cooperative_notes(self):
        """One note per partner whose chosen leads include a 조합: Korean and English text.

        ``{"partner_id": "P1", "ko": "P1: 주관기업 3곳(중소기업 7개사), 최소 5", "en": "P1: 3 leads standing
        for 7 SMEs, minimum 5"}``
        """
        if self.loads is None:
            return []
        notes = []
        for row in self.loads.itertuples(index=False):
            limits_ko = f"최소 {row.min_leads}" + ("" if row.max_leads < 0 else f", 최대 {row.max_leads}")
            limits_en = f"minimum {row.min_leads}" + ("" if row.max_leads < 0 else f", maximum {row.max_leads}")
            notes.append({"partner_id": row.partner_id,
                          "ko": f"{row.partner_id}: {load_text(row.leads, row.smes, 'ko')}, {limits_ko}",
                          "en": f"{row.partner_id}: {load_text(row.leads, row.smes)}, {limits_en}"})
        return notes

    def summary(self):
        """The JSON-ready dict ``matcher solve`` prints."""
        return {"status": self.status, "objective": round(self.objective, 6), "bound": round(self.bound, 6),
                "gap": self.gap, "matched": self.matched, "seconds": round(self.seconds, 3)}


def solve(leads, partners, edges, locks=(), forbid=(), time_limit=None, members=None, gap=0.0):
    """Choose pairs maximising the total score under the partners' minimums and maximums.

    Parameters
    ----------
    leads : sequence of hashable
        Lead ids; each lead gets at most one partner.
    partners : pandas.DataFrame or sequence of (id, min_leads, max_leads)
        ``max_leads`` None (or NaN, or < 0) means no upper limit. A partner with
        ``min_leads > 1`` is either unused or gets between ``min_leads`` and ``max_leads``.
    edges : pandas.DataFrame or sequence of (lead_id, partner_id, score)
        Eligible pairs, each once, ``score >= 0`` (higher is better). Ids must be known.
    locks, forbid : sequence of (lead_id, partner_id), optional
        Pairs that must / may not be chosen.
    time_limit : float, optional
        Seconds; when reached, the best solution found is returned with status
        ``"feasible"`` and a valid upper bound. Every phase holds it (the LP and MILP
        are interrupted by us; see :mod:`.highs`).
    members : mapping of lead_id -> int, or sequence aligned with ``leads``, optional
        SMEs each lead stands for (a 조합, default 1). They count toward the minimum and
        maximum of every partner that takes several leads (``min_leads > 1`` or
        ``max_leads`` other than 1); a 1:1 partner takes one lead, cooperative or not.
    gap : float, optional
        Relative gap (0 ≤ gap < 1) at which the search may stop short of a proof: the answer is
        then ``"feasible"`` with ``(bound − objective) / bound ≤ gap`` (MILP solvers' own default
        is 1e-4). Default 0: search until proven optimal (or the time limit).

    Returns
    -------
    Solution

    Raises
    ------
    InfeasibleError
        When the locks cannot all hold; ``reasons`` names the partners and leads.

    Examples
    --------
    A large partner with only four eligible SMEs must stay unused:

    >>> sol = solve(["a", "b", "c", "d"], [("P", 5, None), ("s", 1, 1)],
    ...             [("a", "P", 9), ("b", "P", 9), ("c", "P", 9), ("d", "P", 9), ("a", "s", 1)])
    >>> sol.status, sol.objective, list(sol.pairs.partner_id)
    ('optimal', 1.0, ['s'])
    """
    if not (np.isfinite(gap) and 0 <= gap < 1):
        raise InvalidValueError(msg("solver.gap_range", gap=repr(gap)))
    start = time.perf_counter()
    problem, edges, names, (base, part_ids) = prepare(leads, partners, edges, locks, forbid, members=members,
                                                      with_base=True)
    deadline, gauge = None, 0.0
    if time_limit is not None:  # keep time for the answer after the search stops (greedy, pairs frame)
        gauge = time.perf_counter() - start  # how fast this machine is right now (prepare is linear too)
        reserve = min(RESERVE_SHARE * float(time_limit), RESERVE_FACTOR * gauge + 0.05)
        deadline = start + float(time_limit) - reserve
    token = greedy.HARD_DEADLINE.set(None if time_limit is None else start + float(time_limit))
    target = TARGET_GAP.set(float(gap))
    try:
        out = solve_problem(problem, deadline)
        if not np.isfinite(out.value):  # locks force partners open and time ran out before any answer
            bound = out.bound
            out = solve_problem(fill_forced(problem, names=names), deadline)
            out.bound = max(bound, out.value)
        if time_limit is None or problem.n_edges <= FLOOR_EDGES or time.perf_counter() + 2 * gauge < start + time_limit:
            out = _at_least_greedy(problem, out)
    finally:
        TARGET_GAP.reset(target)
        greedy.HARD_DEADLINE.reset(token)
    chosen = np.sort(out.chosen)
    status = "optimal" if out.bound - out.value <= OPTIMAL_GAP * max(abs(out.bound), 1.0) else "feasible"
    pairs = edges.iloc[chosen][["lead_id", "partner_id", "score"]].reset_index(drop=True)
    return Solution(pairs=pairs, edge_index=chosen, status=status, objective=float(pairs["score"].sum()),
                    bound=max(out.bound, out.value), seconds=time.perf_counter() - start, stats=out.stats,
                    loads=_cooperative_loads(base, chosen, part_ids))


def _at_least_greedy(problem, out):
    """``out``, or the full greedy answer when that is better: no time limit gives less than the greedy.

    Only an unproven answer is compared (the greedy's time is part of the reserve kept from the limit).
    """
    if not np.isfinite(out.bound):  # never reported as it is: each lead's best pair bounds any answer
        best = np.zeros(problem.n_leads)
        np.maximum.at(best, problem.lead, problem.score)
        out = replace(out, bound=problem.fixed_score + float(best.sum()))
    if out.bound - out.value <= OPTIMAL_GAP * max(abs(out.bound), 1.0):
        return out
    chosen, value = greedy.greedy_answer(problem)
    if value <= out.value:
        return out
    return replace(out, chosen=chosen, value=value, bound=max(out.bound, value),
                   stats={**out.stats, "greedy_floor": 1})


def _cooperative_loads(base, chosen, part_ids):
    """Partners whose chosen leads count more SMEs than leads (weights > 1), with both counts.

    ``base`` is the problem before locks were fixed (``edge_id`` = input position).
    """
    if not len(chosen) or base.weight[chosen].max() <= 1:
        return None
    part = base.partner[chosen]
    leads = np.bincount(part, minlength=base.n_partners)
    smes = np.bincount(part, weights=base.weight[chosen], minlength=base.n_partners).astype(np.int64)
    which = np.flatnonzero(smes > leads)
    return pd.DataFrame({"partner_id": [part_ids[p] for p in which], "leads": leads[which], "smes": smes[which],
                         "min_leads": base.cap_min[which], "max_leads": base.cap_max_given[which]})


def prepare(leads, partners, edges, locks=(), forbid=(), members=None, with_base=False):
    """The index form of an instance with its locks and forbids fixed (arguments as for :func:`solve`).

    Returns
    -------
    problem : Problem
        Locked pairs in ``fixed``; ``edge_id`` indexes ``edges``.
    edges : pandas.DataFrame
        ``lead_id, partner_id, score``, one row per input edge.
    names : callable
        ``names(kind, index) -> str``: the caller's ids for messages.
    (base, partner ids) : (Problem, Index)
        Only ``with_base``: the problem before locks and forbids were fixed, and the partner ids.

    Raises
    ------
    InfeasibleError
        When the locks cannot all hold (same messages as :func:`solve`).
    """
    lead_ids = pd.Index(list(leads))
    parts = _partner_frame(partners)
    part_ids = pd.Index(parts["partner_id"])
    edges = _edge_frame(edges)
    e_lead = lead_ids.get_indexer(edges["lead_id"])
    e_part = part_ids.get_indexer(edges["partner_id"])
    _check_known(edges, e_lead, e_part)
    problem = make_problem(len(lead_ids), parts["min_leads"], parts["max_leads"], e_lead, e_part, edges["score"],
                           members=_member_counts(members, lead_ids))
    names = _namer(lead_ids, part_ids)
    locked, not_eligible = _pair_masks(locks, edges)
    forbidden, _absent = _pair_masks(forbid, edges)
    if not_eligible:
        raise InfeasibleError(not_eligible)
    fixed = fix(problem, ones=locked, zeros=forbidden, names=names)
    if with_base:
        return fixed, edges, names, (problem, part_ids)
    return fixed, edges, names


def _member_counts(members, lead_ids):
    """Member count per lead (in ``lead_ids`` order); refused unless a whole number >= 1."""
    if members is None:
        return None
    if isinstance(members, (dict, pd.Series)):
        values = [members.get(lead, 1) for lead in lead_ids]
    else:
        values = list(members)
        if len(values) != len(lead_ids):
            raise ValidationError([Problem(None, "members", str(len(values)),
                                           f"gives {len(values)} counts for {len(lead_ids)} leads")], source="leads")
    bad = [(i, v) for i, v in enumerate(values)
           if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1]
    if bad:
        raise ValidationError([Problem(i + 2, "members", str(v), "is not a whole number >= 1") for i, v in bad[:50]],
                              source="leads")
    return np.asarray(values, dtype=np.int64)


def _check_known(edges, e_lead, e_part):
    """The engine trusts its inputs, but an unknown id would silently mis-index: refuse it."""
    for column, index in (("lead_id", e_lead), ("partner_id", e_part)):
        if (index < 0).any():
            row = int(np.flatnonzero(index < 0)[0])
            raise ValidationError([Problem(row + 2, column, str(edges[column].iloc[row]), "is not a known id")],
                                  source="edges")


def _partner_frame(partners):
    if not isinstance(partners, pd.DataFrame):
        partners = pd.DataFrame(list(partners), columns=["partner_id", "min_leads", "max_leads"])
    mins = pd.to_numeric(partners["min_leads"]).fillna(0).astype(np.int64).to_numpy()
    maxs = pd.to_numeric(partners["max_leads"]).fillna(-1).astype(np.int64).to_numpy()
    return {"partner_id": list(partners["partner_id"]), "min_leads": mins, "max_leads": maxs}


def _edge_frame(edges):
    if not isinstance(edges, pd.DataFrame):
        edges = pd.DataFrame(list(edges), columns=["lead_id", "partner_id", "score"])
    edges = edges.reset_index(drop=True)
    return edges.assign(score=pd.to_numeric(edges["score"]).astype(float))


def _pair_masks(pairs, edges):
    """Mask of the edges named by ``pairs``; reasons for pairs that are not eligible edges."""
    mask = np.zeros(len(edges), bool)
    pairs = pairs.itertuples(index=False) if isinstance(pairs, pd.DataFrame) else pairs
    pairs = [tuple(p)[:2] for p in pairs]
    if not pairs:
        return mask, []
    index = pd.MultiIndex.from_frame(edges[["lead_id", "partner_id"]])
    pos = index.get_indexer(pd.MultiIndex.from_tuples(pairs))
    mask[pos[pos >= 0]] = True
    reasons = [f"lead {lead} and partner {partner} are locked but not an eligible pair"
               for (lead, partner), p in zip(pairs, pos) if p < 0]
    return mask, reasons


def _namer(lead_ids, part_ids):
    def name(kind, index):
        return f"lead {lead_ids[index]}" if kind == "lead" else f"partner {part_ids[index]}"
    return name
