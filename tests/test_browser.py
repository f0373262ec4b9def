"""End to end in a real browser: Playwright drives Debian's chromium against the app served by waitress.

Log in as staff, create a round, upload firms and applications (small CSV files written here), run
matching, approve a pair, export — and take screenshots of the proposals page and the graph view. They go
to the test's temporary folder, or to docs/screenshots/ (the README's pictures) when the environment sets
MATCHER_SCREENSHOTS=1, so an ordinary test run leaves the work tree unchanged.
Playwright never downloads a browser: it runs /usr/bin/chromium (``.ci/run`` apt-installs it).
"""

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from helpers import make_brn

pytestmark = [pytest.mark.browser, pytest.mark.slow]  # chromium and a server: tens of seconds each

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "browser-test-password"
ROUND = "2026년 3차 (브라우저)"

if not Path(CHROMIUM).exists():
    pytest.skip(f"{CHROMIUM} is missing (apt-get install chromium; .ci/run does it)", allow_module_level=True)
sync_api = pytest.importorskip("playwright.sync_api")


def firms_csv():
    rows = ["사업자등록번호,기업명,기업규모,설립일,지역,업종코드,물품분류번호,제품기술,인증"]
    cert_dp = "직접생산확인:3911980401:2024-01-01~2027-12-31"
    for i, name in enumerate(["빛솔라이팅", "한결조명", "다온LED"], start=1):
        rows.append(f"{make_brn(300 + i)},{name},소기업,2022-03-0{i},대전,28123,39119804,스마트 LED 조명 제어기 개발,")
    for i, (name, region) in enumerate([("누리전자", "대전"), ("세움제어", "충남"), ("가람테크", "세종")], start=1):
        rows.append(f"{make_brn(310 + i)},{name},중기업,2010-05-0{i},{region},28123,39119804,"
                    f"LED 조명 제어 게이트웨이 제조,{cert_dp}")
    for i in range(1, 8):
        rows.append(f"{make_brn(320 + i)},비전부품{i},소기업,2016-0{i}-10,경기,26421,46171610,AI CCTV 카메라 모듈 부품,")
    rows.append(f"{make_brn(331)},렌즈소재,중기업,2009-01-01,경기,26421,46171610,카메라 렌즈 소재 생산,소재부품기업 확인")
    rows.append(f"{make_brn(332)},광학하우징,중기업,2012-01-01,인천,26421,46171610,CCTV 하우징 소재,특허:46171610")
    rows.append(f"{make_brn(333)},한빛테크윈,대기업,1977-08-01,경기,26421,46171610,영상 보안 CCTV 카메라 제조,특허:46171610")
    rows.append(f"{make_brn(334)},대한광학,대기업,1980-02-01,부산,26421,46171610,광학 렌즈 모듈 제조,특허:46171610")
    return "\n".join(rows) + "\n"


def applications_csv():
    rows = ["사업자등록번호,역할,과제,신청물품,내용"]
    rows += [f"{make_brn(300 + i)},주관,혁신성장,3911980401,무선 디밍 조명제어기 공동 개발" for i in range(1, 4)]
    rows += [f"{make_brn(310 + i)},협력,혁신성장,3911980401,조명 제어기 직접생산 협력" for i in range(1, 4)]
    rows += [f"{make_brn(320 + i)},주관,소재부품,46171610012345{i:02d},AI CCTV 카메라 부품 협력" for i in range(1, 8)]
    rows += [f"{make_brn(330 + i)},협력,소재부품,46171610098765{i:02d},CCTV 카메라 소재 부품 공급" for i in range(1, 5)]
    return "\n".join(rows) + "\n"


def _free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def server(tmp_path):
    port = _free_port()
    env = dict(os.environ, DATABASE_URL=f"sqlite:///{tmp_path / 'browser.sqlite'}",
               MATCHER_STAFF_PASSWORD=PASSWORD, MATCHER_SECRET_KEY="browser-test")
    log = tmp_path / "server.log"
    with log.open("w", encoding="utf-8") as out:
        proc = subprocess.Popen([sys.executable, "-m", "web", "--port", str(port)], cwd=ROOT, env=env,
                                stdout=out, stderr=subprocess.STDOUT)
        try:
            _wait_for_port(port, proc, log)
            log_text = log.read_text(encoding="utf-8")  # the password came from the environment: not printed
            assert "password from MATCHER_STAFF_PASSWORD" in log_text and PASSWORD not in log_text
            yield f"http://127.0.0.1:{port}"
        finally:
            proc.terminate()
            proc.wait(timeout=10)


def _wait_for_port(port, proc, log, timeout=180):
    """Wait until the server listens (generously: a loaded machine starts it slowly); stop it if it never does."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"server exited: {log.read_text(encoding='utf-8')}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.2)
    proc.kill()
    proc.wait()
    raise AssertionError(f"server did not listen on {port} within {timeout} s")


@pytest.fixture
def page():
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True,
                                      locale="ko-KR")
        yield context.new_page()
        context.close()
        browser.close()


def test_staff_imports_runs_approves_and_exports(server, page, tmp_path):
    keep = os.environ.get("MATCHER_SCREENSHOTS") == "1"
    screenshots = ROOT / "docs" / "screenshots" if keep else tmp_path / "screenshots"
    screenshots.mkdir(parents=True, exist_ok=True)
    (tmp_path / "firms.csv").write_text(firms_csv(), encoding="utf-8")
    (tmp_path / "applications.csv").write_text(applications_csv(), encoding="utf-8")

    page.goto(server + "/staff/")
    assert "/login" in page.url
    page.fill("input[name=username]", "staff")
    page.fill("input[name=password]", PASSWORD)
    page.click("form.card button[type=submit]")
    page.wait_for_url("**/staff/")

    page.fill("#create-round input[name=name]", ROUND)
    page.fill("#create-round input[name=reference_date]", "2026-10-01")
    page.click("#create-round button[type=submit]")
    page.wait_for_url("**/staff/rounds/*")

    for kind, name in (("firms", "firms.csv"), ("applications", "applications.csv")):
        page.set_input_files(f"#upload-{kind} input[type=file]", str(tmp_path / name))
        page.click(f"#upload-{kind} button[type=submit]")
        page.wait_for_load_state()
        assert "건 추가" in page.locator(".flash.ok").inner_text()

    page.click("#run-form button[type=submit]")
    page.wait_for_url("**/staff/jobs/*")
    page.locator("#job-result").wait_for(state="visible", timeout=60_000)
    assert "완료" in page.locator("#job-status").inner_text()
    page.click("#job-result")
    page.wait_for_url("**/staff/runs/*")

    rows = page.locator("tbody.proposal")
    assert rows.count() >= 4
    first = rows.first
    first.locator("button.toggle").click()
    first.locator("select[name=kind]").select_option("approve")
    first.locator("input[name=note]").fill("현장평가 통과")
    first.locator("form.decide button").click()
    page.wait_for_load_state()
    assert page.locator("#proposals .decision-approve").count() == 1
    assert "현장평가 통과" in page.content()
    first = page.locator("tbody.proposal").first  # still open: the page came back to its row
    first.locator("select[name=kind]").select_option("clear")  # a decision can be taken back
    first.locator("form.decide button").click()
    page.wait_for_load_state()
    assert page.locator("#proposals .decision-approve").count() == 0
    page.locator("tbody.proposal").first.locator("select[name=kind]").select_option("approve")
    page.locator("tbody.proposal").first.locator("input[name=note]").fill("현장평가 통과")
    page.locator("tbody.proposal").first.locator("form.decide button").click()
    page.wait_for_load_state()
    run_url = page.url.split("#")[0]

    for lead in (make_brn(301), make_brn(302)):  # two leads locked with one SME partner (max 1): a conflict
        page.fill("#manual-pair input[name=lead]", lead)
        page.fill("#manual-pair input[name=partner]", make_brn(311))
        page.click("#manual-pair button[type=submit]")
        page.wait_for_load_state()
    page.click("#resolve")
    page.wait_for_load_state()
    conflict = page.locator("#conflicts")
    assert "최대 1곳까지입니다" in conflict.inner_text() and "누리전자" in conflict.inner_text()
    conflict.locator("button.fix").first.click()  # the one-click fix clears a lock
    page.wait_for_load_state()
    assert page.locator("#conflicts").count() == 0
    page.goto(run_url)

    page.locator("th[data-sort=number]").click()  # sort by score, ascending
    scores = [float(s) for s in page.locator("tbody.proposal td[data-value]").evaluate_all(
        "cells => cells.map(c => c.dataset.value)")]
    assert scores == sorted(scores)
    page.select_option("select[data-filter=track]", "innovation")  # client-side filter
    visible = page.locator("tbody.proposal:visible")
    assert visible.count() == 3 and all(t == "innovation" for t in visible.evaluate_all(
        "bodies => bodies.map(b => b.dataset.track)"))
    page.select_option("select[data-filter=track]", "")
    assert page.locator("tbody.proposal:visible").count() == rows.count()

    page.locator("th[data-sort=number]").click()
    page.locator("tbody.proposal button.toggle").first.click()
    page.screenshot(path=str(screenshots / "proposals.png"), full_page=True)

    with page.expect_download() as download:
        page.click("#export-xlsx")
    path = download.value.path()
    assert Path(path).read_bytes()[:2] == b"PK"

    page.click("#pictures-link")
    page.wait_for_url("**/pictures")
    assert page.locator("#graph svg line").count() >= 4
    assert page.locator("#graph svg rect.below-min").count() == 1  # two large partners, 7 leads: one unused
    page.screenshot(path=str(screenshots / "graph.png"), full_page=True)

    page.goto(server + f"/firms/{make_brn(321)}?track=materials")
    page.click("#lang-en")  # the switch on every page; the choice stays for the session
    assert "Recommended partners" in page.content()
    page.screenshot(path=str(screenshots / "partners.png"), full_page=True)
    for name in ("proposals.png", "graph.png", "partners.png"):
        assert (screenshots / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_a_run_whose_server_was_killed_reads_interrupted_and_can_be_retried(page, tmp_path):
    """kill -9 the server during a run of the demo round, start it again: the job says interrupted; retry runs it."""
    port = _free_port()
    env = dict(os.environ, DATABASE_URL=f"sqlite:///{tmp_path / 'restart.sqlite'}", MATCHER_STAFF_PASSWORD=PASSWORD,
               MATCHER_SECRET_KEY="browser-test", MATCHER_JOB_STALE_SECONDS="15")
    subprocess.run([sys.executable, "-c", "from matcher.cli import main; main()", "demo", "load"], cwd=ROOT, env=env, check=True,
                   capture_output=True)
    log = tmp_path / "server.log"
    out = log.open("a", encoding="utf-8")

    def serve():
        proc = subprocess.Popen([sys.executable, "-m", "web", "--port", str(port)], cwd=ROOT, env=env,
                                stdout=out, stderr=subprocess.STDOUT)
        _wait_for_port(port, proc, log)
        return proc

    server, base = serve(), f"http://127.0.0.1:{port}"
    try:
        page.goto(base + "/login")
        page.fill("input[name=username]", "staff")
        page.fill("input[name=password]", PASSWORD)
        page.click("form.card button[type=submit]")
        page.goto(base + "/staff/rounds/1")
        page.fill("#run-form input[name=time_limit]", "120")
        page.click("#run-form button[type=submit]")
        page.wait_for_url("**/staff/jobs/*")
        job_url = page.url
        server.kill()  # kill -9: the worker thread dies with it
        server.wait(timeout=10)
        server = serve()
        time.sleep(16)  # no heartbeat for longer than MATCHER_JOB_STALE_SECONDS
        page.goto(job_url)
        assert "중단됨" in page.locator("#job-status").inner_text()
        page.click("#job-retry")
        page.wait_for_url("**/staff/jobs/*")
        assert page.url != job_url
        page.wait_for_function("() => !['queued', 'running'].includes(document.getElementById('job').dataset.status)",
                               timeout=180_000)
        assert "완료" in page.locator("#job-status").inner_text(), page.locator("#job").inner_text()
        assert page.locator("#job-result").count() == 1
    finally:
        server.terminate()
        server.wait(timeout=10)
        out.close()
