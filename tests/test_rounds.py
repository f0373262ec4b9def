"""The round service (matcher/rounds): the name rule, decisions with clear and history, the pair checks,
concurrent decisions, runs stored as records, jobs in the database (dedupe, cancel, interrupted), overview."""

import re
import threading
from datetime import timedelta

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select, update

from matcher import db, rounds
from matcher.cli import main
from matcher.errors import NotFoundError, RefusedError, ValidationError
from matcher.rounds import jobs

from helpers import make_brn
from test_matching import make_round


def rid(s, name="R1"):
    return rounds.find_round(s, name).id


@pytest.mark.parametrize("name, says", [("12345", "is all digits"), ("", "is empty"), ("   ", "is empty"),
                                        ("a" * 101, "at most 100"), ("1차\x00", "NUL at character 3")])
def test_one_name_rule_for_every_front_door(db_url, name, says):
    with db.transaction(db_url) as s, pytest.raises(ValidationError, match=says) as exc:
        rounds.create_round(s, name, "2026-10-01")
    assert exc.value.ko and exc.value.problems[0].column == "round name"
    result = CliRunner().invoke(main, ["round", "create", name, "--reference-date", "2026-10-01"], env={"LANG": "C"})
    assert result.exit_code == 2 and says in result.output and "error:" in result.output
    korean = CliRunner().invoke(main, ["--lang", "ko", "round", "create", name, "--reference-date", "2026-10-01"])
    assert korean.exit_code == 2 and "오류:" in korean.output and exc.value.text("ko") in korean.output
    assert not re.search(r"[A-Za-z]{3,}", re.sub(r"'[^']*'|\([^)]*\)", "", korean.output)), korean.output


def test_a_new_round_opens_the_same_tracks_from_the_service_and_the_cli(db_url):
    """Without a choice of tracks both open those open by the rules: 가치창출 (value creation) stays closed."""
    with db.transaction(db_url) as s:
        by_service = rounds.create_round(s, "서비스 1차", "2026-10-01").open_tracks
    result = CliRunner().invoke(main, ["round", "create", "명령 1차", "--reference-date", "2026-10-01"])
    assert result.exit_code == 0, result.output
    with db.transaction(db_url) as s:
        by_cli = rounds.find_round(s, "명령 1차").open_tracks
    assert by_service == by_cli == ["innovation", "materials", "convergence", "construction"]


def test_round_names_are_nfc_and_unique(db_url):
    nfd = "\u1100\u1161\u11ab 1차"  # 간 in decomposed jamo
    with db.transaction(db_url) as s:
        row = rounds.create_round(s, nfd, "2026-10-01")
        assert row.name == "간 1차"
    with db.transaction(db_url) as s, pytest.raises(ValidationError, match="already exists"):
        rounds.create_round(s, "간 1차", "2026-10-01")
    with db.transaction(db_url) as s:
        assert rounds.find_round(s, nfd).id == rounds.find_round(s, str(row.id)).id == row.id
        with pytest.raises(NotFoundError):
            rounds.get_round(s, "간 1차")  # the web reads ids only


def test_decide_checks_the_pair_in_the_service(db_url):
    make_round(db_url, 2, large=False, sme_partners=1)
    with db.transaction(db_url) as s:
        with pytest.raises(RefusedError, match="roles reversed"):
            rounds.decide(s, rid(s), make_brn(60), make_brn(0), "reject")
        with pytest.raises(RefusedError, match="cannot pair with itself"):
            rounds.decide(s, rid(s), make_brn(0), make_brn(0), "forbid")
        with pytest.raises(NotFoundError):
            rounds.decide(s, rid(s), make_brn(0), "1078153660", "approve")
        with pytest.raises(ValueError, match="not one of"):
            rounds.decide(s, rid(s), make_brn(0), make_brn(60), "maybe")
        assert s.scalar(select(func.count()).select_from(db.DecisionRow)) == 0


def test_clear_takes_a_decision_back_and_history_keeps_everything(db_url):
    make_round(db_url, 2, large=False, sme_partners=1)
    with db.transaction(db_url) as s:
        rounds.decide(s, rid(s), make_brn(0), make_brn(60), "forbid", "서류 미비", "kim")
        rounds.decide(s, rid(s), make_brn(0), make_brn(60), "approve", "서류 보완", "lee")
    with db.transaction(db_url) as s:
        assert [d.kind for d in rounds.list_decisions(s, rid(s))] == ["approve"]
        assert rounds.decide(s, rid(s), make_brn(0), make_brn(60), "clear", "다시 검토", "park") is None
        assert rounds.decide(s, rid(s), make_brn(0), make_brn(60), "clear") is None  # nothing left: no-op
    with db.transaction(db_url) as s:
        assert rounds.list_decisions(s, rid(s)) == []
        history = rounds.decision_history(s, rid(s), make_brn(0), make_brn(60))
        assert [(d.kind, d.decided_by, d.note) for d in history] == [
            ("forbid", "kim", "서류 미비"), ("approve", "lee", "서류 보완"), ("clear", "park", "다시 검토")]
    runner = CliRunner()
    for kind in ("lock", "clear"):
        result = runner.invoke(main, ["decide", "R1", "--lead", make_brn(0), "--partner", make_brn(60), "--kind", kind,
                                      "--note", "CLI"])
        assert result.exit_code == 0, result.output
    assert runner.invoke(main, ["decisions", "R1"]).output == ""
    assert runner.invoke(main, ["decisions", "R1", "--history"]).output.count("\tCLI") == 2


def test_bulk_decisions_are_all_or_none(db_url):
    make_round(db_url, 3, large=False, sme_partners=1)
    with db.transaction(db_url) as s, pytest.raises(ValidationError) as exc:
        rounds.decide_many(s, rid(s), [(make_brn(0), make_brn(60), ""), (make_brn(60), make_brn(1), "")], "reject")
    assert [p.row for p in exc.value.problems] == [2] and "2행" in exc.value.text("ko")
    with db.transaction(db_url) as s:
        assert rounds.list_decisions(s, rid(s)) == []
        done = rounds.decide_many(s, rid(s), [(make_brn(i), make_brn(60), "") for i in range(3)], "reject", "", "kim")
        assert len(done) == 3
    with db.transaction(db_url) as s:
        rounds.decide_many(s, rid(s), [(make_brn(i), make_brn(60), "") for i in range(3)], "clear")
        assert rounds.list_decisions(s, rid(s)) == []


def test_concurrent_decisions_on_a_new_pair_lose_none(db_url, monkeypatch):
    """Eight staff decide on one new pair at once. Each waits, after its checks and before its write, until
    all eight have checked, so every one of them has seen the pair undecided: the interleaving in which
    read-then-insert lost decisions (a unique violation, a 500). None is lost, and the latest counts."""
    from matcher.rounds import decisions
    make_round(db_url, 2, large=False, sme_partners=1)
    with db.transaction(db_url) as s:
        round_id = rid(s)
    errors, checked = [], threading.Barrier(8, timeout=30)
    upsert = decisions._upsert

    def after_every_check(session, values):
        checked.wait()  # raises BrokenBarrierError (an error below) unless all eight get here
        return upsert(session, values)

    monkeypatch.setattr(decisions, "_upsert", after_every_check)

    def decide(i):
        try:
            with db.transaction(db_url) as s:
                rounds.decide(s, round_id, make_brn(0), make_brn(60), "reject" if i % 2 else "forbid", f"n{i}",
                              f"staff{i}")
        except Exception as exc:  # noqa: BLE001 - the test reports any failure
            errors.append(exc)

    threads = [threading.Thread(target=decide, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with db.transaction(db_url) as s:
        history = rounds.decision_history(s, round_id, make_brn(0), make_brn(60))
        current = rounds.list_decisions(s, round_id)
    assert len(history) == 8 and len(current) == 1
    assert current[0].note == history[-1].note  # the latest counts


def test_stored_run_does_not_change_after_decisions(db_url):
    make_round(db_url, 2, large=False, sme_partners=1)
    with db.transaction(db_url) as s:
        run_id = rounds.run_match(s, rid(s))
    with db.transaction(db_url) as s:
        before = [(r["lead_brn"], r["status"], r["score"]) for r in rounds.proposal_rows(s, rounds.get_run(s, run_id))]
        rounds.decide(s, rid(s), before[0][0], make_brn(60), "forbid")
    with db.transaction(db_url) as s:
        rows = rounds.proposal_rows(s, rounds.get_run(s, run_id))
        assert [(r["lead_brn"], r["status"], r["score"]) for r in rows] == before
        assert rows[0]["decision"] == "forbid"  # the current state, read beside the record
        since = rounds.decisions_since(s, rounds.get_run(s, run_id))
        assert [(d.kind, in_run) for d, in_run in since] == [("forbid", True)]


def test_identical_runs_join_one_job_and_cancel_stops_a_queued_one(db_url):
    make_round(db_url, 3, large=False, sme_partners=1)
    with db.transaction(db_url) as s:
        first, new = rounds.submit_match(s, rid(s), "materials", "optimal", 5, "kim")
        again, new_again = rounds.submit_match(s, rid(s), "materials", "optimal", 5, "lee")
        other, new_other = rounds.submit_match(s, rid(s), "materials", "stable", 5, "lee")
    assert new and not new_again and again.id == first.id and new_other and other.id != first.id
    with db.transaction(db_url) as s:
        assert rounds.cancel_job(s, first.id, "kim").status == "cancelled"
        with pytest.raises(RefusedError, match="cancelled"):
            rounds.cancel_job(s, first.id)
    jobs.work(db_url, first.id)  # a worker picking it up does nothing
    with db.transaction(db_url) as s:
        assert rounds.get_job(s, first.id).run_id is None


def test_job_runs_in_the_database_and_a_dead_worker_reads_interrupted(db_url):
    make_round(db_url, 3, large=False, sme_partners=1)
    with db.transaction(db_url) as s:
        job, _new = rounds.submit_match(s, rid(s), "", "optimal", 5, "kim")
    jobs.work(db_url, job.id)
    with db.transaction(db_url) as s:
        done = rounds.get_job(s, job.id)
        assert done.status == "done" and done.run_id and done.fraction == 1.0
        dead, _new = rounds.submit_match(s, rid(s), "", "stable", 5, "kim")
        s.execute(update(db.JobRow).where(db.JobRow.id == dead.id).values(
            status="running", heartbeat_at=db._now() - timedelta(seconds=jobs.STALE_AFTER + 1)))
    with db.transaction(db_url) as s:
        assert rounds.get_job(s, dead.id).status == "interrupted"
        retried, new = rounds.retry_job(s, dead.id, "kim")
        assert new and retried.status == "queued" and rounds.get_job(s, dead.id).status == "failed"


def test_job_with_conflicting_locks_is_refused_before_it_is_queued(db_url):
    make_round(db_url, 4)
    with db.transaction(db_url) as s:
        rounds.decide(s, rid(s), make_brn(0), make_brn(50), "lock")
    with db.transaction(db_url) as s, pytest.raises(Exception, match="needs at least 5") as exc:
        rounds.submit_match(s, rid(s))
    assert "대형 (" in exc.value.text("ko")
    with db.transaction(db_url) as s:
        assert rounds.jobs_for_round(s, rid(s)) == []


def test_overview_counts_each_track(db_url):
    make_round(db_url, 6)
    with db.transaction(db_url) as s:
        run_id = rounds.run_match(s, rid(s))
        rows = rounds.proposal_rows(s, rounds.get_run(s, run_id))
        rounds.decide(s, rid(s), rows[0]["lead_brn"], rows[0]["partner_brn"], "approve")
        rounds.decide(s, rid(s), rows[1]["lead_brn"], rows[1]["partner_brn"], "reject")
    with db.transaction(db_url) as s:
        [o] = rounds.round_overview(s, rid(s))
    assert (o.track, o.leads, o.partners, o.eligible_leads, o.eligible_partners) == ("materials", 6, 2, 6, 2)
    assert o.proposed == len(rows) and (o.approved, o.rejected) == (1, 1) and o.pending == len(rows) - 2
    assert o.unmatched_leads == 6 - len(rows) and o.run_id == run_id
