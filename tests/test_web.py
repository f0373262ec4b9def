"""Flask test client over the app's routes: access control, CSRF, escaping, language, errors, SME pages."""

import re
from pathlib import Path
from urllib.parse import unquote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from matcher import db
from matcher.text import control_character
from web import create_app
from web.auth import ensure_user

from helpers import ROUND, count, login, make_brn


def _staff_urls(app, round_id):
    """Every staff and staff-API URL with sample arguments, with the methods each accepts."""
    values = {"round_id": round_id, "run_id": 1, "job_id": "abc", "kind": "firms", "fmt": "csv", "lead": "1078153660", "partner": "1078153660"}
    for rule in app.url_map.iter_rules():
        path = str(rule.rule)
        if not path.startswith("/staff") and rule.endpoint.split(".")[-1] not in STAFF_API:
            continue
        url = re.sub(r"<(?:\w+:)?(\w+)>", lambda m: str(values[m.group(1)]), path)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            yield method, url


STAFF_API = {"runs", "start_run", "job", "run", "run_proposals", "decisions", "decide"}


def test_anonymous_refused_everywhere_staff(app, client, round_id):
    urls = list(_staff_urls(app, round_id))
    assert len(urls) >= 20
    for method, url in urls:
        response = client.open(url, method=method)
        if url.startswith("/api/"):
            assert response.status_code == 401, (method, url)
            assert response.get_json()["error"]["status"] == 401
        else:
            assert response.status_code == 302, (method, url)
            assert response.headers["Location"].startswith("/login?next=")


def test_viewer_reads_the_workbench_but_changes_nothing(app, client, round_id):
    assert login(client, "viewer", "viewer password").status_code == 302
    urls = list(_staff_urls(app, round_id))
    assert {m for m, _u in urls} >= {"GET", "POST"}
    for method, url in urls:
        response = client.open(url, method=method)
        if method == "GET":
            assert response.status_code != 403, (method, url)
        else:
            assert response.status_code == 403, (method, url)
            assert "열람 전용" in response.get_data(as_text=True), (method, url)
    page = client.get(f"/staff/rounds/{round_id}").get_data(as_text=True)
    for form in ('id="run-form"', 'id="rename-form"', 'id="upload-firms"', '>저장<'):
        assert form not in page, form  # a viewer is not offered what would be refused
    assert 'id="create-round"' not in client.get("/staff/").get_data(as_text=True)


def test_user_without_a_staff_role_gets_403(app, client, round_id):
    with db.transaction(app.config["DATABASE_URL"]) as s:
        ensure_user(s, "guest", "guest password", role="guest", method="pbkdf2:sha256:1000")
    assert login(client, "guest", "guest password").status_code == 302
    for method, url in _staff_urls(app, round_id):
        assert client.open(url, method=method).status_code == 403, (method, url)


def test_login_rejects_wrong_password_and_redirects_back(client, round_id):
    assert login(client, password="wrong").status_code == 401
    response = client.post(f"/login?next=/staff/rounds/{round_id}",
                           data=dict(username="staff", password="correct horse"))
    assert response.headers["Location"] == f"/staff/rounds/{round_id}"
    response = client.post("/login?next=//evil.example/", data=dict(username="staff", password="correct horse"))
    assert response.headers["Location"] == "/staff/"


def test_password_is_stored_hashed(app):
    with db.transaction(app.config["DATABASE_URL"]) as s:
        row = s.scalars(select(db.UserRow).where(db.UserRow.username == "staff")).one()
        assert "correct horse" not in row.password_hash
        assert row.password_hash.startswith("pbkdf2:sha256:1000$")
        assert ensure_user(s, "another") is not None
        assert s.scalars(select(db.UserRow).where(db.UserRow.username == "another")).one(
        ).password_hash.startswith("scrypt:")


def test_security_headers(client):
    response = client.get("/")
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_cookie_flags(app, client):
    response = login(client)
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie
    secure = create_app({"DATABASE_URL": app.config["DATABASE_URL"], "SECRET_KEY": "x",
                         "SESSION_COOKIE_SECURE": True, "WTF_CSRF_ENABLED": False})
    assert "Secure" in login(secure.test_client()).headers["Set-Cookie"]


@pytest.fixture
def csrf_app(db_url, app):
    return create_app({"DATABASE_URL": db_url, "SECRET_KEY": "test"})


def _token(client):
    return client.get("/api/v1/csrf-token").get_json()["csrf_token"]


def test_missing_csrf_token_refused(csrf_app, round_id):
    client = csrf_app.test_client()
    assert login(client).status_code == 400  # the login form itself needs the token
    assert login(client, csrf_token=_token(client)).status_code == 302
    response = client.post("/staff/rounds", data=dict(name="새 회차", reference_date="2026-05-01"))
    assert response.status_code == 400 and b"CSRF" in response.data
    response = client.post(f"/api/v1/rounds/{round_id}/decisions",
                           json=dict(lead=make_brn(1), partner=make_brn(11), kind="approve"))
    assert response.status_code == 400
    assert "CSRF" in response.get_json()["error"]["message"]
    with db.transaction(csrf_app.config["DATABASE_URL"]) as s:
        assert count(s, db.RoundRow) == 1 and count(s, db.DecisionRow) == 0
    response = client.post("/staff/rounds", data=dict(name="새 회차", reference_date="2026-05-01",
                                                      csrf_token=_token(client)))
    assert response.status_code == 302


def test_create_round_and_toggle_tracks(staff, app):
    response = staff.post("/staff/rounds", data=dict(name="2026년 3차", reference_date="2026-06-01",
                                                     track_materials="1", track_construction="1"))
    assert response.status_code == 302
    page = staff.get(response.headers["Location"]).get_data(as_text=True)
    assert "2026년 3차" in page and "2026-06-01" in page
    round_id = int(response.headers["Location"].rsplit("/", 1)[1])
    assert staff.post(f"/staff/rounds/{round_id}/tracks", data=dict(track_innovation="1")).status_code == 302
    with db.transaction(app.config["DATABASE_URL"]) as s:
        assert db.get_round(s, round_id).open_tracks == ["innovation"]
    again = staff.post("/staff/rounds", data=dict(name="2026년 3차", reference_date="2026-06-01"),
                       follow_redirects=True)
    assert "같은 이름의 회차가 이미 있습니다" in again.get_data(as_text=True)
    assert staff.post("/staff/rounds", data=dict(name="x", reference_date="June")).status_code == 400


def test_round_pages_and_audit(staff, round_id):
    page = staff.get(f"/staff/rounds/{round_id}").get_data(as_text=True)
    assert ROUND in page and "소재부품" in page
    assert staff.get("/staff/").status_code == 200
    staff.post(f"/staff/rounds/{round_id}/tracks", data=dict(track_materials="1"))
    audit = staff.get("/staff/audit").get_data(as_text=True)
    assert "round.tracks" in audit and ROUND in audit  # Korean kept readable, not \\uXXXX


def test_script_firm_name_is_escaped(client, round_id):
    page = client.get("/?q=script").get_data(as_text=True)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<script>alert(1)" not in page
    page = client.get(f"/firms/{make_brn(99)}").get_data(as_text=True)
    assert "&lt;script&gt;" in page and "<script>alert" not in page


def test_language_switch_sticks_in_session(client, round_id):
    assert "내 기업 찾기" in client.get("/").get_data(as_text=True)
    page = client.get("/?lang=en").get_data(as_text=True)
    assert "Find my firm" in page and 'lang="en"' in page
    page = client.get(f"/firms/{make_brn(1)}/why-not?track=innovation&other={make_brn(20)}").get_data(as_text=True)
    assert "Innovation growth" in page and "may not join" in page
    assert "Daejeon (대전)" in client.get(f"/firms/{make_brn(1)}").get_data(as_text=True)
    assert "내 기업 찾기" in client.get("/?lang=ko").get_data(as_text=True)


def test_search_by_brn_and_name(client, round_id):
    response = client.get(f"/?q={make_brn(1)[:3]}-{make_brn(1)[3:5]}-{make_brn(1)[5:]}")
    assert response.status_code == 302 and response.headers["Location"] == f"/firms/{make_brn(1)}"
    page = client.get("/?q=주관").get_data(as_text=True)
    assert page.count("/firms/") == 6
    assert "찾는 기업이 없습니다" in client.get("/?q=없는회사").get_data(as_text=True)


def test_why_not_gives_the_rule_reasons(client, round_id):
    page = client.get(f"/firms/{make_brn(1)}/why-not?track=innovation&other={make_brn(20)}").get_data(as_text=True)
    assert "대기업" in page and "혁신성장" in page
    by_name = client.get(f"/firms/{make_brn(1)}/why-not?track=innovation&other=대기업 테크윈").get_data(as_text=True)
    assert "may not join" not in by_name and "대기업 테크윈" in by_name and "대기업" in by_name
    ambiguous = client.get(f"/firms/{make_brn(1)}/why-not?track=innovation&other=협력")
    assert ambiguous.status_code == 200  # several firms match: the candidates to pick from, not a 404
    page = ambiguous.get_data(as_text=True)
    assert "하나를 고르세요" in page and page.count('<li><a href="/firms/') >= 2
    assert client.get(f"/firms/{make_brn(1)}/why-not?track=innovation&other=없는회사이름").status_code == 404
    data = client.get(f"/api/v1/firms/{make_brn(1)}/why-not?track=innovation&other={make_brn(20)}").get_json()
    assert data["eligible"] is False and "partner_size" in {r["code"] for r in data["reasons"]}
    data = client.get(f"/api/v1/firms/{make_brn(1)}/why-not?track=materials&other={make_brn(11)}").get_json()
    assert {k: data[k] for k in ("firm", "other", "eligible", "reasons", "in_pool")} == {
        "firm": make_brn(1), "other": make_brn(11), "eligible": True, "reasons": [], "in_pool": True}
    data = client.get(f"/api/v1/firms/{make_brn(1)}/why-not?track=convergence&other={make_brn(11)}").get_json()
    assert "track_closed" in {r["code"] for r in data["reasons"]}  # the round did not open 기술융합


def test_express_interest_is_shown_to_staff(app, client, round_id):
    response = client.post(f"/firms/{make_brn(1)}/interest",
                           data=dict(partner=make_brn(11), track="materials", round=ROUND, note="렌즈 협력 희망"))
    assert response.status_code == 302 and "/firm/login" in response.headers["Location"]  # anonymous: sign in
    with db.transaction(app.config["DATABASE_URL"]) as s:
        assert count(s, db.InterestRow) == 0
    login(client)  # staff act for the firm
    client.post(f"/firms/{make_brn(1)}/interest",
                data=dict(partner=make_brn(11), track="materials", round=ROUND, note="렌즈 협력 희망"))
    page = client.get("/staff/interests").get_data(as_text=True)
    assert "주관1 영상" in page and "협력1 소재" in page and "렌즈 협력 희망" in page
    client.post(f"/firms/{make_brn(1)}/interest", data=dict(partner=make_brn(11), track="materials", round=ROUND))
    with db.transaction(app.config["DATABASE_URL"]) as s:
        assert count(s, db.InterestRow) == 1
        lead_id = db.get_firm(s, make_brn(1)).id
        application = s.scalars(select(db.ApplicationRow).where(db.ApplicationRow.firm_id == lead_id)).one()
        assert application.preferences == [make_brn(11)]  # once, though asked twice
    assert client.post(f"/firms/{make_brn(1)}/interest", data=dict(partner=make_brn(11), track="x")).status_code == 400


def test_friendly_errors_html_and_json(client, round_id):
    page = client.get("/firms/1234567890")
    assert page.status_code == 404 and "찾을 수 없습니다" in page.get_data(as_text=True)
    assert client.get("/no/such/page").status_code == 404
    data = client.get("/api/v1/rounds/999").get_json()
    assert data["error"] | {"message": None} == {"status": 404, "code": "round.not_found", "message": None,
                                                 "message_en": "round 999 not found", "message_ko": "999번 회차가 없습니다."}
    assert data["error"]["message"] == "999번 회차가 없습니다."  # the page's language (Korean by default)
    assert client.get("/api/v1/nothing").get_json()["error"]["status"] == 404
    response = client.get(f"/api/v1/firms/{make_brn(1)}/recommendations")
    assert response.status_code == 400 and "track" in response.get_json()["error"]["message"]
    assert client.delete("/api/v1/rounds").get_json()["error"]["status"] == 405


def test_public_api_rounds(client, round_id):
    data = client.get("/api/v1/rounds").get_json()
    assert data["rounds"][0]["name"] == ROUND
    assert data["rounds"][0]["applications"] == {"materials/lead": 6, "materials/partner": 3}
    assert client.get(f"/api/v1/rounds/{round_id}").get_json()["open_tracks"] == ["materials", "innovation"]
    endpoints = client.get("/api/v1/").get_json()["endpoints"]
    methods = {(e["path"], m) for e in endpoints for m in e["methods"]}
    assert {("/api/v1/rounds/<int:round_id>/decisions", "GET"), ("/api/v1/rounds/<int:round_id>/decisions", "POST"),
            ("/api/v1/rounds", "GET")} <= methods
    assert all(e["doc"] for e in endpoints)


def test_describe_validates_input(client, round_id):
    assert client.post("/describe", data=dict(name="x", size="거대기업", track="materials")).status_code == 400
    assert client.post("/describe", data=dict(name="x", size="소기업", founded="어제")).status_code == 400
    assert client.get("/describe").status_code == 200


def test_upload_refuses_wrong_type_and_size(staff, app, round_id):
    from io import BytesIO
    response = staff.post(f"/staff/rounds/{round_id}/import/firms",
                          data={"file": (BytesIO(b"x"), "firms.pdf")}, content_type="multipart/form-data")
    assert response.status_code == 400 and ".csv" in response.get_data(as_text=True)
    assert staff.post(f"/staff/rounds/{round_id}/import/firms", data={},
                      content_type="multipart/form-data").status_code == 400
    app.config["MAX_CONTENT_LENGTH"] = 1000
    response = staff.post(f"/staff/rounds/{round_id}/import/firms",
                          data={"file": (BytesIO(b"a," * 2000), "firms.csv")}, content_type="multipart/form-data")
    assert response.status_code == 413


def test_every_message_used_in_templates_exists_in_both_languages():
    from pathlib import Path

    from matcher import messages
    templates = Path(__file__).resolve().parent.parent / "web" / "templates"
    used = set()
    for path in templates.rglob("*.html"):
        used |= set(re.findall(r"_\('(ui\.[a-z0-9_.]+)'", path.read_text(encoding="utf-8")))
    assert len(used) > 80
    used = {key for key in used if not key.endswith("_")}  # prefixes such as 'ui.status_' ~ status
    assert [key for key in sorted(used) if not (messages.known(key, "ko") and messages.known(key, "en"))] == []


def test_api_login_needs_csrf_header_and_starts_a_session(csrf_app, round_id):
    client = csrf_app.test_client()
    body = dict(username="staff", password="correct horse")
    assert client.post("/api/v1/session", json=body).status_code == 400
    token = _token(client)
    wrong = client.post("/api/v1/session", json=dict(body, password="x"), headers={"X-CSRFToken": token})
    assert wrong.status_code == 401 and wrong.get_json()["error"]["message"] == "unknown username or wrong password"
    assert client.get(f"/api/v1/rounds/{round_id}/runs").status_code == 401
    ok = client.post("/api/v1/session", json=body, headers={"X-CSRFToken": token})
    assert ok.get_json() == {"username": "staff", "role": "staff"}
    assert client.get(f"/api/v1/rounds/{round_id}/runs").get_json() == {"runs": []}
    response = client.post(f"/api/v1/rounds/{round_id}/decisions", headers={"X-CSRFToken": token},
                           json=dict(lead=make_brn(1), partner=make_brn(11), kind="forbid", note="API"))
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["decision"]["note"] == "API"


def test_unexpected_error_is_a_friendly_500(db_url, caplog):
    app = create_app({"DATABASE_URL": db_url, "SECRET_KEY": "x"})

    def broken():
        raise RuntimeError("boom")

    app.add_url_rule("/broken", view_func=broken)
    app.add_url_rule("/api/v1/broken", endpoint="api_broken", view_func=broken)
    page = app.test_client().get("/broken")
    text = page.get_data(as_text=True)
    assert page.status_code == 500 and "서버 오류" in text and "boom" not in text
    data = app.test_client().get("/api/v1/broken").get_json()
    assert data["error"]["status"] == 500 and "boom" not in data["error"]["message"]
    assert "RuntimeError: boom" in caplog.text


def test_track_rules_page_in_both_languages(client, round_id):
    page = client.get("/tracks").get_data(as_text=True)
    assert "혁신성장" in page and "직접생산확인" in page and "5–∞" in page and "닫힘" in page  # value: closed
    page = client.get("/tracks?lang=en").get_data(as_text=True)
    assert "Innovation growth" in page and "direct-production certificate" in page and "large firm (대기업)" in page

_fixture_ok = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@_fixture_ok
@given(query=st.text(max_size=30), brn=st.text(alphabet="0123456789-x%_<", max_size=14))
def test_any_search_or_firm_path_answers_without_server_error(client, round_id, query, brn):
    refused = control_character(query) is not None  # NUL and other control characters: a clear 400
    assert client.get("/", query_string={"q": query}).status_code in ((400,) if refused else (200, 302))
    response = client.get(f"/firms/{brn or 'x'}", query_string={"track": query, "k": query, "size_filter": query})
    refused = refused or control_character(unquote(brn)) is not None
    assert response.status_code in ((400,) if refused else (200, 404, 308))


# --- the results list written out in Python (web/i18n.py ``_result_items``) against a plain Jinja loop ---

DATA = Path(__file__).parent / "data"
# The results list as a plain template loop (the slow obvious form): the helper must give these bytes.
REFERENCE_LOOP = (DATA / "results_list.html.jinja").read_text(encoding="utf-8")
NEW_LOOP = """{% if firm %}
  {% set partner_href = url_for('search.partner', brn=firm.brn, other='__other__', track=form.track, round=form.round, as_partner=1 if form.as_partner else '') %}
  {% set interest_action, csrf = url_for('program.send', brn=firm.brn), csrf_token() %}{% endif %}
  <ol class="results">
    {{ result_items(rows, firm, form, partner_href, interest_action, csrf) if firm else result_items(rows, firm, form) }}
  </ol>
"""

_text = st.text(alphabet=st.sampled_from("가나다ab<>&\"' 1·"), max_size=8)
_reason = st.fixed_dictionaries({"ko": _text, "en": _text})
_row = st.fixed_dictionaries({
    "brn": st.sampled_from(["1078153660", "2088107080", "1838666960"]), "name": _text,
    "size_class": st.sampled_from(["소기업", "중기업", "대기업", "기타"]), "region": st.sampled_from(["서울", "대전", "세종", "?"]),
    "score": st.floats(0, 1), "reasons": st.lists(_reason, max_size=3),
    "components": st.lists(st.fixed_dictionaries({"name": st.sampled_from(["text", "region"]),
                                                   "label_ko": _text, "label_en": _text,
                                                   "contribution": st.floats(0, 1)}), max_size=3),
    "applied_label": st.none() | _reason,
    "interest": st.none() | st.fixed_dictionaries({"ok": st.booleans(), "problems": st.lists(_reason, max_size=2)})})


@pytest.mark.slow
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(_row, max_size=4), lang=st.sampled_from(["ko", "en"]), with_firm=st.booleans(),
       as_partner=st.booleans(), track=_text, round_name=_text)
def test_result_items_render_what_the_plain_loop_renders(app, rows, lang, with_firm, as_partner, track, round_name):
    from flask import render_template_string
    form = {"as_partner": as_partner, "track": track, "round": round_name}
    firm = {"brn": "1078153660"} if with_firm else None
    with app.test_request_context(f"/firms/1078153660?lang={lang}"):
        from flask import session
        session["lang"] = lang
        kw = dict(rows=rows, firm=firm, form=form)
        assert render_template_string(NEW_LOOP, **kw) == render_template_string(REFERENCE_LOOP, **kw)


@pytest.mark.slow
def test_firm_page_results_are_what_the_plain_loop_renders(app, client, round_id):
    """The firm page's list (real recommendations, both roles and languages) is what the plain loop renders."""
    from flask import render_template_string

    from matcher import directory
    with db.transaction(app.config["DATABASE_URL"]) as s:
        brns = [b for b, in s.execute(select(db.FirmRow.brn).order_by(db.FirmRow.id))]
    checked = 0
    for lang in ("ko", "en"):
        client.get(f"/tracks?lang={lang}")
        for brn in brns:
            for as_partner in ("", "1"):
                page = client.get(f"/firms/{brn}?track=materials&as_partner={as_partner}").get_data(as_text=True)
                if '<ol class="results">' not in page:
                    continue
                with app.test_request_context(f"/firms/{brn}"):
                    from flask import session
                    session["lang"] = lang
                    with db.transaction(app.config["DATABASE_URL"]) as s:
                        found = directory.recommend(s, brn, track="materials", as_partner=bool(as_partner))
                        form = {"as_partner": bool(as_partner), "track": "materials", "round": found["round"] or ""}
                        ref = render_template_string(REFERENCE_LOOP, rows=found["recommendations"],
                                                     firm={"brn": brn}, form=form)
                csrf = re.search(r'name="csrf-token" content="([^"]*)"', page).group(1)
                ref = re.sub(r'(name="csrf_token" value=")[^"]*', lambda m: m.group(1) + csrf, ref)
                block = slice(page.index('  <ol class="results">'), page.index("  </ol>") + 7)
                assert page[block] == ref[ref.index('  <ol class="results">'):ref.index("  </ol>") + 7]
                checked += 1
    assert checked >= 4


# The search form's choices as a plain Jinja macro (the slow obvious form of ``_search_controls``).
REFERENCE_CONTROLS = (DATA / "search_controls.html.jinja").read_text(encoding="utf-8")
NEW_CONTROLS = "{{ search_controls_html(form, rounds, tracks, regions, sizes, certificate_kinds, with_role) }}"


class _Round:
    def __init__(self, name):
        self.name = name


@pytest.mark.slow
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(lang=st.sampled_from(["ko", "en"]), rounds=st.lists(_text, max_size=3), with_role=st.booleans(),
       picked=st.fixed_dictionaries({"round": _text, "track": st.sampled_from(["", "materials", "innovation", "x<"]),
                                     "region": st.sampled_from(["", "서울", "세종", "?"]),
                                     "size": st.sampled_from(["", "소기업", "대기업"]),
                                     "certificate": st.sampled_from(["", "patent", "direct_production"]),
                                     "as_partner": st.booleans()}),
       pick_round=st.booleans())
def test_search_controls_render_what_the_plain_macro_renders(app, lang, rounds, with_role, picked, pick_round):
    from flask import render_template_string, session

    from matcher import directory
    from matcher.firms import CERTIFICATE_KINDS, SIZE_CLASSES
    from matcher.tracks import TRACKS
    if pick_round and rounds:
        picked = dict(picked, round=rounds[0])
    kw = dict(form=picked, rounds=[_Round(r) for r in rounds], tracks=TRACKS, regions=directory.region_names(),
              sizes=SIZE_CLASSES, certificate_kinds=list(CERTIFICATE_KINDS), with_role=with_role)
    with app.test_request_context("/"):
        session["lang"] = lang
        assert render_template_string(NEW_CONTROLS, **kw) == render_template_string(REFERENCE_CONTROLS, **kw)
