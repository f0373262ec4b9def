"""Friendly error pages (HTML) and JSON errors under ``/api``.

JSON errors look like ``{"error": {"status": 404, "message": "round '9' not found"}}``. Engine errors
map to status codes: :class:`~matcher.errors.NotFoundError` → 404,
:class:`~matcher.errors.ValidationError` and other :class:`~matcher.errors.MatcherError` → 400.
"""

from __future__ import annotations

import logging

from flask import jsonify, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, InternalServerError

from matcher.errors import MatcherError, NotFoundError, ValidationError


log = logging.getLogger(__name__)


def error_response(status, message, problems=None):
    """The response for an error: JSON under /api, else the HTML error page."""
    if request.path.startswith("/api/"):
        body = {"status": status, "message": message}
        if problems:
            body["problems"] = [p.__dict__ for p in problems]
        return jsonify(error=body), status
    return render_template("error.html", status=status, message=message), status


def _http_error(exc):
    message = exc.description if exc.description else exc.name
    return error_response(exc.code, message)


def _csrf_error(exc):
    return error_response(400, f"CSRF token missing or invalid: {exc.description}")


def _matcher_error(exc):
    if isinstance(exc, NotFoundError):
        return error_response(404, str(exc))
    if isinstance(exc, ValidationError):
        return error_response(400, str(exc).splitlines()[0], exc.problems)
    return error_response(400, str(exc))


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
