"""Export of proposal rows and of a stored run: headers per language, rounding, decisions, XLSX layout,
the diagnostics sheet, formula neutralisation."""

import csv
import io
from datetime import date, datetime, timedelta, timezone

import pytest
from hypothesis import given, settings, strategies as st
from openpyxl import load_workbook

from matcher import db
from matcher.errors import InvalidValueError, MatcherError, NotFoundError
from matcher.export import COLUMNS, export_rows, headers, safe_cell
from matcher.rounds import export_run

from helpers import make_brn

KEYS = [key for key, _code in COLUMNS]


def col(key):
    return KEYS.index(key)



def make_row(i=0, **fields):
    """A proposal row as the proposals page builds it."""
    row = dict(track="materials", score=0.123456 + i / 10, status="proposed", lead_brn=make_brn(i),
               lead_name=f"주관기업{i}", partner_brn=make_brn(50 + i), partner_name=f"협력기업{i}",
               components=[{"name": "text", "value": 0.98765, "weight": 1.0}, {"name": "region", "value": 1}],
               reasons=[{"ko": "같은 지역", "en": "same region"}], decision="", note="", decided_by="")
    row.update(fields)
    return row


def csv_rows(data):
    assert data.startswith(b"\xef\xbb\xbf")  # UTF-8 with BOM
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))


def workbook(data):
    return load_workbook(io.BytesIO(data))


DIAGNOSTICS = {
    "unused_partners": [{"name": "대형소재", "brn": make_brn(90), "track": "materials",
                         "reasons": [{"code": "too_few_eligible", "ko": "적격 주관기업이 4곳뿐이라 최소 5곳에 못 미침",
                                      "en": "only 4 eligible leads, fewer than the minimum of 5"}]}],
    "unmatched_leads": [{"name": "=외톨이", "brn": make_brn(91), "track": "innovation",
                         "reasons": [{"code": "no_eligible_partner", "ko": "적격 협력기업 없음",
                                      "en": "no eligible partner"}]}],
    "blocking_pairs": {"count": 3, "pairs": [[make_brn(0), f"materials:{make_brn(51)}"]]},
}


# --- safe_cell ---------------------------------------------------------------------------------

@pytest.mark.parametrize("text", ["=1+1", "+cmd", "-2+3", "@SUM(A1)", "\tx", "\rx"])
def test_formula_like_text_is_quoted(text):
    assert safe_cell(text) == "'" + text


def test_plain_values_unchanged():
    assert safe_cell("주식회사 가나") == "주식회사 가나"
    assert safe_cell(-1.5) == -1.5 and safe_cell(None) is None


# --- headers, names, rounding ------------------------------------------------------------------

def test_headers_are_korean_by_default_and_english_on_request():
    rows = [make_row(0), make_row(1)]
    ko, en = csv_rows(export_rows(rows, "csv")), csv_rows(export_rows(rows, "csv", lang="en"))
    assert ko[0] == headers("ko") and en[0] == headers("en")
    assert ko[0][:3] == ["과제", "주관기업 사업자등록번호", "주관기업명"] and ko[0][5:7] == ["점수", "텍스트 유사도"]
    assert ko[0][-7:] == ["상태", "추천 이유", "결정", "결정 메모", "결정한 사람", "결정 시각 (UTC)", "결정 이력"]
    assert en[0][:3] == ["track", "lead 사업자등록번호 (BRN)", "lead name"] and en[0][5:7] == ["score", "text similarity"]
    assert en[0][-5:-2] == ["decision", "decision note", "decided by"]
    assert all(h.isascii() or "(BRN)" in h for h in en[0])  # English but for the program's own term
    sheet = workbook(export_rows(rows, "xlsx", lang="en")).active
    assert [c.value for c in sheet[1]] == headers("en")


@pytest.mark.parametrize("track, ko, en", [("innovation", "혁신성장", "Innovation growth"),
                                           ("materials", "소재부품", "Materials & parts"),
                                           ("construction", "역량강화", "Capacity building (construction)")])
def test_track_names_follow_the_language(track, ko, en):
    row = make_row(track=track)
    assert csv_rows(export_rows([row], "csv"))[1][col("track")] == ko
    assert csv_rows(export_rows([row], "csv", lang="en"))[1][col("track")] == en


def test_scores_and_components_are_rounded_to_three_decimals():
    row = make_row(score=0.1234567, components=[{"name": "text", "value": 0.98765}, {"name": "industry", "value": 0.5}])
    line = csv_rows(export_rows([row], "csv"))[1]
    assert line[col("score")] == "0.123" and line[col("text")] == "0.988" and line[col("industry")] == "0.5"
    assert line[col("region")] == ""  # a component the row does not have stays empty
    sheet = workbook(export_rows([row], "xlsx")).active
    cells = list(sheet.iter_rows(min_row=2, values_only=True))[0]
    assert cells[col("score")] == 0.123 and cells[col("text")] == 0.988
    assert sheet.cell(2, col("score") + 1).number_format == "0.000"


def test_brns_are_shown_with_dashes_and_statuses_in_the_language():
    row = make_row(status="approved")
    ko, en = csv_rows(export_rows([row], "csv"))[1], csv_rows(export_rows([row], "csv", lang="en"))[1]
    assert ko[col("lead_brn")] == f"{row['lead_brn'][:3]}-{row['lead_brn'][3:5]}-{row['lead_brn'][5:]}"
    assert ko[col("status")] == "승인됨" and en[col("status")] == "approved"
    assert ko[col("reasons")] == "같은 지역" and en[col("reasons")] == "same region"


# --- decisions ---------------------------------------------------------------------------------

KINDS = [("approve", "승인", "approve"), ("reject", "반려", "reject"), ("lock", "고정", "lock"),
         ("forbid", "금지", "forbid"), ("clear", "해제", "cleared"), ("", "미결정", "undecided")]


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_every_decision_kind_with_its_note_who_and_when(fmt):
    when = datetime(2026, 12, 1, 9, 41)
    rows = [make_row(i, decision=kind, note=f"메모 {kind}" if kind else "", decided_by="staff1" if kind else "",
                     decided_at=when if kind else None) for i, (kind, _ko, _en) in enumerate(KINDS)]
    for lang, names in (("ko", [k[1] for k in KINDS]), ("en", [k[2] for k in KINDS])):
        data = export_rows(rows, fmt, lang=lang)
        if fmt == "csv":
            table = csv_rows(data)[1:]
            expected_when = "2026-12-01 09:41"
        else:
            table = [["" if v is None else v for v in r] for r in workbook(data).active.iter_rows(min_row=2, values_only=True)]
            expected_when = when
        assert [r[col("decision")] for r in table] == names
        for r, (kind, _ko, _en) in zip(table, KINDS):
            assert r[col("note")] == (f"메모 {kind}" if kind else "")
            assert r[col("decided_by")] == ("staff1" if kind else "")
            assert r[col("decided_at")] == (expected_when if kind else "")


def test_decision_times_from_iso_text_or_another_zone_are_utc():
    kst = timezone(timedelta(hours=9))
    rows = [make_row(0, decision="approve", decided_at="2026-12-01T18:41:00+09:00"),
            make_row(1, decision="lock", decided_at=datetime(2026, 12, 1, 18, 41, tzinfo=kst)),
            make_row(2, decision="reject", decided_at="2026-12-01 09:41:30")]
    sheet = workbook(export_rows(rows, "xlsx")).active
    times = [r[col("decided_at")] for r in sheet.iter_rows(min_row=2, values_only=True)]
    assert times[:2] == [datetime(2026, 12, 1, 9, 41)] * 2 and times[2] == datetime(2026, 12, 1, 9, 41, 30)
    assert sheet.cell(2, col("decided_at") + 1).number_format == "yyyy-mm-dd hh:mm"


def test_history_lists_every_decision_oldest_first():
    history = [dict(kind="approve", note="좋은 짝", decided_by="kim", decided_at="2026-11-30T10:00:00"),
               dict(kind="clear", note="", decided_by="lee", decided_at=datetime(2026, 12, 1, 9, 0)),
               dict(kind="forbid", note="중복 신청", decided_by="kim", decided_at=datetime(2026, 12, 1, 9, 5))]
    row = make_row(decision="forbid", note="중복 신청", decided_by="kim", history=history)
    ko = csv_rows(export_rows([row], "csv"))[1][col("history")]
    en = csv_rows(export_rows([row], "csv", lang="en"))[1][col("history")]
    assert ko == "2026-11-30 10:00 승인 (kim): 좋은 짝 | 2026-12-01 09:00 해제 (lee) | 2026-12-01 09:05 금지 (kim): 중복 신청"
    assert en.split(" | ")[1] == "2026-12-01 09:00 cleared (lee)"


# --- neutralisation ----------------------------------------------------------------------------

@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_every_text_cell_is_neutralised(fmt):
    row = make_row(lead_name="=HYPERLINK(\"http://x\")", partner_name="+cmd", note="-1+2", decided_by="@me",
                   decision="approve", reasons=[{"ko": "=ko", "en": "=en"}],
                   history=[dict(kind="approve", note="x", decided_by="@me", decided_at="=now()")])
    data = export_rows([row], fmt, diagnostics=DIAGNOSTICS)
    if fmt == "csv":
        line = csv_rows(data)[1]
    else:
        book = workbook(data)
        line = list(book.worksheets[0].iter_rows(min_row=2, values_only=True))[0]
        diag = [r[2] for r in book.worksheets[1].iter_rows(min_row=2, values_only=True)]
        assert "'=외톨이" in diag
    assert line[col("lead_name")] == "'=HYPERLINK(\"http://x\")" and line[col("partner_name")] == "'+cmd"
    assert line[col("note")] == "'-1+2" and line[col("decided_by")] == "'@me" and line[col("reasons")] == "'=ko"
    assert line[col("history")] == "'=now() 승인 (@me): x"


@settings(max_examples=60, deadline=None)
@given(name=st.text(min_size=1, max_size=20), note=st.text(max_size=20))
def test_no_exported_cell_starts_a_formula(name, note):
    data = export_rows([make_row(lead_name=name, note=note, decision="approve")], "csv")
    text = data.decode("utf-8-sig")
    line = next(csv.reader(io.StringIO(text.split("\r\n", 1)[1])))
    for cell in line:
        assert not cell.startswith(("=", "+", "-", "@", "\t", "\r"))


# --- XLSX layout and diagnostics ---------------------------------------------------------------

def test_xlsx_freezes_the_header_filters_and_fits_widths():
    rows = [make_row(i) for i in range(3)] + [make_row(3, partner_name="아주아주 긴 이름의 협력기업 주식회사" * 4)]
    book = workbook(export_rows(rows, "xlsx", title="2026년 2차: 실행 3"))
    sheet = book.active
    assert sheet.title == "2026년 2차  실행 3" and book.properties.title == "2026년 2차: 실행 3"
    assert sheet.freeze_panes == "A2"
    last = sheet.cell(1, len(COLUMNS)).column_letter
    assert sheet.auto_filter.ref == f"A1:{last}5"
    widths = {k: sheet.column_dimensions[sheet.cell(1, col(k) + 1).column_letter].width for k in KEYS}
    assert all(8 <= w <= 60 for w in widths.values())
    assert widths["partner_name"] == 60  # capped
    assert widths["lead_name"] == 12  # the header 주관기업명: five wide characters, 2 each, and a margin of 2
    assert widths["lead_brn"] > widths["score"]


def test_diagnostics_sheet_lists_unused_partners_unmatched_leads_and_blocking_pairs():
    rows = [make_row(0), make_row(1)]
    ko = workbook(export_rows(rows, "xlsx", diagnostics=DIAGNOSTICS))
    assert ko.sheetnames == ["제안", "진단"]
    sheet = ko["진단"]
    values = list(sheet.values)
    assert list(values[0]) == ["구분", "과제", "기업명", "사업자등록번호", "이유"]
    assert values[1] == ("쓰이지 않은 대·중견 협력기업", "소재부품", "대형소재",
                         f"{make_brn(90)[:3]}-{make_brn(90)[3:5]}-{make_brn(90)[5:]}",
                         "적격 주관기업이 4곳뿐이라 최소 5곳에 못 미침")
    assert values[2][:3] == ("짝을 못 찾은 주관기업", "혁신성장", "'=외톨이") and values[2][4] == "적격 협력기업 없음"
    assert values[3][0] == "불안정 쌍" and values[3][2] == "주관기업0 – 협력기업1"
    assert values[4] == ("불안정 쌍", None, None, None, "외 2쌍")
    assert sheet.freeze_panes == "A2" and sheet.auto_filter.ref == "A1:E5"
    en = workbook(export_rows(rows, "xlsx", lang="en", diagnostics=DIAGNOSTICS))
    assert en.sheetnames == ["proposals", "diagnostics"]
    values = list(en["diagnostics"].values)
    assert values[0][0] == "section" and values[1][0] == "unused large partner" and values[1][1] == "Materials & parts"
    assert values[1][4] == "only 4 eligible leads, fewer than the minimum of 5" and values[4][4] == "and 2 more"


def test_empty_diagnostics_say_none_and_no_diagnostics_means_one_sheet():
    book = workbook(export_rows([make_row()], "xlsx", diagnostics={"unused_partners": [], "unmatched_leads": [],
                                                                    "blocking_pairs": {"count": 0, "pairs": []}}))
    assert [r[2] for r in book["진단"].iter_rows(min_row=2, values_only=True)] == ["없음", "없음"]
    assert workbook(export_rows([make_row()], "xlsx")).sheetnames == ["제안"]
    assert len(list(workbook(export_rows([], "xlsx")).active.values)) == 1  # header only


# --- bad input ---------------------------------------------------------------------------------

def test_bad_format_language_or_row_is_a_clear_error():
    with pytest.raises(InvalidValueError, match="export format 'pdf' is not one of xlsx, csv") as exc:
        export_rows([], "pdf")
    assert exc.value.ko == "내보내기 형식은 xlsx, csv 중 하나여야 합니다 ('pdf')"
    with pytest.raises(InvalidValueError, match="export language 'fr'"):
        export_rows([], "csv", lang="fr")
    with pytest.raises(InvalidValueError, match=r"export row 2: lead_name missing") as exc:
        export_rows([make_row(), {k: v for k, v in make_row().items() if k != "lead_name"}], "csv")
    assert exc.value.ko == "내보낼 2번째 행에 lead_name 값이 없습니다" and exc.value.params["row"] == 2
    with pytest.raises(InvalidValueError, match=r"export row 1, score: 'abc' is not a number") as exc:
        export_rows([make_row(score="abc")], "xlsx")
    assert exc.value.text("ko") == "내보낼 1번째 행의 score 값이 숫자가 아닙니다 ('abc')"


# --- a stored run ------------------------------------------------------------------------------

def _firm(session, n, name):
    row = db.FirmRow(brn=make_brn(n), name=name, size_class="소기업", region="대전", founded=date(2015, 1, 1),
                     ksic_codes=[], g2b_codes=[], description="", licences=[])
    session.add(row)
    return row


@pytest.fixture
def stored_run(db_url):
    """A run of two stored proposals (one decided) and its diagnostics, without solving."""
    with db.transaction(db_url) as s:
        rnd = db.RoundRow(name="R1", reference_date=date(2026, 3, 19), open_tracks=["materials"])
        s.add(rnd)
        leads = [_firm(s, 0, "=HYPERLINK(\"x\")"), _firm(s, 1, "주관1")]
        partners = [_firm(s, 60, "협력0"), _firm(s, 61, "협력1")]
        s.flush()
        run = db.MatchRunRow(round_id=rnd.id, track=None, status="optimal", diagnostics=DIAGNOSTICS)
        for lead, partner, score in zip(leads, partners, (0.51234, 0.4)):
            run.proposals.append(db.ProposalRow(
                lead_id=lead.id, partner_id=partner.id, track="materials", score=score, status="proposed",
                explanation={"components": [{"name": "text", "value": 0.33333}],
                             "reasons": [{"ko": "같은 업종", "en": "same industry"}]}))
        s.add(run)
        pair = dict(round_id=rnd.id, lead_id=leads[1].id, partner_id=partners[1].id, track="materials")
        s.add(db.DecisionRow(**pair, kind="forbid", note="=중복 신청", decided_by="staff",
                             decided_at=datetime(2026, 12, 1, 9, 41)))
        s.add(db.DecisionEventRow(**pair, kind="approve", note="", decided_by="kim",
                                  decided_at=datetime(2026, 11, 30, 10, 0)))
        s.add(db.DecisionEventRow(**pair, kind="forbid", note="=중복 신청", decided_by="staff",
                                  decided_at=datetime(2026, 12, 1, 9, 41)))
        s.flush()
        return run.id


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_export_run_carries_the_rounds_decisions(db_url, stored_run, fmt):
    with db.transaction(db_url) as s:
        data = export_run(s, stored_run, fmt)
    if fmt == "csv":
        table = csv_rows(data)
    else:
        book = workbook(data)
        assert book.sheetnames == [f"실행 {stored_run}", "진단"]
        table = [["" if v is None else v for v in r] for r in book.active.values]
    assert list(table[0]) == headers("ko")
    first, second = table[1], table[2]
    assert first[col("lead_name")] == "'=HYPERLINK(\"x\")" and first[col("decision")] == "미결정"
    assert float(first[col("score")]) == 0.512 and float(first[col("text")]) == 0.333
    assert second[col("decision")] == "금지" and second[col("note")] == "'=중복 신청"
    assert second[col("decided_by")] == "staff" and second[col("reasons")] == "같은 업종"
    assert second[col("history")] == "2026-11-30 10:00 승인 (kim) | 2026-12-01 09:41 금지 (staff): =중복 신청"
    assert first[col("history")] == ""


def test_export_run_in_english_and_unknown_run(db_url, stored_run):
    with db.transaction(db_url) as s:
        table = csv_rows(export_run(s, stored_run, "csv", lang="en"))
        assert table[0] == headers("en") and table[2][col("decision")] == "forbid"
        with pytest.raises(NotFoundError):
            export_run(s, 999, "csv")
        with pytest.raises(MatcherError, match="not one of"):
            export_run(s, stored_run, "pdf")


def test_the_cli_export_is_logged_as_the_web_export_is(db_url, stored_run, tmp_path):
    """``matcher export`` and the run page's export both go through rounds.log_export: one kind of entry."""
    from click.testing import CliRunner

    from matcher.cli import main
    from matcher.rounds import audit_entries, log_export
    out = tmp_path / "run.csv"
    result = CliRunner().invoke(main, ["export", str(stored_run), "--format", "csv", "--output", str(out)])
    assert result.exit_code == 0, result.output
    with db.transaction(db_url) as s:
        log_export(s, stored_run, "csv", "kim")  # what the web's export view calls
    with db.transaction(db_url) as s:
        by_web, by_cli = [(e.actor, e.action, e.detail) for e in audit_entries(s)[:2]]
    assert by_cli == ("cli", "run.export", {"run": stored_run, "format": "csv"})
    assert by_web == ("kim", "run.export", by_cli[2])
