"""The program after the match (matcher/rounds: access, interest, profiles, stages, publication): access codes,
interest both ways with mutual interest in the solver, stages in order, the quota, products, publication."""

import math
from datetime import date

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from matcher import db, rounds
from matcher.cli import main
from matcher.errors import InvalidValueError, NotFoundError, RefusedError, ValidationError
from matcher.rounds import access, interest, profiles, publication, stages

from helpers import make_brn
from test_matching import make_round, run


def rid(s, name="R1"):
    return rounds.find_round(s, name).id


def count(s, model):
    return s.scalar(select(func.count()).select_from(model))


# --- access codes -----------------------------------------------------------------------------------------


def test_codes_are_issued_to_applicants_shown_once_and_stored_hashed(db_url):
    make_round(db_url, 2, large=False, sme_partners=1)
    with db.transaction(db_url) as s:
        receipts = access.issue_codes(s, rid(s), "staff")
        assert sorted(r.brn for r in receipts) == sorted([make_brn(0), make_brn(1), make_brn(60)])
        stored = {row.code_hash for row in s.scalars(select(db.FirmAccessRow))}
        assert all(r.code not in stored and access.code_hash(r.code) in stored for r in receipts)
        head, rows = access.receipt_table(receipts)
        assert head[0] == "회차" and rows[0][4] == receipts[0].code
    code = receipts[0].code
    with db.transaction(db_url) as s:
        found = access.sign_in(s, receipts[0].brn, code.lower().replace("-", " "))
        assert found is not None and found.brn == receipts[0].brn
        assert access.sign_in(s, receipts[1].brn, code) is None  # another firm's code
        assert access.sign_in(s, receipts[0].brn, "AAAA-BBBB-CCCC") is None
        assert access.sign_in(s, "not a number", code) is None


def test_reissuing_or_revoking_ends_the_old_code(db_url):
    make_round(db_url, 1, large=False, sme_partners=1)
    with db.transaction(db_url) as s:
        first = access.issue_codes(s, rid(s), "staff", [make_brn(0)])[0]
        session_row = access.sign_in(s, make_brn(0), first.code)
    with db.transaction(db_url) as s:
        second = access.issue_codes(s, rid(s), "staff", [make_brn(0)])[0]
        assert access.sign_in(s, make_brn(0), first.code) is None
        assert access.signed_in(s, session_row.access_id) is None  # the old session ends too
        assert access.sign_in(s, make_brn(0), second.code) is not None
        assert access.revoke_code(s, rid(s), make_brn(0), "staff") == 1
        assert access.sign_in(s, make_brn(0), second.code) is None
        with pytest.raises(NotFoundError, match="did not apply"):
            access.issue_codes(s, rid(s), "staff", ["1078153660"])


# --- interest both ways, mutual interest ----------------------------------------------------------------


def test_interest_goes_both_ways_and_sending_twice_says_already_sent(db_url):
    make_round(db_url, 2, large=False, sme_partners=1)
    with db.transaction(db_url) as s:
        row = interest.send_interest(s, rid(s), make_brn(60), make_brn(0), "materials", "함께 해요", "firm:x")  # partner → lead
        assert (row.sender, row.status) == ("partner", "sent")
        with pytest.raises(RefusedError) as exc:
            interest.send_interest(s, rid(s), make_brn(60), make_brn(0), "materials", "또", "firm:x")
        assert "already sent" in str(exc.value)
        assert row.note == "함께 해요" and count(s, db.InterestRow) == 1
        box = interest.inbox(s, make_brn(0), rid(s))
        assert [v.other_brn for v in box["received"]] == [make_brn(60)] and not box["sent"]
        assert interest.mark_seen(s, make_brn(0), rid(s)) == 1
        assert interest.inbox(s, make_brn(0))["received"][0].status == "seen"


def test_accepting_is_mutual_interest_and_shows_contacts_only_then(db_url):
    make_round(db_url, 2, large=False, sme_partners=1)
    with db.transaction(db_url) as s:
        profiles.update_profile(s, make_brn(60), {"contact_name": "김담당", "contact_phone": "042-123-4567",
                                             "contact_email": "kim@example.kr"}, "firm:p")
        row = interest.send_interest(s, rid(s), make_brn(0), make_brn(60), "materials", "", "firm:l")
        assert interest.contact_of(s, rid(s), make_brn(0), make_brn(60)) is None
        with pytest.raises(RefusedError, match="only the firm that received it"):
            interest.answer_interest(s, row.id, make_brn(0), True, "", "firm:l")  # the sender cannot accept
        with pytest.raises(NotFoundError):
            interest.answer_interest(s, row.id, make_brn(1), True, "", "firm:other")  # a third firm: not found
        interest.answer_interest(s, row.id, make_brn(60), True, "좋습니다", "firm:p")
        assert interest.mutual_pairs(s, rid(s)) == {("materials", make_brn(0), make_brn(60))}
        assert interest.contact_of(s, rid(s), make_brn(0), make_brn(60))["phone"] == "042-123-4567"
        assert interest.contact_of(s, rid(s), make_brn(1), make_brn(60)) is None
        with pytest.raises(RefusedError, match="already answered"):
            interest.answer_interest(s, row.id, make_brn(60), False, "", "firm:p")
        apps = {(a.firm.brn, a.role): a.preferences for a in s.scalars(select(db.ApplicationRow))}
        assert apps[(make_brn(0), "lead")] == [make_brn(60)] and apps[(make_brn(60), "partner")] == [make_brn(0)]  # both sides' say
        actions = [a.action for a in s.scalars(select(db.AuditRow))]
        assert "interest.send" in actions and "interest.accept" in actions


def test_sending_back_to_a_firm_that_asked_accepts(db_url):
    make_round(db_url, 1, large=False, sme_partners=1)
    with db.transaction(db_url) as s:
        interest.send_interest(s, rid(s), make_brn(0), make_brn(60), "materials", "", "firm:l")
        row = interest.send_interest(s, rid(s), make_brn(60), make_brn(0), "materials", "저도요", "firm:p")
        assert row.status == "accepted" and row.reply == "저도요" and count(s, db.InterestRow) == 1


def test_interest_is_refused_for_firms_that_did_not_apply_and_stores_nothing(db_url):
    make_round(db_url, 1, large=False, sme_partners=1)
    with db.transaction(db_url) as s:
        s.add(db.FirmRow(brn="1078153660", name="밖", size_class="소기업", region="대전"))
        s.flush()
        with pytest.raises(RefusedError, match="did not apply"):
            interest.send_interest(s, rid(s), "1078153660", make_brn(60), "materials", "", "firm:x")
        with pytest.raises(RefusedError, match="no partner application"):
            interest.send_interest(s, rid(s), make_brn(0), "1078153660", "materials", "", "firm:x")
        with pytest.raises(InvalidValueError, match="at most 500"):
            interest.send_interest(s, rid(s), make_brn(0), make_brn(60), "materials", "가" * 501, "firm:x")
        assert count(s, db.InterestRow) == 0


def test_mutual_interest_changes_the_optimal_solution_and_shows_in_the_explanation(db_url):
    """Two identical leads, one SME partner (1:1): the solver takes one; once the other lead and the partner
    both said yes, the bonus makes that pair the solution, its explanation has the bonus as its own line and
    the components still add up to the score."""
    make_round(db_url, 2, large=False, sme_partners=1)
    _row, pairs = run(db_url)
    assert len(pairs) == 1
    chosen = pairs[0][0]
    other = make_brn(1) if chosen == make_brn(0) else make_brn(0)
    with db.transaction(db_url) as s:
        row = interest.send_interest(s, rid(s), other, make_brn(60), "materials", "", "firm:l")
        interest.answer_interest(s, row.id, make_brn(60), True, "", "firm:p")
    run_row, pairs = run(db_url)
    assert [p[0] for p in pairs] == [other]
    explanation = run_row.proposals[0].explanation
    names = [c["name"] for c in explanation["components"]]
    assert names[-1] == "mutual_interest"
    bonus = explanation["components"][-1]
    assert bonus["contribution"] == pytest.approx(stages.program_settings()["mutual_bonus"])
    assert math.fsum(c["contribution"] for c in explanation["components"]) == pytest.approx(explanation["score"])
    assert explanation["score"] == pytest.approx(run_row.proposals[0].score)
    assert "서로 매칭을 희망" in explanation["reasons_ko"][0] and "asked for each other" in explanation["reasons_en"][0]
    assert run_row.params["mutual_bonus"] == pytest.approx(bonus["contribution"])


def test_the_stable_mode_reads_both_sides_stated_preferences(db_url):
    make_round(db_url, 2, large=False, sme_partners=1)
    with db.transaction(db_url) as s:
        interest.send_interest(s, rid(s), make_brn(60), make_brn(1), "materials", "", "firm:p")  # the partner's say only
        from matcher.matching import stated_preferences
        from matcher.matching import build_graph
        inp = rounds.round_input(s, rounds.find_round(s, "R1"))
        assert stated_preferences(build_graph(inp, ["materials"]))["materials:" + make_brn(60)] == [make_brn(1)]
    _row, pairs = run(db_url, mode="stable")
    assert [p[0] for p in pairs] == [make_brn(1)]


# --- profiles ---------------------------------------------------------------------------------------------


def test_a_profile_edit_is_checked_like_an_import_and_audited(db_url):
    make_round(db_url, 1, large=False, sme_partners=1)
    with db.transaction(db_url) as s:
        with pytest.raises(ValidationError) as exc:
            profiles.update_profile(s, make_brn(0), {"region": "화성", "founded": "2015-13-40", "contact_email": "x@",
                                                "ksic": "2642"}, "firm:l")
        assert {p.column for p in exc.value.problems} >= {"region", "founded", "contact_email"}
        assert s.get(db.FirmRow, db.get_firm(s, make_brn(0)).id).region == "대전"
        changes = profiles.update_profile(s, make_brn(0), {"region": "서울특별시", "contact_name": "박"}, "staff")
        assert changes == {"region": ("대전", "서울"), "contact_name": ("", "박")}
        entry = s.scalars(select(db.AuditRow).where(db.AuditRow.action == "firm.update")).one()
        assert entry.actor == "staff" and entry.detail["changes"]["region"] == {"from": "대전", "to": "서울"}


# --- stages, quota, products, publication ------------------------------------------------------------


def approved_round(url, n=3):
    """n leads, n SME partners, each lead approved with its own partner."""
    make_round(url, n, large=False, sme_partners=n)
    with db.transaction(url) as s:
        for i in range(n):
            rounds.decide(s, rid(s), make_brn(i), make_brn(60 + i), "approve", actor="staff")


def through_stages(s, lead, partner, scores=(80, 70, 90)):
    for stage, score in zip(stages.round_stages(rounds.find_round(s, "R1")), scores):
        stages.record_stage(s, rid(s), lead, partner, stage, score, "", None, "staff")


def test_stages_move_only_forward_in_order_and_only_by_staff(db_url):
    approved_round(db_url, 1)
    with db.transaction(db_url) as s:
        with pytest.raises(RefusedError, match="the next stage is interview"):
            stages.record_stage(s, rid(s), make_brn(0), make_brn(60), "site_visit", 80, "", None, "staff")
        with pytest.raises(RefusedError, match="Only program staff"):
            stages.record_stage(s, rid(s), make_brn(0), make_brn(60), "interview", 80, "", None, "firm:" + make_brn(0))
        stages.record_stage(s, rid(s), make_brn(0), make_brn(60), "interview", 60, "", None, "staff")
        stages.record_stage(s, rid(s), make_brn(0), make_brn(60), "site_visit", 70, "", None, "staff")
        with pytest.raises(RefusedError, match="Cannot go back to interview"):
            stages.record_stage(s, rid(s), make_brn(0), make_brn(60), "interview", 90, "", None, "staff")
        stages.record_stage(s, rid(s), make_brn(0), make_brn(60), "site_visit", 75, "정정", None, "staff")  # a correction
        with pytest.raises(InvalidValueError, match="from 0 to 100"):
            stages.record_stage(s, rid(s), make_brn(0), make_brn(60), "committee", 101, "", None, "staff")
        c = stages.candidates(s, rid(s))[0]
        assert c.stage == "site_visit" and c.scores == {"interview": 60, "site_visit": 75}
        assert [e["score"] for e in c.events] == [60, 70, 75]  # history kept, never edited
        with pytest.raises(RefusedError, match="not a candidate"):
            stages.record_stage(s, rid(s), make_brn(60), make_brn(0), "interview", 1, "", None, "staff")  # roles reversed


def test_the_quota_holds_and_selected_pairs_become_products_for_three_years(db_url):
    approved_round(db_url, 3)
    with db.transaction(db_url) as s:
        for i, score in enumerate((70, 90, 80)):
            through_stages(s, make_brn(i), make_brn(60 + i), (80, 80, score))
        stages.set_quota(s, rid(s), "materials", 2, "staff")
        ranked = stages.ranked(s, rid(s), "materials")
        assert [c.lead_brn for c in ranked] == [make_brn(1), make_brn(2), make_brn(0)]  # by the committee's score
        with pytest.raises(RefusedError, match="quota of 2 would be exceeded"):
            stages.confirm_selection(s, rid(s), "materials", [c.key for c in ranked], "staff")
        made = stages.confirm_selection(s, rid(s), "materials", [c.key for c in ranked[:2]], "staff",
                                        date(2024, 2, 29))
        assert [(p.product_code, p.expires_on) for p in made] == [("4617161012", date(2027, 2, 28))] * 2
        outcomes = {c.lead_brn: c.outcome for c in stages.candidates(s, rid(s))}
        assert outcomes == {make_brn(1): "selected", make_brn(2): "selected", make_brn(0): "rejected"}
        with pytest.raises(RefusedError, match="already final"):
            stages.record_stage(s, rid(s), make_brn(0), make_brn(60), "committee", 99, "", None, "staff")
        history = stages.products(s, make_brn(1), on=date(2027, 3, 1))
        assert len(history) == 1 and history[0].expired
        assert not stages.products(s, make_brn(1), on=date(2026, 1, 1))[0].expired


def test_a_pair_is_selected_only_after_the_last_stage(db_url):
    approved_round(db_url, 1)
    with db.transaction(db_url) as s:
        stages.record_stage(s, rid(s), make_brn(0), make_brn(60), "interview", 90, "", None, "staff")
        with pytest.raises(RefusedError, match="has not finished committee"):
            stages.confirm_selection(s, rid(s), "materials", [(make_brn(0), make_brn(60))], "staff")
        stages.drop_candidate(s, rid(s), make_brn(0), make_brn(60), "서류 미비", "staff")
        assert stages.candidates(s, rid(s))[0].outcome == "rejected"


def test_unpublished_results_are_invisible_and_publication_shows_each_firm_its_own(db_url):
    approved_round(db_url, 2)
    with db.transaction(db_url) as s:
        through_stages(s, make_brn(0), make_brn(60))
        stages.confirm_selection(s, rid(s), "materials", [(make_brn(0), make_brn(60))], "staff")
        through_stages(s, make_brn(1), make_brn(61))
        mine = publication.firm_results(s, make_brn(0))
        assert [r.published for r in mine] == [False] and mine[0].pairs == []
        publication.publish(s, rid(s), "staff")
        mine = publication.firm_results(s, make_brn(0))
        assert mine[0].pairs == [dict(brn=make_brn(60), name="기업60", stage="committee",
                                      scores={"interview": 80, "site_visit": 70, "committee": 90},
                                      outcome="selected", stages=["interview", "site_visit", "committee"])]
        theirs = publication.firm_results(s, make_brn(61))
        assert [p["brn"] for p in theirs[0].pairs] == [make_brn(1)] and theirs[0].pairs[0]["outcome"] == ""
        with pytest.raises(RefusedError):
            publication.publish(s, rid(s), "firm:" + make_brn(0))


def test_the_results_export_lists_every_application_with_korean_headers(db_url):
    approved_round(db_url, 2)
    with db.transaction(db_url) as s:
        through_stages(s, make_brn(0), make_brn(60))
        head, rows = publication.results_table(s, rid(s))
        assert head[:3] == ["과제", "역할", "사업자등록번호"] and "대면평가 점수" in head
        assert len(rows) == 4  # 2 leads and 2 partners
        assert {r[head.index("결과")] for r in rows} == {"평가 중", "후보 (평가 전)"}
        english, _rows = publication.results_table(s, rid(s), "en")
        assert "interview score" in english
        funnel = publication.funnel(s, rid(s))
        assert funnel["tracks"]["materials"] == [2, 0, 2, 1, 1, 1, 0]


def test_cli_issues_codes_records_stages_publishes_and_exports(db_url, tmp_path):
    approved_round(db_url, 1)
    runner = CliRunner()
    receipts = tmp_path / "r.csv"
    result = runner.invoke(main, ["access", "issue", "R1", "--output", str(receipts)])
    assert result.exit_code == 0, result.output
    assert receipts.read_bytes().decode("utf-8-sig").splitlines()[0].startswith("회차,사업자등록번호")
    for stage in ("interview", "site_visit", "committee"):
        assert runner.invoke(main, ["stage", "record", "R1", make_brn(0), make_brn(60), stage, "88"]).exit_code == 0
    result = runner.invoke(main, ["--lang", "ko", "stage", "record", "R1", make_brn(0), make_brn(60), "interview", "88"])
    assert result.exit_code == 2 and "되돌아갈 수 없습니다" in result.output
    assert runner.invoke(main, ["stage", "confirm", "R1", "materials", f"{make_brn(0)}:{make_brn(60)}"]).exit_code == 0
    assert runner.invoke(main, ["publish", "R1"]).exit_code == 0
    out = tmp_path / "results.xlsx"
    assert runner.invoke(main, ["results", "R1", "--output", str(out)]).exit_code == 0
    from openpyxl import load_workbook
    sheet = load_workbook(out).active
    assert sheet["A1"].value == "과제" and sheet.max_row == 3


def test_the_funnel_counts_the_newest_runs_proposals_once(db_url):
    make_round(db_url, 2, large=False, sme_partners=1)
    run(db_url)
    run(db_url, track="materials")  # a later run of the one track replaces the first for it
    with db.transaction(db_url) as s:
        rounds.decide(s, rid(s), make_brn(0), make_brn(60), "approve", actor="staff")
        stages.record_stage(s, rid(s), make_brn(0), make_brn(60), "interview", 50, "", None, "staff")
        assert publication.funnel(s, rid(s))["tracks"] == {"materials": [2, 1, 1, 1, 0, 0, 0]}


def test_a_rounds_stages_are_data_and_fixed_once_recorded(db_url):
    approved_round(db_url, 1)
    runner = CliRunner()
    result = runner.invoke(main, ["stage", "set", "R1", "document,committee"])
    assert result.exit_code == 0 and "서면평가, 심의위원회" in result.output
    assert runner.invoke(main, ["stage", "set", "R1", "interview,lunch"]).exit_code == 2
    with db.transaction(db_url) as s:
        with pytest.raises(RefusedError, match="the next stage is document review"):
            stages.record_stage(s, rid(s), make_brn(0), make_brn(60), "committee", 80, "", None, "staff")
        stages.record_stage(s, rid(s), make_brn(0), make_brn(60), "document", 80, "", None, "staff")
        with pytest.raises(RefusedError, match="cannot change"):
            stages.set_stages(s, rid(s), ["interview"], "staff")
        head, _rows = publication.results_table(s, rid(s))
        assert "서면평가 점수" in head and "대면평가 점수" not in head


def test_a_later_round_shows_a_firms_earlier_products(db_url):
    approved_round(db_url, 1)
    with db.transaction(db_url) as s:
        through_stages(s, make_brn(0), make_brn(60))
        stages.confirm_selection(s, rid(s), "materials", [(make_brn(0), make_brn(60))], "staff", date(2020, 1, 2))
        later = rounds.create_round(s, "R2", "2026-10-01", ["materials"])
        shown = stages.products(s, make_brn(60), on=later.reference_date)
        assert [(p.round_name, p.expires_on, p.expired) for p in shown] == [("R1", date(2023, 1, 2), True)]
