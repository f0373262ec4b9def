"""``python -m web``: the demo staff account is created once and its password printed."""

from sqlalchemy import select
from werkzeug.security import check_password_hash

from matcher import db
from web.__main__ import announce_staff


def test_staff_account_created_once_with_printed_password(db_url, capsys):
    announce_staff(db_url)
    printed = capsys.readouterr().out
    assert "username 'staff', password '" in printed
    password = printed.split("password '", 1)[1].split("'", 1)[0]
    assert len(password) >= 12
    with db.transaction(db_url) as s:
        row = s.scalars(select(db.UserRow).where(db.UserRow.username == "staff")).one()
        assert check_password_hash(row.password_hash, password) and row.role == "staff"
    announce_staff(db_url)
    assert "existing account" in capsys.readouterr().out


def test_password_from_environment_is_set_and_not_printed(db_url, capsys):
    announce_staff(db_url, "from-env-secret")
    printed = capsys.readouterr().out
    assert "from-env-secret" not in printed and "password from MATCHER_STAFF_PASSWORD" in printed
    with db.transaction(db_url) as s:
        row = s.scalars(select(db.UserRow).where(db.UserRow.username == "staff")).one()
        assert check_password_hash(row.password_hash, "from-env-secret")


def test_the_staff_password_print_says_how_to_set_a_new_one_first_time_and_after(db_url, capsys, monkeypatch):
    monkeypatch.setenv("MATCHER_LANG", "en")
    announce_staff(db_url)
    first = capsys.readouterr().out
    assert "shown only this once" in first and "matcher user password staff" in first
    assert "MATCHER_STAFF_PASSWORD" in first
    announce_staff(db_url)
    again = capsys.readouterr().out
    assert "existing account" in again and "matcher user password staff" in again
    monkeypatch.setenv("MATCHER_LANG", "ko")
    announce_staff(db_url)
    assert "비밀번호를 잊었다면" in capsys.readouterr().out
