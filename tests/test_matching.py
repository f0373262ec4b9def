"""Round matching on a small literal round: runs, proposals, diagnostics, decisions, CLI."""

import json
from datetime import date

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from matcher import db, matching, rounds
from matcher.cli import main
from matcher.errors import ConflictError, InfeasibleError, RefusedError, ValidationError
from matcher.matching import diagnose

from helpers import REF, held, make_brn



def add_firm(session, n, size="소기업", name=None, certs=(), description="센서 모듈 제조"):
    row = db.FirmRow(brn=make_brn(n), name=name or f"기업{n}", size_class=size, region="대전",
                     founded=date(2015, 1, 1), ksic_codes=["26421"], g2b_codes=["46171610"],
                     description=description, licences=[])
    row.certificates = [db.CertificateRow(kind=k, code="", valid_from=date(2024, 1, 1), valid_to=date(2028, 1, 1))
                        for k in certs]
    session.add(row)
    return row


def make_round(url, n_leads, large=True, sme_partners=1, lead_name=None):
    """materials track: ``n_leads`` SME leads, one large partner (min 5) and SME partners."""
    with db.transaction(url) as s:
        rnd = db.RoundRow(name="R1", reference_date=REF, open_tracks=["materials"])
        s.add(rnd)
        firms = [(add_firm(s, i, name=lead_name if (lead_name and i == 0) else None), "lead") for i in range(n_leads)]
        if large:
            firms.append((add_firm(s, 50, size="대기업", name="대형", certs=["materials_parts"]), "partner"))
        firms += [(add_firm(s, 60 + j, size="중기업", certs=["materials_parts"]), "partner") for j in range(sme_partners)]
        s.flush()
        for firm, role in firms:
            s.add(db.ApplicationRow(round_id=rnd.id, firm_id=firm.id, role=role, track="materials",
                                    product_code="4617161012345678", text="센서 모듈 공동 개발"))


def decide(s, name, *args, **kw):
    return rounds.decide(s, rounds.find_round(s, name).id, *args, **kw)


def round_input(s, name="R1"):
    return rounds.round_input(s, rounds.find_round(s, name))


def run(url, **kw):
    with db.transaction(url) as s:
        run_id = rounds.run_match(s, rounds.find_round(s, "R1").id, **kw)
    with db.transaction(url) as s:
        row = s.get(db.MatchRunRow, run_id)
        pairs = [(p.lead.brn, p.partner.brn, p.status) for p in row.proposals]
        return row, pairs


def test_large_partner_with_four_eligible_stays_unused(db_url):
    make_round(db_url, 4)
    row, pairs = run(db_url)
    assert row.status == "optimal" and len(row.fingerprint) == 64
    assert [p[1] for p in pairs] == [make_brn(60)]  # only the SME partner is used
    unused = row.diagnostics["unused_partners"]
    assert [u["brn"] for u in unused] == [make_brn(50)]
    assert unused[0]["reasons"][0]["code"] == "too_few_eligible"
    assert "only 4 eligible leads, fewer than the minimum of 5" in unused[0]["reasons"][0]["en"]
    lost = row.diagnostics["unmatched_leads"]
    assert len(lost) == 3 and {r["reasons"][0]["code"] for r in lost} <= {"lost_to_better_pair", "best_partner_unused"}
    assert row.proposals[0].explanation["components"]


def test_a_run_records_the_gap_it_was_given_and_refuses_one_outside_zero_to_one(db_url):
    make_round(db_url, 6)
    row, _pairs = run(db_url)
    assert row.params["gap"] == matching.DEFAULT_GAP and row.gap <= matching.DEFAULT_GAP
    row, _pairs = run(db_url, gap=0)
    assert row.params["gap"] == 0 and row.status == "optimal"
    with pytest.raises(ValidationError, match="gap"):
        run(db_url, gap=1.5)


def test_large_partner_with_six_leads_takes_at_least_five(db_url):
    make_round(db_url, 6)
    row, pairs = run(db_url)
    to_large = [p for p in pairs if p[1] == make_brn(50)]
    assert len(to_large) >= 5 and len({p[0] for p in pairs}) == len(pairs)
    assert row.objective == pytest.approx(sum(p.score for p in row.proposals))


def test_decisions_are_kept_on_resolve(db_url):
    make_round(db_url, 2, large=False, sme_partners=1)
    _row, pairs = run(db_url)
    winner = pairs[0][0]
    loser = make_brn(1) if winner == make_brn(0) else make_brn(0)
    with db.transaction(db_url) as s:
        decide(s, "R1", winner, make_brn(60), "forbid", note="서류 미비", actor="staff1")
    with db.transaction(db_url) as s:  # a stored run is a record: the decision does not change it
        assert s.scalars(select(db.ProposalRow)).first().status == "proposed"
        assert s.scalars(select(db.AuditRow).where(db.AuditRow.action == "decision.forbid")).first() is not None
    _row, pairs = run(db_url)
    assert pairs == [(loser, make_brn(60), "proposed")]
    with db.transaction(db_url) as s:
        decide(s, "R1", winner, make_brn(60), "lock", actor="staff1")
    _row, pairs = run(db_url)
    assert pairs == [(winner, make_brn(60), "approved")]


def test_lock_that_cannot_hold_is_infeasible(db_url):
    make_round(db_url, 4)
    with db.transaction(db_url) as s:
        decide(s, "R1", make_brn(0), make_brn(50), "lock", actor="staff1")
    with pytest.raises(ConflictError, match="is locked with 1 lead.s. but needs at least 5, and only 4 eligible") as exc:
        run(db_url)
    assert [c.code for c in exc.value.conflicts] == ["below_min"]
    assert "최소 5곳이 필요하고" in exc.value.text("ko") and "대형 (" in exc.value.text("ko")


def test_stable_mode_run(db_url):
    make_round(db_url, 6)
    row, pairs = run(db_url, mode="stable")
    assert row.status == "stable" and row.params["mode"] == "stable"
    counts = [sum(1 for p in pairs if p[1] == b) for b in (make_brn(50), make_brn(60))]
    assert counts[0] in (0, 5, 6) and counts[1] <= 1


def test_diagnose_worth_more_elsewhere():
    import networkx as nx
    g = nx.Graph()
    for lead in "abcde":
        g.add_node(lead, bipartite=0, name=lead)
    g.add_node("m:L", bipartite=1, track="materials", brn="L", name="대형", min_leads=5, max_leads=None)
    g.add_node("m:s", bipartite=1, track="materials", brn="s", name="s", min_leads=1, max_leads=1)
    for lead in "abcde":
        g.add_edge(lead, "m:L", score=0.1)
    g.add_edge("a", "m:s", score=0.9)
    out = diagnose(g, [("a", "m:s", 0.9)])
    reason = out["unused_partners"][0]["reasons"][0]
    assert reason["code"] == "worth_more_elsewhere" and "0.500 here; 1 of them score 0.900" in reason["en"]
    lead_reason = {i["brn"]: i["reasons"][0]["code"] for i in out["unmatched_leads"]}
    assert lead_reason == dict.fromkeys("bcde", "best_partner_unused")


def test_cli_match_runs_export(db_url, tmp_path):
    make_round(db_url, 3, large=False, sme_partners=2, lead_name="=HYPERLINK(\"x\")")
    runner = CliRunner()
    result = runner.invoke(main, ["match", "R1"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert out["status"] == "optimal" and out["proposals"] == 2
    result = runner.invoke(main, ["runs", "R1"], env={"MATCHER_LANG": "en"})
    assert result.exit_code == 0, result.output
    header, line = result.stdout.splitlines()[:2]
    assert header.split("\t") == ["run", "created", "track", "mode", "status", "objective", "bound", "gap",
                                   "proposals"]
    values = dict(zip(header.split("\t"), line.split("\t")))
    assert values["proposals"] == "2" and values["status"] == "optimal"
    assert float(values["bound"]) >= float(values["objective"]) > 0
    target = tmp_path / "run.csv"
    result = runner.invoke(main, ["export", str(out["run"]), "--format", "csv", "--output", str(target)])
    assert result.exit_code == 0, result.output
    assert target.read_bytes().startswith("\ufeff과제,주관기업 사업자등록번호,".encode())
    result = runner.invoke(main, ["match", "R1", "--track", "innovation"])
    assert result.exit_code == 2 and "not open in round" in result.stderr
    for processes in ("1", "2"):  # the command's two ways store the same run
        result = runner.invoke(main, ["match", "R1", "--processes", processes])
        assert result.exit_code == 0, result.output
    with db.transaction(db_url) as s:
        runs = s.scalars(select(db.MatchRunRow).order_by(db.MatchRunRow.id)).all()
        assert len({r.fingerprint for r in runs}) == 1 and len({r.objective for r in runs}) == 1
    result = runner.invoke(main, ["match", "R1", "--processes", "3"])
    assert result.exit_code == 2 and "--processes" in result.output


def test_lock_on_ineligible_pair_gives_the_rules_reasons(db_url):
    make_round(db_url, 2, large=False, sme_partners=1)
    with db.transaction(db_url) as s:
        firm = add_firm(s, 70, size="중기업", name="무인증")  # no certificate: may not partner in 소재부품
        s.flush()
        rnd = rounds.find_round(s, "R1")
        s.add(db.ApplicationRow(round_id=rnd.id, firm_id=firm.id, role="partner", track="materials",
                                product_code="4617161012345678"))
    with db.transaction(db_url) as s, pytest.raises(RefusedError, match="holds none of"):
        decide(s, "R1", make_brn(0), make_brn(70), "lock", actor="staff1")  # refused at once
    with db.transaction(db_url) as s:
        decide(s, "R1", make_brn(0), make_brn(60), "lock", actor="staff1")
    with db.transaction(db_url) as s:  # the partner's certificate is then withdrawn: the lock cannot hold
        partner = db.get_firm(s, make_brn(60))
        partner.certificates.clear()
    with pytest.raises(ConflictError, match="breaks the rules of Materials & parts: partner holds none of") as exc:
        run(db_url)
    assert exc.value.conflicts[0].code == "ineligible"


def test_edges_carry_score_components(db_url):
    from matcher.matching import build_graph
    make_round(db_url, 2, large=False, sme_partners=1)
    with db.transaction(db_url) as s:
        graph = build_graph(round_input(s), ["materials"]).graph
    data = graph.edges[make_brn(0), f"materials:{make_brn(60)}"]
    assert set(data) >= {"score", "track", "text", "product_code", "industry", "region", "capability"}
    assert graph.nodes[f"materials:{make_brn(60)}"]["bipartite"] == 1 and graph.nodes[make_brn(0)]["bipartite"] == 0


def test_fingerprint_changes_with_inputs_only(db_url):
    make_round(db_url, 3, large=False, sme_partners=2)
    first, _ = run(db_url)
    again, _ = run(db_url)
    assert first.fingerprint == again.fingerprint
    with db.transaction(db_url) as s:
        decide(s, "R1", make_brn(0), make_brn(60), "forbid", actor="staff1")
    changed, _ = run(db_url)
    stable, _ = run(db_url, mode="stable")
    assert len({first.fingerprint, changed.fingerprint, stable.fingerprint}) == 3
    blocking = first.diagnostics["blocking_pairs"]
    chosen = {(p.lead.brn, f"materials:{p.partner.brn}") for p in first.proposals}
    assert blocking["count"] == len(blocking["pairs"]) and not chosen & {tuple(p) for p in blocking["pairs"]}
    assert stable.diagnostics["blocking_pairs"] == {"count": 0, "pairs": []}  # deferred acceptance is stable


def test_diagnose_leaves_out_forbidden_pairs():
    import networkx as nx
    g = nx.Graph()
    g.add_node("a", bipartite=0, name="a")
    g.add_node("t:P", bipartite=1, track="t", brn="P", name="P", min_leads=1, max_leads=1)
    g.add_edge("a", "t:P", score=0.5)
    out = diagnose(g, [], forbid=[("a", "t:P")])
    assert out["unmatched_leads"][0]["reasons"][0]["code"] == "no_eligible_partner"


def test_small_pool_keeps_every_eligible_pair(db_url):
    # 6 leads × 61 eligible partners: the old top-50 per lead kept 300 of the 366 pairs
    make_round(db_url, 6, sme_partners=60)
    row, _pairs = run(db_url)
    pruning = row.params["pruning"]["materials"]
    assert pruning["exhaustive"] is True and pruning["edges"] == 6 * 61


def test_large_pool_keeps_best_leads_of_partners_with_a_minimum(db_url, monkeypatch):
    monkeypatch.setattr(matching, "EXHAUSTIVE_PAIRS", 0)
    monkeypatch.setattr(matching, "LEAD_K", 1)
    monkeypatch.setattr(matching, "LARGE_K", 1)
    make_round(db_url, 6, sme_partners=3)
    with db.transaction(db_url) as s:
        rg = matching.build_graph(round_input(s), ["materials"])
    graph = rg.graph
    assert all(graph.has_edge(make_brn(i), f"materials:{make_brn(50)}") for i in range(6))
    assert rg.pruning["materials"] == {"exhaustive": False, "k": 1, "large_k": 1, "partner_k": matching.PARTNER_K,
                                       "edges": graph.number_of_edges()}
    assert graph.number_of_edges() < 6 * 4  # the SME partners were pruned to one per lead


def test_unused_partner_counts_eligible_leads_from_the_table_not_the_graph():
    import networkx as nx
    g = nx.Graph()
    for lead in "abcdef":
        g.add_node(lead, bipartite=0, name=lead)
    g.add_node("m:L", bipartite=1, track="materials", brn="L", name="대형", min_leads=5, max_leads=None,
               large=True, eligible_leads=frozenset("abcdef"))
    g.add_edge("a", "m:L", score=0.1)  # the rest were pruned from the graph
    out = diagnose(g, [], forbid=[])
    assert out["unused_partners"][0]["reasons"][0]["code"] == "worth_more_elsewhere"
    out = diagnose(g, [], forbid=[("a", "m:L")])
    assert out["unused_partners"][0]["reasons"][0]["code"] == "worth_more_elsewhere"
    g.nodes["m:L"]["eligible_leads"] = frozenset("abcde")
    out = diagnose(g, [], forbid=[("a", "m:L")])
    assert "only 4 eligible leads" in out["unused_partners"][0]["reasons"][0]["en"]


def make_two_track_round(url):
    """Lead 0 applies in 소재부품 and 기술융합; lead 1 only in 기술융합; one SME partner in each track."""
    with db.transaction(url) as s:
        rnd = db.RoundRow(name="R1", reference_date=REF, open_tracks=["materials", "convergence"])
        s.add(rnd)
        leads = [add_firm(s, 0), add_firm(s, 1)]
        m, c = add_firm(s, 60, size="중기업", certs=["materials_parts"]), add_firm(s, 61, size="중기업", certs=["patent"])
        s.flush()
        entries = [(leads[0], "lead", "materials", "4617161012345678"), (m, "partner", "materials", "4617161012345678"),
                   (leads[0], "lead", "convergence", "4617161001"), (leads[1], "lead", "convergence", "4617161001"),
                   (c, "partner", "convergence", "4617161001")]
        for firm, role, track, product in entries:
            s.add(db.ApplicationRow(round_id=rnd.id, firm_id=firm.id, role=role, track=track, product_code=product,
                                    text="센서 모듈 공동 개발"))


def test_lead_locked_in_one_track_is_left_out_of_another_tracks_run(db_url):
    make_two_track_round(db_url)
    with db.transaction(db_url) as s:
        decide(s, "R1", make_brn(0), make_brn(60), "lock", actor="staff1", track="materials")
    _row, pairs = run(db_url)  # one instance for both tracks: lead 0 gets its locked partner only
    assert sorted(pairs) == [(make_brn(0), make_brn(60), "approved"), (make_brn(1), make_brn(61), "proposed")]
    row, pairs = run(db_url, track="convergence")
    assert pairs == [(make_brn(1), make_brn(61), "proposed")]
    left_out = [u for u in row.diagnostics["unmatched_leads"] if u["brn"] == make_brn(0)]
    assert left_out[0]["reasons"][0]["code"] == "locked_in_other_track"
    assert "in track materials" in left_out[0]["reasons"][0]["en"]


def test_lead_locked_in_two_tracks_is_refused_in_a_track_run(db_url):
    make_two_track_round(db_url)
    with db.transaction(db_url) as s:
        decide(s, "R1", make_brn(0), make_brn(60), "lock", actor="staff1", track="materials")
        decide(s, "R1", make_brn(0), make_brn(61), "lock", actor="staff1", track="convergence")
    with pytest.raises(ConflictError, match=r"lead 기업0 \(.*\) is locked with 2 partners \(기업60, 기업61\)"):
        run(db_url)  # one instance of both tracks
    with pytest.raises(InfeasibleError, match=f"lead {make_brn(0)} locked with 2 partners"):
        run(db_url, track="convergence")


def _tiny_graph():
    import networkx as nx
    g = nx.Graph()
    for lead in "ab":
        g.add_node(lead, bipartite=0, name=lead)
    g.add_node("c:B", bipartite=1, track="construction", brn="B", name="건설", min_leads=1, max_leads=5, large=True)
    g.add_node("c:E", bipartite=1, track="construction", brn="E", name="빈", min_leads=1, max_leads=5, large=True)
    g.add_node("m:s", bipartite=1, track="materials", brn="s", name="s", min_leads=1, max_leads=1, large=False)
    g.add_edge("a", "m:s", score=0.9)
    g.add_edge("b", "m:s", score=0.5)
    g.add_edge("a", "c:B", score=0.2)
    return g


def test_every_unused_large_partner_gets_a_reason():
    # construction partners have a minimum of 1: they were left out of the diagnostics
    out = diagnose(_tiny_graph(), [("a", "m:s", 0.9)])
    reasons = {u["brn"]: u["reasons"][0] for u in out["unused_partners"]}
    assert set(reasons) == {"B", "E"}
    assert reasons["E"]["en"] == "no eligible leads"
    assert reasons["B"]["code"] == "worth_more_elsewhere" and "1 of them score 0.900" in reasons["B"]["en"]


def test_forbidden_pairs_are_not_blocking_pairs():
    from matcher.matching import _blocking
    g = _tiny_graph()
    chosen = [("b", "m:s", 0.5)]
    assert _blocking(g, chosen)["pairs"] == [["a", "m:s"], ["a", "c:B"]]
    assert _blocking(g, chosen, forbid=[("a", "m:s")])["pairs"] == [["a", "c:B"]]


def test_edge_list_puts_the_lead_first():
    from matcher.matching import edge_list
    assert sorted(edge_list(_tiny_graph(), digits=1)) == [("a", "c:B", 0.2), ("a", "m:s", 0.9), ("b", "m:s", 0.5)]


# --- the time limit of a whole match ------------------------------------------------------------


def test_a_time_limit_the_caller_has_already_spent_is_refused_before_scoring(demo_input):
    import time
    from matcher.matching import match_round
    started = time.perf_counter() - 1.0  # the caller spent the whole 1 s limit loading the round
    seen = []
    with pytest.raises(RefusedError) as exc:
        match_round(demo_input, time_limit=1.0, started=started, progress=lambda fraction, message="": seen.append(message))
    assert not [m for m in seen if str(m).startswith("solving")]  # refused at the first check, never solved
    assert exc.value.code == "matching.time_limit_too_short"
    assert "시간 제한 1초는 이 회차에 너무 짧습니다: 짝 점수 계산 중에" in exc.value.text("ko")
    assert "too short for this round: it ran out while scoring the pairs" in str(exc.value)


@pytest.mark.slow
def test_a_time_limit_bounds_scoring_solving_and_explaining(demo_input):
    """Whatever phase the limit falls in, the match ends within it (a result, or the coded refusal)."""
    import time
    from matcher.matching import match_round
    start = time.perf_counter()
    full = match_round(demo_input, gap=0)  # proven, so no limited answer can beat it
    unlimited = time.perf_counter() - start
    for share in (0.3, 0.7):
        limit = max(3.0, share * unlimited)
        start = time.perf_counter()
        try:
            result = match_round(demo_input, time_limit=limit)
        except RefusedError as exc:
            assert exc.code == "matching.time_limit_too_short"
        else:
            assert result.status in ("optimal", "feasible") and result.objective <= full.objective + 1e-6
            assert held(result.seconds, limit)
        assert held(time.perf_counter() - start, limit)


def test_progress_names_every_phase_in_order(demo_input):
    from matcher.matching import match_round
    seen = []
    match_round(demo_input, progress=lambda fraction, message="": seen.append((fraction, message.code)))
    phases = list(dict.fromkeys(p for _f, p in seen))
    assert phases == ["job.scoring_track", "job.solving", "job.explaining", "job.diagnostics"]
    assert [f for f, _p in seen] == sorted(f for f, _p in seen)


@pytest.mark.slow
def test_scoring_half_the_tracks_in_a_second_process_gives_the_same_run(demo_input):
    from matcher.matching import match_round
    seen = []
    one = match_round(demo_input)
    two = match_round(demo_input, processes=2, progress=lambda fraction, message="": seen.append((fraction, message)))
    assert two.fingerprint == one.fingerprint and two.objective == one.objective
    assert [(p.track, p.lead, p.partner, p.score, p.explanation) for p in two.pairs] == \
        [(p.track, p.lead, p.partner, p.score, p.explanation) for p in one.pairs]
    assert two.diagnostics == one.diagnostics and two.params == one.params
    assert [f for f, _m in seen] == sorted(f for f, _m in seen)
    assert {m.params["track"].code for _f, m in seen if m.code == "job.scoring_track"} == {
        f"track.{key}" for key in demo_input.rules}


def test_progress_never_goes_back_when_the_parent_redoes_a_failed_child_s_track(demo_input, monkeypatch, caplog):
    import os
    from matcher import matching
    parent, score_track = os.getpid(), matching._score_track

    def failing_in_the_child(rule, on, leads, partners, progress):
        if os.getpid() != parent:
            progress(0.9, "almost done")
            raise RuntimeError("the child breaks after reporting 90 %")
        return score_track(rule, on, leads, partners, progress)

    monkeypatch.setattr(matching, "_score_track", failing_in_the_child)
    seen = []
    two = matching.match_round(demo_input, processes=2, progress=lambda fraction, message="": seen.append(fraction))
    assert "the second process failed" in caplog.text
    assert seen == sorted(seen)
    monkeypatch.setattr(matching, "_score_track", score_track)
    assert two.fingerprint == matching.match_round(demo_input).fingerprint


@pytest.mark.slow
def test_a_time_limit_holds_with_a_second_process(demo_input):
    import multiprocessing
    import time
    from matcher.matching import match_round
    start = time.perf_counter()
    match_round(demo_input, processes=2)
    unlimited = time.perf_counter() - start
    for share in (0.15, 0.5):
        limit = max(1.0, share * unlimited)
        start = time.perf_counter()
        try:
            result = match_round(demo_input, time_limit=limit, processes=2)
        except RefusedError as exc:
            assert exc.code == "matching.time_limit_too_short"
        else:
            assert result.status in ("optimal", "feasible")
            assert held(result.seconds, limit)
        assert held(time.perf_counter() - start, limit)
        assert not multiprocessing.active_children()


# --- pruning large pools ------------------------------------------------------------------------


def _sub_input(demo_input, track, lead_pos, partner_pos):
    from matcher.matching import Pool, RoundInput
    pool = demo_input.pools[track]
    sub = Pool(track, [pool.leads[i] for i in lead_pos], [pool.partners[j] for j in partner_pos])
    return RoundInput(name="sub", reference_date=demo_input.reference_date, rules=demo_input.rules,
                      pools={track: sub})


@pytest.mark.slow
@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_pruning_keeps_exact_scores_every_minimum_reachable_and_never_beats_the_full_optimum(
        demo_input, data):
    """A pruned pool (forced on a small one) against the same pool with every eligible pair.

    Pruning is a heuristic, not exact: the pruned optimum is at most the full one (not always equal);
    what it guarantees is checked here: the kept pairs score as in the full graph, each lead keeps
    its best pair, and each partner with a minimum keeps at least ``max(4 × min, PARTNER_K)`` of its
    eligible leads (or all of them).
    """
    track = data.draw(st.sampled_from(["materials", "convergence"]))
    pool = demo_input.pools[track]
    large = [j for j, (f, _a) in enumerate(pool.partners) if f.is_large]
    partner_pos = sorted(set(data.draw(st.lists(st.integers(0, len(pool.partners) - 1), min_size=2, max_size=12))
                             + data.draw(st.lists(st.sampled_from(large), min_size=1, max_size=3))))
    lead_pos = sorted(set(data.draw(st.lists(st.integers(0, len(pool.leads) - 1), min_size=5, max_size=60))))
    inp = _sub_input(demo_input, track, lead_pos, partner_pos)
    full = matching.build_graph(inp, [track])
    assert full.pruning[track]["exhaustive"]
    whole = matching.match_round(inp, gap=0)
    settings_drawn = dict(LEAD_K=data.draw(st.integers(1, 3)), PARTNER_K=data.draw(st.integers(1, 8)))
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(matching, "EXHAUSTIVE_PAIRS", 0)
        mp.setattr(matching, "LARGE_K", 1)
        for name, value in settings_drawn.items():
            mp.setattr(matching, name, value)
        pruned = matching.build_graph(inp, [track])
        cut = matching.match_round(inp, gap=0)
    assert not pruned.pruning[track]["exhaustive"]
    scores = dict(zip(zip(full.edges["lead"], full.edges["partner"]), full.edges["score"]))
    for lead, node, score in zip(pruned.edges["lead"], pruned.edges["partner"], pruned.edges["score"]):
        assert scores[(lead, node)] == pytest.approx(score, abs=1e-6)
    best_full = full.edges.groupby("lead")["score"].max()
    best_pruned = pruned.edges.groupby("lead")["score"].max()
    assert best_pruned.reindex(best_full.index).to_numpy() == pytest.approx(best_full.to_numpy(), abs=1e-6)
    kept, eligible = pruned.edges.groupby("partner").size(), full.edges.groupby("partner").size()
    for node, row in pruned.partners.iterrows():
        if (row.min_leads or 0) > 1:
            need = max(4 * row.min_leads, settings_drawn["PARTNER_K"])
            assert kept.get(node, 0) >= min(need, eligible.get(node, 0))
    assert cut.params["pruning"][track]["exhaustive"] is False
    assert cut.objective <= whole.objective + 1e-6


@settings(max_examples=40, deadline=None)
@given(st.data())
def test_blocking_pairs_on_arrays_agree_with_the_dict_version(data):
    import networkx as nx
    from matcher.matching import _blocking, edge_list
    from matcher.stable import blocking_pairs, preferences
    n_leads, n_partners = data.draw(st.integers(1, 7)), data.draw(st.integers(1, 4))
    g = nx.Graph()
    for i in range(n_leads):
        g.add_node(f"l{i}", bipartite=0, name=f"l{i}")
    caps = data.draw(st.lists(st.sampled_from([1, 2, None]), min_size=n_partners, max_size=n_partners))
    for j, cap in enumerate(caps):
        g.add_node(f"t:p{j}", bipartite=1, track="t", brn=f"p{j}", name=f"p{j}", min_leads=0, max_leads=cap)
    for i in range(n_leads):
        for j in range(n_partners):
            if data.draw(st.booleans()):
                g.add_edge(f"l{i}", f"t:p{j}", score=data.draw(st.sampled_from([0.1, 0.5, 0.5, 0.9])))
    chosen, load = [], {}
    for lead, node, score in edge_list(g):
        cap = g.nodes[node]["max_leads"] or n_leads
        if lead not in {c[0] for c in chosen} and load.get(node, 0) < cap and data.draw(st.booleans()):
            chosen.append((lead, node, score))
            load[node] = load.get(node, 0) + 1
    taken = {c[:2] for c in chosen}  # the solver never chooses a forbidden pair
    forbid = [e[:2] for e in edge_list(g) if e[:2] not in taken and data.draw(st.integers(0, 5)) == 0]
    edges = [e for e in edge_list(g) if e[:2] not in set(forbid)]
    lead_prefs, partner_rank = preferences(edges)
    capacity = {n: d["max_leads"] or n_leads for n, d in g.nodes(data=True) if d["bipartite"] == 1}
    slow = blocking_pairs({lead: node for lead, node, _ in chosen}, lead_prefs, partner_rank, capacity)
    fast = _blocking(g, chosen, forbid)
    assert fast["count"] == len(slow) and fast["pairs"] == [list(p) for p in slow[:50]]


def test_explanations_past_their_time_are_brief_but_still_add_up_to_the_score(demo_input):
    import time
    inp = _sub_input(demo_input, "materials", range(40), range(len(demo_input.pools["materials"].partners)))
    rg = matching.build_graph(inp, ["materials"])
    best = rg.edges.sort_values("score", ascending=False).drop_duplicates("partner").drop_duplicates("lead")
    chosen = list(zip(best["lead"].tolist(), best["partner"].tolist(), best["score"].tolist()))
    full = matching.proposed_pairs(rg, chosen)
    brief = matching.proposed_pairs(rg, chosen, until=time.perf_counter() - 1)
    assert chosen and not any(p.explanation.get("brief") for p in full)
    assert all(p.explanation["brief"] and p.explanation["reasons"] == [] for p in brief)
    for f, b in zip(full, brief):
        assert b.explanation["score"] == pytest.approx(f.score, abs=1e-9)
        assert [c["contribution"] for c in b.explanation["components"]] == pytest.approx(
            [c["contribution"] for c in f.explanation["components"]], abs=1e-6)
