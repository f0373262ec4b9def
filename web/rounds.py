"""Staff: rounds (create, open/close tracks), uploads with a full validation report, interest
requests and the audit log."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from sqlalchemy import func, select

from matcher import db, importer
from matcher.errors import NotFoundError, ValidationError
from matcher.tracks import TRACKS, round_rules

from .auth import actor, staff_required
from .i18n import import_summary, problem_reason, problem_text, t
from .jobs import jobs_for_round
from .store import db_session

bp = Blueprint("rounds", __name__, url_prefix="/staff")

UPLOAD_SUFFIXES = (".csv", ".txt", *importer.EXCEL_SUFFIXES)
AUDIT_PAGE = 200
NOTES_SHOWN = 20


@bp.route("/")
@staff_required
def index():
    """Rounds with their application counts, and the form to create one."""
    session = db_session()
    rounds = list(session.scalars(select(db.RoundRow).order_by(db.RoundRow.id.desc())))
    totals = {}
    for (round_id, _track, _role), n in application_counts(session).items():
        totals[round_id] = totals.get(round_id, 0) + n
    return render_template("staff/rounds.html", rounds=rounds, totals=totals, tracks=TRACKS, today=date.today())


@bp.route("/rounds", methods=["POST"])
@staff_required
def create():
    """Create a round."""
    session = db_session()
    name = request.form.get("name", "").strip()
    if not name or len(name) > 100:
        abort(400, f"round name {name!r} must have 1 to 100 characters")
    try:
        ref = date.fromisoformat(request.form.get("reference_date", ""))
    except ValueError:
        abort(400, f"reference date {request.form.get('reference_date')!r} is not a date (YYYY-MM-DD)")
    if session.scalars(select(db.RoundRow).where(db.RoundRow.name == name)).first():
        flash(t("round_exists"), "error")
        return redirect(url_for("rounds.index"))
    row = db.RoundRow(name=name, reference_date=ref, open_tracks=_chosen_tracks(request.form))
    session.add(row)
    db.audit(session, actor(), "round.create", round=name, reference_date=ref.isoformat())
    session.commit()
    flash(t("round_created"), "ok")
    return redirect(url_for("rounds.detail", round_id=row.id))


@bp.route("/rounds/<int:round_id>")
@staff_required
def detail(round_id):
    """One round: tracks, uploads, the run form, runs and running jobs."""
    session = db_session()
    return render_round(session, round_or_404(session, round_id))


def render_round(session, row, run_form=None):
    """The round page; ``run_form`` (``{"track", "mode", "time_limit"}``) refills the run form."""
    runs = list(session.scalars(select(db.MatchRunRow).where(db.MatchRunRow.round_id == row.id)
                                .order_by(db.MatchRunRow.id.desc())))
    return render_template("staff/round.html", round=row, tracks=TRACKS, rules=round_rules(row),
                           counts=application_counts(session, row.id), runs=runs,
                           jobs=jobs_for_round(row.id), run_form=run_form or {})


@bp.route("/rounds/<int:round_id>/tracks", methods=["POST"])
@staff_required
def save_tracks(round_id):
    """Open or close tracks of a round."""
    session = db_session()
    row = round_or_404(session, round_id)
    row.open_tracks = _chosen_tracks(request.form)
    db.audit(session, actor(), "round.tracks", round=row.name, open_tracks=row.open_tracks)
    session.commit()
    flash(t("tracks_saved"), "ok")
    return redirect(url_for("rounds.detail", round_id=row.id))


@bp.route("/rounds/<int:round_id>/import/<kind>", methods=["POST"])
@staff_required
def upload(round_id, kind):
    """Import firms or applications; a bad file gets the full report and stores nothing."""
    if kind not in ("firms", "applications"):
        abort(404, f"unknown import {kind!r} (firms or applications)")
    session = db_session()
    row = round_or_404(session, round_id)
    file = request.files.get("file")
    if file is None or not file.filename:
        abort(400, t("no_file"))
    suffix = Path(file.filename).suffix.lower()
    if suffix not in UPLOAD_SUFFIXES:
        abort(400, f"file {file.filename!r}: expected one of {', '.join(UPLOAD_SUFFIXES)}")
    try:
        summary = import_upload(session, row, kind, file)
    except ValidationError as exc:
        session.rollback()
        return render_template("staff/import_report.html", round=row, kind=kind, filename=file.filename,
                               problems=exc.problems), 400
    db.audit(session, actor(), f"import.{kind}", round=row.name, file=file.filename, inserted=summary.inserted,
             updated=summary.updated, unchanged=summary.unchanged)
    session.commit()
    flash(f"{t('upload_ok')}: {file.filename} — {import_summary(summary)}", "ok")
    if summary.sheet_note:
        flash(problem_reason(summary.sheet_note), "warning")
    for note in summary.notes[:NOTES_SHOWN]:
        flash(f"{t('repaired')}: {problem_text(note)}", "warning")
    return redirect(url_for("rounds.detail", round_id=row.id))


def import_upload(session, round_row, kind, file):
    """Run the importer on an uploaded file; raises ValidationError listing every bad row."""
    if kind == "firms":
        return importer.import_firms(file.stream, session, filename=file.filename, progress=False)
    return importer.import_applications(file.stream, session, round_name=round_row.name, filename=file.filename,
                                        progress=False)


@bp.route("/interests")
@staff_required
def interests():
    """SMEs' interest requests, newest first."""
    rows = list(db_session().scalars(select(db.InterestRow).order_by(db.InterestRow.created_at.desc())))
    firms = {f.id: f for f in db_session().scalars(select(db.FirmRow).where(
        db.FirmRow.id.in_({r.lead_id for r in rows} | {r.partner_id for r in rows})))}
    rounds = {r.id: r for r in db_session().scalars(select(db.RoundRow))}
    return render_template("staff/interests.html", interests=rows, firms=firms, rounds=rounds)


@bp.route("/audit")
@staff_required
def audit_log():
    """The latest entries of the audit log."""
    rows = list(db_session().scalars(select(db.AuditRow).order_by(db.AuditRow.id.desc()).limit(AUDIT_PAGE)))
    return render_template("staff/audit.html", rows=rows)


def application_counts(session, round_id=None):
    """``{(round_id, track, role): n}`` over the applications (of one round when given)."""
    stmt = select(db.ApplicationRow.round_id, db.ApplicationRow.track, db.ApplicationRow.role, func.count())
    if round_id is not None:
        stmt = stmt.where(db.ApplicationRow.round_id == round_id)
    stmt = stmt.group_by(db.ApplicationRow.round_id, db.ApplicationRow.track, db.ApplicationRow.role)
    return {(r, tr, role): n for r, tr, role, n in session.execute(stmt)}


def round_or_404(session, round_id):
    """A round by id, or 404 naming it."""
    try:
        return db.get_round(session, round_id)
    except NotFoundError as exc:
        abort(404, str(exc))


def _chosen_tracks(form):
    return [key for key in TRACKS if form.get(f"track_{key}")]
