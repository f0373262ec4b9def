"""The Flask front end: a thin layer over :mod:`matcher`.

``create_app(test_config=None)`` builds the app (Flask's own ``flaskr`` pattern). Blueprints, one per
feature: :mod:`web.search` (SMEs find partners), :mod:`web.auth` (staff login), :mod:`web.firm_auth` (firms
sign in with an access code), :mod:`web.program` (a firm's own page: results, interest inbox, profile),
:mod:`web.rounds` (rounds, uploads, interest requests, audit log), :mod:`web.runs` (batch matching, proposals,
decisions, pictures, export), :mod:`web.selection` (access codes, selection stages, quota, publication),
:mod:`web.api` and :mod:`web.api_firm` (JSON API under ``/api/v1``) and :mod:`web.errors`.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from flask import Flask, Request, abort, request
from flask.json.provider import DefaultJSONProvider
from flask_wtf.csrf import CSRFProtect
from werkzeug.datastructures import ImmutableMultiDict
from werkzeug.routing import IntegerConverter

from matcher import db
from matcher.firms import format_brn
from matcher.messages import msg
from matcher.paths import instance_dir
from matcher.text import MAX_TEXT, TextError, char_name, clean_text, control_character, shown

csrf = CSRFProtect()

UPLOAD_LIMIT = 10 * 1024 * 1024


def create_app(test_config=None):
    """Build the app.

    Parameters
    ----------
    test_config : dict, optional
        Overrides the configuration (``DATABASE_URL``, ``SECRET_KEY``, ``WTF_CSRF_ENABLED``, ...).

    Returns
    -------
    flask.Flask
    """
    app = MatcherFlask(__name__, instance_path=str(instance_dir().resolve()))
    app.url_map.converters["int"] = IdConverter
    app.config.from_mapping(_default_config(app))
    if test_config:
        app.config.update(test_config)
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = _instance_secret(Path(app.instance_path))
    db.init_db(app.config["DATABASE_URL"])
    app.json.ensure_ascii = False  # Korean names stay readable in the JSON API
    app.jinja_env.filters["brn"] = lambda digits: format_brn(digits) if digits and len(digits) == 10 else digits
    csrf.init_app(app)
    _init_babel(app)
    _register(app)
    return app


JSON_DEPTH = 32
"""The deepest nesting a JSON body may have (the API's bodies are flat objects)."""


class IdConverter(IntegerConverter):
    """``<int:…>`` in every route: a whole number up to :data:`matcher.db.ID_MAX`; a larger one matches no
    route (404) instead of reaching the database (a 500 on PostgreSQL past 2³¹, on SQLite past 2⁶³)."""

    def __init__(self, map, *args, **kwargs):  # noqa: A002 (werkzeug's name)
        kwargs.setdefault("max", db.ID_MAX)
        super().__init__(map, *args, **kwargs)


class JSONError(ValueError):
    """A JSON body refused before any view reads it; ``message`` says why (a :class:`~matcher.messages.Msg`)."""

    def __init__(self, message):
        super().__init__(str(message))
        self.message = message


class JSONProvider(DefaultJSONProvider):
    """Flask's JSON, refusing what no view can use: nesting deeper than :data:`JSON_DEPTH`, lone surrogates
    (``"\\ud800"``: text no database stores) and control characters."""

    def loads(self, s, **kwargs):
        try:
            value = super().loads(s, **kwargs)
        except RecursionError:
            raise JSONError(msg("http.json_too_deep", limit=JSON_DEPTH)) from None
        except ValueError as exc:
            if isinstance(exc, JSONError):
                raise
            raise JSONError(msg("http.json_invalid", reason=getattr(exc, "msg", str(exc)),
                                line=getattr(exc, "lineno", 0), column=getattr(exc, "colno", 0))) from None
        _check_json(value)
        return value


def _check_json(value):
    """Walk ``value`` without recursion; JSONError for too deep a nesting or a string no database keeps."""
    stack = [(value, 1, "")]
    while stack:
        item, depth, where = stack.pop()
        if depth > JSON_DEPTH:
            raise JSONError(msg("http.json_too_deep", limit=JSON_DEPTH))
        if isinstance(item, dict):
            for key, child in item.items():
                _check_json_text(key, where or "/")
                stack.append((child, depth + 1, f"{where}/{key}"))
        elif isinstance(item, list):
            stack.extend((child, depth + 1, f"{where}/{i}") for i, child in enumerate(item))
        elif isinstance(item, str):
            _check_json_text(item, where or "/")


def _check_json_text(text, where):
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        char = char_name(text[exc.start])
        raise JSONError(msg("http.json_surrogate", where=shown(where), char=char, position=exc.start + 1)) from None
    found = control_character(text)
    if found:
        raise JSONError(msg("http.json_control", where=shown(where), char=char_name(found[1])))


class CheckedRequest(Request):
    """A request whose bad JSON body is a 400 saying what is wrong (Flask's says only "failed to decode")."""

    def on_json_loading_failed(self, e):
        if isinstance(e, JSONError):
            from .i18n import current_lang
            abort(400, e.message.text(current_lang()))
        return super().on_json_loading_failed(e)


class MatcherFlask(Flask):
    """Flask with the checked JSON and requests above."""

    json_provider_class = JSONProvider
    request_class = CheckedRequest


def _init_babel(app):
    """Flask-Babel over the engine's catalogs: the page's language, times in Korea's zone."""
    from flask_babel import Babel

    from matcher.messages import DOMAIN, locale_dir

    from .i18n import current_lang
    Babel(app, locale_selector=current_lang, default_locale="ko", default_domain=DOMAIN,
          default_translation_directories=str(locale_dir()), default_timezone="Asia/Seoul")


def _default_config(app):
    return dict(
        DATABASE_URL=db.database_url(),
        SECRET_KEY=os.environ.get("MATCHER_SECRET_KEY") or os.environ.get("SECRET_KEY"),
        MAX_CONTENT_LENGTH=UPLOAD_LIMIT,
        UPLOAD_FOLDER=None,  # where an upload waits for its import job (default: instance/uploads)
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        # Secure cookies need https; plain http on localhost would then lose the session.
        SESSION_COOKIE_SECURE=os.environ.get("MATCHER_SECURE_COOKIES", "") in ("1", "true", "yes"),
        WTF_CSRF_HEADERS=["X-CSRFToken", "X-CSRF-Token"],
        WTF_CSRF_TIME_LIMIT=None,
        RUN_TIME_LIMIT=60.0,
        JOB_RUNNER=os.environ.get("MATCHER_JOBS", "thread"),  # or "worker": `matcher worker` does the jobs
    )


def _instance_secret(instance):
    """A random key kept in ``instance/secret_key`` so sessions survive a restart."""
    path = instance / "secret_key"
    if not path.exists():
        instance.mkdir(mode=0o700, parents=True, exist_ok=True)
        try:  # created 0600 at once (never readable by others, not even for a moment)
            fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
        except FileExistsError:  # another process made it first
            pass
        else:
            with os.fdopen(fd, "w", encoding="ascii") as fh:
                fh.write(secrets.token_hex(32))
    return path.read_text(encoding="ascii").strip()


SECURITY_HEADERS = {
    # Only our own script and styles; inline style attributes carry the score-bar widths.
    "Content-Security-Policy": ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
                                "img-src 'self' data:; frame-ancestors 'none'; form-action 'self'"),
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
}


def _security_headers(response):
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    return response


def _clean_input():
    """Every query and form value as NFC text; a control character (NUL …) or an over-long value is a 400.

    Runs before the views, so no view stores or compares text the databases would treat differently
    (PostgreSQL refuses NUL; SQLite keeps it). A JSON body is parsed and checked here (:class:`JSONProvider`).
    """
    from .i18n import current_lang
    for where, values in (("args", request.args), ("form", request.form)):
        cleaned, changed = [], False
        for key, value in values.items(multi=True):
            try:
                text = clean_text(value, max_length=MAX_TEXT)
                clean_text(key, max_length=200, single_line=True)
            except TextError as exc:
                abort(400, f"{shown(key)}: {exc.text(current_lang())}")
            changed = changed or text != value
            cleaned.append((key, text))
        if changed:
            setattr(request, where, ImmutableMultiDict(cleaned))
    found = control_character(request.path)
    if found:
        abort(400, msg("http.control_in_path", char=char_name(found[1])).text(current_lang()))
    if request.is_json and request.get_data(cache=True).strip():
        request.get_json()  # a bad body is a 400 naming what is wrong (CheckedRequest), before any view


def _register(app):
    from . import (api, api_firm, auth, codes, errors, firm_auth, formats, i18n, models, program, rounds, runs,
                   search, selection, store)
    app.after_request(_security_headers)
    app.before_request(_clean_input)
    store.init_app(app)
    i18n.init_app(app)
    formats.init_app(app)
    auth.init_app(app)
    firm_auth.init_app(app)
    errors.init_app(app)
    codes.init_app(app)
    for module in (search, auth, firm_auth, program, rounds, runs, selection, codes, models, api, api_firm):
        app.register_blueprint(module.bp)
