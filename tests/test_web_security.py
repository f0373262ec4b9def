"""Security through the real app and its test client: redirects, login throttling and timing, logout that
ends the session server-side, private instance files, viewer accounts, the user commands."""

import os
import stat

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from matcher import db
from matcher.cli import main
from matcher.users import ensure_user
from web import create_app

from helpers import STAFF_PASSWORD, login


# --- open redirect -------------------------------------------------------------------------------

@pytest.mark.parametrize("target", ["/%09/evil.example/phish", "//evil.example/", "/%5Cevil.example",
                                    "https://evil.example/", "/%0d%0aSet-Cookie:%20x=1", "/%20/evil.example",
                                    "javascript:alert(1)", "/\\/evil.example"])
def test_login_never_redirects_off_site(client, round_id, target):
    response = client.post(f"/login?next={target}", data=dict(username="staff", password=STAFF_PASSWORD))
    assert response.status_code == 302
    assert response.headers["Location"] == "/staff/"


def test_a_same_site_path_with_its_query_is_kept(client, round_id):
    response = client.post(f"/login?next=/staff/rounds/{round_id}%3Ftrack%3Dmaterials",
                           data=dict(username="staff", password=STAFF_PASSWORD))
    assert response.headers["Location"] == f"/staff/rounds/{round_id}?track=materials"


# --- throttling ----------------------------------------------------------------------------------

@pytest.fixture
def strict(db_url):
    app = create_app({"TESTING": True, "DATABASE_URL": db_url, "SECRET_KEY": "test", "WTF_CSRF_ENABLED": False,
                      "LOGIN_LIMIT_ACCOUNT": "5 per 15 minutes", "LOGIN_LIMIT_ADDRESS": "8 per 15 minutes"})
    with db.transaction(db_url) as s:
        for name in ("staff", "other"):
            ensure_user(s, name, STAFF_PASSWORD, method="pbkdf2:sha256:1000")
    return app


def test_an_account_is_locked_after_too_many_wrong_passwords_even_for_the_right_one(strict):
    client = strict.test_client()
    for _ in range(5):
        assert login(client, password="wrong").status_code == 401
    locked = login(client)
    assert locked.status_code == 429 and int(locked.headers["Retry-After"]) > 0
    assert "로그인 시도가 너무 많아 잠시 막혔습니다" in locked.get_data(as_text=True)
    client.get("/?lang=en")
    assert "Too many login attempts; try again in 15 minute(s)." in login(client).get_data(as_text=True)
    assert login(client, "other", STAFF_PASSWORD).status_code == 302  # another account from the same address


@pytest.mark.slow
def test_an_address_is_limited_across_accounts(strict):
    client = strict.test_client()
    for n in range(8):
        assert login(client, f"nobody{n}", "wrong").status_code == 401
    assert login(client, "other", STAFF_PASSWORD).status_code == 429
    elsewhere = strict.test_client()
    response = elsewhere.post("/login", data=dict(username="other", password=STAFF_PASSWORD),
                              environ_base={"REMOTE_ADDR": "127.0.0.9"})
    assert response.status_code == 302


def test_the_api_login_is_throttled_with_a_json_429(strict):
    client = strict.test_client()
    for _ in range(5):
        assert client.post("/api/v1/session", json={"username": "staff", "password": "x"}).status_code == 401
    response = client.post("/api/v1/session", json={"username": "staff", "password": STAFF_PASSWORD})
    assert response.status_code == 429 and "Retry-After" in response.headers
    assert "로그인 시도가 너무 많아" in response.get_json()["error"]["message"]


def test_a_known_and_an_unknown_user_cost_the_same_hash_check(db_url, monkeypatch):
    """A wrong password for a known user and any password for an unknown one each check one real (scrypt)
    hash, so the answer's time does not tell whether the name exists (before, an unknown name answered in
    7 ms against 126 ms)."""
    from matcher import users
    app = create_app({"TESTING": True, "DATABASE_URL": db_url, "SECRET_KEY": "test", "WTF_CSRF_ENABLED": False,
                      "LOGIN_LIMIT_ACCOUNT": "1000 per minute", "LOGIN_LIMIT_ADDRESS": "1000 per minute"})
    with db.transaction(db_url) as s:
        ensure_user(s, "real", "a real password")
    client = app.test_client()
    checked, check = [], users.check_password_hash

    def recording(pwhash, password):
        checked.append(pwhash.split("$")[0])  # the method and its cost parameters
        return check(pwhash, password)

    monkeypatch.setattr(users, "check_password_hash", recording)
    for username in ("real", "nobody"):
        assert login(client, username, "wrong password").status_code == 401
    known, unknown = checked
    assert known == unknown and known.startswith("scrypt:"), checked


# --- logout ends the session server-side ----------------------------------------------------------

@pytest.mark.parametrize("how", ["api", "form"])
def test_a_copied_cookie_stops_working_after_logout(app, round_id, how):
    client = app.test_client()
    assert login(client).status_code == 302
    cookie = client.get_cookie("session").value
    assert client.get("/staff/").status_code == 200
    if how == "api":
        assert client.delete("/api/v1/session").status_code == 200
    else:
        assert client.post("/logout").status_code == 302
    thief = app.test_client()
    thief.set_cookie("session", cookie)
    assert thief.get("/staff/").status_code == 302  # to the login page
    assert thief.get(f"/api/v1/rounds/{round_id}/runs").status_code == 401
    assert login(client).status_code == 302 and client.get("/staff/").status_code == 200  # a new login works


def test_a_password_change_ends_every_session(app, round_id):
    client = app.test_client()
    assert login(client).status_code == 302
    result = CliRunner().invoke(main, ["user", "password", "staff", "--password-stdin"], input="a new password\n")
    assert result.exit_code == 0, result.output
    assert client.get("/staff/").status_code == 302
    assert login(client, password="a new password").status_code == 302


# --- files and the console -------------------------------------------------------------------------

def test_instance_files_are_private(tmp_path, monkeypatch):
    monkeypatch.setenv("MATCHER_INSTANCE", str(tmp_path / "instance"))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.delenv("MATCHER_SECRET_KEY", raising=False)
    monkeypatch.delenv("SECRET_KEY", raising=False)
    os.umask(0o022)
    try:
        create_app({"TESTING": True})
    finally:
        db.dispose_engines()
    instance = tmp_path / "instance"
    for path, mode in ((instance, 0o700), (instance / "matcher.sqlite", 0o600), (instance / "secret_key", 0o600)):
        assert stat.S_IMODE(path.stat().st_mode) == mode, path


def test_an_existing_world_readable_default_database_is_tightened(tmp_path, monkeypatch):
    monkeypatch.setenv("MATCHER_INSTANCE", str(tmp_path))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    path = tmp_path / "matcher.sqlite"
    path.touch(mode=0o644)
    path.chmod(0o644)
    try:
        db.init_db()
    finally:
        db.dispose_engines()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


# --- accounts ----------------------------------------------------------------------------------------

def test_user_add_then_log_in_as_viewer(app, client, round_id):
    runner = CliRunner()
    result = runner.invoke(main, ["user", "add", "kim", "--role", "viewer", "--password-stdin"],
                           input="viewer secret 1\n")
    assert result.exit_code == 0 and "user 'kim' created (role viewer)" in result.output
    assert "viewer secret 1" not in result.output
    again = runner.invoke(main, ["user", "add", "kim", "--password-stdin"], input="viewer secret 1\n")
    assert again.exit_code == 2 and "already exists" in again.output
    short = runner.invoke(main, ["user", "add", "lee", "--password-stdin"], input="short\n")
    assert short.exit_code == 2 and "at least 8 characters" in short.output
    assert login(client, "kim", "viewer secret 1").status_code == 302
    assert client.get(f"/staff/rounds/{round_id}").status_code == 200
    refused = client.post("/staff/rounds", data={"name": "새 회차", "reference_date": "2026-10-01"})
    assert refused.status_code == 403 and "열람 전용" in refused.get_data(as_text=True)
    with db.transaction(app.config["DATABASE_URL"]) as s:
        assert s.scalars(select(db.UserRow.role).where(db.UserRow.username == "kim")).one() == "viewer"


def test_user_password_prompts_twice(app):
    result = CliRunner().invoke(main, ["user", "password", "staff"], input="prompted password\nprompted password\n")
    assert result.exit_code == 0, result.output
    assert "prompted password" not in result.output
    assert login(app.test_client(), password="prompted password").status_code == 302
    missing = CliRunner().invoke(main, ["user", "password", "nobody", "--password-stdin"], input="whatever 123\n")
    assert missing.exit_code == 2 and "user 'nobody' not found" in missing.output


def test_templates_know_whether_the_user_may_edit(app):
    from flask import g, render_template_string
    for role, expected in (("staff", "True"), ("admin", "True"), ("viewer", "False")):
        with app.test_request_context("/"):
            g.user = db.UserRow(username="x", role=role, active=True)
            assert render_template_string("{{ can_edit }} {{ is_staff }}") == f"{expected} True"
    with app.test_request_context("/"):
        g.user = None
        assert render_template_string("{{ can_edit }} {{ is_staff }}") == "False False"
