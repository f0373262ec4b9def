"""Friendly error pages (HTML) and JSON errors under ``/api``.

JSON errors look like ``{"error": {"status": 404, "code": "round.not_found", "message": "…"}}`` with the
message in the page's language (``message_en`` and ``message_ko`` beside it). Engine errors map to status
codes: :class:`~matcher.errors.NotFoundError` → 404, :class:`~matcher.errors.ConflictError` → 409 (with
``conflicts``), :class:`~matcher.errors.WrongStateError` → 409, :class:`~matcher.errors.ValidationError` and other :class:`~matcher.errors.MatcherError` → 400.
A database that is locked, read-only, full or unreachable (:func:`matcher.db.trouble`) is a 503 with
``Retry-After`` and a message saying which; nothing of the SQL is shown.

Every handler rolls the request's session back before it renders: after a failed write the session
refuses all work until then, and the page itself reads the logged-in user. Should the page still fail
to render (the database gone), a plain page in both languages is sent instead of waitress's own.
"""

from __future__ import annotations

import logging

from flask import g, jsonify, render_template, request
from flask_wtf.csrf import CSRFError
from markupsafe import escape
from werkzeug.exceptions import HTTPException, InternalServerError

from matcher import db
from matcher.errors import ConflictError, MatcherError, NotFoundError, ValidationError, WrongStateError
from matcher.messages import msg
from matcher.rounds.jobs import TROUBLE_CODES

from .i18n import current_lang


log = logging.getLogger(__name__)

RETRY_AFTER = {"locked": 5, "read_only": 60, "full": 60, "unavailable": 15}
"""Seconds a client is told to wait (``Retry-After``) before trying again, by :func:`matcher.db.trouble`."""


def error_response(status, message, problems=None, exc=None, heading=None):
    """The response for an error: JSON under /api, else the HTML error page."""
    _rollback()
    if request.path.startswith("/api/") or request.path.endswith(".json"):
        body = {"status": status, "message": message}
        if exc is not None:
            body.update(code=exc.code, message_en=str(exc), message_ko=exc.text("ko"))
        if problems:
            body["problems"] = [dict(p.to_json(), reason=p.reason_text(current_lang())) for p in problems]
        if isinstance(exc, ConflictError):
            body["conflicts"] = [dict(code=c.code, message=c.text(current_lang()), firms=[list(f) for f in c.firms],
                                      decisions=[d.__dict__ for d in c.decisions]) for c in exc.conflicts]
        return jsonify(error=body), status
    try:
        return render_template("error.html", status=status, message=message, heading=heading), status
    except Exception:  # the page reads the user and the session: with the database gone, say it plainly
        log.exception("the error page of %s failed to render", request.path)
        return _plain_page(status, message), status


def _rollback():
    session = g.get("db_session")
    if session is None:
        return
    try:
        session.rollback()
    except Exception:  # a connection that broke cannot even roll back: drop it
        log.warning("rollback after an error failed", exc_info=True)
        session.invalidate()


def _plain_page(status, message):
    """The error page without the layout (no template, no database): both languages."""
    lines = [msg("http.error_page", status=status).text(lang) for lang in ("ko", "en")]
    body = "".join(f"<p>{escape(line)}</p>" for line in lines)
    if message:
        body += f"<p>{escape(message)}</p>"
    return (f'<!doctype html><html lang="ko"><meta charset="utf-8"><title>{status}</title>'
            f"<h1>{status}</h1>{body}</html>")


def _http_error(exc):
    message = exc.description if exc.description else exc.name
    return error_response(exc.code, message)


def _csrf_error(exc):
    return error_response(400, f"CSRF token missing or invalid: {exc.description}")


def _matcher_error(exc):
    if db.trouble(exc):
        return _database_trouble(exc)
    message = exc.text(current_lang())
    if isinstance(exc, NotFoundError):
        return error_response(404, message, exc=exc)
    if isinstance(exc, (ConflictError, WrongStateError)):
        return error_response(409, message, exc=exc)
    if isinstance(exc, ValidationError):
        return error_response(400, message, exc.problems, exc=exc)
    return error_response(400, message, exc=exc)


def _database_trouble(exc):
    """503 with ``Retry-After``: the database is locked, read-only, full or gone (logged with the SQL)."""
    kind = db.trouble(exc)
    log.error("database %s on %s %s", kind, request.method, request.path, exc_info=exc)
    message = msg(TROUBLE_CODES[kind])
    body, status = error_response(503, message.text(current_lang()), heading=message.text(current_lang()))
    response = _response(body, status)
    response.headers["Retry-After"] = str(RETRY_AFTER[kind])
    return response


def _response(body, status):
    from flask import current_app
    return current_app.make_response((body, status))


def _unexpected(exc):
    if isinstance(exc, HTTPException):
        return _http_error(exc)
    if db.trouble(exc):
        return _database_trouble(exc)
    log.exception("unhandled error on %s", request.path)
    return error_response(500, InternalServerError.description)


def init_app(app):
    """Register the error handlers."""
    app.register_error_handler(CSRFError, _csrf_error)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(MatcherError, _matcher_error)
    app.register_error_handler(Exception, _unexpected)
