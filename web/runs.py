"""Staff: batch matching with progress, runs, the proposals workbench, decisions, pictures, export."""

from __future__ import annotations

from flask import Blueprint, Response, abort, current_app, flash, jsonify, redirect, render_template, request, url_for

from matcher import rounds
from matcher.errors import ConflictError, MatcherError, ValidationError
from matcher.export import FORMATS
from matcher.matching import DECISION_KINDS
from matcher.tracks import TRACKS, round_rules

from . import charts, proposals as views
from .auth import actor, staff_required
from .i18n import current_lang, t
from .jobs import start
from .rounds import render_round
from .store import db_session

bp = Blueprint("runs", __name__, url_prefix="/staff")

MIMETYPES = {"xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
             "csv": "text/csv"}  # Flask adds "; charset=utf-8" to text types itself


def submit(round_id, track, mode, time_limit):
    """Queue a run (or join the identical one running) and give a new one a thread; returns the job."""
    session = db_session()
    job, new = rounds.submit_match(session, round_id, track, mode, time_limit, actor(),
                                   default_limit=current_app.config["RUN_TIME_LIMIT"])
    session.commit()
    if new:
        start(job)
    else:
        flash(t("ui.job_joined", "the same run is already running: showing it"), "warning")
    return job


@bp.route("/rounds/<int:round_id>/run", methods=["POST"])
@staff_required
def start_run(round_id):
    """Start batch matching; the job page follows. Bad parameters (400) or conflicting decisions (409)
    show the round page again with the problems, the values entered and the fixes."""
    values = {key: request.form.get(key, "") for key in ("track", "mode", "time_limit")}
    values["mode"] = values["mode"] or "optimal"
    try:
        job = submit(round_id, **values)
    except ValidationError as exc:
        for line in exc.text(current_lang()).splitlines()[:20]:
            flash(line, "error")
        return render_round(db_session(), round_id, run_form=values, status=400)
    except ConflictError as exc:
        return render_round(db_session(), round_id, run_form=values, conflicts=exc.conflicts, status=409)
    return redirect(url_for("runs.job", job_id=job.id))


@bp.route("/runs/<int:run_id>/resolve", methods=["POST"])
@staff_required
def resolve(run_id):
    """Solve the round again with the run's parameters, keeping every decision."""
    run = rounds.get_run(db_session(), run_id)
    params = run.params or {}
    try:
        job = submit(run.round_id, run.track or "", params.get("mode", "optimal"), params.get("time_limit"))
    except ConflictError as exc:
        return render_round(db_session(), run.round_id, conflicts=exc.conflicts, status=409)
    return redirect(url_for("runs.job", job_id=job.id))


@bp.route("/jobs/<job_id>")
@staff_required
def job(job_id):
    """The progress page of a background run (with cancel, or retry when it failed or was interrupted)."""
    return render_template("staff/job.html", job=rounds.get_job(db_session(), job_id))


@bp.route("/jobs/<job_id>.json")
@staff_required
def job_status(job_id):
    """The progress of a background run as JSON (polled by the page)."""
    return jsonify(job_json(rounds.get_job(db_session(), job_id)))


def job_json(view):
    from .i18n import job_message
    out = view.to_dict()
    out["message"] = job_message(view.message)
    out["status_text"] = t("job_" + view.status, view.status)
    out["error"] = view.error_ko if current_lang() == "ko" and view.error_ko else view.error
    return out


@bp.route("/jobs/<job_id>/cancel", methods=["POST"])
@staff_required
def cancel(job_id):
    """Ask a running job to stop."""
    session = db_session()
    try:
        rounds.cancel_job(session, job_id, actor())
        session.commit()
        flash(t("ui.job_cancelling", "cancelling…"), "ok")
    except MatcherError as exc:
        flash(exc.text(current_lang()), "error")
    return redirect(url_for("runs.job", job_id=job_id))


@bp.route("/jobs/<job_id>/retry", methods=["POST"])
@staff_required
def retry(job_id):
    """Start again a run that failed, was cancelled or was interrupted."""
    session = db_session()
    view = rounds.get_job(session, job_id)
    try:
        job, new = rounds.retry_job(session, job_id, actor())
    except ConflictError as exc:
        return render_round(session, view.round_id, conflicts=exc.conflicts, status=409)
    session.commit()
    if new:
        start(job)
    return redirect(url_for("runs.job", job_id=job.id))


@bp.route("/runs/<int:run_id>")
@staff_required
def run(run_id):
    """The proposals workbench of a run: the stored proposals, and the decisions taken since."""
    session = db_session()
    row = rounds.get_run(session, run_id)
    rows = rounds.proposal_rows(session, row)
    try:
        listing = rounds.listing(rows, request.args)
    except ValidationError as exc:
        flash(exc.text(current_lang()), "error")
        listing = rounds.listing(rows, {})
    return render_template("staff/run.html", run=row, round=rounds.get_round(session, row.round_id),
                           proposals=listing.rows, listing=listing, n_proposals=len(rows), run_counts={row.id: len(rows)},
                           diagnostics=views.diagnostics_sections(row.diagnostics), kinds=DECISION_KINDS,
                           bulk_kinds=rounds.decisions.BULK_KINDS, tracks=sorted({r["track"] for r in rows}),
                           partners=sorted({r["partner_name"] for r in rows}),
                           statuses=sorted({r["status"] for r in rows}),
                           since=rounds.decisions_since(session, row), scored_by=scored_by(row),
                           model_title=_model_title())


def _model_title():
    from matcher.messages import msg
    return msg("model.title")


def scored_by(run_row):
    """The run page's line naming the weights that scored the run (``hand`` or a model version)."""
    from matcher.messages import msg
    version = getattr(run_row, "model", None) or "hand"
    return msg("model.scored_by", version=msg("model.hand") if version == "hand" else version)


@bp.route("/runs/<int:run_id>/pictures")
@staff_required
def pictures(run_id):
    """The graph, load chart and histogram of a run as it was stored (optionally one track)."""
    session = db_session()
    row = rounds.get_run(session, run_id)
    round_row = rounds.get_round(session, row.round_id)
    rules = round_rules(round_row)
    rows = rounds.proposal_rows(session, row)
    tracks = sorted({r["track"] for r in rows})
    track = picture_track(rows, request.args.get("track", ""))
    if track:
        rows = [r for r in rows if r["track"] == track]
    diagnostics = views.for_track(row.diagnostics, track)
    loads = views.partner_loads(rows, rules)
    sizes = rounds.firm_sizes(session, [i.get("brn") for i in diagnostics.get("unused_partners", [])])
    return render_template("staff/pictures.html", run=row, round=round_row, tracks=tracks,
                           track=track, capped=track and not request.args.get("track"),
                           track_colours=charts.TRACK_COLOURS,
                           graph=charts.bipartite_svg(views.graph_pairs(rows, loads), t("ui.graph"),
                                                      unused=views.unused_partner_names(diagnostics)),
                           load=charts.load_svg(loads + views.unused_loads(diagnostics, sizes, rules), t("ui.load_chart")),
                           histogram=charts.histogram_svg([r["score"] for r in rows], label=t("ui.histogram")))


GRAPH_PAIRS = 150  # beyond this many pairs the all-tracks graph is too tall to read: show one track


def picture_track(rows, asked):
    """The track the pictures page shows: ``asked`` (``all`` for every track); without one, every track
    when the run has at most :data:`GRAPH_PAIRS` pairs, else the first track (in :data:`TRACKS` order)
    with proposals."""
    if asked == "all":
        return ""
    if asked or len(rows) <= GRAPH_PAIRS:
        return asked
    present = {r["track"] for r in rows}
    return next((key for key in TRACKS if key in present), "")


def _back(run_id, anchor=""):
    """Back to the page of the listing a decision was made on (only the listing's own keys are kept)."""
    keys = (*rounds.runs.LISTING_KEYS, "page")
    back = {key: request.form.get("listing_" + key, "") for key in keys}
    back = {key: value for key, value in back.items() if value}
    return redirect(url_for("runs.run", run_id=run_id, **back) + (f"#p-{anchor}" if anchor else ""))


@bp.route("/runs/<int:run_id>/decide", methods=["POST"])
@staff_required
def decide(run_id):
    """Record a decision on a pair from the workbench (also a manual pair, and clear)."""
    session = db_session()
    row = rounds.get_run(session, run_id)
    form = request.form
    try:
        rounds.decide(session, row.round_id, form.get("lead", ""), form.get("partner", ""), form.get("kind", ""),
                      form.get("note", ""), actor(), form.get("track", ""))
    except MatcherError as exc:
        session.rollback()
        flash(exc.text(current_lang()), "error")
        return _back(run_id, form.get("lead", ""))
    session.commit()
    flash(t("ui.cleared") if form.get("kind") == "clear" else t("ui.decided"), "ok")
    return _back(run_id, form.get("lead", ""))


@bp.route("/runs/<int:run_id>/decide-many", methods=["POST"])
@staff_required
def decide_many(run_id):
    """One decision (approve, reject or clear) on every selected row, all or none."""
    session = db_session()
    row = rounds.get_run(session, run_id)
    pairs = [tuple((value.split("|") + ["", "", ""])[:3]) for value in request.form.getlist("pair")]
    try:
        done = rounds.decide_many(session, row.round_id, pairs, request.form.get("kind", ""),
                                  request.form.get("note", ""), actor())
    except MatcherError as exc:
        session.rollback()
        for line in exc.text(current_lang()).splitlines()[:20]:
            flash(line, "error")
        return _back(run_id)
    session.commit()
    flash(f"{t('ui.decided')}: {len(done)}", "ok")
    return _back(run_id)


@bp.route("/rounds/<int:round_id>/clear", methods=["POST"])
@staff_required
def clear(round_id):
    """Clear one decision (the fix links of a conflict); back to the round page."""
    session = db_session()
    try:
        rounds.decide(session, round_id, request.form.get("lead", ""), request.form.get("partner", ""), "clear",
                      request.form.get("note", ""), actor())
    except MatcherError as exc:
        session.rollback()
        flash(exc.text(current_lang()), "error")
        return redirect(url_for("rounds.detail", round_id=round_id))
    session.commit()
    flash(t("ui.cleared"), "ok")
    return redirect(url_for("rounds.detail", round_id=round_id))


@bp.route("/rounds/<int:round_id>/pairs/<lead>/<partner>")
@staff_required
def pair_history(round_id, lead, partner):
    """Every decision taken on one pair (who, when, note); the latest counts."""
    session = db_session()
    return render_template("staff/pair.html", round=rounds.get_round(session, round_id),
                           history=rounds.decision_history(session, round_id, lead, partner), lead=lead,
                           partner=partner)


@bp.route("/runs/<int:run_id>/export.<fmt>")
@staff_required
def export(run_id, fmt):
    """Download the run as XLSX or CSV (the page's filters; formula cells neutralised)."""
    if fmt not in FORMATS:
        abort(404, f"export format {fmt!r} is not one of {', '.join(FORMATS)}")
    session = db_session()
    row = rounds.get_run(session, run_id)
    try:
        data = rounds.export_run(session, row.id, fmt, current_lang(), request.args)
    except ValidationError as exc:
        flash(exc.text(current_lang()), "error")
        return redirect(url_for("runs.run", run_id=row.id))
    rounds.log_export(session, row.id, fmt, actor())
    session.commit()
    return Response(data, mimetype=MIMETYPES[fmt], headers={
        "Content-Disposition": f'attachment; filename="run-{row.id}.{fmt}"'})

