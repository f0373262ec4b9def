"""Friendly error pages (HTML) and JSON errors under ``/api``.

JSON errors look like ``{"error": {"status": 404, "code": "round.not_found", "message": "…"}}`` with the
message in the page's language (``message_en`` and ``message_ko`` beside it). Engine errors map to status
codes: :class:`~matcher.errors.NotFoundError` → 404, :class:`~matcher.errors.ConflictError` → 409 (with
``conflicts``), :class:`~matcher.errors.ValidationError` and other :class:`~matcher.errors.MatcherError` → 400.
"""

from __future__ import annotations

import logging

from flask import jsonify, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, InternalServerError

from matcher.errors import ConflictError, MatcherError, NotFoundError, ValidationError

from .i18n import current_lang


log = logging.getLogger(__name__)


def error_response(status, message, problems=None, exc=None):
    """The response for an error: JSON under /api, else the HTML error page."""
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
    return render_template("error.html", status=status, message=message), status


def _http_error(exc):
    message = exc.description if exc.description else exc.name
    return error_response(exc.code, message)


def _csrf_error(exc):
    return error_response(400, f"CSRF token missing or invalid: {exc.description}")


def _matcher_error(exc):
    message = exc.text(current_lang())
    if isinstance(exc, NotFoundError):
        return error_response(404, message, exc=exc)
    if isinstance(exc, ConflictError):
        return error_response(409, message, exc=exc)
    if isinstance(exc, ValidationError):
        return error_response(400, message, exc.problems, exc=exc)
    return error_response(400, message, exc=exc)


def _unexpected(exc):
    if isinstance(exc, HTTPException):
        return _http_error(exc)
    log.exception("unhandled error on %s", request.path)
    return error_response(500, InternalServerError.description)


def init_app(app):
    """Register the error handlers."""
    app.register_error_handler(CSRFError, _csrf_error)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(MatcherError, _matcher_error)
    app.register_error_handler(Exception, _unexpected)
