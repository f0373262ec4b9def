"""Staff: the code lists (KSIC, 경쟁제품, G2B 물품분류) — every version with its dates and counts, and an
upload that stores a new version with the date it takes effect (as ``matcher codes load``)."""

from __future__ import annotations

import tempfile
from datetime import date
from pathlib import Path

from flask import Blueprint, abort, current_app, flash, g, redirect, render_template, request, url_for

from matcher import codelists
from matcher.cli.codes import store_message
from matcher.codelists import kind_name, level_name
from matcher.errors import ValidationError
from matcher.messages import msg
from matcher.validate import parse_date

from .auth import actor, staff_required
from .i18n import say
from .store import db_session

bp = Blueprint("codes", __name__, url_prefix="/staff/codes")

UPLOAD_SUFFIXES = (".xlsx", ".xlsm", ".csv", ".txt", ".json")


@bp.route("/")
@staff_required
def index():
    """Every version of every code list, the ones in force today marked, and the upload form."""
    versions = codelists.summaries(db_session(), on=date.today())
    return render_template("staff/codes.html", versions=versions, kinds=codelists.KINDS, kind_name=kind_name,
                           level_name=level_name, intro=msg("codes.page_intro", date=date.today()))


@bp.route("/", methods=["POST"])
@staff_required
def upload():
    """Read the uploaded file as published and store it as a version of its kind; a bad file stores nothing."""
    kind, file = request.form.get("kind", ""), request.files.get("file")
    if kind not in codelists.KINDS:
        abort(400, say(msg("codes.unknown_kind", kind=kind, kinds=list(codelists.KINDS))))
    if file is None or not file.filename:
        abort(400, say(msg("codes.no_file")))
    suffix = Path(file.filename).suffix.lower()
    if suffix not in UPLOAD_SUFFIXES:
        abort(400, say(msg("codes.bad_suffix", file=file.filename, allowed=list(UPLOAD_SUFFIXES))))
    start, end = _date("valid_from", required=True), _date("valid_to")
    folder = Path(current_app.config.get("UPLOAD_FOLDER") or Path(current_app.instance_path) / "uploads")
    folder.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=folder) as work:
        path = Path(work) / f"upload{suffix}"
        file.save(path)
        try:
            table, report = codelists.read_list(kind, path)
        except ValidationError as exc:
            return render_template("staff/codes_report.html", filename=file.filename, problems=exc.problems), 400
    report.source = file.filename
    session = db_session()
    result = codelists.store_version(session, kind, table, start, source=file.filename,
                                     revision=request.form.get("revision", "").strip(), valid_to=end,
                                     actor=actor(), report=report)
    session.commit()
    current_app.extensions[_KEPT] = None  # the next request reads the lists in force again
    for message in report.messages():
        flash(say(message), "ok" if message.code == "codes.report" else "warning")
    flash(say(store_message(result)), "ok")
    return redirect(url_for("codes.index"))


def _date(field, required=False):
    value = request.form.get(field, "").strip()
    if not value:
        if required:
            abort(400, say(msg("codes.date_required")))
        return None
    try:
        return parse_date(value)
    except ValueError:
        abort(400, say(msg("codes.bad_date", option=field, value=value)))


_KEPT = "matcher_code_lists"


def _use_lists():
    """Every request looks codes up in the lists in force today (read once, again after an upload here)."""
    kept = current_app.extensions.get(_KEPT)
    today = date.today()
    if kept is None or kept[0] != today:
        kept = current_app.extensions[_KEPT] = (today, codelists.lists_on(db_session(), today))
    g.code_lists_token = codelists.activate(kept[1])


def _stop_using(_exc=None):
    token = g.pop("code_lists_token", None)
    if token is not None:
        try:
            codelists.deactivate(token)
        except ValueError:  # torn down in another context (a test client kept open): nothing of ours is set there
            pass


def init_app(app):
    app.extensions[_KEPT] = None
    app.before_request(_use_lists)
    app.teardown_request(_stop_using)
