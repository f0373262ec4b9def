"""Round matching as pure functions: a round's pools and decisions → scored graph → solved pairs.

One instance for all open tracks of a round, so that a lead gets one partner across
tracks: lead node = the lead's 사업자등록번호, partner node = ``track:BRN`` (a firm may
partner in several tracks, with that track's capacity in each). Staff decisions
belong to the round and are kept on every re-solve: ``lock``/``approve`` → the pair
must be chosen, ``forbid``/``reject`` → never.

Nothing here touches the database: :mod:`matcher.rounds` loads a :class:`RoundInput`,
calls :func:`match_round` and stores the :class:`MatchResult`.
"""

from __future__ import annotations

import hashlib
import json
import math
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import date

import numpy as np
import pandas as pd

from .assignment import solve
from .candidates import candidate_edges, explain_pair, fitted_text_model
from .eligibility import eligibility_table
from .errors import InfeasibleError, RefusedError, UnknownTrackError
from .messages import N_, known, msg
from .scoring import COMPONENTS, build_explanation, explain, rule_weights, with_mutual_bonus

DECISION_KINDS = ("approve", "reject", "lock", "forbid")
KEEP_KINDS = ("approve", "lock")
"""Decisions that keep a pair in every re-solve."""
DROP_KINDS = ("reject", "forbid")
"""Decisions that keep a pair out of every re-solve."""
MODES = ("optimal", "stable")
DEFAULT_GAP = 1e-4
"""Relative gap at which a round's solver may stop short of a proof: HiGHS', CPLEX's and Gurobi's own default
``mip_rel_gap``. On the 100,000-application round the search stops at 56 s with gap 5.8e-6 (the answer 2.7e-6
below the optimum), where the proof takes 14 minutes; smaller rounds are mostly proven before it matters."""
EXHAUSTIVE_PAIRS = 250_000
"""A track with at most this many (eligible lead × eligible partner) pairs keeps every eligible pair."""
LEAD_K = 10
"""Partners kept per lead when a track's pool is too large to keep every eligible pair."""
LARGE_K = 5
"""Partners with a minimum > 1 kept per lead, on top of :data:`LEAD_K`, in such a pool."""
PARTNER_K = 20
"""Leads kept at least per partner with a minimum (and at least 4 × the minimum) in such a pool."""


def candidates_before_scoring(k):
    """Candidates per lead chosen by the cheap partial score (text, 물품분류, region) before full scoring."""
    return 3 * k + 10
LARGE_SIZES = ("중견기업", "대기업")


@dataclass(frozen=True)
class Decision:
    """A staff decision on a pair of a round, as the matching sees it (BRNs, not database ids)."""

    lead: str
    partner: str
    kind: str
    track: str = ""


@dataclass
class Pool:
    """The applications of one track of a round: ``(Firm, Application)`` pairs per side."""

    track: str
    leads: list = field(default_factory=list)
    partners: list = field(default_factory=list)


@dataclass
class RoundInput:
    """Everything a match needs, as plain values.

    ``pools`` maps each track key to its :class:`Pool`; ``rules`` the round's
    :class:`~matcher.tracks.TrackRule` by key; ``decisions`` the round's current
    :class:`Decision` items.
    """

    name: str
    reference_date: date
    rules: dict
    pools: dict
    decisions: list = field(default_factory=list)
    mutual: frozenset = frozenset()  # (track, lead BRN, partner BRN): both firms said yes (rounds.interest)
    mutual_bonus: float = 0.0  # added to a mutual pair's score by the optimal solver
    code_lists: object = None  # matcher.codelists.Lists in force on reference_date (None: the lists in use)
    model: str = "hand"
    """Which weights score the run: ``"hand"`` or a learned model's version (:mod:`matcher.learning`)."""

    def application(self, track, role, brn):
        """``(Firm, Application)`` of ``brn`` in ``track`` as ``role``, or None."""
        return self.index().get((track, role, brn))

    def index(self):
        if not hasattr(self, "_index"):
            self._index = {(pool.track, role, firm.brn): (firm, app)
                           for pool in self.pools.values()
                           for role, side in (("lead", pool.leads), ("partner", pool.partners))
                           for firm, app in side}
        return self._index

    def firm(self, brn):
        """The :class:`~matcher.firms.Firm` of ``brn`` in any pool, or None."""
        if not hasattr(self, "_firms"):
            self._firms = {}
            for (_t, _r, key), (firm, _a) in self.index().items():
                self._firms.setdefault(key, firm)
        return self._firms.get(brn)


@dataclass
class RoundGraph:
    """The round's scored bipartite graph, as frames, and what was learnt building it.

    ``leads`` maps each lead BRN (a lead node) to its name, in the order the pools list them;
    ``partners`` is a frame indexed by partner node (``track:BRN``) with ``track, brn, name,
    min_leads, max_leads`` (None = unbounded), ``large`` and ``index`` (its position in the
    track's pool); ``edges`` a frame of the eligible scored pairs: ``lead, partner`` (nodes),
    ``track, score``, the score components and ``lead_index, partner_index`` (positions in
    the track's pools). ``eligible`` counts each large partner's eligible leads from the
    eligibility table (the graph may keep fewer); ``tables`` keeps each track's
    :class:`~matcher.eligibility.EligibilityTable` and lead positions for the diagnostics.

    :attr:`graph` gives the same as a :class:`networkx.Graph` (built on demand: small rounds,
    tests and pictures; the engine itself never builds it).
    """

    inp: RoundInput | None = None
    leads: dict = field(default_factory=dict)
    partners: pd.DataFrame = field(default_factory=lambda: _partner_frame([]))
    edges: pd.DataFrame = field(default_factory=lambda: _edge_frame([]))
    pruning: dict = field(default_factory=dict)
    excluded_leads: dict = field(default_factory=dict)
    eligible: dict = field(default_factory=dict)
    eligible_sets: dict = field(default_factory=dict)
    tables: dict = field(default_factory=dict)

    @property
    def graph(self):
        """The graph as :class:`networkx.Graph`: lead nodes ``bipartite=0``, partner nodes ``bipartite=1``."""
        import networkx as nx  # on demand: a run never needs it
        g = nx.Graph()
        for lead, name in self.leads.items():
            g.add_node(lead, bipartite=0, name=name)
        for node, row in self.partners.iterrows():
            g.add_node(node, bipartite=1, track=row.track, brn=row.brn, name=row["name"], min_leads=row.min_leads,
                       max_leads=row.max_leads, large=bool(row.large))
        cols = ["score", *COMPONENTS]
        for lead, node, track, *values in self.edges[["lead", "partner", "track", *cols]].itertuples(index=False):
            g.add_edge(lead, node, track=track, **{c: float(v) for c, v in zip(cols, values)})
        return g


PARTNER_COLUMNS = ["node", "track", "brn", "name", "min_leads", "max_leads", "large", "index"]
EDGE_COLUMNS = ["lead", "partner", "track", "score", *COMPONENTS, "lead_index", "partner_index"]


def _partner_frame(rows):
    frame = pd.DataFrame(rows, columns=PARTNER_COLUMNS)
    frame["max_leads"] = frame["max_leads"].astype(object)
    frame = frame.drop_duplicates("node", keep="last")
    return frame.set_index("node")


def _edge_frame(frames):
    frames = [f for f in frames if len(f)]
    if not frames:
        return pd.DataFrame({c: pd.Series(dtype=object if c in ("lead", "partner", "track") else float)
                             for c in EDGE_COLUMNS})
    return pd.concat(frames, ignore_index=True)


def _from_nx(graph):
    """A :class:`RoundGraph` (without input) from a :class:`networkx.Graph` shaped as :attr:`RoundGraph.graph`."""
    rg = RoundGraph()
    rows = []
    for node, d in graph.nodes(data=True):
        if d["bipartite"] == 0:
            rg.leads[node] = d.get("name", "")
        else:
            rows.append(dict(node=node, track=d.get("track", ""), brn=d.get("brn", node), name=d.get("name", ""),
                             min_leads=d.get("min_leads"), max_leads=d.get("max_leads"),
                             large=bool(d.get("large", False)), index=-1))
            if d.get("eligible_leads") is not None:
                rg.eligible_sets[node] = frozenset(d["eligible_leads"])
    rg.partners = _partner_frame(rows)
    edges = edge_list(graph)
    rg.edges = pd.DataFrame({"lead": [e[0] for e in edges], "partner": [e[1] for e in edges],
                             "track": [graph.nodes[e[1]].get("track", "") for e in edges],
                             "score": np.array([e[2] for e in edges], dtype=float)})
    return rg


def _as_round_graph(rg):
    return rg if isinstance(rg, RoundGraph) else _from_nx(rg)


@dataclass(frozen=True)
class ProposedPair:
    """A pair a match proposes: its track, BRNs, score, explanation (JSON-able) and whether staff fixed it."""

    track: str
    lead: str
    partner: str
    score: float
    explanation: dict
    locked: bool = False


@dataclass
class MatchResult:
    """The outcome of :func:`match_round`, ready to be stored as a run."""

    status: str
    objective: float | None
    bound: float | None
    gap: float | None
    seconds: float
    pairs: list
    diagnostics: dict
    params: dict
    fingerprint: str


def _no_progress(fraction, message=""):
    return None


class _Clock:
    """The run's time limit: the deadline, the seconds left, the solver's share (None = no limit)."""

    def __init__(self, time_limit, started=None):
        self.limit = None if time_limit is None else float(time_limit)
        self.started = time.perf_counter() if started is None else started
        self.deadline = None if self.limit is None else self.started + self.limit

    def elapsed(self):
        return time.perf_counter() - self.started

    def left(self):
        return None if self.deadline is None else self.deadline - time.perf_counter()

    def check(self, phase, done=None):
        """Refuse, naming the phase, when the limit has passed before the solver could start.

        ``done`` (0..1) is how much of the phase is done, to estimate the limit it would need.
        """
        if self.deadline is not None and time.perf_counter() >= self.deadline:
            needed = None if not done else self.elapsed() / max(done, 0.05)
            raise _too_short(self.limit, self.elapsed(), phase, needed=needed)

    def for_solver(self, n_leads, n_edges):
        """Seconds for the solver: what is left minus the reserve for explaining, diagnosing and storing."""
        if self.deadline is None:
            return None
        reserve = store_reserve(n_leads, n_edges)
        left = self.left() - reserve
        if left < MIN_SOLVER_SECONDS:
            raise _too_short(self.limit, self.elapsed(), msg("matching.phase.leaving_solver_time"),
                             needed=self.elapsed() + reserve + 10 * MIN_SOLVER_SECONDS)
        return left

    def explain_until(self, n_proposals, n_edges):
        """When full explanations must stop so that diagnostics and storing still fit (None = no limit)."""
        if self.deadline is None:
            return None
        return self.deadline - (STORE_SECONDS + STORE_SECONDS_PER_PROPOSAL * n_proposals
                                + DIAGNOSE_SECONDS_PER_EDGE * n_edges)


STORE_SECONDS = 0.5
EXPLAIN_SECONDS_PER_PROPOSAL = 4e-4
STORE_SECONDS_PER_PROPOSAL = 1.5e-4
DIAGNOSE_SECONDS_PER_EDGE = 2e-5
"""The work after the solver, per proposal (at most one a lead) and per pair: measured at 100,000 applications
on the shared 2-core machine (60,471 proposals, 788,806 pairs: 35 s for explaining, diagnostics and storing at
load 4; 79 s at load 8), about 1.5 × the quieter figure. Under heavier load explanations turn brief to keep
the limit."""
MIN_SOLVER_SECONDS = 0.5


def store_reserve(n_leads, n_edges=0):
    """Seconds kept for the work after the solver (explanations, diagnostics, storing the run)."""
    return (STORE_SECONDS + (EXPLAIN_SECONDS_PER_PROPOSAL + STORE_SECONDS_PER_PROPOSAL) * n_leads
            + DIAGNOSE_SECONDS_PER_EDGE * n_edges)


def _too_short(limit, elapsed, phase, needed=None):
    needed = math.ceil(max(needed or elapsed, elapsed) * 1.5 / 10) * 10
    return RefusedError(msg("matching.time_limit_too_short", time_limit=limit, elapsed=round(elapsed, 1),
                            needed=needed, phase=phase))


def match_round(inp, track=None, mode="optimal", time_limit=None, progress=None, started=None, gap=DEFAULT_GAP,
                processes=1):
    """Match a round: score every track's eligible pairs, solve, explain.

    Parameters
    ----------
    inp : RoundInput
    track : str, optional
        Only this track (default: every track in ``inp.pools``).
    mode : {"optimal", "stable"}
        Maximum total score (default), or deferred acceptance (:mod:`matcher.stable`).
    time_limit : float, optional
        Seconds for the whole run, counted from ``started``: scoring, solving, explaining and
        (by the caller) storing. The solver gets what scoring left, less a reserve for the work
        after it (:func:`store_reserve`).
    progress : callable, optional
        ``progress(fraction, message)``, called as the work advances; it may raise
        :class:`~matcher.errors.CancelledError` to stop the work. Each message starts with its
        phase: ``scoring``, ``solving``, ``storing``.
    started : float, optional
        ``time.perf_counter()`` when the run began (the caller's loading counts); default now.
    gap : float, optional
        Relative gap at which the solver may stop short of a proof (:data:`DEFAULT_GAP`; 0 proves
        optimality). The run's status is ``optimal`` only when proven; its ``gap`` is the one reached.
    processes : int, optional
        2: score about half the tracks in a forked process (the same result on 2 cores, sooner;
        :func:`build_graph`). Default 1 (a web server's worker threads do not fork).

    Returns
    -------
    MatchResult

    Raises
    ------
    UnknownTrackError
        ``track`` is not among the round's pools.
    InfeasibleError
        The staff locks cannot all hold.
    RefusedError
        ``time_limit_too_short``: the limit passed before the solver could start.
    """
    from .codelists import active, using
    with using(inp.code_lists or active()):  # names and lists of the round's reference date
        return _match_round(inp, track, mode, time_limit, progress, started, gap, processes)


def _match_round(inp, track, mode, time_limit, progress, started, gap, processes):
    report = progress or _no_progress
    if mode not in MODES:
        raise InfeasibleError([msg("matching.unknown_mode", mode=str(mode), known=list(MODES))])
    clock = _Clock(time_limit, started)
    tracks = _tracks(inp, track)
    start = time.perf_counter()
    rg = build_graph(inp, tracks, report, clock=clock, processes=processes)
    if track is not None:
        _exclude_locked_elsewhere(rg, track)
    locks, forbid = _decision_pairs(rg)
    if mode == "optimal":
        _add_mutual_bonus(rg)
    solver_limit = clock.for_solver(len(rg.leads), len(rg.edges))
    report(0.6, msg("job.solving", n=len(rg.edges), mode=msg(N_("mode." + mode))))
    chosen, summary = _solve(rg, locks, forbid, mode, solver_limit, gap)
    stability = summary.pop("stability", None)  # stable mode: blocking pairs by SMEs, why not stable (issue 23)
    report(0.8, msg("job.explaining", n=len(chosen)))
    params = {"mode": mode, "time_limit": time_limit, "track": track, "pruning": rg.pruning}
    if inp.model != "hand":
        params["model"] = inp.model
    if mode == "optimal":
        params["gap"] = gap
        if inp.mutual and inp.mutual_bonus:
            params["mutual_bonus"] = inp.mutual_bonus
    else:
        params["stability"] = stability
    until = clock.explain_until(len(chosen), len(rg.edges))
    forked = processes > 1 and len(chosen) >= FORK_PROPOSALS
    split = round(len(chosen) * CHILD_EXPLAINS) if forked else len(chosen)

    def after_solving(item, item_report):
        if item == "explain":
            return proposed_pairs(rg, chosen[:split], locks, until=until)
        item_report(0.0, msg("job.diagnostics"))
        diagnostics = diagnose(rg, chosen, forbid)
        diagnostics["blocking_pairs"] = (_blocking(rg, chosen, forbid) if stability is None else
                                         {"count": stability["blocking"], "pairs": stability["pairs"]})
        diagnostics["counts"] = _counts(rg)
        return diagnostics, _edges_digest(rg), proposed_pairs(rg, chosen[split:], locks, until=until)

    from .forked import map_forked  # with 2 processes, a child explains while the parent diagnoses
    pairs, (diagnostics, digest, rest) = map_forked(
        ["explain", "diagnose"], after_solving, {"explain"} if forked else set(),
        lambda _item, _part, message: report(0.85, message))
    pairs = pairs + rest
    brief = sum(1 for p in pairs if p.explanation.get("brief"))
    if brief:
        params["brief_explanations"] = brief
    return MatchResult(seconds=time.perf_counter() - start, pairs=pairs, diagnostics=diagnostics, params=params,
                       fingerprint=fingerprint(rg, locks, forbid, params, digest), **summary)


FORK_PROPOSALS = 2000
"""From this many proposals up, a run with 2 processes explains them in a child (a fork costs ~20 ms)."""
CHILD_EXPLAINS = 0.6
"""The share of the proposals the child explains; the parent computes the diagnostics (about 40 % of the
explaining time at 20,000 applications) and then explains the rest."""


def _add_mutual_bonus(rg):
    """Add the round's mutual-interest bonus to the score of each pair whose firms both said yes.

    The bonus is kept in the edge column ``mutual`` (0 elsewhere), so the explanation shows it as its
    own line and the components still add up to the score.
    """
    inp = rg.inp
    bonus = float(inp.mutual_bonus or 0.0) if inp is not None else 0.0
    if bonus <= 0 or not inp.mutual or not len(rg.edges):
        return
    brns = rg.edges["partner"].map(rg.partners["brn"])
    keys = zip(rg.edges["track"].tolist(), rg.edges["lead"].tolist(), brns.tolist())
    mask = np.fromiter((key in inp.mutual for key in keys), dtype=bool, count=len(rg.edges))
    if mask.any():
        rg.edges["mutual"] = np.where(mask, bonus, 0.0)
        rg.edges["score"] = rg.edges["score"].to_numpy(dtype=float) + rg.edges["mutual"].to_numpy()


def _tracks(inp, track):
    tracks = [t for t in inp.pools if t in inp.rules]
    if track is None:
        return tracks
    if track not in tracks:
        raise UnknownTrackError(msg("round.track_not_open", track=msg(N_("track." + track)) if known("track." + track)
                                    else track, round=inp.name,
                                    open=[msg(N_("track." + t)) for t in tracks] or msg("value.none")))
    return [track]


# --- the graph --------------------------------------------------------------------------------


def build_graph(inp, tracks, progress=None, clock=None, processes=1):
    """The round's bipartite graph of eligible scored pairs (:class:`RoundGraph`).

    Lead nodes are BRNs; partner nodes are ``track:BRN`` with ``track, brn, min_leads,
    max_leads`` (max None = unbounded). Edges carry ``score``, ``track`` and the score
    components. ``clock`` (the run's time limit) is checked between steps. With ``processes=2``
    about half the tracks (by pool size) are scored in a forked process (:mod:`matcher.forked`):
    the same graph, sooner on 2 cores.
    """
    report = progress or _no_progress
    clock = clock or _Clock(None)
    rg = RoundGraph(inp)
    done = dict.fromkeys(tracks, 0.0)
    reported = [0.0]

    def track_progress(track, part, message):
        done[track] = part
        share = sum(done.values()) / len(tracks)
        clock.check(msg("matching.phase.scoring"), done=share)
        rule = inp.rules[track]
        reported[0] = max(reported[0], 0.05 + 0.54 * share)  # never back (a failed child's track redone here)
        report(reported[0], msg("job.scoring_track", track=msg(N_("track." + rule.key)), step=message))

    def score(track, track_report):
        track_report(0.0, msg("job.step.eligibility"))
        pool = inp.pools[track]
        scored = _score_track(inp.rules[track], inp.reference_date, pool.leads, pool.partners, track_report)
        done[track] = 1.0
        return scored

    from .forked import map_forked
    scored = map_forked(list(tracks), score, _child_tracks(inp, tracks) if processes > 1 else set(),
                        track_progress, check=lambda: clock.check(msg("matching.phase.scoring"),
                                                                  done=sum(done.values()) / len(tracks)),
                        deadline=clock.deadline)
    partner_rows, edge_frames = [], []
    for track, track_scores in zip(tracks, scored):
        edge_frames.append(_add_track(rg, inp.rules[track].key, track_scores, partner_rows))
    clock.check(msg("matching.phase.scoring"))
    rg.partners = _partner_frame(partner_rows)
    edges = _edge_frame(edge_frames)
    rg.edges = edges[edges["partner"].isin(rg.partners.index)].reset_index(drop=True)
    for track in tracks:
        if track in rg.pruning:
            rg.pruning[track]["edges"] = int((rg.edges["track"] == track).sum())
    return rg


def _child_tracks(inp, tracks):
    """The tracks a second process scores: about half of the work, the largest track first to the lighter side.

    A track's work is about ``leads × (partners + 6 × partners with a minimum)``: the first pass scores
    every lead against every partner, the passes for partners with a minimum cost about 6 times as
    much per such partner (measured on the 20,000-application round: 2.1, 3.6, 3.1 and 0.6 s).
    """
    def work(track):
        pool, rule = inp.pools[track], inp.rules[track]
        caps = [rule.capacity_for(firm.size_class) for firm, _a in pool.partners]
        with_min = sum(1 for cap in caps if cap is not None and (cap.min or 0) > 1)
        return len(pool.leads) * (len(pool.partners) + 6 * with_min)

    load, side = {0: 0, 1: 0}, {}
    for track in sorted(tracks, key=lambda t: -work(t)):
        side[track] = min(load, key=lambda s: (load[s], s))
        load[side[track]] += work(track)
    return {t for t in tracks if side[t] == 1}


@dataclass
class _TrackScores:
    """One track's part of the graph (:func:`_score_track`), as plain picklable values."""

    leads: list
    partner_rows: list
    table: object = None
    lead_positions: dict = None
    eligible: dict = field(default_factory=dict)
    pruning: dict = None
    edges: pd.DataFrame = None


def _score_track(rule, on, leads, partners, progress):
    """Score one track's pools (a pure function of them: a second process may run it)."""
    out = _TrackScores(leads=[(firm.brn, firm.name) for firm, _app in leads], partner_rows=[])
    large = []
    for j, (firm, _app) in enumerate(partners):
        cap = rule.capacity_for(firm.size_class)
        if cap is None:
            continue
        out.partner_rows.append(dict(node=f"{rule.key}:{firm.brn}", track=rule.key, brn=firm.brn, name=firm.name,
                                     min_leads=cap.min, max_leads=cap.max, large=firm.size_class in LARGE_SIZES,
                                     index=j))
        if firm.size_class in LARGE_SIZES:
            large.append(j)
    if not leads or not partners:
        return out
    table = eligibility_table(leads, partners, rule, on)
    out.table, out.lead_positions = table, {firm.brn: i for i, (firm, _a) in enumerate(leads)}
    for j, n in zip(large, eligible_counts(table, large)):
        out.eligible[f"{rule.key}:{partners[j][0].brn}"] = int(n)
    edges, out.pruning = _track_edges(leads, partners, rule, on, table, progress)
    frame = pd.DataFrame({"lead": edges["lead_brn"].to_numpy(dtype=object),
                          "partner": (rule.key + ":" + edges["partner_brn"].astype(str)).to_numpy(dtype=object),
                          "track": rule.key, "score": edges["score"].to_numpy(dtype=float),
                          **{c: edges[c].to_numpy() for c in COMPONENTS},
                          "lead_index": edges["lead_index"].to_numpy(dtype=np.int64),
                          "partner_index": edges["partner_index"].to_numpy(dtype=np.int64)})
    out.edges = frame.drop_duplicates(["lead", "partner"], keep="first")
    return out


def _add_track(rg, track, scored, partner_rows):
    """Put one track's :class:`_TrackScores` into the graph (in track order); returns its edge frame."""
    for brn, name in scored.leads:
        rg.leads[brn] = name
    partner_rows.extend(scored.partner_rows)
    if scored.edges is None:
        return _edge_frame([])
    rg.tables[track] = (scored.table, scored.lead_positions)
    rg.eligible.update(scored.eligible)
    rg.pruning[track] = scored.pruning
    return scored.edges


def eligible_counts(table, partner_positions):
    """Eligible leads of each partner in ``partner_positions`` (as :meth:`EligibilityTable.pair_ok` counts them)."""
    allowed = table.allowed.tocsc() if table.allowed is not None else None
    out = []
    for j in partner_positions:
        ok = table.lead_ok & table.partner_ok[j]
        ok &= table.lead_firm != table.partner_firm[j]
        ok &= table.lead_group != table.partner_group[j]
        if allowed is not None:
            covered = allowed[:, j].toarray().ravel() > 0
            ok &= covered | ~table.needs_cover
        out.append(int(ok.sum()))
    return out


def _track_edges(leads, partners, rule, on, table, progress=_no_progress):
    """The track's scored pairs and how they were pruned.

    A pool of at most :data:`EXHAUSTIVE_PAIRS` eligible-looking pairs keeps every eligible
    pair, so "optimal" means optimal over all eligible pairs. A larger pool keeps, for each
    lead, its best :data:`LEAD_K` partners and its best :data:`LARGE_K` among the partners
    with a minimum > 1; then each such partner left with fewer than ``max(4 × min,
    PARTNER_K)`` leads gets its best leads up to that number (scored against every eligible
    lead), so that a large partner is not left short by the pruning alone. The text model is
    fitted once on the whole pool, so every pass scores a pair alike.
    """
    n_pairs = int(table.lead_ok.sum()) * int(table.partner_ok.sum())

    def chunks(start, end, what):
        return lambda done, total: progress(start + (end - start) * done / max(total, 1), what)
    if n_pairs <= EXHAUSTIVE_PAIRS:
        edges = candidate_edges(leads, partners, rule, on, k=max(len(partners), 1), table=table,
                                on_chunk=chunks(0.1, 1.0, msg("job.step.every_pair")))
        return edges, {"exhaustive": True, "k": None, "large_k": None, "partner_k": None}
    vec = fitted_text_model(leads, partners, table)
    progress(0.1, msg("job.step.text_model"))
    edges = candidate_edges(leads, partners, rule, on, k=LEAD_K, table=table, vectors=vec,
                            pre_k=candidates_before_scoring(LEAD_K),
                            on_chunk=chunks(0.1, 0.6, msg("job.step.best_per_lead", k=LEAD_K)))
    pruning = {"exhaustive": False, "k": LEAD_K, "large_k": None, "partner_k": None}
    with_min = [j for j, ((firm, _app), ok) in enumerate(zip(partners, table.partner_ok))
                if ok and (rule.capacity_for(firm.size_class).min or 0) > 1]
    if not with_min:
        return edges, pruning
    what = msg("job.step.best_with_minimum", k=LARGE_K, n=len(with_min))
    extra = candidate_edges(leads, partners, rule, on, k=LARGE_K, table=table, vectors=vec, partner_subset=with_min,
                            pre_k=candidates_before_scoring(LARGE_K), on_chunk=chunks(0.6, 0.8, what))
    edges = pd.concat([edges, extra], ignore_index=True).drop_duplicates(["lead_index", "partner_index"])
    need = {j: max(4 * rule.capacity_for(partners[j][0].size_class).min, PARTNER_K) for j in with_min}
    have = edges["partner_index"].value_counts()
    short = [j for j in with_min if have.get(j, 0) < need[j]]
    pruning.update(large_k=LARGE_K, partner_k=PARTNER_K)
    if short:
        what = msg("job.step.short_partners", n=len(short))
        more = candidate_edges(leads, partners, rule, on, k=len(short), table=table, vectors=vec,
                               partner_subset=short, on_chunk=chunks(0.8, 1.0, what))
        more = more.sort_values(["partner_index", "score"], ascending=[True, False], kind="stable")
        more = more[more.groupby("partner_index").cumcount() < more["partner_index"].map(need)]
        edges = pd.concat([edges, more], ignore_index=True).drop_duplicates(["lead_index", "partner_index"])
    return edges, pruning


def _decision_pairs(rg):
    """Locks and forbids (lead BRN, partner node) from the round's staff decisions."""
    decisions = rg.inp.decisions
    if not decisions:
        return [], []
    edges = rg.edges
    sub = edges[edges["lead"].isin({d.lead for d in decisions})]
    adjacency = {}
    for lead, node in zip(sub["lead"].tolist(), sub["partner"].tolist()):
        adjacency.setdefault(lead, []).append(node)
    partners = rg.partners
    locks, forbid, added = [], [], []
    for d in decisions:
        nodes = [n for n in adjacency.get(d.lead, []) if partners.at[n, "brn"] == d.partner
                 and (not d.track or partners.at[n, "track"] == d.track)]
        if d.kind in DROP_KINDS:
            forbid += [(d.lead, n) for n in nodes]
        elif d.kind in KEEP_KINDS:
            if not nodes:
                nodes = _add_locked_edge(rg, d.lead, d.partner, d.track, added)
                for n in nodes:
                    adjacency.setdefault(d.lead, []).append(n)
            locks += [(d.lead, n) for n in nodes[:1]]
    if added:
        rg.edges = pd.concat([rg.edges, pd.DataFrame(added)], ignore_index=True)
    return locks, forbid


def _exclude_locked_elsewhere(rg, track):
    """A one-track run leaves out the leads that staff locked or approved with a partner in another track.

    A lead signs with one partner across tracks. A decision without a track counts for
    ``track`` when both firms applied in it (lead and partner), otherwise elsewhere.
    The excluded leads are kept in ``rg.excluded_leads`` (lead BRN → (partner BRN, track)).
    """
    inp = rg.inp
    here, elsewhere = {}, {}
    for d in inp.decisions:
        if d.kind not in KEEP_KINDS:
            continue
        in_track = d.track == track or (not d.track and inp.application(track, "lead", d.lead)
                                        and inp.application(track, "partner", d.partner))
        (here if in_track else elsewhere).setdefault(d.lead, []).append((d.partner, d.track or "?"))
    both = sorted(lead for lead in elsewhere if lead in here and lead in rg.leads)
    if both:
        raise InfeasibleError([msg("matching.lead_locked_twice", lead=lead, n=len(here[lead]) + len(elsewhere[lead]),
                                   partners=[p for p, _ in here[lead] + elsewhere[lead]]) for lead in both])
    rg.excluded_leads = {lead: elsewhere[lead][0] for lead in sorted(elsewhere) if lead in rg.leads}
    for lead in rg.excluded_leads:
        del rg.leads[lead]
    if rg.excluded_leads:
        rg.edges = rg.edges[~rg.edges["lead"].isin(rg.excluded_leads)].reset_index(drop=True)


def _add_locked_edge(rg, lead, partner, track, added):
    """A locked pair the candidate list left out: score it (a row appended to ``added``), or say why not.

    Returns ``[partner node]``, or ``[]`` when the pair belongs to a track not in this run.
    """
    inp = rg.inp
    in_run = set(rg.partners["track"]) | set(rg.tables)
    tracks = [t for t in ([track] if track else inp.rules) if t in in_run
              and inp.application(t, "partner", partner) and inp.application(t, "lead", lead)]
    if not tracks:
        return []
    reasons = []
    for t in tracks:
        node = f"{t}:{partner}"
        if lead not in rg.leads or node not in rg.partners.index:
            reasons.append(msg("matching.locked_size", lead=lead, partner=partner, track=msg(N_("track." + t))))
            continue
        found = explain_pair(*inp.application(t, "lead", lead), *inp.application(t, "partner", partner),
                             inp.rules[t], inp.reference_date)
        if isinstance(found, list):
            reasons += [msg("matching.locked_ineligible", lead=lead, partner=partner, track=msg(N_("track." + t)),
                            reason=r) for r in found]
            continue
        pool = inp.pools[t]
        added.append(dict(lead=lead, partner=node, track=t, score=float(found.score),
                          **{c.name: float(c.value) for c in found.components},
                          lead_index=next(i for i, (f, _a) in enumerate(pool.leads) if f.brn == lead),
                          partner_index=int(rg.partners.at[node, "index"])))
        return [node]
    raise InfeasibleError(reasons)


# --- solving ----------------------------------------------------------------------------------


def edge_list(graph, digits=None):
    """The graph's pairs as ``(lead, partner node, score)``, lead first (scores rounded to ``digits`` if given).

    ``graph`` is a :class:`RoundGraph` or a :class:`networkx.Graph`.
    """
    if isinstance(graph, RoundGraph):
        scores = graph.edges["score"].to_numpy(dtype=float)
        scores = scores if digits is None else np.round(scores, digits)
        return list(zip(graph.edges["lead"].tolist(), graph.edges["partner"].tolist(), scores.tolist()))

    def score(d):
        return d["score"] if digits is None else round(d["score"], digits)
    return [(u, v, score(d)) if graph.nodes[u]["bipartite"] == 0 else (v, u, score(d))
            for u, v, d in graph.edges(data=True)]


def _partner_tuples(rg):
    p = rg.partners
    return list(zip(p.index, p["min_leads"], p["max_leads"]))


def _solve(rg, locks, forbid, mode, time_limit, gap=0.0):
    leads = list(rg.leads)
    partners = _partner_tuples(rg)
    edges = pd.DataFrame({"lead_id": rg.edges["lead"], "partner_id": rg.edges["partner"],
                          "score": rg.edges["score"].astype(float)})
    members = {brn: firm.members for (_t, role, brn), (firm, _a) in rg.inp.index().items()
               if role == "lead" and brn in rg.leads}  # 조합 leads count their members (issue 9)
    if mode == "stable":
        from .stable import stable_assignment
        return stable_assignment(stated_preferences(rg), leads, partners, edges, locks, forbid, members=members,
                                 time_limit=time_limit)
    sol = solve(leads, partners, edges, locks=locks, forbid=forbid, time_limit=time_limit, members=members, gap=gap)
    chosen = list(sol.pairs.itertuples(index=False, name=None))
    return chosen, {"status": sol.status, "objective": sol.objective, "bound": sol.bound, "gap": sol.gap}


def stated_preferences(rg):
    """The applications' stated preferences (partner BRNs for a lead, lead BRNs for a partner) as node names."""
    stated, nodes_by_brn = {}, {}
    for node, brn in zip(rg.partners.index, rg.partners["brn"]):
        nodes_by_brn.setdefault(brn, []).append(node)
    for (track, role, brn), (_firm, app) in rg.inp.index().items():
        if not app.preferences:
            continue
        if role == "lead":
            stated.setdefault(brn, []).extend(n for b in app.preferences for n in nodes_by_brn.get(b, []))
        else:
            stated[f"{track}:{brn}"] = list(app.preferences)
    return stated


def fingerprint(rg, locks, forbid, params, edges_digest=None):
    """sha256 of the solver's inputs: pairs with scores, capacities, decisions and parameters.

    ``edges_digest``: :func:`_edges_digest` of ``rg`` when already computed.
    """
    rg = _as_round_graph(rg)
    digest = (edges_digest or _edges_digest(rg)).copy()
    nodes = sorted([(n, None, None) for n in rg.leads]
                   + [(n, _plain(lo), _plain(hi)) for n, lo, hi in _partner_tuples(rg)])
    blob = json.dumps([nodes, sorted(locks), sorted(forbid), params], ensure_ascii=False, default=str)
    digest.update(blob.encode("utf-8"))
    return digest.hexdigest()


def _edges_digest(rg):
    """The sha256 of the graph's sorted pairs and scores (rounded to 9 digits): the start of :func:`fingerprint`."""
    edges = pd.DataFrame({"lead": rg.edges["lead"].astype(str), "partner": rg.edges["partner"].astype(str),
                          "score": np.round(rg.edges["score"].to_numpy(dtype=float), 9)})
    edges = edges.sort_values(["lead", "partner"], kind="stable")
    return hashlib.sha256(pd.util.hash_pandas_object(edges, index=False).to_numpy().tobytes())


def _plain(value):
    return None if value is None or (isinstance(value, float) and np.isnan(value)) else int(value)


# --- explanations -----------------------------------------------------------------------------


def proposed_pairs(rg, chosen, locks=(), until=None):
    """The chosen pairs as :class:`ProposedPair` items, each with its explanation.

    Past ``until`` (a ``time.perf_counter()`` value: the run's time limit less what diagnostics and
    storing need) the remaining pairs get a brief explanation: the components' values, weights and
    contributions without the reasons (``"brief": True``), so that the limit holds.
    """
    locked = set(locks)
    if not chosen:
        return []
    keys = pd.DataFrame(chosen, columns=["lead", "partner", "score"])
    found = keys.merge(rg.edges.drop(columns=["score"]).drop_duplicates(["lead", "partner"]),
                       on=["lead", "partner"], how="left")
    brn_of = dict(zip(rg.partners.index, rg.partners["brn"]))
    application = rg.inp.application
    out, brief = [], False
    columns = ("lead", "partner", "score", "track", *COMPONENTS)
    bonuses = found["mutual"].fillna(0.0).to_numpy(dtype=float) if "mutual" in found.columns else None
    for n, (lead, node, score, track, *values) in enumerate(zip(*(found[c].tolist() for c in columns))):
        brn = brn_of[node]
        if until is not None and not brief and n % 200 == 0:
            brief = time.perf_counter() >= until
        if brief and not any(pd.isna(v) for v in values):
            explanation = _brief_explanation(rg, track, lead, brn, dict(zip(COMPONENTS, values)))
        else:
            explanation = _explanation(rg, track, application(track, "lead", lead),
                                       application(track, "partner", brn), values[0])
        if bonuses is not None and bonuses[n] > 0:
            explanation = with_mutual_bonus(explanation, float(bonuses[n]))
        out.append(ProposedPair(track=track, lead=lead, partner=brn, score=float(score), explanation=explanation,
                                locked=(lead, node) in locked))
    return out


def _brief_explanation(rg, track, lead, partner, values):
    out = build_explanation(values, {}, _weights(rg, track), lead, partner, track).to_dict()
    out["reasons"], out["brief"] = [], True
    return out


def _explanation(rg, track, lead_fa, partner_fa, text_value):
    """The stored explanation of a chosen pair (eligible: every pair in the graph passed the rules)."""
    found = explain(*lead_fa, *partner_fa, rg.inp.rules[track], rg.inp.reference_date, weights=_weights(rg, track),
                    text_value=None if text_value is None or pd.isna(text_value) else float(text_value))
    out = found.to_dict()
    out["reasons"] = [{"ko": ko, "en": en} for ko, en in zip(out["reasons_ko"], out["reasons_en"])]
    return out


def _weights(rg, track):
    cache = rg.__dict__.setdefault("_weights", {})
    if track not in cache:
        cache[track] = rule_weights(rg.inp.rules[track])
    return cache[track]


# --- diagnostics ------------------------------------------------------------------------------


def _counts(rg):
    """Per track: partners in the graph, those with pairs, leads with pairs (for the round overview)."""
    out = {}
    edges = rg.edges
    with_pairs = edges.groupby("track")["partner"].nunique().to_dict() if len(edges) else {}
    leads = edges.groupby("track")["lead"].nunique().to_dict() if len(edges) else {}
    for track, n in rg.partners.groupby("track", sort=False).size().items():
        out[track] = {"partners": int(n), "partners_with_pairs": int(with_pairs.get(track, 0)),
                      "leads_with_pairs": int(leads.get(track, 0))}
    return out


def _without(edges, forbid):
    if not forbid or not len(edges):
        return edges
    keys = pd.MultiIndex.from_arrays([edges["lead"], edges["partner"]])
    return edges[~keys.isin(list(forbid))]


def _blocking(rg, chosen, forbid=()):
    """Blocking pairs of the chosen assignment, by scores and stated preferences (first 50 and the count).

    A pair staff forbade cannot block: it is not acceptable. The same as
    :func:`matcher.stable.blocking_pairs` over :func:`matcher.stable.preferences`, on arrays.
    """
    stated = stated_preferences(rg) if isinstance(rg, RoundGraph) and rg.inp is not None else {}
    rg = _as_round_graph(rg)
    e = _without(rg.edges, forbid)[["lead", "partner", "score"]].reset_index(drop=True)
    if not len(e):
        return {"count": 0, "pairs": []}
    said = {node: {other: i for i, other in enumerate(prefs)} for node, prefs in stated.items()}
    e["ls"] = _said(e["lead"], e["partner"], said)
    e["ps"] = _said(e["partner"], e["lead"], said)
    e["neg"] = -e["score"].astype(float)
    e["lrank"] = _rank(e, ["lead", "ls", "neg", "partner"])
    e["prank"] = _rank(e, ["partner", "ps", "neg", "lead"])
    current = pd.DataFrame([(lead, node) for lead, node, _s in chosen], columns=["lead", "partner"])
    held = current.merge(e[["lead", "partner", "lrank", "prank"]], on=["lead", "partner"], how="left")
    cur_rank = held.drop_duplicates("lead", keep="last").set_index("lead")["lrank"]
    worst = held.groupby("partner")["prank"].max()
    load = current.groupby("partner").size()
    n_leads = len(rg.leads)
    cap = rg.partners["max_leads"].map(lambda m: n_leads if m is None or pd.isna(m) or not m else int(m))
    better = e["lrank"].to_numpy() < e["lead"].map(cur_rank).fillna(np.inf).to_numpy()
    room = e["partner"].map(load).fillna(0).to_numpy() < e["partner"].map(cap).fillna(0).to_numpy()
    wants = e["prank"].to_numpy() < e["partner"].map(worst).fillna(-np.inf).to_numpy()
    found = e[better & (room | wants)]
    first = {lead: i for i, lead in enumerate(pd.unique(e["lead"]))}
    found = found.assign(order=found["lead"].map(first)).sort_values(["order", "lrank"], kind="stable")
    pairs = [[lead, node] for lead, node in zip(found["lead"][:50], found["partner"][:50])]
    return {"count": int(len(found)), "pairs": pairs}


def _said(nodes, others, said):
    """Position of ``other`` in ``node``'s stated preferences, else how many it stated (0 for none)."""
    out = nodes.map({n: len(pos) for n, pos in said.items()}).fillna(0).to_numpy(dtype=np.int64)
    rows = [(n, o, i) for n, pos in said.items() for o, i in pos.items()]
    if rows:
        stated = pd.DataFrame(rows, columns=["node", "other", "pos"])
        hit = pd.DataFrame({"node": nodes.to_numpy(), "other": others.to_numpy()}).merge(stated, how="left")
        out = np.where(hit["pos"].notna().to_numpy(), hit["pos"].fillna(0).to_numpy(dtype=np.int64), out)
    return out


def _rank(frame, by):
    """Position of each row within its first column's group when sorted by ``by``."""
    order = frame.sort_values(by, kind="stable")
    ranks = order.groupby(by[0], sort=False).cumcount()
    return ranks.reindex(frame.index).to_numpy()


def diagnose(rg, chosen, forbid=()):
    """Why each large partner is unused and why each lead is unmatched, with the numbers.

    Large partners are 중견기업/대기업 (a construction partner's minimum is 1) and any
    partner with a minimum > 1; their eligible leads are counted from the eligibility
    table when the graph records it (``eligible``, or a node's ``eligible_leads`` in a
    :class:`networkx.Graph`), else from the graph.

    Pairs in ``forbid`` (staff decisions) are left out of the eligible pairs.

    Returns
    -------
    dict
        ``{"unused_partners": [...], "unmatched_leads": [...]}``; each item
        ``{"name", "brn", "track", "reasons": [{"code", "ko", "en"}]}``.
    """
    rg = _as_round_graph(rg)
    firm = rg.inp.firm if rg.inp is not None else (lambda brn: None)
    edges = _without(rg.edges, forbid)
    assigned = {lead: (node, score) for lead, node, score in chosen}
    load = Counter(node for _, node, _ in chosen)
    forbidden = {}
    for lead, node in forbid:
        forbidden.setdefault(node, set()).add(lead)
    p = rg.partners
    wanted = p[(p["large"].astype(bool) | (p["min_leads"].fillna(0) > 1)) & ~p.index.isin(list(load))]
    by_partner = {}
    if len(wanted):
        sub = edges[edges["partner"].isin(wanted.index)]
        sub = sub.sort_values(["partner", "score", "lead"], ascending=[True, False, False], kind="stable")
        for node, group in sub.groupby("partner", sort=False):
            by_partner[node] = list(zip(group["score"].astype(float).tolist(), group["lead"].tolist()))
    unused = [_unused_partner(rg, node, row, by_partner.get(node, []), assigned, forbidden.get(node, set()))
              for node, row in wanted.iterrows()]
    best = edges.sort_values(["lead", "score", "partner"], ascending=[True, False, False], kind="stable")
    best = best.drop_duplicates("lead")
    best = dict(zip(best["lead"].tolist(), zip(best["score"].astype(float).tolist(), best["partner"].tolist())))
    takers = {}
    for lead, (node, score) in assigned.items():
        takers.setdefault(node, []).append((score, rg.leads.get(lead, "")))
    unmatched = [_unmatched_lead(rg, lead, best.get(lead), takers) for lead in rg.leads if lead not in assigned]
    unmatched += [_locked_elsewhere(firm, lead, partner, track) for lead, (partner, track) in rg.excluded_leads.items()]
    return {"unused_partners": unused, "unmatched_leads": unmatched}


def _diagnosed(code, message):
    """A diagnostic reason as a run stores it: its ``code`` and the :class:`~matcher.messages.Msg` in both
    languages (the pages, the export and the API read ``ko`` and ``en``)."""
    return {"code": code, "ko": message.ko, "en": message.en}


def _item(name, brn, track, reason):
    return {"name": name, "brn": brn, "track": track, "reasons": [reason]}


def _eligible_count(rg, node, row, listed, forbidden):
    """Eligible leads of a partner: from the table when known, less excluded leads and forbidden pairs."""
    if node in rg.eligible_sets:
        return len({b for b in rg.eligible_sets[node] if b in rg.leads} - forbidden)
    if node not in rg.eligible:
        return len(listed)
    n = rg.eligible[node] - len(forbidden)
    table, positions = rg.tables.get(row["track"], (None, {}))
    out = [positions[lead] for lead in rg.excluded_leads if lead in positions]
    if out and table is not None:
        n -= int(table.pair_ok(out, [int(row["index"])] * len(out)).sum())
    return n


def _unused_partner(rg, node, row, eligible, assigned, forbidden):
    """Why a large partner is unused; its eligible leads are counted from the eligibility table."""
    n = _eligible_count(rg, node, row, eligible, forbidden)
    need = max(int(row["min_leads"] or 0), 1)

    def item(reason):
        return _item(row["name"], row["brn"], row["track"], reason)
    if not n:
        return item(_diagnosed("too_few_eligible", msg("diagnostics.no_eligible_leads")))
    if n < need:
        return item(_diagnosed("too_few_eligible", msg("diagnostics.too_few_eligible", n=n, need=need)))
    best = eligible[:need]
    here = sum(s for s, _ in best)
    elsewhere = sum(assigned[lead][1] for _, lead in best if lead in assigned)
    taken = sum(1 for _, lead in best if lead in assigned)
    return item(_diagnosed("worth_more_elsewhere", msg("diagnostics.worth_more_elsewhere", need=need, here=f"{here:.3f}",
                                                  taken=taken, elsewhere=f"{elsewhere:.3f}")))


def _locked_elsewhere(firm, lead, partner, track):
    name = firm(lead).name if firm(lead) else ""
    partner_name = firm(partner).name if firm(partner) else partner
    return {"name": name, "brn": lead, "track": "", "reasons": [_diagnosed("locked_in_other_track", msg(
        "diagnostics.locked_in_other_track", partner=partner_name, track=track))]}


def _unmatched_lead(rg, lead, best, takers):
    name_of = rg.leads.get(lead, "")
    if best is None:
        return _item(name_of, lead, "", _diagnosed("no_eligible_partner", msg("diagnostics.no_eligible_partner")))
    score, node = best
    name = rg.partners.at[node, "name"]
    best = msg("diagnostics.best_partner", name=name, score=f"{score:.3f}")
    taken = sorted(takers.get(node, []))
    if not taken:
        return _item(name_of, lead, "", _diagnosed("best_partner_unused", msg("diagnostics.best_partner_unused", best=best)))
    names = ", ".join(n for _, n in taken[:5])
    return _item(name_of, lead, "", _diagnosed("lost_to_better_pair", msg("diagnostics.lost_to_better_pair", best=best,
                                                                      names=names, score=f"{taken[0][0]:.3f}")))
