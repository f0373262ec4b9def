"""Staff login: hashed passwords (werkzeug), the logged-in user on ``g.user``, role checks.

Every staff page is wrapped in :func:`staff_required`: anonymous visitors are sent to the login page
(HTML) or get 401 (API); a logged-in user without the staff role gets 403.
"""

from __future__ import annotations

import functools
import secrets

from flask import (Blueprint, abort, flash, g, redirect, render_template, request, session,
                   url_for)
from sqlalchemy import select
from werkzeug.security import check_password_hash, generate_password_hash

from matcher import db

from .i18n import t
from .store import db_session

bp = Blueprint("auth", __name__)

STAFF_ROLES = frozenset({"staff", "admin"})


def ensure_user(session, username, password=None, role="staff", method="scrypt"):
    """Create ``username`` when missing; returns the password set, or None when the user existed.

    A missing ``password`` is generated (``secrets.token_urlsafe``) so the caller can print it once;
    a given one replaces the existing user's password. ``method`` is werkzeug's hashing method.
    """
    row = session.scalars(select(db.UserRow).where(db.UserRow.username == username)).first()
    if row is not None:
        if password:
            row.password_hash = generate_password_hash(password, method)
            return password
        return None
    password = password or secrets.token_urlsafe(12)
    session.add(db.UserRow(username=username, password_hash=generate_password_hash(password, method), role=role))
    db.audit(session, "system", "user.create", username=username, role=role)
    return password


def authenticate(session, username, password):
    """The active :class:`~matcher.db.UserRow` with these credentials, or None."""
    row = session.scalars(select(db.UserRow).where(db.UserRow.username == username)).first()
    if row is None or not row.active or not check_password_hash(row.password_hash, password or ""):
        return None
    return row


def is_staff():
    """Whether the logged-in user has a staff role."""
    return g.get("user") is not None and g.user.role in STAFF_ROLES


def actor():
    """Who is acting, for the audit log."""
    return g.user.username if g.get("user") is not None else "anonymous"


def staff_required(view):
    """Refuse anonymous visitors (login page, or 401 under /api) and non-staff users (403)."""
    @functools.wraps(view)
    def wrapped(*args, **kwargs):
        if g.get("user") is None:
            if request.path.startswith("/api/"):
                abort(401, "login required")
            return redirect(url_for("auth.login", next=request.full_path))
        if g.user.role not in STAFF_ROLES:
            abort(403, "staff role required")
        return view(*args, **kwargs)
    return wrapped


@bp.route("/login", methods=["GET", "POST"])
def login():
    """The login form; a fresh session on success."""
    if request.method == "POST":
        user = authenticate(db_session(), request.form.get("username", ""), request.form.get("password", ""))
        if user is None:
            flash(t("login_failed"), "error")
            return render_template("login.html"), 401
        login_user(user)
        return redirect(_safe_next(request.args.get("next")) or url_for("rounds.index"))
    return render_template("login.html")


@bp.route("/logout", methods=["POST"])
def logout():
    """End the staff session."""
    session.pop("user_id", None)
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


def _safe_next(target):
    # Only local paths: an open redirect would let a link send a staff member elsewhere.
    if target and target.startswith("/") and not target.startswith("//"):
        return target
    return None


def _load_user():
    user_id = session.get("user_id")
    g.user = db_session().get(db.UserRow, user_id) if user_id else None
    if g.user is not None and not g.user.active:
        g.user = None


def init_app(app):
    """Load the user before each request; expose ``is_staff`` to templates."""
    app.before_request(_load_user)
    app.context_processor(lambda: dict(is_staff=is_staff()))
