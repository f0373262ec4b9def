"""Staff: batch matching with progress, runs, the proposals workbench, decisions, pictures, export."""

from __future__ import annotations

from flask import (Blueprint, Response, abort, current_app, flash, jsonify, redirect, render_template,
                   request, url_for)

from matcher import db
from matcher.export import FORMATS, export_run
from matcher.matching import DECISION_KINDS, MODES
from matcher.tracks import TRACKS

from . import charts, proposals as views
from .auth import actor, staff_required
from .i18n import t
from .jobs import get_job, start_run
from .recommendations import round_rules_and_day
from .rounds import round_or_404
from .store import db_session

bp = Blueprint("runs", __name__, url_prefix="/staff")

MIMETYPES = {"xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
             "csv": "text/csv; charset=utf-8"}


@bp.route("/rounds/<int:round_id>/run", methods=["POST"])
@staff_required
def start(round_id):
    """Start batch matching of a round; redirects to the job page."""
    row = round_or_404(db_session(), round_id)
    job = start_job(row, request.form.get("track", ""), request.form.get("mode", "optimal"),
                 request.form.get("time_limit", ""))
    return redirect(url_for("runs.job", job_id=job.id))


@bp.route("/runs/<int:run_id>/resolve", methods=["POST"])
@staff_required
def resolve(run_id):
    """Solve the round again with the same parameters, keeping every decision."""
    run = run_or_404(db_session(), run_id)
    params = run.params or {}
    job = start_job(run_round(db_session(), run), run.track or "", params.get("mode", "optimal"),
                 str(params.get("time_limit") or ""))
    return redirect(url_for("runs.job", job_id=job.id))


def start_job(round_row, track, mode, time_limit):
    """Validate the run's parameters (400 on a bad one) and start it in the background."""
    if track and track not in TRACKS:
        abort(400, f"track {track!r} is not one of {', '.join(TRACKS)}")
    if mode not in MODES:
        abort(400, f"mode {mode!r} is not one of {', '.join(MODES)}")
    try:
        limit = float(time_limit) if time_limit else current_app.config["RUN_TIME_LIMIT"]
    except ValueError:
        abort(400, f"time limit {time_limit!r} is not a number of seconds")
    return start_run(current_app.config["DATABASE_URL"], round_row, actor(), track=track or None,
                     mode=mode, time_limit=limit)


@bp.route("/jobs/<job_id>")
@staff_required
def job(job_id):
    """The progress page of a background run."""
    return render_template("staff/job.html", job=_job_or_404(job_id))


@bp.route("/jobs/<job_id>.json")
@staff_required
def job_status(job_id):
    """The progress of a background run as JSON (polled by the page)."""
    return jsonify(_job_or_404(job_id).to_dict())


@bp.route("/runs/<int:run_id>")
@staff_required
def run(run_id):
    """The proposals workbench of a run."""
    session = db_session()
    row = run_or_404(session, run_id)
    rows = views.proposal_rows(session, row)
    return render_template("staff/run.html", run=row, round=run_round(session, row), proposals=rows,
                           diagnostics=views.diagnostics_sections(row.diagnostics), kinds=DECISION_KINDS,
                           tracks=sorted({r["track"] for r in rows}),
                           partners=sorted({r["partner_name"] for r in rows}),
                           statuses=sorted({r["status"] for r in rows}))


@bp.route("/runs/<int:run_id>/pictures")
@staff_required
def pictures(run_id):
    """The graph, load chart and histogram of a run (optionally one track)."""
    session = db_session()
    row = run_or_404(session, run_id)
    round_row = run_round(session, row)
    rules, _on = round_rules_and_day(round_row)
    rows = views.proposal_rows(session, row)
    tracks = sorted({r["track"] for r in rows})
    track = request.args.get("track", "")
    if track:
        rows = [r for r in rows if r["track"] == track]
    diagnostics = views.for_track(row.diagnostics, track)
    loads = views.partner_loads(rows, rules)
    return render_template("staff/pictures.html", run=row, round=round_row, tracks=tracks,
                           track=track, track_colours=charts.TRACK_COLOURS,
                           graph=charts.bipartite_svg(views.graph_pairs(rows, loads), t("graph"),
                                                      unused=views.unused_partner_names(diagnostics)),
                           load=charts.load_svg(loads + views.unused_loads(session, diagnostics, rules),
                                                t("load_chart")),
                           histogram=charts.histogram_svg([r["score"] for r in rows], label=t("histogram")))


@bp.route("/runs/<int:run_id>/decide", methods=["POST"])
@staff_required
def decide(run_id):
    """Record a decision on a pair from the workbench."""
    session = db_session()
    row = run_or_404(session, run_id)
    views.record_decision(session, run_round(session, row), request.form, actor())
    session.commit()
    flash(t("decided"), "ok")
    return redirect(url_for("runs.run", run_id=row.id) + "#p-" + request.form.get("lead", ""))


@bp.route("/runs/<int:run_id>/export.<fmt>")
@staff_required
def export(run_id, fmt):
    """Download the run as XLSX or CSV (formula cells neutralised)."""
    if fmt not in FORMATS:
        abort(404, f"export format {fmt!r} is not one of {', '.join(FORMATS)}")
    session = db_session()
    row = run_or_404(session, run_id)
    data = export_run(session, row.id, fmt)
    db.audit(session, actor(), "run.export", run=row.id, format=fmt)
    session.commit()
    return Response(data, mimetype=MIMETYPES[fmt], headers={
        "Content-Disposition": f'attachment; filename="run-{row.id}.{fmt}"'})


def run_or_404(session, run_id):
    """A run by id, or 404 naming it."""
    row = session.get(db.MatchRunRow, run_id)
    if row is None:
        abort(404, f"run {run_id} not found")
    return row


def run_round(session, run):
    """The round a run belongs to."""
    return session.get(db.RoundRow, run.round_id)


def _job_or_404(job_id):
    found = get_job(job_id)
    if found is None:
        abort(404, f"job {job_id!r} not found (jobs are kept until the server restarts)")
    return found
