"""Staff login: the logged-in user on ``g.user``, role checks, throttling, sessions that end server-side.

Accounts live in :mod:`matcher.users` (shared with the CLI). Every staff page is wrapped in
:func:`staff_required`: anonymous visitors are sent to the login page (HTML) or get 401 (API); a
``viewer`` may read (GET/HEAD) but gets 403 on anything that changes data; other roles get 403.
Templates see ``is_staff`` (may open the workbench) and ``can_edit`` (may change things).

Login attempts are limited per account and per address (the ``limits`` library's storage and moving-window
strategy; ``LOGIN_LIMIT_ACCOUNT``, ``LOGIN_LIMIT_ADDRESS``, ``RATELIMIT_STORAGE_URI``): past the limit the
answer is 429 with the time to wait, whatever the password. Logout (form or ``DELETE /api/v1/session``)
increments the user's session version, so a copied cookie stops working too.
"""

from __future__ import annotations

import functools
import math
import time
from urllib.parse import urlsplit

from flask import (Blueprint, abort, current_app, flash, g, redirect, render_template, request, session,
                   url_for)
from flask_limiter.util import get_remote_address
from limits import parse
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter
from werkzeug.exceptions import TooManyRequests

from matcher import users
from matcher.users import EDIT_ROLES, ensure_user  # noqa: F401  (ensure_user: re-exported for callers)

from .i18n import bilingual, t
from .store import db_session

bp = Blueprint("auth", __name__)

STAFF_ROLES = frozenset({"staff", "admin", "viewer"})
"""Roles that may open the staff workbench; only :data:`matcher.users.EDIT_ROLES` may change things."""
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class LoginThrottled(TooManyRequests):
    """Too many login attempts for an account or from an address (429, with the wait in the message)."""

    def __init__(self, seconds):
        minutes = max(1, math.ceil(seconds / 60))
        super().__init__(bilingual(f"로그인 시도가 너무 많아 잠시 막혔습니다. {minutes}분 뒤에 다시 하세요.",
                                   f"Too many login attempts; try again in {minutes} minute(s)."))
        self.retry_after = max(1, math.ceil(seconds))

    def get_headers(self, environ=None, scope=None):
        return [*super().get_headers(environ, scope), ("Retry-After", str(self.retry_after))]


def _login_keys(username):
    account = parse(current_app.config["LOGIN_LIMIT_ACCOUNT"])
    address = parse(current_app.config["LOGIN_LIMIT_ADDRESS"])
    return [(account, ("login-account", username.strip().casefold())),
            (address, ("login-address", get_remote_address()))]


def authenticate(session_, username, password):
    """The active user with these credentials, or None; :class:`LoginThrottled` past the limits.

    The limits are checked before the password (so the right password does not get through a
    lockout); only failed attempts count.
    """
    strategy = current_app.extensions["matcher_login_limiter"]
    keys = _login_keys(username)
    for item, ids in keys:
        if not strategy.test(item, *ids):
            raise LoginThrottled(strategy.get_window_stats(item, *ids).reset_time - time.time())
    user = users.authenticate(session_, username, password)
    if user is None:
        for item, ids in keys:
            strategy.hit(item, *ids)
    return user


def is_staff():
    """Whether the logged-in user may open the staff workbench (staff, admin or viewer)."""
    return g.get("user") is not None and g.user.role in STAFF_ROLES


def can_edit():
    """Whether the logged-in user may change things (not a viewer)."""
    return g.get("user") is not None and g.user.role in EDIT_ROLES


def actor():
    """Who is acting, for the audit log."""
    return g.user.username if g.get("user") is not None else "anonymous"


def staff_required(view):
    """Refuse anonymous visitors (login page, or 401 under /api) and users without a staff role (403);
    a viewer passes for GET/HEAD only (403 with a clear message on anything that changes data)."""
    @functools.wraps(view)
    def wrapped(*args, **kwargs):
        if g.get("user") is None:
            if request.path.startswith("/api/"):
                abort(401, "login required")
            return redirect(url_for("auth.login", next=request.full_path))
        if g.user.role not in STAFF_ROLES:
            abort(403, "staff role required")
        if request.method not in SAFE_METHODS and g.user.role not in EDIT_ROLES:
            abort(403, bilingual("열람 전용 계정(viewer)은 바꿀 수 없습니다. 담당자(staff) 계정으로 로그인하세요.",
                                 "A viewer account is read-only; log in with a staff account to change this."))
        return view(*args, **kwargs)
    return wrapped


@bp.route("/login", methods=["GET", "POST"])
def login():
    """The login form; a fresh session on success."""
    if request.method == "POST":
        try:
            user = authenticate(db_session(), request.form.get("username", ""), request.form.get("password", ""))
        except LoginThrottled as exc:
            flash(exc.description, "error")
            return render_template("login.html"), 429, {"Retry-After": str(exc.retry_after)}
        if user is None:
            flash(t("ui.login_failed"), "error")
            return render_template("login.html"), 401
        login_user(user)
        return redirect(safe_next(request.args.get("next")) or url_for("rounds.index"))
    return render_template("login.html")


@bp.route("/logout", methods=["POST"])
def logout():
    """End the staff session (every copy of its cookie, server-side)."""
    logout_user()
    return redirect(url_for("search.index"))


KEPT_ON_LOGIN = ("lang", "csrf_token")


def login_user(user):
    """Start a fresh session for ``user``, keeping only the language and the CSRF token.

    Keeping the token lets an API client log in and go on with the token it already holds.
    """
    kept = {key: session[key] for key in KEPT_ON_LOGIN if key in session}
    session.clear()
    session.update(kept)
    session["user_id"] = user.id
    session["session_version"] = user.session_version or 0


def logout_user():
    """End the session: the user's session version moves on, so no copy of the cookie is accepted again."""
    user_id = session.pop("user_id", None)
    session.pop("session_version", None)
    row = users.user_by_id(db_session(), user_id)
    if row is not None:
        users.end_sessions(row)
        db_session().commit()


def safe_next(target):
    """``target`` when it is a path on this site (``/staff/rounds/1?x=y``), else None.

    Refused: absolute and scheme-relative URLs (``//evil.example``), backslashes (``/\\evil``, which
    browsers read as ``//``), and any whitespace or control character (``/\\t/evil`` becomes ``//evil``
    in a browser; CR/LF would split the Location header).
    """
    if not target or not target.startswith("/") or target.startswith("//"):
        return None
    if any(ch <= " " or ch == "\\" or ord(ch) == 0x7f for ch in target):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return None
    return target


_safe_next = safe_next  # the old name


def _load_user():
    user_id = session.get("user_id")
    g.user = users.user_by_id(db_session(), user_id)
    if g.user is not None and (not g.user.active
                               or session.get("session_version") != (g.user.session_version or 0)):
        g.user = None


def init_app(app):
    """Load the user before each request; the login limiter; ``is_staff`` and ``can_edit`` for templates."""
    app.config.setdefault("LOGIN_LIMIT_ACCOUNT", "10 per 15 minutes")
    app.config.setdefault("LOGIN_LIMIT_ADDRESS", "50 per 15 minutes")
    app.config.setdefault("RATELIMIT_STORAGE_URI", "memory://")
    # the limits library (what Flask-Limiter is built on) directly: only the login view counts, so no
    # per-request hooks (Flask-Limiter's before/after/teardown hooks cost every page ~0.4 ms)
    app.extensions["matcher_login_limiter"] = MovingWindowRateLimiter(
        storage_from_string(app.config["RATELIMIT_STORAGE_URI"]))
    app.register_error_handler(LoginThrottled, _throttled)
    app.before_request(_load_user)
    app.context_processor(lambda: dict(is_staff=is_staff(), can_edit=can_edit()))


def _throttled(exc):
    from .errors import error_response
    body, status = error_response(429, exc.description)
    response = current_app.make_response((body, status))
    response.headers["Retry-After"] = str(exc.retry_after)
    return response
