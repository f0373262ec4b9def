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
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import date

import networkx as nx
import pandas as pd

from .assignment import solve
from .candidates import EXHAUSTIVE_LIMIT, candidate_edges, explain_pair
from .eligibility import eligibility_table
from .errors import InfeasibleError, UnknownTrackError
from .korean import with_particle
from .scoring import COMPONENTS, load_weights

DECISION_KINDS = ("approve", "reject", "lock", "forbid")
KEEP_KINDS = ("approve", "lock")
"""Decisions that keep a pair in every re-solve."""
DROP_KINDS = ("reject", "forbid")
"""Decisions that keep a pair out of every re-solve."""
MODES = ("optimal", "stable")
LEAD_K = 50
"""Partners kept per lead when a track's pool is too large to keep every eligible pair."""
PARTNER_K = 50
"""Leads kept per partner with a minimum (at least 4 × the minimum) in such a pool."""
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
        found = next((fa for key, fa in self.index().items() if key[2] == brn), None)
        return found[0] if found else None


@dataclass
class RoundGraph:
    """The round's scored bipartite graph and what was learnt building it."""

    graph: nx.Graph
    inp: RoundInput
    pruning: dict = field(default_factory=dict)
    excluded_leads: dict = field(default_factory=dict)


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


def match_round(inp, track=None, mode="optimal", time_limit=None, progress=None):
    """Match a round: score every track's eligible pairs, solve, explain.

    Parameters
    ----------
    inp : RoundInput
    track : str, optional
        Only this track (default: every track in ``inp.pools``).
    mode : {"optimal", "stable"}
        Maximum total score (default), or deferred acceptance (:mod:`matcher.stable`).
    time_limit : float, optional
        Seconds for the solver.
    progress : callable, optional
        ``progress(fraction, message)``, called as the work advances; it may raise
        :class:`~matcher.errors.CancelledError` to stop the work.

    Returns
    -------
    MatchResult

    Raises
    ------
    UnknownTrackError
        ``track`` is not among the round's pools.
    InfeasibleError
        The staff locks cannot all hold.
    """
    report = progress or _no_progress
    if mode not in MODES:
        raise InfeasibleError([f"mode {mode!r} is not one of {', '.join(MODES)}"])
    tracks = _tracks(inp, track)
    start = time.perf_counter()
    rg = build_graph(inp, tracks, report)
    if track is not None:
        _exclude_locked_elsewhere(rg, track)
    locks, forbid = _decision_pairs(rg)
    report(0.7, f"solving {rg.graph.number_of_edges()} pairs ({mode})")
    chosen, summary = _solve(rg, locks, forbid, mode, time_limit)
    report(0.85, f"explaining {len(chosen)} proposals")
    params = {"mode": mode, "time_limit": time_limit, "track": track, "pruning": rg.pruning}
    locked = set(locks)
    pairs = [_proposed(rg, lead, node, score, (lead, node) in locked) for lead, node, score in chosen]
    diagnostics = diagnose(rg, chosen, forbid)
    diagnostics["blocking_pairs"] = _blocking(rg, chosen, forbid)
    diagnostics["counts"] = _counts(rg)
    return MatchResult(seconds=time.perf_counter() - start, pairs=pairs, diagnostics=diagnostics, params=params,
                       fingerprint=fingerprint(rg.graph, locks, forbid, params), **summary)


def _tracks(inp, track):
    tracks = [t for t in inp.pools if t in inp.rules]
    if track is None:
        return tracks
    if track not in tracks:
        raise UnknownTrackError(f"track {track!r} is not open in round {inp.name!r} (open: {', '.join(tracks)})",
                                ko=f"과제 {track!r}은(는) {inp.name} 회차에 열려 있지 않습니다 "
                                   f"(열린 과제: {', '.join(tracks) or '없음'})",
                                code="track_not_open", track=track)
    return [track]


# --- the graph --------------------------------------------------------------------------------


def build_graph(inp, tracks, progress=None):
    """The round's bipartite graph of eligible scored pairs (:class:`RoundGraph`).

    Lead nodes (``bipartite=0``) are BRNs; partner nodes (``bipartite=1``) are ``track:BRN``
    with ``track, brn, min_leads, max_leads`` (max None = unbounded). Edges carry ``score``,
    ``track`` and the score components.
    """
    report = progress or _no_progress
    rg = RoundGraph(nx.Graph(), inp)
    for i, track in enumerate(tracks):
        report(0.05 + 0.6 * i / max(len(tracks), 1), f"scoring {inp.rules[track].name_ko} ({track})")
        pool = inp.pools[track]
        _add_track(rg, inp.rules[track], inp.reference_date, pool.leads, pool.partners)
    return rg


def _add_track(rg, rule, on, leads, partners):
    graph = rg.graph
    for firm, app in leads:
        graph.add_node(firm.brn, bipartite=0, name=firm.name)
    for firm, app in partners:
        cap = rule.capacity_for(firm.size_class)
        if cap is None:
            continue
        graph.add_node(f"{rule.key}:{firm.brn}", bipartite=1, track=rule.key, brn=firm.brn, name=firm.name,
                       min_leads=cap.min, max_leads=cap.max, large=firm.size_class in LARGE_SIZES)
    if not leads or not partners:
        return
    table = eligibility_table(leads, partners, rule, on)
    _record_eligible(graph, rule, leads, partners, table)
    edges, pruning = _track_edges(leads, partners, rule, on, table)
    rg.pruning[rule.key] = pruning
    for row in edges.itertuples(index=False):
        node = f"{rule.key}:{row.partner_brn}"
        if node in graph and not graph.has_edge(row.lead_brn, node):
            graph.add_edge(row.lead_brn, node, score=float(row.score), track=rule.key,
                           **{name: float(getattr(row, name)) for name in COMPONENTS})
    pruning["edges"] = sum(1 for *_e, d in graph.edges(data=True) if d["track"] == rule.key)


def _track_edges(leads, partners, rule, on, table):
    """The track's scored pairs and how they were pruned.

    A pool small enough for :func:`candidate_edges` to score every eligible pair keeps
    every one, so "optimal" means optimal over all eligible pairs. A larger pool keeps
    the best :data:`LEAD_K` partners per lead plus, for each partner with a minimum > 1,
    its best ``max(4 × min, PARTNER_K)`` leads (scored in a second pass over those
    partners only), so that a large partner is not left short by the pruning alone.
    """
    n_pairs = int(table.lead_ok.sum()) * int(table.partner_ok.sum())
    if n_pairs <= EXHAUSTIVE_LIMIT:
        edges = candidate_edges(leads, partners, rule, on, k=max(len(partners), 1), table=table)
        return edges, {"exhaustive": True, "k": None, "partner_k": None}
    edges = candidate_edges(leads, partners, rule, on, k=LEAD_K, table=table)
    with_min = [(firm, app) for (firm, app), ok in zip(partners, table.partner_ok)
                if ok and (rule.capacity_for(firm.size_class).min or 0) > 1]
    if not with_min:
        return edges, {"exhaustive": False, "k": LEAD_K, "partner_k": None}
    extra = candidate_edges(leads, with_min, rule, on, k=len(with_min))
    need = {firm.brn: max(4 * rule.capacity_for(firm.size_class).min, PARTNER_K) for firm, _ in with_min}
    extra = extra.sort_values(["partner_brn", "score"], ascending=[True, False], kind="stable")
    extra = extra[extra.groupby("partner_brn").cumcount() < extra["partner_brn"].map(need)]
    return pd.concat([edges, extra], ignore_index=True), {"exhaustive": False, "k": LEAD_K, "partner_k": PARTNER_K}


def _record_eligible(graph, rule, leads, partners, table):
    """Each large partner's eligible leads (BRNs) from the eligibility table, for the diagnostics."""
    lead_brns = [firm.brn for firm, _ in leads]
    every = range(len(leads))
    for j, (firm, _app) in enumerate(partners):
        node = f"{rule.key}:{firm.brn}"
        if node in graph and graph.nodes[node]["large"]:
            ok = table.pair_ok(every, [j] * len(leads))
            graph.nodes[node]["eligible_leads"] = frozenset(b for b, yes in zip(lead_brns, ok) if yes)


def _decision_pairs(rg):
    """Locks and forbids (lead BRN, partner node) from the round's staff decisions."""
    graph, locks, forbid = rg.graph, [], []
    for d in rg.inp.decisions:
        nodes = [n for n in graph.adj.get(d.lead, {}) if graph.nodes[n]["brn"] == d.partner
                 and (not d.track or graph.nodes[n]["track"] == d.track)]
        if d.kind in DROP_KINDS:
            forbid += [(d.lead, n) for n in nodes]
        elif d.kind in KEEP_KINDS:
            nodes = nodes or _add_locked_edge(rg, d.lead, d.partner, d.track)
            locks += [(d.lead, n) for n in nodes[:1]]
    return locks, forbid


def _exclude_locked_elsewhere(rg, track):
    """A one-track run leaves out the leads that staff locked or approved with a partner in another track.

    A lead signs with one partner across tracks. A decision without a track counts for
    ``track`` when both firms applied in it (lead and partner), otherwise elsewhere.
    The excluded leads are kept in ``rg.excluded_leads`` (lead BRN → (partner BRN, track)).
    """
    inp, graph = rg.inp, rg.graph
    here, elsewhere = {}, {}
    for d in inp.decisions:
        if d.kind not in KEEP_KINDS:
            continue
        in_track = d.track == track or (not d.track and inp.application(track, "lead", d.lead)
                                        and inp.application(track, "partner", d.partner))
        (here if in_track else elsewhere).setdefault(d.lead, []).append((d.partner, d.track or "?"))
    both = sorted(lead for lead in elsewhere if lead in here and lead in graph)
    if both:
        raise InfeasibleError([f"lead {lead} locked with {len(here[lead]) + len(elsewhere[lead])} partners "
                               f"({', '.join(p for p, _ in here[lead] + elsewhere[lead])}) but takes one"
                               for lead in both])
    rg.excluded_leads = {lead: elsewhere[lead][0] for lead in sorted(elsewhere) if lead in graph}
    graph.remove_nodes_from(rg.excluded_leads)


def _add_locked_edge(rg, lead, partner, track):
    """A locked pair the candidate list left out: score it, or say why it is not eligible.

    Returns ``[partner node]``, or ``[]`` when the pair belongs to a track not in this run.
    """
    inp, graph = rg.inp, rg.graph
    in_run = {d["track"] for _n, d in graph.nodes(data=True) if d["bipartite"] == 1}
    tracks = [t for t in ([track] if track else inp.rules) if t in in_run
              and inp.application(t, "partner", partner) and inp.application(t, "lead", lead)]
    if not tracks:
        return []
    reasons = []
    for t in tracks:
        node = f"{t}:{partner}"
        if lead not in graph or node not in graph:
            reasons.append(f"locked pair {lead}–{partner} in {t}: the partner's size may not join this track")
            continue
        found = explain_pair(*inp.application(t, "lead", lead), *inp.application(t, "partner", partner),
                             inp.rules[t], inp.reference_date)
        if isinstance(found, list):
            reasons += [f"locked pair {lead}–{partner} in {t}: {r.en}" for r in found]
            continue
        graph.add_edge(lead, node, score=float(found.score), track=t,
                       **{c.name: float(c.value) for c in found.components})
        return [node]
    raise InfeasibleError(reasons)


# --- solving ----------------------------------------------------------------------------------


def edge_list(graph, digits=None):
    """The graph's pairs as ``(lead, partner node, score)``, lead first (scores rounded to ``digits`` if given)."""
    def score(d):
        return d["score"] if digits is None else round(d["score"], digits)
    return [(u, v, score(d)) if graph.nodes[u]["bipartite"] == 0 else (v, u, score(d))
            for u, v, d in graph.edges(data=True)]


def _solve(rg, locks, forbid, mode, time_limit):
    graph = rg.graph
    leads = [n for n, d in graph.nodes(data=True) if d["bipartite"] == 0]
    partners = [(n, d["min_leads"], d["max_leads"]) for n, d in graph.nodes(data=True) if d["bipartite"] == 1]
    edges = pd.DataFrame(edge_list(graph), columns=["lead_id", "partner_id", "score"])
    members = {brn: firm.members for (_t, role, brn), (firm, _a) in rg.inp.index().items()
               if role == "lead" and brn in graph}  # 조합 leads count their members (issue 9)
    if mode == "stable":
        from .stable import stable_assignment
        return stable_assignment(stated_preferences(rg), leads, partners, edges, locks, forbid, members=members,
                                 time_limit=time_limit)
    sol = solve(leads, partners, edges, locks=locks, forbid=forbid, time_limit=time_limit, members=members)
    chosen = list(sol.pairs.itertuples(index=False, name=None))
    return chosen, {"status": sol.status, "objective": sol.objective, "bound": sol.bound, "gap": sol.gap}


def stated_preferences(rg):
    """The applications' stated preferences (partner BRNs for a lead, lead BRNs for a partner) as node names."""
    stated, nodes_by_brn = {}, {}
    for node, d in rg.graph.nodes(data=True):
        if d["bipartite"] == 1:
            nodes_by_brn.setdefault(d["brn"], []).append(node)
    for (track, role, brn), (_firm, app) in rg.inp.index().items():
        if not app.preferences:
            continue
        if role == "lead":
            stated.setdefault(brn, []).extend(n for b in app.preferences for n in nodes_by_brn.get(b, []))
        else:
            stated[f"{track}:{brn}"] = list(app.preferences)
    return stated


def fingerprint(graph, locks, forbid, params):
    """sha256 of the solver's inputs: pairs with scores, capacities, decisions and parameters."""
    edges = sorted(edge_list(graph, digits=9))
    nodes = sorted((n, d.get("min_leads"), d.get("max_leads")) for n, d in graph.nodes(data=True))
    blob = json.dumps([edges, nodes, sorted(locks), sorted(forbid), params], ensure_ascii=False, default=str)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


def _proposed(rg, lead, node, score, locked):
    d = rg.graph.nodes[node]
    return ProposedPair(track=d["track"], lead=lead, partner=d["brn"], score=float(score),
                        explanation=_explanation(rg, lead, node), locked=locked)


def _counts(rg):
    """Per track: leads and partners in the graph, eligible pairs kept (for the round overview)."""
    out = {}
    for node, d in rg.graph.nodes(data=True):
        if d["bipartite"] == 1:
            entry = out.setdefault(d["track"], {"partners": 0, "partners_with_pairs": 0, "leads_with_pairs": 0})
            entry["partners"] += 1
            entry["partners_with_pairs"] += bool(rg.graph[node])
    for track in out:
        out[track]["leads_with_pairs"] = len({lead for lead, node, _s in edge_list(rg.graph)
                                              if rg.graph.nodes[node]["track"] == track})
    return out


def _blocking(rg, chosen, forbid=()):
    """Blocking pairs of the chosen assignment, by scores and stated preferences (first 50 and the count).

    A pair staff forbade cannot block: it is not acceptable.
    """
    from .stable import blocking_pairs, preferences
    graph = rg.graph if isinstance(rg, RoundGraph) else rg
    stated = stated_preferences(rg) if isinstance(rg, RoundGraph) else {}
    forbidden = set(forbid)
    edges = [e for e in edge_list(graph) if e[:2] not in forbidden]
    lead_prefs, partner_rank = preferences(edges, stated)
    n_leads = sum(1 for _, d in graph.nodes(data=True) if d["bipartite"] == 0)
    capacity = {n: d["max_leads"] or n_leads for n, d in graph.nodes(data=True) if d["bipartite"] == 1}
    found = blocking_pairs({lead: node for lead, node, _ in chosen}, lead_prefs, partner_rank, capacity)
    return {"count": len(found), "pairs": [[lead, node] for lead, node in found[:50]]}


def _explanation(rg, lead, node):
    inp, graph = rg.inp, rg.graph
    track = graph.nodes[node]["track"]
    rule = inp.rules[track]
    weights = _weights(rg, track)
    found = explain_pair(*inp.application(track, "lead", lead), *inp.application(track, "partner", graph.nodes[node]["brn"]),
                         rule, inp.reference_date, weights=weights, text_value=graph[lead][node].get("text"))
    if isinstance(found, list):  # a locked pair the rules no longer allow
        return {"components": [], "reasons": [{"code": r.code, "ko": r.ko, "en": r.en} for r in found]}
    out = found.to_dict()
    out["reasons"] = [{"ko": ko, "en": en} for ko, en in zip(found.reasons("ko"), found.reasons("en"))]
    return out


def _weights(rg, track):
    cache = rg.__dict__.setdefault("_weights", {})
    if track not in cache:
        cache[track] = load_weights(track)
    return cache[track]


# --- diagnostics ------------------------------------------------------------------------------


def diagnose(rg, chosen, forbid=()):
    """Why each large partner is unused and why each lead is unmatched, with the numbers.

    Large partners are 중견기업/대기업 (a construction partner's minimum is 1) and any
    partner with a minimum > 1; their eligible leads are counted from the eligibility
    table when the graph records it (``eligible_leads``), else from the graph.

    Pairs in ``forbid`` (staff decisions) are left out of the eligible pairs.

    Returns
    -------
    dict
        ``{"unused_partners": [...], "unmatched_leads": [...]}``; each item
        ``{"name", "brn", "track", "reasons": [{"code", "ko", "en"}]}``.
    """
    graph = rg.graph if isinstance(rg, RoundGraph) else rg
    excluded = rg.excluded_leads if isinstance(rg, RoundGraph) else {}
    firm = rg.inp.firm if isinstance(rg, RoundGraph) else (lambda brn: None)
    graph = nx.restricted_view(graph, [], list(forbid)) if forbid else graph
    assigned = {lead: (node, score) for lead, node, score in chosen}
    load = Counter(node for _, node, _ in chosen)
    forbidden = {}
    for lead, node in forbid:
        forbidden.setdefault(node, set()).add(lead)
    unused = [_unused_partner(graph, node, d, assigned, forbidden.get(node, set()))
              for node, d in graph.nodes(data=True)
              if d["bipartite"] == 1 and (d.get("large") or (d["min_leads"] or 0) > 1) and not load[node]]
    unmatched = [_unmatched_lead(graph, node, assigned) for node, d in graph.nodes(data=True)
                 if d["bipartite"] == 0 and node not in assigned]
    unmatched += [_locked_elsewhere(firm, lead, partner, track) for lead, (partner, track) in excluded.items()]
    return {"unused_partners": unused, "unmatched_leads": unmatched}


def _item(graph, node, reason):
    d = graph.nodes[node]
    return {"name": d.get("name", ""), "brn": d.get("brn", node), "track": d.get("track", ""), "reasons": [reason]}


def _unused_partner(graph, node, d, assigned, forbidden):
    """Why a large partner is unused; its eligible leads are counted from the eligibility table."""
    eligible = sorted(((graph[node][lead]["score"], lead) for lead in graph[node]), reverse=True)
    counted = d.get("eligible_leads")
    n = len(eligible) if counted is None else len({b for b in counted if b in graph} - forbidden)
    need = max(d["min_leads"] or 0, 1)
    if not n:
        return _item(graph, node, {"code": "too_few_eligible", "ko": "적격 주관기업 없음",
                                   "en": "no eligible leads"})
    if n < need:
        return _item(graph, node, {
            "code": "too_few_eligible",
            "ko": f"적격 주관기업이 {n}곳뿐이라 최소 {need}곳에 못 미침",
            "en": f"only {n} eligible leads, fewer than the minimum of {need}"})
    best = eligible[:need]
    here = sum(s for s, _ in best)
    elsewhere = sum(assigned[lead][1] for _, lead in best if lead in assigned)
    taken = sum(1 for _, lead in best if lead in assigned)
    return _item(graph, node, {
        "code": "worth_more_elsewhere",
        "ko": f"가장 잘 맞는 주관기업 {need}곳의 점수 합 {here:.3f}; 이 중 {taken}곳은 다른 짝에서 합 {elsewhere:.3f}",
        "en": f"its best {need} eligible leads would score {here:.3f} here; {taken} of them score "
              f"{elsewhere:.3f} in their chosen pairs, worth more overall"})


def _locked_elsewhere(firm, lead, partner, track):
    name = firm(lead).name if firm(lead) else ""
    partner_name = firm(partner).name if firm(partner) else partner
    return {"name": name, "brn": lead, "track": "", "reasons": [{
        "code": "locked_in_other_track",
        "ko": f"다른 과제({track})에서 {with_particle(partner_name, '과')} 확정된 짝이 있어 이번 실행에서 제외",
        "en": f"left out of this run: staff locked or approved its pair with {partner_name} in track {track}"}]}


def _unmatched_lead(graph, lead, assigned):
    if not graph[lead]:
        return _item(graph, lead, {"code": "no_eligible_partner", "ko": "적격 협력기업 없음",
                                   "en": "no eligible partner"})
    score, node = max((d["score"], n) for n, d in graph[lead].items())
    name = graph.nodes[node]["name"]
    best_ko = f"가장 잘 맞는 협력기업 {name}({score:.3f})"
    takers = sorted((assigned[m][1], graph.nodes[m]["name"]) for m in graph[node] if assigned.get(m, (None,))[0] == node)
    if not takers:
        return _item(graph, lead, {
            "code": "best_partner_unused", "ko": f"{with_particle(best_ko, '이')} 쓰이지 않음",
            "en": f"its best partner {name} (score {score:.3f}) is not used in this run"})
    names = ", ".join(n for _, n in takers[:5])
    return _item(graph, lead, {
        "code": "lost_to_better_pair",
        "ko": f"{with_particle(best_ko, '은')} {with_particle(names, '과')} 짝지어짐 (점수 {takers[0][0]:.3f} 이상)",
        "en": f"lost to a better pair: its best partner {name} (score {score:.3f}) went to {names} "
              f"(score {takers[0][0]:.3f} or more)"})


