"""Every main page at a phone's width (390 × 844) in a real browser: no sideways scrolling of the page, and
every visible input, select and textarea has an accessible label — in Korean and in English.

The round is prepared on the command line (the same commands staff use), then the browser logs in, sends
an interest request, starts a run, uploads a bad file and visits each page. Two 390 px screenshots (the
firm page with its recommendations and the run page) go to the test's temporary folder, or to
docs/screenshots/ (the README's pictures) with MATCHER_SCREENSHOTS=1. Server and browser helpers come
from :mod:`test_browser` (skipped like it when /usr/bin/chromium is missing).
"""

import os
import subprocess
import sys

import pytest
from click.testing import CliRunner

from matcher import db
from matcher.cli import main

from helpers import make_brn
from test_browser import (CHROMIUM, CHROMIUM_ARGS, PASSWORD, ROOT, ROUND, _free_port, _wait_for_port,
                          applications_csv, firms_csv, sync_api)

pytestmark = [pytest.mark.browser, pytest.mark.slow]

WIDTH, HEIGHT = 390, 844
LEAD = make_brn(321)  # 비전부품1, a lead in 소재부품 (materials)
LARGE = make_brn(333)  # 한빛테크윈, a large partner: may not partner in 혁신성장 (innovation)

# The controls a user can reach that have no accessible name: no <label> (wrapping or for=) with text of
# its own, no aria-label, no aria-labelledby. A placeholder is not a label.
UNLABELLED_JS = """() => {
  const shown = el => el.getClientRects().length > 0 && getComputedStyle(el).visibility !== "hidden";
  const ownText = label => {
    const copy = label.cloneNode(true);
    copy.querySelectorAll("input, select, textarea, option").forEach(c => c.remove());
    return copy.textContent.trim();
  };
  const named = el => (el.getAttribute("aria-label") || "").trim()
    || (el.getAttribute("aria-labelledby") || "").split(/\\s+/).some(id => document.getElementById(id)?.textContent.trim())
    || Array.from(el.labels || []).some(ownText);
  return Array.from(document.querySelectorAll("input, select, textarea"))
    .filter(el => el.type !== "hidden" && shown(el) && !named(el))
    .map(el => el.outerHTML.slice(0, 160));
}"""

# What sticks out past the right edge of the viewport (for a readable failure message).
OVERFLOW_JS = """(width) => Array.from(document.querySelectorAll("body *"))
  .filter(el => el.getBoundingClientRect().right > width + 1 && el.getClientRects().length)
  .filter(el => !el.closest(".table-wrap, .figure"))
  .slice(0, 5).map(el => el.tagName.toLowerCase() + (el.id ? "#" + el.id : "") + "." + el.className
                         + " right=" + Math.round(el.getBoundingClientRect().right))"""


@pytest.fixture
def seeded_db(tmp_path):
    """The browser test's firms and applications in a round, through the matcher command line."""
    url = f"sqlite:///{tmp_path / 'browser.sqlite'}"
    (tmp_path / "firms.csv").write_text(firms_csv(), encoding="utf-8")
    (tmp_path / "applications.csv").write_text(applications_csv(), encoding="utf-8")
    runner = CliRunner()
    for args in (["init-db"], ["round", "create", ROUND, "--reference-date", "2026-10-01"],
                 ["import", "firms", str(tmp_path / "firms.csv")],
                 ["import", "applications", str(tmp_path / "applications.csv"), "--round", ROUND]):
        result = runner.invoke(main, args, env={"DATABASE_URL": url})
        assert result.exit_code == 0, (args, result.output)
    db.dispose_engines()
    return url


@pytest.fixture
def server(tmp_path, seeded_db):
    port = _free_port()
    env = dict(os.environ, DATABASE_URL=seeded_db, MATCHER_STAFF_PASSWORD=PASSWORD, MATCHER_SECRET_KEY="mobile")
    log = tmp_path / "server.log"
    with log.open("w", encoding="utf-8") as out:
        proc = subprocess.Popen([sys.executable, "-m", "web", "--port", str(port)], cwd=ROOT, env=env,
                                stdout=out, stderr=subprocess.STDOUT)
        try:
            _wait_for_port(port, proc, log)
            yield f"http://127.0.0.1:{port}"
        finally:
            proc.terminate()
            proc.wait(timeout=10)


@pytest.fixture
def phone():
    """A page in chromium at a phone's width."""
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": WIDTH, "height": HEIGHT}, locale="ko-KR",
                                      device_scale_factor=1, accept_downloads=True)
        yield context.new_page()
        context.close()
        browser.close()


def problems_of(page):
    """What is wrong with the page as shown: overflow past 390 px and unlabelled controls."""
    found = []
    scroll_width = page.evaluate("document.documentElement.scrollWidth")
    if scroll_width > WIDTH + 1:
        found.append(f"page scrolls sideways: scrollWidth {scroll_width} > {WIDTH}; "
                     f"sticking out: {page.evaluate(OVERFLOW_JS, WIDTH)}")
    found += [f"no label: {html}" for html in page.evaluate(UNLABELLED_JS)]
    return found


def expand_first_proposal(page):
    toggle = page.locator("tbody.proposal button.toggle").first
    if toggle.count() and toggle.get_attribute("aria-expanded") != "true":
        toggle.click()
    page.evaluate("document.querySelectorAll('.table-wrap').forEach(w => { w.scrollLeft = 0; })")


def prepare(page, server, tmp_path, seeded_db):
    """Log in, send an interest, upload a bad file, start a run, decide a pair, lock two leads on one partner;
    the URLs of every main page."""
    urls = {"login": server + "/login"}
    page.goto(urls["login"])
    page.fill("input[name=username]", "staff")
    page.fill("input[name=password]", PASSWORD)
    page.click("form.card button[type=submit]")
    page.wait_for_url("**/staff/")
    urls["rounds"] = page.url
    page.click(f"a:text-is('{ROUND}')")
    page.wait_for_url("**/staff/rounds/*")
    urls["round"] = page.url

    urls["firm"] = server + f"/firms/{LEAD}?track=materials"
    page.goto(urls["firm"])
    page.locator("form.interest input[name=note]").first.fill("모바일에서 보낸 희망")
    page.locator("form.interest button[type=submit]").first.click()
    page.wait_for_load_state()
    other = page.locator("li.result a.name").first.get_attribute("href")
    urls["partner"] = server + other if other.startswith("/") else other

    (tmp_path / "bad.csv").write_text("사업자등록번호,기업명\n123-45-67890,잘못된 번호\n", encoding="utf-8")
    page.goto(urls["round"])
    page.set_input_files("#upload-firms input[type=file]", str(tmp_path / "bad.csv"))
    page.click("#upload-firms button[type=submit]")
    page.wait_for_load_state()
    urls["import_report"] = page.url if page.url != urls["round"] else None

    page.goto(urls["round"])
    page.click("#run-form button[type=submit]")
    page.wait_for_url("**/staff/jobs/*")
    urls["job"] = page.url
    page.locator("#job-result").wait_for(state="visible", timeout=60_000)
    page.click("#job-result")
    page.wait_for_url("**/staff/runs/*")
    urls["run"] = page.url
    expand_first_proposal(page)
    first = page.locator("tbody.proposal").first
    first.locator("select[name=kind]").select_option("approve")
    first.locator("input[name=note]").fill("휴대폰에서 승인")
    first.locator("form.decide button[type=submit]").click()
    page.wait_for_load_state()
    history = page.locator("a.history").first.get_attribute("href")
    urls["pair_history"] = server + history if history.startswith("/") else history
    page.click("#pictures-link")
    page.wait_for_url("**/pictures")
    urls["pictures"] = page.url
    urls.update(search=server + "/?q=" + "비전", why_not=server + f"/firms/{LEAD}/why-not?track=innovation&other={LARGE}",
                describe=server + "/describe", tracks=server + "/tracks", interests=server + "/staff/interests",
                audit=server + "/staff/audit", not_found=server + "/staff/runs/999999")
    lock_two_leads_on_one_sme_partner(seeded_db)
    urls["conflicts"] = urls["run"]  # re-solved from there: refused, with the conflict and its fixes
    return {name: url for name, url in urls.items() if url}


def lock_two_leads_on_one_sme_partner(url):
    """Two locks on 누리전자 in 혁신성장 (1:1): a re-solve cannot hold both."""
    runner = CliRunner()
    for lead in (make_brn(301), make_brn(302)):
        result = runner.invoke(main, ["decide", ROUND, "--lead", lead, "--partner", make_brn(311), "--kind", "lock",
                                      "--track", "innovation", "--note", "모바일 충돌"], env={"DATABASE_URL": url})
        assert result.exit_code == 0, result.output
    db.dispose_engines()


def test_every_page_fits_a_phone_and_labels_every_input(server, phone, tmp_path, seeded_db):
    keep = os.environ.get("MATCHER_SCREENSHOTS") == "1"
    screenshots = ROOT / "docs" / "screenshots" if keep else tmp_path / "screenshots"
    screenshots.mkdir(parents=True, exist_ok=True)
    urls = prepare(phone, server, tmp_path, seeded_db)
    assert {"import_report", "job", "run", "pictures", "partner", "pair_history"} <= set(urls)

    found = {}
    for lang in ("ko", "en"):
        phone.goto(server + f"/?lang={lang}")
        for name, url in urls.items():
            if name == "login":
                continue  # checked logged out, below
            phone.goto(url)
            if name == "run":
                expand_first_proposal(phone)  # the decision form inside the row counts too
            if name == "conflicts":  # the answer to a re-solve the locks make impossible
                phone.click("#resolve")
                phone.wait_for_load_state()
                assert phone.locator("#conflicts button.fix").count() >= 1
            if name == "describe":
                phone.fill("input[name=name]", "모바일 기업")
                phone.click("form.describe button[type=submit]")
                phone.wait_for_load_state()
                assert phone.locator("li.result").count() > 0  # the form gave recommendations
            if lang == "ko":  # every page as a phone shows it, beside the test's other files
                phone.screenshot(path=str(tmp_path / f"page-{name}.png"), full_page=True)
            problems = problems_of(phone)
            if problems:
                found[f"{name} ({lang})"] = problems

    phone.goto(urls["firm"] + "&lang=ko")
    assert phone.locator("li.result").count() > 0
    phone.screenshot(path=str(screenshots / "mobile-partners.png"), full_page=True)
    phone.goto(urls["run"])
    expand_first_proposal(phone)
    phone.evaluate("document.getElementById('proposals').scrollIntoView()")
    phone.screenshot(path=str(screenshots / "mobile-proposals.png"))  # one phone screen of the proposals

    phone.context.clear_cookies()
    for lang in ("ko", "en"):
        phone.goto(urls["login"] + f"?lang={lang}")
        if problems_of(phone):
            found[f"login ({lang})"] = problems_of(phone)
    assert not found, "\n".join(f"{page}: {p}" for page, problems in found.items() for p in problems)
    for name in ("mobile-partners.png", "mobile-proposals.png"):
        data = (screenshots / name).read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n" and int.from_bytes(data[16:20], "big") == WIDTH  # 390 px wide
