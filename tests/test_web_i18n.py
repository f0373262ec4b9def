"""Staff-facing text in the current language: import reports, repair notes, job progress, run status,
the audit log's detail column and the favicon."""

import re
import time
from io import BytesIO
from pathlib import Path

import pytest

from matcher.errors import Problem
from matcher.messages import msg
from web import i18n

from helpers import make_brn

BAD_FIRMS = ("사업자등록번호,기업명,기업규모,지역,설립일\n"
             "123-45-67890,체크섬 틀림,소기업,서울,2015-01-01\n"
             f"{make_brn(204)},규모 틀림,거대기업,서울,2015-01-01\n"
             f"{make_brn(205)},지역 틀림,소기업,아틀란티스,2015-01-01\n"
             f"{make_brn(206)},날짜 틀림,소기업,서울,어제\n"
             f"{make_brn(206)},중복,소기업,서울,2015-01-01\n")
GOOD_FIRMS = ("사업자등록번호,기업명,기업규모,지역\n"
              f"{make_brn(201)},신규 렌즈,소기업,서울특별시\n"
              f"{make_brn(202)},신규 소재,중기업,대구\n")


def _upload(client, round_id, text, kind="firms", name="firms.csv"):
    return client.post(f"/staff/rounds/{round_id}/import/{kind}", content_type="multipart/form-data",
                       data={"file": (BytesIO(text.encode("utf-8")), name)})


def _report_cells(page):
    """The problem table's column and reason cells, as text."""
    body = page.split('class="list problems"', 1)[1]
    return body


def test_upload_errors_in_korean(staff, round_id):
    page = _upload(staff, round_id, BAD_FIRMS).get_data(as_text=True)
    table = _report_cells(page)
    for internal in ("<td>brn</td>", "<td>size_class</td>", "<td>region</td>", "<td>founded</td>"):
        assert internal not in table
    for header in ("<td>사업자등록번호</td>", "<td>기업규모</td>", "<td>지역</td>", "<td>설립일</td>"):
        assert header in table
    assert "fails its check digit" not in table and "검증번호" in table
    assert "17개 시도 중 하나가 아닙니다" in table and "기업규모가 아닙니다" in table
    assert "날짜가 아닙니다" in table and "5행과 사업자등록번호가 중복됩니다" in table
    assert "is not" not in table


def test_upload_errors_in_english(staff, round_id):
    staff.get("/?lang=en")
    table = _report_cells(_upload(staff, round_id, BAD_FIRMS).get_data(as_text=True))
    assert "<td>brn</td>" in table and "<td>size_class</td>" in table
    assert "fails its check digit" in table and "is not one of the 17 시도" in table
    assert "검증번호" not in table


def test_upload_summary_and_repairs_in_korean(staff, round_id):
    response = _upload(staff, round_id, GOOD_FIRMS)
    assert response.status_code == 302
    page = staff.get(response.headers["Location"]).get_data(as_text=True)
    assert "기업: 2건 추가, 0건 갱신, 0건 변경 없음, 0건 제외" in page
    assert "inserted" not in page and "read as" not in page
    assert "2행, 지역 &#39;서울특별시&#39;: 서울로 읽었습니다" in page


def test_upload_summary_and_repairs_in_english(staff, round_id):
    staff.get("/?lang=en")
    response = _upload(staff, round_id, GOOD_FIRMS)
    page = staff.get(response.headers["Location"]).get_data(as_text=True)
    assert "firms: 2 inserted, 0 updated, 0 unchanged, 0 rejected" in page
    assert "row 2, region: &#39;서울특별시&#39; read as &#39;서울&#39;" in page


def test_workbook_sheet_note_in_both_languages(staff, round_id):
    from openpyxl import Workbook
    book = Workbook()
    book.active.title = "안내"
    book.active.append(["설명"])
    sheet = book.create_sheet("기업")
    for line in GOOD_FIRMS.strip().split("\n"):
        sheet.append(line.split(","))
    data = BytesIO()
    book.save(data)

    def upload():
        response = staff.post(f"/staff/rounds/{round_id}/import/firms", content_type="multipart/form-data",
                              data={"file": (BytesIO(data.getvalue()), "firms.xlsx")})
        assert response.status_code == 302
        return staff.get(response.headers["Location"]).get_data(as_text=True)

    assert "읽은 시트: &#39;기업&#39; (사업자등록번호 열이 있는 첫 시트" in upload()
    staff.get("/?lang=en")
    assert "read sheet &#39;기업&#39; (the first with a 사업자등록번호 column" in upload()


def test_no_regex_translation_is_left_in_web():
    """The engine says why with codes; web/ renders them and never parses English back into Korean."""
    web = Path(__file__).resolve().parent.parent / "web"
    assert "import re\n" not in (web / "i18n.py").read_text(encoding="utf-8")
    for path in web.rglob("*.py"):
        assert "(?P<" not in path.read_text(encoding="utf-8"), path  # no pattern parsing the engine's English


def test_problem_text_and_column_labels(app):
    note = Problem(2, "region", "서울특별시", msg("upload.read_as", value="서울"))
    with app.test_request_context("/"):
        assert i18n.problem_text(note) == "2행, 지역 '서울특별시': 서울로 읽었습니다"
        assert [i18n.column_label(c) for c in ("brn", "size_class", "product_code", "track")] == \
            ["사업자등록번호", "기업규모", "신청물품", "과제"]
    with app.test_request_context("/?lang=en"):
        app.preprocess_request()
        assert i18n.problem_text(note) == str(note) == "row 2, region: '서울특별시' read as '서울'"
        assert i18n.column_label("size_class") == "size_class"


def test_job_messages_stored_as_codes_render_in_both_languages(app):
    from matcher.messages import dumps, msg
    stored = dumps(msg("job.run_done", run=7, status=msg("status.optimal"), n=1058))
    with app.test_request_context("/"):
        assert i18n.job_message(stored) == "실행 7: 최적, 1,058쌍"
        assert i18n.job_message("an older row's plain text") == "an older row's plain text"
    with app.test_request_context("/?lang=en"):
        app.preprocess_request()
        assert i18n.job_message(stored) == "run 7: optimal, 1,058 pairs"


def test_run_status_values(app):
    with app.test_request_context("/"):
        assert [i18n.run_status(s) for s in ("optimal", "feasible", "infeasible", "failed")] == \
            ["최적", "해 찾음 (최적 미증명)", "해 없음", "실패"]
    with app.test_request_context("/?lang=en"):
        app.preprocess_request()
        assert i18n.run_status("feasible") == "feasible"


def _run(client, round_id):
    response = client.post(f"/staff/rounds/{round_id}/run", data=dict(mode="optimal", time_limit="10",
                                                                      track="materials"))
    assert response.status_code == 302
    url = response.headers["Location"] + ".json"
    deadline = time.monotonic() + 60
    while (job := client.get(url).get_json())["status"] in ("queued", "running") and time.monotonic() < deadline:
        time.sleep(0.1)
    assert job["status"] == "done", job
    return job, client.get(response.headers["Location"]).get_data(as_text=True)


def test_job_progress_and_run_status_in_korean(staff, round_id):
    job, page = _run(staff, round_id)
    assert re.fullmatch(r"실행 \d+: 최적, \d+쌍", job["message"]), job["message"]
    assert job["message"] in page
    rounds = staff.get(f"/staff/rounds/{round_id}").get_data(as_text=True)
    runs = rounds.split('class="list runs"', 1)[1]
    assert "<td>최적</td>" in runs and "<td>optimal</td>" not in runs


def test_job_progress_and_run_status_in_english(staff, round_id):
    staff.get("/?lang=en")
    job, page = _run(staff, round_id)
    assert re.fullmatch(r"run \d+: optimal, \d+ pairs", job["message"]), job["message"]
    runs = staff.get(f"/staff/rounds/{round_id}").get_data(as_text=True).split('class="list runs"', 1)[1]
    assert "<td>optimal</td>" in runs


def test_audit_detail_as_readable_pairs(staff, round_id):
    staff.post(f"/staff/rounds/{round_id}/tracks", data={"track_materials": "1", "track_innovation": "1"})
    response = staff.post(f"/staff/rounds/{round_id}/import/firms", content_type="multipart/form-data",
                          data={"file": (BytesIO(GOOD_FIRMS.encode()), "<i>x</i>.csv")})
    assert response.status_code == 302
    page = staff.get("/staff/audit").get_data(as_text=True)
    table = page.split('class="list audit"', 1)[1]
    assert "{&#34;" not in table and '{"' not in table  # no raw JSON
    assert "<b>회차</b>: 테스트 1차" in table and "<b>열린 과제</b>: 혁신성장, 소재부품" in table
    assert "<b>파일</b>: &lt;i&gt;x&lt;/i&gt;.csv" in table and "<b>추가</b>: 2" in table
    assert "<i>x</i>" not in table
    staff.get("/?lang=en")
    table = staff.get("/staff/audit").get_data(as_text=True).split('class="list audit"', 1)[1]
    assert "<b>Round</b>: 테스트 1차" in table and "<b>inserted</b>: 2" in table


def test_pages_link_a_favicon_that_is_served(client):
    page = client.get("/").get_data(as_text=True)
    assert '<link rel="icon" type="image/svg+xml" href="/static/favicon.svg">' in page
    with client.get("/static/favicon.svg") as icon:
        assert icon.status_code == 200 and icon.mimetype == "image/svg+xml" and b"<svg" in icon.data


# --- what the engine really says, on the Korean page: no English sentence -----------------------------

ENGLISH = re.compile(r"[A-Za-z]{3,}")
ALLOWED = {"KSIC", "G2B", "CSV", "XLSX", "UTF", "NUL", "KRX", "DART"}  # codes and names, not sentences


def _english_words(text):
    """English words of a rendered message, leaving out the values it quotes ('…', (…)) and code names."""
    import html
    text = re.sub(r"'[^']*'|\([^)]*\)|--[a-z-]+|\S*/\S*", "", html.unescape(text))  # values, options, paths
    return set(ENGLISH.findall(text)) - ALLOWED


def _said(page, pattern):
    found = re.findall(pattern, page, re.S)
    assert found, page[-2000:]
    return found


def test_error_pages_in_korean_name_the_problem_without_english(client, staff, round_id):
    for path, status, says in ((f"/firms/0000000000", 404, "기업이 없습니다"), ("/firms/123-45-67890", 404, "검증번호"),
                               ("/firms/12", 404, "사업자등록번호가 아닙니다"),
                               (f"/firms/{make_brn(1)}?round=없는회차", 404, "회차가 없습니다"),
                               ("/staff/runs/987654", 404, "실행 결과가 없습니다"),
                               (f"/firms/{make_brn(1)}?track=materials&region=아틀란티스", 400, "지역")):
        response = client.get(path)
        page = response.get_data(as_text=True)
        assert response.status_code == status, (path, page[-800:])
        [message] = _said(page, r'<p class="muted">(.*?)</p>')
        assert says in message and not _english_words(message), (path, message)


def test_flashes_in_korean_without_english(staff, round_id):
    for data in (dict(name="", reference_date="2026-06-01"), dict(name="12345", reference_date="2026-06-01"),
                 dict(name="2026년 9차", reference_date="어제"), dict(name="테스트 1차", reference_date="2026-06-01")):
        page = staff.post("/staff/rounds", data=data).get_data(as_text=True)
        for message in _said(page, r'<p class="flash error">(.*?)</p>'):
            assert not _english_words(message), (data, message)
    for form in (dict(track="materials", time_limit="0"), dict(track="construction", time_limit="10"),
                 dict(track="materials", time_limit="열 초")):
        page = staff.post(f"/staff/rounds/{round_id}/run", data=dict(mode="stable", **form)).get_data(as_text=True)
        for message in _said(page, r'<p class="flash error">(.*?)</p>'):
            assert not _english_words(message), (form, message)


def test_an_upload_report_and_its_failed_job_in_korean_without_english(staff, round_id):
    page = _upload(staff, round_id, BAD_FIRMS).get_data(as_text=True)
    for cell in _said(page, r"<td>([^<]*(?:아닙니다|않습니다|중복됩니다)[^<]*)</td>"):
        assert not _english_words(cell), cell
    page = _upload(staff, round_id, "아무 열\n값\n", name="firms.csv").get_data(as_text=True)
    for cell in _said(page, r"<td>([^<]*없습니다[^<]*)</td>"):
        assert not _english_words(cell), cell


def test_api_errors_carry_the_code_and_korean_without_english(staff, round_id):
    for path in ("/api/v1/rounds/999", "/api/v1/runs/987654"):
        error = staff.get(path).get_json()["error"]
        assert error["code"].count(".") >= 1 and error["message"] == error["message_ko"]
        assert not _english_words(error["message_ko"]) and _english_words(error["message_en"]), error


def test_cli_errors_in_korean_without_english(db_url, tmp_path):
    from click.testing import CliRunner

    from matcher.cli import main
    bad = tmp_path / "firms.csv"
    bad.write_text(BAD_FIRMS, encoding="utf-8")
    for args in (["round", "create", "12345", "--reference-date", "2026-10-01"],
                 ["round", "create", "2026년 9차", "--reference-date", "어제"],
                 ["match", "없는 회차"], ["import", "firms", str(bad)], ["runs", "없는 회차"]):
        result = CliRunner().invoke(main, ["--lang", "ko", *args], env={"DATABASE_URL": db_url, "LANG": "C"})
        assert result.exit_code in (1, 2) and "오류:" in result.output, (args, result.output)
        lines = [line.replace(str(bad), "") for line in result.output.splitlines() if line.strip()]
        assert lines and not any(_english_words(line) for line in lines), (args, result.output)
        english = CliRunner().invoke(main, args, env={"DATABASE_URL": db_url, "LANG": "ko_KR.UTF-8", "LC_ALL": "C"})
        assert "error:" in english.output, english.output  # LC_ALL wins over LANG


def test_the_cli_language_follows_the_locale():
    from matcher.cli import lang_from_env
    assert lang_from_env({"LANG": "ko_KR.UTF-8"}) == "ko"
    assert lang_from_env({"LANG": "ko_KR.UTF-8", "LC_ALL": "en_US.UTF-8"}) == "en"
    assert lang_from_env({"LC_MESSAGES": "ko"}) == "ko"
    assert lang_from_env({"LANG": "C.UTF-8"}) == lang_from_env({}) == "en"
