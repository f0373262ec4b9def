"""An assignment instance in index form, and fixing pairs (staff locks, solver fixings).

Leads ``0..n_leads-1`` and partners ``0..n_partners-1``; eligible pairs ("edges") as
three parallel arrays. A partner ``p`` takes at most ``cap_max[p]`` leads; when
``cap_min[p] > 1`` it is either unused or takes at least ``cap_min[p]`` (the 5-SME
minimum of a large firm in 소재부품/기술융합); when ``must_open[p]`` it must take at
least ``cap_min[p]`` (a partner with a locked pair). Fixed pairs are taken out of the
arrays and remembered in ``fixed``, with the partners' capacities reduced.

Weights (조합 leads): ``weight[e]`` is what edge ``e``'s lead counts toward its partner's
minimum and maximum — the lead's member count when the partner takes several leads
(``cap_max > 1`` or ``cap_min > 1``), else 1 (a 1:1 partner takes one lead, cooperative or not).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np
import scipy.sparse as sp

from ..errors import InfeasibleError
from .check import load_text


UNBOUNDED = 1 << 40
"""Added to the capacity that stands for "no upper limit" (more than every lead's members), so it can be told apart."""


@dataclass(frozen=True)
class Problem:
    """Index form of an instance (see the module docstring).

    Attributes
    ----------
    n_leads, n_partners : int
    cap_min, cap_max : ndarray of int, shape (n_partners,)
    must_open : ndarray of bool, shape (n_partners,)
    lead, partner : ndarray of int, shape (n_edges,)
    score : ndarray of float, shape (n_edges,)
    edge_id : ndarray of int, shape (n_edges,)
        Position of each edge in the caller's edge list.
    fixed : ndarray of int
        ``edge_id`` of the pairs already fixed in the assignment.
    fixed_score : float
        Their total score.
    weight : ndarray of int, shape (n_edges,), optional
        What each edge's lead counts toward its partner's capacities (default 1).
    """

    n_leads: int
    n_partners: int
    cap_min: np.ndarray
    cap_max: np.ndarray
    must_open: np.ndarray
    lead: np.ndarray
    partner: np.ndarray
    score: np.ndarray
    edge_id: np.ndarray
    fixed: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    fixed_score: float = 0.0
    weight: np.ndarray | None = None

    def __post_init__(self):
        if self.weight is None:
            object.__setattr__(self, "weight", np.ones(len(self.score), dtype=np.int64))

    @property
    def n_edges(self):
        return len(self.score)

    @property
    def cap_max_given(self):
        """``cap_max`` with "no upper limit" as -1 (for messages)."""
        return np.where(self.cap_max >= UNBOUNDED, -1, self.cap_max)

    @property
    def weighted(self):
        """True when some lead counts more than 1 toward a partner (the model is then not unimodular)."""
        return bool(self.n_edges) and bool(self.weight.max() > 1)

    def load(self, mask):
        """Per partner, the total weight of the edges in ``mask``."""
        return np.bincount(self.partner[mask], weights=self.weight[mask], minlength=self.n_partners).astype(np.int64)

    def binding(self):
        """Partners whose minimum still constrains them (optional with min > 1, or forced open)."""
        return (self.cap_min > 1) | (self.must_open & (self.cap_min > 0))

    def keep(self, mask):
        """The same problem restricted to the edges where ``mask`` is true."""
        return replace(self, lead=self.lead[mask], partner=self.partner[mask],
                       score=self.score[mask], edge_id=self.edge_id[mask], weight=self.weight[mask])

    def part(self, mask):
        """The edges in ``mask`` as a problem of their own: partners without an edge there lose their minimum.

        (A component of the problem: a partner forced open elsewhere must not make it infeasible.)
        """
        sub = self.keep(mask)
        present = np.zeros(self.n_partners, bool)
        present[sub.partner] = True
        return replace(sub, must_open=self.must_open & present, cap_min=np.where(present, self.cap_min, 0),
                       fixed=self.fixed[:0], fixed_score=0.0)


def edge_components(problem):
    """Connected-component label of each edge of the lead–partner graph."""
    from scipy.sparse.csgraph import connected_components  # scipy.linalg with it: not for a small solve
    n = problem.n_leads + problem.n_partners
    graph = sp.coo_matrix((np.ones(problem.n_edges), (problem.lead, problem.n_leads + problem.partner)),
                          shape=(n, n))
    _n, labels = connected_components(graph, directed=False)
    _used, comp = np.unique(labels[problem.lead], return_inverse=True)
    return comp


def make_problem(n_leads, cap_min, cap_max, lead, partner, score, members=None):
    """A :class:`Problem` over all edges, with unbounded capacities (``cap_max < 0``) made finite.

    ``members`` (per lead, default 1) count toward the capacities of partners that take
    several leads (see the module docstring).
    """
    cap_min = np.asarray(cap_min, dtype=np.int64)
    cap_max = np.asarray(cap_max, dtype=np.int64).copy()
    lead = np.asarray(lead, dtype=np.int64)
    partner = np.asarray(partner, dtype=np.int64)
    members = np.ones(n_leads, dtype=np.int64) if members is None else np.asarray(members, dtype=np.int64)
    multi = (cap_max < 0) | (cap_max > 1) | (cap_min > 1)
    weight = np.where(multi[partner], members[lead], 1).astype(np.int64)
    cap_max[cap_max < 0] = max(int(members.sum()), 1) + UNBOUNDED
    return Problem(n_leads=n_leads, n_partners=len(cap_min), cap_min=cap_min, cap_max=cap_max,
                   must_open=np.zeros(len(cap_min), dtype=bool), lead=lead,
                   partner=partner, score=np.asarray(score, dtype=float),
                   edge_id=np.arange(len(lead), dtype=np.int64), weight=weight)


def fix(problem, ones=None, zeros=None, opened=None, closed=None, names=None):
    """Fix edges to 1 or 0 and partners open or closed; return the smaller problem.

    Parameters
    ----------
    problem : Problem
    ones, zeros : ndarray of bool, shape (n_edges,), optional
        Edges that must be chosen / may not be chosen.
    opened, closed : ndarray of bool, shape (n_partners,), optional
        Partners that must be used / may not be used.
    names : callable, optional
        ``names(kind, index) -> str`` for messages (kind ``"lead"`` or ``"partner"``).

    Returns
    -------
    Problem
        Without the fixed edges, the other edges of leads now taken, the edges of closed
        partners and of partners that can no longer reach their minimum.

    Raises
    ------
    InfeasibleError
        When the fixings contradict each other or a capacity; every reason is listed.
    """
    names = names or (lambda kind, i: f"{kind} {i}")
    ones = np.zeros(problem.n_edges, bool) if ones is None else ones
    zeros = np.zeros(problem.n_edges, bool) if zeros is None else zeros
    reasons = _contradictions(problem, ones, zeros, names)
    taken = np.zeros(problem.n_leads, bool)
    taken[problem.lead[ones]] = True
    k = problem.load(ones)
    n_locked = np.bincount(problem.partner[ones], minlength=problem.n_partners)
    cap_max = problem.cap_max - k
    for p in np.flatnonzero(cap_max < 0):
        reasons.append(f"{names('partner', p)} locked with {load_text(n_locked[p], k[p])} "
                       f"but takes at most {problem.cap_max[p]}")
    must_open = problem.must_open | (k > 0) | (np.zeros(problem.n_partners, bool) if opened is None else opened)
    cap_min = np.where(problem.cap_min > 1, np.maximum(problem.cap_min - k, 0), 0)
    cap_min = np.where(problem.must_open & (problem.cap_min > 0), np.maximum(problem.cap_min - k, 0), cap_min)
    drop = ones | zeros | taken[problem.lead] | (problem.weight > np.maximum(cap_max, 0)[problem.partner])
    if closed is not None:
        drop |= closed[problem.partner]
    rest = replace(problem.keep(~drop), cap_min=cap_min, cap_max=cap_max, must_open=must_open,
                   fixed=np.concatenate([problem.fixed, problem.edge_id[ones]]),
                   fixed_score=problem.fixed_score + float(problem.score[ones].sum()))
    rest, more = _drop_unreachable(rest, k, n_locked, names)
    reasons += more
    if reasons:
        raise InfeasibleError(reasons)
    return rest


def _contradictions(problem, ones, zeros, names):
    reasons = []
    for e in np.flatnonzero(ones & zeros):
        reasons.append(f"{names('lead', problem.lead[e])} and {names('partner', problem.partner[e])} "
                       "are both locked and forbidden")
    count = np.bincount(problem.lead[ones], minlength=problem.n_leads)
    for lead in np.flatnonzero(count > 1):
        who = ", ".join(names("partner", p) for p in problem.partner[ones & (problem.lead == lead)])
        reasons.append(f"{names('lead', lead)} locked with {count[lead]} partners ({who}) but takes one")
    return reasons


def _drop_unreachable(problem, locked, n_locked, names):
    """Drop partners that cannot reach their minimum; a forced one is a contradiction."""
    deg = problem.load(np.ones(problem.n_edges, bool))
    n_deg = np.bincount(problem.partner, minlength=problem.n_partners)
    short = (problem.cap_min > 1) & ~problem.must_open & (deg < problem.cap_min)
    forced_short = problem.must_open & (deg < problem.cap_min)
    reasons = [
        f"{names('partner', p)} locked with {load_text(n_locked[p], locked[p])} but needs at least "
        f"{locked[p] + problem.cap_min[p]} and has only {_eligible(n_locked[p] + n_deg[p], locked[p] + deg[p])} eligible"
        for p in np.flatnonzero(forced_short)
    ]
    if short.any():
        problem = problem.keep(~short[problem.partner])
    return problem, reasons


def _eligible(count, weight):
    return str(count) if count == weight else load_text(count, weight)


def _leads(count):
    return f"{count} lead" if count == 1 else f"{count} leads"
