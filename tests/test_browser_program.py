"""The program after the match in a real browser: a firm signs in with its code, sends interest, the partner
accepts it, staff take the pair through the stages and publish (on the command line), and the firm sees its
published result at 1280 px and at 390 px (no sideways scrolling, every control labelled). Screenshots go
to the test's folder (docs/screenshots/ with MATCHER_SCREENSHOTS=1). Skipped like test_browser without chromium.
"""

import csv
import os

import pytest
from click.testing import CliRunner

from matcher import db
from matcher.cli import main

from helpers import make_brn
from test_browser import CHROMIUM_ARGS, CHROMIUM, PASSWORD, ROOT, ROUND, sync_api
from test_browser_mobile import HEIGHT, WIDTH, problems_of, seeded_db, server  # noqa: F401  (fixtures)

pytestmark = [pytest.mark.browser, pytest.mark.slow]

LEAD = make_brn(321)  # 비전부품1, a lead in 소재부품 (materials)


def cli(url, *args):
    result = CliRunner().invoke(main, list(args), env={"DATABASE_URL": url})
    assert result.exit_code == 0, (args, result.output)
    return result.output


@pytest.fixture
def codes(seeded_db, tmp_path):
    receipts = tmp_path / "receipts.csv"
    cli(seeded_db, "access", "issue", ROUND, "--output", str(receipts))
    db.dispose_engines()
    with receipts.open(encoding="utf-8-sig") as fh:
        return {row["사업자등록번호"].replace("-", ""): row["접근 코드"] for row in csv.DictReader(fh)}


@pytest.fixture
def browser():
    with sync_api.sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def new_page(browser, width, height=900):
    context = browser.new_context(viewport={"width": width, "height": height}, locale="ko-KR", device_scale_factor=1)
    return context.new_page()


def sign_in(page, server, brn, code):
    page.goto(server + "/firm/login")
    page.fill("#firm-login input[name=brn]", brn)
    page.fill("#firm-login input[name=code]", code)
    page.click("#firm-login button[type=submit]")
    page.wait_for_url("**/my")


def test_a_firm_signs_in_sends_interest_the_partner_accepts_and_both_see_the_published_result(
        server, seeded_db, codes, browser, tmp_path):
    keep = os.environ.get("MATCHER_SCREENSHOTS") == "1"
    shots = ROOT / "docs" / "screenshots" if keep else tmp_path / "screenshots"
    shots.mkdir(parents=True, exist_ok=True)
    page = new_page(browser, 1280)
    sign_in(page, server, LEAD, codes[LEAD])
    assert "결과가 아직 공개되지 않았습니다" in page.locator("#results").inner_text()

    page.goto(server + f"/firms/{LEAD}?track=materials")
    form = page.locator("form.interest").first
    partner = form.locator("input[name=other]").get_attribute("value")
    form.locator("input[name=note]").fill("CCTV 부품 함께 해요")
    form.locator("button[type=submit]").click()
    page.wait_for_url("**/my")
    assert "매칭 희망을 보냈습니다" in page.locator(".flash.ok").inner_text()
    assert partner[:3] in page.locator("#inbox").inner_text().replace("-", "")

    other = new_page(browser, 1280)
    sign_in(other, server, partner, codes[partner])
    item = other.locator("#inbox li.interest-item").first
    assert "CCTV 부품 함께 해요" in item.inner_text()
    item.locator("input[name=reply]").fill("좋습니다")
    item.locator("button.accept").click()
    other.wait_for_url("**/my")
    assert "수락" in other.locator("#inbox").inner_text()
    other.goto(server + "/my/profile")
    other.fill("input[name=contact_name]", "김협력")
    other.fill("input[name=contact_phone]", "031-555-0101")
    other.click("#profile-form button[type=submit]")
    other.wait_for_url("**/my/profile")

    page.goto(server + "/my")
    assert "031-555-0101" in page.locator("#inbox").inner_text()  # contacts after both said yes

    cli(seeded_db, "decide", ROUND, "--lead", LEAD, "--partner", partner, "--kind", "approve")
    for stage, score in (("interview", "82"), ("site_visit", "77"), ("committee", "91")):
        cli(seeded_db, "stage", "record", ROUND, LEAD, partner, stage, score)
    cli(seeded_db, "stage", "confirm", ROUND, "materials", f"{LEAD}:{partner}")
    page.goto(server + "/my")
    assert "결과가 아직 공개되지 않았습니다" in page.locator("#results").inner_text()  # not yet published
    cli(seeded_db, "publish", ROUND)
    db.dispose_engines()

    page.goto(server + "/my")
    results = page.locator("#results").inner_text()
    assert "선정" in results and "심의위원회 91" in results
    assert "상생협력제품" in page.locator("#history").inner_text()
    page.screenshot(path=str(shots / "firm-result.png"), full_page=True)

    phone = new_page(browser, WIDTH, HEIGHT)
    sign_in(phone, server, LEAD, codes[LEAD])
    assert "선정" in phone.locator("#results").inner_text()
    assert problems_of(phone) == []
    phone.screenshot(path=str(shots / "firm-result-390.png"), full_page=True)
    for path in ("/my/profile", f"/firms/{LEAD}?track=materials"):
        phone.goto(server + path)
        assert problems_of(phone) == [], path

    staff = new_page(browser, WIDTH, HEIGHT)
    staff.goto(server + "/login")
    staff.fill("input[name=username]", "staff")
    staff.fill("input[name=password]", PASSWORD)
    staff.click("form.card button[type=submit]")
    staff.wait_for_url("**/staff/")
    staff.click(f"a:text-is('{ROUND}')")
    staff.click("#to-selection")
    staff.wait_for_url("**/selection")
    assert staff.locator("#funnel svg").count() == 1 and problems_of(staff) == []
