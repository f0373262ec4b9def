"""Staff accounts: create, change passwords, check credentials, end sessions (shared by the CLI and the web).

Passwords are hashed with werkzeug (scrypt by default). :func:`authenticate` takes the same time for a
known and an unknown username (an unknown one is checked against a dummy hash), so timing does not tell
which accounts exist. Each user row carries a ``session_version``: a login session records it, and
:func:`end_sessions` (logout, a password change) increments it, so every copied cookie stops working.
"""

from __future__ import annotations

import secrets
import unicodedata
from functools import lru_cache

from sqlalchemy import select
from werkzeug.security import check_password_hash, generate_password_hash

from . import db
from .errors import MatcherError, NotFoundError
from .messages import msg
from .text import TextError, clean_text

ROLES = ("staff", "viewer", "admin")
"""``staff`` and ``admin`` may change things; ``viewer`` sees the staff workbench read-only."""
EDIT_ROLES = frozenset({"staff", "admin"})
DEFAULT_METHOD = "scrypt"
MIN_PASSWORD = 8


class UserError(MatcherError):
    """A username, role or password that cannot be used (``str()`` English, ``text("ko")`` Korean)."""

    def __init__(self, message):
        super().__init__(message)


def check_username(name):
    """The username as stored (NFC, trimmed); refused when blank, too long or with control characters."""
    try:
        text = clean_text(name, max_length=100, single_line=True).strip()
    except TextError as exc:
        raise UserError(msg("user.bad_name", reason=exc.reason)) from None
    if not text:
        raise UserError(msg("user.empty_name"))
    return text


def check_role(role):
    if role not in ROLES:
        raise UserError(msg("user.bad_role", role=str(role), known=list(ROLES)))
    return role


def check_password(password):
    """A password to set: at least :data:`MIN_PASSWORD` characters, no control characters."""
    password = unicodedata.normalize("NFC", str(password or ""))
    if len(password) < MIN_PASSWORD:
        raise UserError(msg("user.short_password", n=MIN_PASSWORD))
    try:
        return clean_text(password, max_length=1000, single_line=True)
    except TextError as exc:
        raise UserError(msg("user.bad_password", reason=exc.reason)) from None


def hash_password(password, method=DEFAULT_METHOD):
    return generate_password_hash(password, method)


@lru_cache(maxsize=8)
def _dummy_hash(method):
    return generate_password_hash(secrets.token_urlsafe(16), method)


def user_by_id(session, user_id):
    """The user with this id (as kept in a session cookie), or None."""
    return session.get(db.UserRow, db.as_id(user_id)) if db.as_id(user_id or "") is not None else None


def find_user(session, username):
    """The :class:`~matcher.db.UserRow` called ``username``, or None."""
    name = unicodedata.normalize("NFC", str(username or "")).strip()
    return session.scalars(select(db.UserRow).where(db.UserRow.username == name)).first()


def get_user(session, username):
    row = find_user(session, username)
    if row is None:
        raise NotFoundError(msg("user.not_found", user=str(username)))
    return row


def authenticate(session, username, password):
    """The active user with these credentials, or None; as slow for an unknown user as for a known one."""
    row = find_user(session, username)
    if row is None:
        method = DEFAULT_METHOD
        check_password_hash(_dummy_hash(method), password or "")
        return None
    good = check_password_hash(row.password_hash, password or "")
    return row if good and row.active else None


def add_user(session, username, password, role="staff", actor="cli", method=DEFAULT_METHOD):
    """Create a user (refused when the name is taken); returns the row."""
    name, role = check_username(username), check_role(role)
    password = check_password(password)
    if find_user(session, name) is not None:
        raise UserError(msg("user.exists", user=name))
    row = db.UserRow(username=name, password_hash=hash_password(password, method), role=role)
    session.add(row)
    db.audit(session, actor, "user.create", username=name, role=role)
    return row


def set_password(session, username, password, actor="cli", method=DEFAULT_METHOD):
    """Change a user's password and end every session of theirs."""
    row = get_user(session, username)
    row.password_hash = hash_password(check_password(password), method)
    end_sessions(row)
    db.audit(session, actor, "user.password", username=row.username)
    return row


def end_sessions(row):
    """Invalidate every session cookie issued to this user so far (logout, password change)."""
    row.session_version = (row.session_version or 0) + 1


def ensure_user(session, username, password=None, role="staff", method=DEFAULT_METHOD):
    """Create ``username`` when missing; returns the password set, or None when the user existed.

    A missing ``password`` is generated (``secrets.token_urlsafe``) so the caller can print it once;
    a given one replaces the existing user's password. ``method`` is werkzeug's hashing method.
    """
    row = find_user(session, username)
    if row is not None:
        if password:
            row.password_hash = hash_password(password, method)
            return password
        return None
    password = password or secrets.token_urlsafe(12)
    session.add(db.UserRow(username=username, password_hash=hash_password(password, method), role=role))
    db.audit(session, "system", "user.create", username=username, role=role)
    return password
