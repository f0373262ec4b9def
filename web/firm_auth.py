"""Firms sign in with 사업자등록번호 + access code: ``g.firm``, :func:`firm_required`, throttling.

A firm session holds the id of the firm's access-code row (:mod:`matcher.rounds.access`), checked on
every request, so revoking the code ends the session. Wrong codes are counted per 사업자등록번호 and per
address with the same ``limits`` strategy as the staff login (``FIRM_LOGIN_LIMIT_BRN``,
``FIRM_LOGIN_LIMIT_ADDRESS``); past the limit the answer is 429 with the wait, whatever the code.
Sending interest is limited per firm the same way (``INTEREST_LIMIT``).

:func:`acting_firm` answers "for which firm is this request acting?": the signed-in firm, or — for
staff only — the firm named in the request (the audit log then names the staff user and the firm).
"""

from __future__ import annotations

import functools
import math
import time

from flask import (Blueprint, abort, current_app, flash, g, redirect, render_template, request, session,
                   url_for)
from flask_limiter.util import get_remote_address
from limits import parse
from werkzeug.exceptions import TooManyRequests

from matcher.firms import parse_brn
from matcher.messages import N_, msg
from matcher.rounds import access
from matcher.text import ascii_digits

from .auth import KEPT_ON_LOGIN, is_staff, safe_next
from .i18n import current_lang
from .store import db_session

bp = Blueprint("firm_auth", __name__)


class Throttled(TooManyRequests):
    """Too many wrong codes (or interest sent) from one firm or address: 429 with the wait."""

    def __init__(self, seconds, code=N_("firm.throttled")):
        minutes = max(1, math.ceil(seconds / 60))
        self.message = msg(code, minutes=minutes)
        super().__init__(self.message.text(current_lang()))
        self.retry_after = max(1, math.ceil(seconds))

    def get_headers(self, environ=None, scope=None):
        return [*super().get_headers(environ, scope), ("Retry-After", str(self.retry_after))]


def _limiter():
    return current_app.extensions["matcher_login_limiter"]  # the staff login's moving-window strategy


def _check(keys, code):
    strategy = _limiter()
    for item, ids in keys:
        if not strategy.test(item, *ids):
            raise Throttled(strategy.get_window_stats(item, *ids).reset_time - time.time(), code)


def _sign_in_keys(brn):
    try:
        digits = parse_brn(ascii_digits(str(brn or "")))
    except ValueError:
        digits = str(brn or "").strip()[:20]
    return [(parse(current_app.config["FIRM_LOGIN_LIMIT_BRN"]), ("firm-login-brn", digits)),
            (parse(current_app.config["FIRM_LOGIN_LIMIT_ADDRESS"]), ("firm-login-address", get_remote_address()))]


def authenticate(brn, code):
    """The :class:`~matcher.rounds.access.SignedIn` for these credentials or None; :class:`Throttled` past
    the limits (checked before the code, so the right code does not pass a lockout; only failures count)."""
    keys = _sign_in_keys(brn)
    _check(keys, N_("firm.throttled"))
    found = access.sign_in(db_session(), brn, code)
    if found is None:
        for item, ids in keys:
            _limiter().hit(item, *ids)
    return found


def count_interest(firm_brn):
    """Count one interest sent by the firm; :class:`Throttled` when it sent too many lately."""
    item = parse(current_app.config["INTEREST_LIMIT"])
    _check([(item, ("interest-firm", firm_brn))], N_("interest.throttled"))
    _limiter().hit(item, "interest-firm", firm_brn)


def sign_in_firm(found):
    """A fresh session for the firm (only the language and the CSRF token kept)."""
    kept = {key: session[key] for key in KEPT_ON_LOGIN if key in session}
    session.clear()
    session.update(kept)
    session["firm_access"] = found.access_id


def firm_actor(brn=None):
    """Who acts, for the audit log: ``firm:<brn>``, or the staff user acting for firm ``brn``
    (``staff (for firm:1234567890)``)."""
    if g.get("firm") is not None:
        return f"firm:{g.firm.brn}"
    if g.get("user") is None:
        return "anonymous"
    return f"{g.user.username} (for firm:{brn})" if brn else g.user.username


def acting_firm(brn=None):
    """The 사업자등록번호 this request acts for: the signed-in firm's (``brn`` must be it, when given), or for
    staff the firm ``brn``. Anonymous: 401 (API) or the sign-in page; another firm's number: 403."""
    if g.get("firm") is not None:
        if brn is not None and _digits(brn) != g.firm.brn:
            abort(403, msg("firm.not_yours").text(current_lang()))
        return g.firm.brn
    if is_staff() and brn is not None:
        if g.user.role == "viewer":
            abort(403, msg("firm.viewer").text(current_lang()))
        return _digits(brn)
    if request.path.startswith("/api/"):
        abort(401, msg("firm.sign_in_required").text(current_lang()))
    abort(redirect(url_for("firm_auth.login", next=request.full_path if request.method == "GET" else None)))


def _digits(brn):
    try:
        return parse_brn(ascii_digits(str(brn or "")))
    except ValueError:
        abort(400, msg("firm.bad_brn", value=str(brn)[:20]).text(current_lang()))


def firm_required(view):
    """Only a signed-in firm (anonymous: the sign-in page, or 401 under /api)."""
    @functools.wraps(view)
    def wrapped(*args, **kwargs):
        if g.get("firm") is None:
            if request.path.startswith("/api/"):
                abort(401, msg("firm.sign_in_required").text(current_lang()))
            return redirect(url_for("firm_auth.login", next=request.full_path))
        return view(*args, **kwargs)
    return wrapped


@bp.route("/firm/login", methods=["GET", "POST"])
def login():
    """The firm sign-in form: 사업자등록번호 and access code."""
    if request.method == "POST":
        brn = request.form.get("brn", "")
        try:
            found = authenticate(brn, request.form.get("code", ""))
        except Throttled as exc:
            flash(exc.description, "error")
            return render_template("firm/login.html", brn=brn), 429, {"Retry-After": str(exc.retry_after)}
        if found is None:
            flash(msg("firm.sign_in_failed").text(current_lang()), "error")
            return render_template("firm/login.html", brn=brn), 401
        sign_in_firm(found)
        return redirect(safe_next(request.args.get("next")) or url_for("program.home"))
    return render_template("firm/login.html", brn=request.args.get("brn", ""))


@bp.route("/firm/logout", methods=["POST"])
def logout():
    """End the firm session."""
    session.pop("firm_access", None)
    return redirect(url_for("search.index"))


def _load_firm():
    g.firm = access.signed_in(db_session(), session.get("firm_access")) if session.get("firm_access") else None


def _throttled(exc):
    from .errors import error_response
    body, status = error_response(429, exc.description)
    response = current_app.make_response((body, status))
    response.headers["Retry-After"] = str(exc.retry_after)
    return response


def init_app(app):
    """Load the signed-in firm before each request; the limits; ``firm`` for templates."""
    app.config.setdefault("FIRM_LOGIN_LIMIT_BRN", "5 per 15 minutes")
    app.config.setdefault("FIRM_LOGIN_LIMIT_ADDRESS", "30 per 15 minutes")
    app.config.setdefault("INTEREST_LIMIT", "20 per hour")
    app.register_error_handler(Throttled, _throttled)
    app.before_request(_load_firm)
    app.context_processor(lambda: dict(signed_in_firm=g.get("firm")))
    app.jinja_env.globals["msg"] = msg  # templates build a message with parameters: say(msg("code", n=…))
