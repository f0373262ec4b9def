"""Staff: rounds (create, rename, open/close tracks, where each track stands), uploads with a full
validation report, interest requests and the audit log."""

from __future__ import annotations

import tempfile
from datetime import date
from pathlib import Path

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for

from matcher import importer, rounds
from matcher.errors import Problem, ValidationError
from matcher.messages import msg
from matcher.text import TextError, clean_text, shown
from matcher.tracks import TRACKS, round_rules

from .auth import actor, staff_required
from .charts import funnel_svg
from .i18n import current_lang, import_summary, problem_reason, problem_text, say, t
from .jobs import start
from .store import db_session

bp = Blueprint("rounds", __name__, url_prefix="/staff")

UPLOAD_SUFFIXES = (".csv", ".txt", *importer.EXCEL_SUFFIXES, *importer.OLD_EXCEL_SUFFIXES)  # .xls: explained
NOTES_SHOWN = 20


@bp.route("/")
@staff_required
def index():
    """Rounds with where each of their tracks stands, and the form to create one."""
    session = db_session()
    listed = rounds.list_rounds(session)
    overviews = {r.id: rounds.round_overview(session, r.id) for r in listed[:10]}
    funnel = funnel_svg(rounds.publication.funnel(session, listed[0].id), current_lang()) if listed else None
    return render_template("staff/rounds.html", rounds=listed, overviews=overviews, tracks=TRACKS,
                           today=date.today(), form=request.form, funnel=funnel)


@bp.route("/rounds", methods=["POST"])
@staff_required
def create():
    """Create a round; a bad name or date shows the form again with the message (400)."""
    session = db_session()
    try:
        row = rounds.create_round(session, request.form.get("name", ""), request.form.get("reference_date", ""),
                                  _chosen_tracks(request.form), actor())
    except ValidationError as exc:
        session.rollback()  # a name taken meanwhile failed the flush: the session must start again
        flash(exc.text(current_lang()), "error")
        listed = rounds.list_rounds(session)
        return render_template("staff/rounds.html", rounds=listed, overviews={}, tracks=TRACKS,
                               today=date.today(), form=request.form), 400
    session.commit()
    flash(t("ui.round_created"), "ok")
    return redirect(url_for("rounds.detail", round_id=row.id))


@bp.route("/rounds/<int:round_id>")
@staff_required
def detail(round_id):
    """One round: where each track stands, tracks, uploads, the run form, runs and jobs."""
    return render_round(db_session(), round_id)


def render_round(session, round_id, run_form=None, conflicts=None, status=200):
    """The round page; ``run_form`` refills the run form, ``conflicts`` lists what stops a run."""
    row = rounds.get_round(session, round_id)
    runs = rounds.list_runs(session, row.id)
    return render_template("staff/round.html", round=row, tracks=TRACKS, rules=round_rules(row),
                           counts=rounds.application_counts(session, row.id), runs=[r for r, _n in runs],
                           run_counts=dict((r.id, n) for r, n in runs), overview=rounds.round_overview(session, row.id),
                           jobs=rounds.jobs_for_round(session, row.id), run_form=run_form or {},
                           conflicts=conflicts or []), status


@bp.route("/rounds/<int:round_id>/rename", methods=["POST"])
@staff_required
def rename(round_id):
    """Rename a round (same name rule as creating one)."""
    session = db_session()
    try:
        rounds.rename_round(session, round_id, request.form.get("name", ""), actor())
    except ValidationError as exc:
        session.rollback()
        flash(exc.text(current_lang()), "error")
        return render_round(session, round_id, status=400)
    session.commit()
    flash(t("ui.round_renamed", "renamed"), "ok")
    return redirect(url_for("rounds.detail", round_id=round_id))


@bp.route("/rounds/<int:round_id>/tracks", methods=["POST"])
@staff_required
def save_tracks(round_id):
    """Open or close tracks of a round."""
    session = db_session()
    rounds.set_tracks(session, round_id, _chosen_tracks(request.form), actor())
    session.commit()
    flash(t("ui.tracks_saved"), "ok")
    return redirect(url_for("rounds.detail", round_id=round_id))


UPLOAD_WAIT = 3.0
"""Seconds the request waits for its upload's job: a small file's outcome shows at once, a big one's
on its job page, and the request thread is free again either way."""


@bp.route("/rounds/<int:round_id>/import/<kind>", methods=["POST"])
@staff_required
def upload(round_id, kind):
    """Import firms or applications in a background job; a bad file gets the full report and stores nothing."""
    if kind not in ("firms", "applications"):
        abort(404, f"unknown import {kind!r} (firms or applications)")
    session = db_session()
    row = rounds.get_round(session, round_id)
    file = request.files.get("file")
    if file is None or not file.filename:
        abort(400, t("ui.no_file"))
    try:
        filename = clean_text(file.filename, 255, single_line=True)
    except TextError as exc:
        abort(400, msg("upload.bad_filename", name=shown(file.filename), reason=exc.text(current_lang()))
              .text(current_lang()))
    suffix = Path(filename).suffix.lower()
    if suffix not in UPLOAD_SUFFIXES:
        abort(400, f"file {filename!r}: expected one of {', '.join(UPLOAD_SUFFIXES)}")
    folder = upload_folder(current_app)
    folder.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=folder, suffix=suffix, delete=False) as kept:
        file.save(kept)
    try:
        job = rounds.submit_import(session, row.id, kind, kept.name, filename, actor())
        session.commit()
    except BaseException:  # no job will ever read it
        Path(kept.name).unlink(missing_ok=True)
        raise
    start(job).join(UPLOAD_WAIT)
    session.expire_all()
    return upload_outcome(session, rounds.get_job(session, job.id), row)


def upload_folder(app):
    """Where an upload waits for its import job: ``UPLOAD_FOLDER``, else ``instance/uploads``."""
    return Path(app.config.get("UPLOAD_FOLDER") or Path(app.instance_path) / "uploads")


def _note_label(note):
    """'자동 수정' for a repair, '경고' for a warning (a row taken as it is: a 세부품명번호 on no list)."""
    reason = note.get("reason")
    code = reason.get("code", "") if isinstance(reason, dict) else ""
    return say(msg("import.label.warning")) if code in importer.WARNINGS else t("ui.repaired")


def upload_outcome(session, job, round_row):
    """The page for an upload's job: the round with the counts and repairs, the report of every bad row
    (400), or the job page while it is still being read."""
    result = job.result or {}
    if job.status == "done":
        summary = importer.ImportResult(**{k: result[k] for k in ("kind", "inserted", "updated", "unchanged",
                                                                  "rejected")})
        flash(f"{t('ui.upload_ok')}: {job.params.get('filename')} — {import_summary(summary)}", "ok")
        if result.get("sheet_note"):
            flash(problem_reason(result["sheet_note"]), "warning")
        for note in result.get("notes", [])[:NOTES_SHOWN]:
            flash(f"{_note_label(note)}: {problem_text(Problem.from_json(note))}", "warning")
        return redirect(url_for("rounds.detail", round_id=round_row.id))
    if job.status == "failed" and "problems" in result:
        return render_template("staff/import_report.html", round=round_row, kind=job.params.get("kind"),
                               filename=job.params.get("filename"), count=result.get("count"),
                               problems=[Problem.from_json(p) for p in result["problems"]]), 400
    if job.status == "failed":
        abort(400, job.error_ko if current_lang() == "ko" and job.error_ko else job.error)
    return redirect(url_for("runs.job", job_id=job.id))


@bp.route("/interests")
@staff_required
def interests():
    """SMEs' interest requests, newest first."""
    return render_template("staff/interests.html", interests=rounds.list_interests(db_session()))


@bp.route("/audit")
@staff_required
def audit_log():
    """The latest entries of the audit log."""
    return render_template("staff/audit.html", rows=rounds.audit_entries(db_session()))


def _chosen_tracks(form):
    return [key for key in TRACKS if form.get(f"track_{key}")]
