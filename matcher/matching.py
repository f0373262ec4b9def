"""Round matching: a round's applications → scored graph → solve → a stored match run.

One instance for all open tracks of a round, so that a lead gets one partner across
tracks: lead node = the lead's 사업자등록번호, partner node = ``track:BRN`` (a firm may
partner in several tracks, with that track's capacity in each). Staff decisions
belong to the round and are kept on every re-solve: ``lock``/``approve`` → the pair
must be chosen, ``forbid``/``reject`` → never.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections import Counter

import networkx as nx
import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from . import db
from .assignment import solve
from .candidates import EXHAUSTIVE_LIMIT, candidate_edges, explain_pair
from .eligibility import eligibility_table
from .errors import InfeasibleError, MatcherError
from .korean import with_particle
from .scoring import COMPONENTS, load_weights
from .tracks import round_rules

DECISION_KINDS = ("approve", "reject", "lock", "forbid")
MODES = ("optimal", "stable")
LEAD_K = 50
"""Partners kept per lead when a track's pool is too large to keep every eligible pair."""
PARTNER_K = 50
"""Leads kept per partner with a minimum (at least 4 × the minimum) in such a pool."""
LARGE_SIZES = ("중견기업", "대기업")


def run_match(session, round_name, track=None, mode="optimal", time_limit=None, actor="cli", progress=None):
    """Match round ``round_name`` and store the run with its proposals (in the caller's transaction).

    Parameters
    ----------
    session : sqlalchemy.orm.Session
    round_name : str
        Round name or id.
    track : str, optional
        Only this track (default: every open track of the round).
    mode : {"optimal", "stable"}
        Maximum total score (default), or deferred acceptance (:mod:`matcher.stable`).
    time_limit : float, optional
        Seconds for the solver.
    actor : str
    progress : callable, optional
        ``progress(fraction, message)``, called as the work advances.

    Returns
    -------
    int
        The new :class:`~matcher.db.MatchRunRow` id.

    Raises
    ------
    MatcherError
        Unknown track or mode; InfeasibleError when the staff locks cannot all hold.
    """
    report = progress or (lambda fraction, message="": None)
    if mode not in MODES:
        raise MatcherError(f"mode {mode!r} is not one of {', '.join(MODES)}")
    round_row = db.get_round(session, round_name)
    rules = round_rules(round_row)
    tracks = _tracks(round_row, rules, track)
    start = time.perf_counter()
    graph = build_graph(session, round_row, rules, tracks, report)
    if track is not None:
        _exclude_locked_elsewhere(session, round_row, graph, track)
    locks, forbid = _decision_pairs(session, round_row, graph, rules)
    report(0.7, f"solving {graph.number_of_edges()} pairs ({mode})")
    chosen, summary = _solve(graph, locks, forbid, mode, time_limit)
    report(0.85, f"storing {len(chosen)} proposals")
    run = _store(session, round_row, track, mode, time_limit, actor, graph, chosen, summary, locks, forbid)
    run.seconds = time.perf_counter() - start
    db.audit(session, actor, "run.create", round=round_row.name, run=run.id, status=run.status)
    report(1.0, f"run {run.id}: {run.status}, {len(chosen)} pairs")
    return run.id


def _tracks(round_row, rules, track):
    tracks = [t for t in round_row.open_tracks if t in rules]
    if track is None:
        return tracks
    if track not in tracks:
        raise MatcherError(f"track {track!r} is not open in round {round_row.name!r} (open: {', '.join(tracks)})")
    return [track]


# --- the graph --------------------------------------------------------------------------------


def build_graph(session, round_row, rules, tracks, progress=None):
    """The round's bipartite graph of eligible scored pairs (networkx).

    Lead nodes (``bipartite=0``) are BRNs; partner nodes (``bipartite=1``) are ``track:BRN``
    with ``track, brn, min_leads, max_leads`` (max None = unbounded). Edges carry ``score``,
    ``track`` and the score components.
    """
    report = progress or (lambda fraction, message="": None)
    graph = nx.Graph()
    apps = _applications(session, round_row)
    for i, track in enumerate(tracks):
        report(0.05 + 0.6 * i / max(len(tracks), 1), f"scoring {rules[track].name_ko} ({track})")
        leads = [a for a in apps if a[1].track == track and a[1].role == "lead"]
        partners = [a for a in apps if a[1].track == track and a[1].role == "partner"]
        _add_track(graph, rules[track], round_row.reference_date, leads, partners)
    graph.graph["firms"] = {firm.brn: (firm, app) for firm, app in apps}
    graph.graph["apps"] = {(app.track, app.role, firm.brn): (firm, app) for firm, app in apps}
    return graph


def _applications(session, round_row):
    stmt = (select(db.ApplicationRow).where(db.ApplicationRow.round_id == round_row.id)
            .options(selectinload(db.ApplicationRow.firm).selectinload(db.FirmRow.certificates),
                     selectinload(db.ApplicationRow.round))
            .order_by(db.ApplicationRow.id))
    return [(db.firm_from_row(row.firm), db.application_from_row(row)) for row in session.scalars(stmt)]


def _add_track(graph, rule, on, leads, partners):
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
    graph.graph.setdefault("pruning", {})[rule.key] = pruning
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


def _decision_pairs(session, round_row, graph, rules):
    """Locks and forbids (lead BRN, partner node) from the round's staff decisions."""
    stmt = select(db.DecisionRow).where(db.DecisionRow.round_id == round_row.id)
    locks, forbid = [], []
    for d in session.scalars(stmt):
        lead = session.get(db.FirmRow, d.lead_id).brn
        partner = session.get(db.FirmRow, d.partner_id).brn
        nodes = [n for n in graph.adj.get(lead, {}) if graph.nodes[n]["brn"] == partner
                 and (not d.track or graph.nodes[n]["track"] == d.track)]
        if d.kind in ("reject", "forbid"):
            forbid += [(lead, n) for n in nodes]
        elif d.kind in ("lock", "approve"):
            nodes = nodes or _add_locked_edge(graph, rules, round_row, lead, partner, d.track)
            locks += [(lead, n) for n in nodes[:1]]
    return locks, forbid


def _exclude_locked_elsewhere(session, round_row, graph, track):
    """A one-track run leaves out the leads that staff locked or approved with a partner in another track.

    A lead signs with one partner across tracks. A decision without a track counts for
    ``track`` when both firms applied in it (lead and partner), otherwise elsewhere.
    The excluded leads are listed in ``graph.graph["excluded_leads"]`` (lead BRN → (partner BRN, track)).
    """
    apps = graph.graph["apps"]
    here, elsewhere = {}, {}
    stmt = select(db.DecisionRow).where(db.DecisionRow.round_id == round_row.id,
                                        db.DecisionRow.kind.in_(("lock", "approve")))
    for d in session.scalars(stmt):
        lead, partner = session.get(db.FirmRow, d.lead_id).brn, session.get(db.FirmRow, d.partner_id).brn
        in_track = d.track == track or (not d.track and (track, "lead", lead) in apps
                                        and (track, "partner", partner) in apps)
        (here if in_track else elsewhere).setdefault(lead, []).append((partner, d.track or "?"))
    both = sorted(lead for lead in elsewhere if lead in here and lead in graph)
    if both:
        raise InfeasibleError([f"lead {lead} locked with {len(here[lead]) + len(elsewhere[lead])} partners "
                               f"({', '.join(p for p, _ in here[lead] + elsewhere[lead])}) but takes one"
                               for lead in both])
    excluded = {lead: elsewhere[lead][0] for lead in sorted(elsewhere) if lead in graph}
    graph.remove_nodes_from(excluded)
    graph.graph["excluded_leads"] = excluded


def _add_locked_edge(graph, rules, round_row, lead, partner, track):
    """A locked pair the candidate list left out: score it, or say why it is not eligible.

    Returns ``[partner node]``, or ``[]`` when the pair belongs to a track not in this run.
    """
    in_run = {d["track"] for _n, d in graph.nodes(data=True) if d["bipartite"] == 1}
    tracks = [t for t in ([track] if track else rules) if t in in_run
              and (t, "partner", partner) in graph.graph["apps"] and (t, "lead", lead) in graph.graph["apps"]]
    if not tracks:
        return []
    reasons = []
    for t in tracks:
        node = f"{t}:{partner}"
        lead_fa = graph.graph["apps"][(t, "lead", lead)]
        partner_fa = graph.graph["apps"][(t, "partner", partner)]
        if lead not in graph or node not in graph:
            reasons.append(f"locked pair {lead}–{partner} in {t}: the partner's size may not join this track")
            continue
        found = explain_pair(*lead_fa, *partner_fa, rules[t], round_row.reference_date)
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


def _solve(graph, locks, forbid, mode, time_limit):
    leads = [n for n, d in graph.nodes(data=True) if d["bipartite"] == 0]
    partners = [(n, d["min_leads"], d["max_leads"]) for n, d in graph.nodes(data=True) if d["bipartite"] == 1]
    edges = pd.DataFrame(edge_list(graph), columns=["lead_id", "partner_id", "score"])
    members = {brn: firm.members for (_t, role, brn), (firm, _a) in graph.graph.get("apps", {}).items()
               if role == "lead" and brn in graph}  # 조합 leads count their members (issue 9)
    if mode == "stable":
        from .stable import stable_assignment
        return stable_assignment(graph, leads, partners, edges, locks, forbid, members=members, time_limit=time_limit)
    sol = solve(leads, partners, edges, locks=locks, forbid=forbid, time_limit=time_limit, members=members)
    chosen = list(sol.pairs.itertuples(index=False, name=None))
    return chosen, {"status": sol.status, "objective": sol.objective, "bound": sol.bound, "gap": sol.gap}


def fingerprint(graph, locks, forbid, params):
    """sha256 of the solver's inputs: pairs with scores, capacities, decisions and parameters."""
    edges = sorted(edge_list(graph, digits=9))
    nodes = sorted((n, d.get("min_leads"), d.get("max_leads")) for n, d in graph.nodes(data=True))
    blob = json.dumps([edges, nodes, sorted(locks), sorted(forbid), params], ensure_ascii=False, default=str)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


def _store(session, round_row, track, mode, time_limit, actor, graph, chosen, summary, locks, forbid):
    params = {"mode": mode, "time_limit": time_limit, "track": track, "pruning": graph.graph.get("pruning", {})}
    run = db.MatchRunRow(round_id=round_row.id, track=track, created_by=actor or "",
                         fingerprint=fingerprint(graph, locks, forbid, params), params=params, **summary)
    run.diagnostics = diagnose(graph, chosen, forbid)
    run.diagnostics["blocking_pairs"] = _blocking(graph, chosen, forbid)
    session.add(run)
    firm_ids = _firm_ids(session, graph)
    locked = set(locks)
    rules = round_rules(round_row)
    for lead, node, score in chosen:
        t = graph.nodes[node]["track"]
        run.proposals.append(db.ProposalRow(
            track=t, lead_id=firm_ids[lead], partner_id=firm_ids[graph.nodes[node]["brn"]], score=float(score),
            explanation=_explanation(graph, round_row, rules[t], lead, node),
            status="approved" if (lead, node) in locked else "proposed"))
    session.flush()
    return run


def _blocking(graph, chosen, forbid=()):
    """Blocking pairs of the chosen assignment, by scores and stated preferences (first 50 and the count).

    A pair staff forbade cannot block: it is not acceptable.
    """
    from .stable import stated_preferences, blocking_pairs, preferences
    forbidden = set(forbid)
    edges = [e for e in edge_list(graph) if e[:2] not in forbidden]
    lead_prefs, partner_rank = preferences(edges, stated_preferences(graph))
    n_leads = sum(1 for _, d in graph.nodes(data=True) if d["bipartite"] == 0)
    capacity = {n: d["max_leads"] or n_leads for n, d in graph.nodes(data=True) if d["bipartite"] == 1}
    found = blocking_pairs({lead: node for lead, node, _ in chosen}, lead_prefs, partner_rank, capacity)
    return {"count": len(found), "pairs": [[lead, node] for lead, node in found[:50]]}


def _firm_ids(session, graph):
    brns = list(graph.graph["firms"])
    rows = session.execute(select(db.FirmRow.brn, db.FirmRow.id).where(db.FirmRow.brn.in_(brns)))
    return dict(rows.all())


def _explanation(graph, round_row, rule, lead, node):
    lead_fa = graph.graph["apps"][(rule.key, "lead", lead)]
    partner_fa = graph.graph["apps"][(rule.key, "partner", graph.nodes[node]["brn"])]
    weights = graph.graph.setdefault("weights", {})
    if rule.key not in weights:
        weights[rule.key] = load_weights(rule.key)
    found = explain_pair(*lead_fa, *partner_fa, rule, round_row.reference_date, weights=weights[rule.key],
                         text_value=graph[lead][node].get("text"))
    if isinstance(found, list):  # a locked pair the rules no longer allow
        return {"components": [], "reasons": [{"code": r.code, "ko": r.ko, "en": r.en} for r in found]}
    out = found.to_dict()
    out["reasons"] = [{"ko": ko, "en": en} for ko, en in zip(found.reasons("ko"), found.reasons("en"))]
    return out


# --- diagnostics ------------------------------------------------------------------------------


def diagnose(graph, chosen, forbid=()):
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
    unmatched += [_locked_elsewhere(graph, lead, partner, track)
                  for lead, (partner, track) in graph.graph.get("excluded_leads", {}).items()]
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


def _locked_elsewhere(graph, lead, partner, track):
    firms = graph.graph.get("firms", {})
    name = firms[lead][0].name if lead in firms else ""
    partner_name = firms[partner][0].name if partner in firms else partner
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


# --- staff decisions --------------------------------------------------------------------------


def decide(session, round_name, lead_brn, partner_brn, kind, note="", actor="", track=""):
    """Record a staff decision on a pair (upsert) and update the round's current proposals.

    ``approve``/``lock`` keep the pair in every re-solve, ``reject``/``forbid`` keep it out.
    Writes an audit row; the caller commits.

    Returns
    -------
    DecisionRow
    """
    if kind not in DECISION_KINDS:
        raise MatcherError(f"decision kind {kind!r} is not one of {', '.join(DECISION_KINDS)}")
    round_row = db.get_round(session, round_name)
    lead, partner = db.get_firm(session, lead_brn), db.get_firm(session, partner_brn)
    stmt = select(db.DecisionRow).where(db.DecisionRow.round_id == round_row.id,
                                        db.DecisionRow.lead_id == lead.id, db.DecisionRow.partner_id == partner.id)
    row = session.scalars(stmt).first()
    if row is None:
        row = db.DecisionRow(round_id=round_row.id, lead_id=lead.id, partner_id=partner.id)
        session.add(row)
    row.kind, row.note, row.decided_by, row.track = kind, note or "", actor or "", track or ""
    status = "approved" if kind in ("approve", "lock") else "rejected"
    runs = select(db.MatchRunRow.id).where(db.MatchRunRow.round_id == round_row.id)
    for proposal in session.scalars(select(db.ProposalRow).where(
            db.ProposalRow.run_id.in_(runs), db.ProposalRow.lead_id == lead.id,
            db.ProposalRow.partner_id == partner.id)):
        proposal.status = status
    db.audit(session, actor, f"decision.{kind}", round=round_row.name, lead=lead.brn, partner=partner.brn, note=note)
    session.flush()
    return row


def list_runs(session, round_name):
    """The round's runs, newest first."""
    round_row = db.get_round(session, round_name)
    stmt = select(db.MatchRunRow).where(db.MatchRunRow.round_id == round_row.id).order_by(db.MatchRunRow.id.desc())
    return list(session.scalars(stmt))
