"""Staff: batch matching with progress, runs, the proposals workbench, decisions, pictures, export."""

from __future__ import annotations

from flask import (Blueprint, Response, abort, current_app, flash, jsonify, redirect, render_template,
                   request, url_for)
from sqlalchemy import select

from matcher import db
from matcher.eligibility import why_not
from matcher.export import FORMATS, export_run
from matcher.firms import format_brn, parse_brn
from matcher.matching import DECISION_KINDS, MODES
from matcher.tracks import TRACKS, round_rules

from . import charts, proposals as views
from .auth import actor, staff_required
from .i18n import reason_text, t
from .jobs import get_job, start_run
from .recommendations import round_rules_and_day
from .rounds import render_round, round_or_404
from .store import db_session

bp = Blueprint("runs", __name__, url_prefix="/staff")

TIME_LIMIT = (1.0, 600.0)  # seconds a staff run may take, as the round page's form says

MIMETYPES = {"xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
             "csv": "text/csv"}  # Flask adds "; charset=utf-8" to text types itself


@bp.route("/rounds/<int:round_id>/run", methods=["POST"])
@staff_required
def start(round_id):
    """Start batch matching of a round; redirects to the job page (bad parameters: the round page again,
    with the problems and the values entered, status 400)."""
    session = db_session()
    row = round_or_404(session, round_id)
    values = {key: request.form.get(key, "") for key in ("track", "mode", "time_limit")}
    values["mode"] = values["mode"] or "optimal"
    params, problems = run_params(row, **values)
    if problems:
        for problem in problems:
            flash(problem, "error")
        return render_round(session, row, run_form=values), 400
    job = start_run(current_app.config["DATABASE_URL"], row, actor(), **params)
    return redirect(url_for("runs.job", job_id=job.id))


@bp.route("/runs/<int:run_id>/resolve", methods=["POST"])
@staff_required
def resolve(run_id):
    """Solve the round again with the same parameters, keeping every decision."""
    run = run_or_404(db_session(), run_id)
    params = run.params or {}
    job = start_job(run_round(db_session(), run), run.track or "", params.get("mode", "optimal"),
                    params.get("time_limit"))
    return redirect(url_for("runs.job", job_id=job.id))


def start_job(round_row, track, mode, time_limit):
    """Validate the run's parameters (400 naming every bad one) and start it in the background."""
    params, problems = run_params(round_row, track, mode, time_limit)
    if problems:
        abort(400, "; ".join(problems))
    return start_run(current_app.config["DATABASE_URL"], round_row, actor(), **params)


def run_params(round_row, track, mode, time_limit):
    """The keyword arguments of :func:`web.jobs.start_run` and every problem with them.

    Parameters
    ----------
    round_row : RoundRow
    track : str
        A track open in the round, or '' for every open track.
    mode : str
        One of :data:`matcher.matching.MODES`.
    time_limit : str, float or None
        Seconds, :data:`TIME_LIMIT` inclusive; empty or None for the configured default.

    Returns
    -------
    (dict, list of str)
        ``track``, ``mode`` and ``time_limit``; the problems (empty when the run may start).
    """
    problems = []
    rules = round_rules(round_row)
    open_keys = [key for key in TRACKS if key in rules and rules[key].open]
    if track and track not in TRACKS:
        problems.append(f"track {track!r} is not one of {', '.join(TRACKS)}")
    elif track and track not in open_keys:
        problems.append(f"track {track!r} is not open in round {round_row.name} "
                        f"(open: {', '.join(open_keys) or 'none'})")
    elif not open_keys:
        problems.append(f"round {round_row.name} opens no track; open one on the round page first")
    if mode not in MODES:
        problems.append(f"mode {mode!r} is not one of {', '.join(MODES)}")
    limit = _time_limit(time_limit, problems)
    return dict(track=track or None, mode=mode, time_limit=limit), problems


def _time_limit(value, problems):
    if value is None or (isinstance(value, str) and not value.strip()):
        return current_app.config["RUN_TIME_LIMIT"]
    try:
        limit = float(value)
    except (TypeError, ValueError):
        problems.append(f"time limit {value!r} is not a number of seconds")
        return None
    low, high = TIME_LIMIT
    if not low <= limit <= high:  # also refuses nan
        problems.append(f"time limit {value!r} must be between {low:g} and {high:g} seconds")
    return limit


@bp.route("/jobs/<job_id>")
@staff_required
def job(job_id):
    """The progress page of a background run."""
    return render_template("staff/job.html", job=_job_or_404(job_id))


@bp.route("/jobs/<job_id>.json")
@staff_required
def job_status(job_id):
    """The progress of a background run as JSON (polled by the page); an unknown job is a JSON 404."""
    found = get_job(job_id)
    if found is None:
        return jsonify(error=dict(status=404, message=f"job {job_id!r} not found (jobs are kept until the "
                                                      "server restarts)")), 404
    return jsonify(found.to_dict())


@bp.route("/runs/<int:run_id>")
@staff_required
def run(run_id):
    """The proposals workbench of a run."""
    session = db_session()
    row = run_or_404(session, run_id)
    rows = views.proposal_rows(session, row)
    listing = proposal_page(rows, request.args)
    return render_template("staff/run.html", run=row, round=run_round(session, row), proposals=listing["rows"],
                           listing=listing, diagnostics=views.diagnostics_sections(row.diagnostics),
                           kinds=DECISION_KINDS, tracks=sorted({r["track"] for r in rows}),
                           partners=sorted({r["partner_name"] for r in rows}),
                           statuses=sorted({r["status"] for r in rows}))


PAGE_SIZE = 100  # proposals per workbench page: a national run has thousands
LISTING_FILTERS = {"track": "track", "partner": "partner_name", "status": "status"}
LISTING_SORTS = {"track": "track", "lead": "lead_name", "partner": "partner_name", "score": "score",
                 "status": "status", "decision": "decision"}
LISTING_KEYS = (*LISTING_FILTERS, "sort", "order", "page")


def proposal_page(rows, args, size=PAGE_SIZE):
    """One page of the workbench: ``rows`` filtered, sorted and sliced as the query string asks.

    Parameters
    ----------
    rows : list of dict
        :func:`web.proposals.proposal_rows` of a run.
    args : mapping
        ``track``, ``partner`` (name), ``status`` filters; ``sort`` (one of :data:`LISTING_SORTS`) and
        ``order`` (``asc``/``desc``); ``page`` (from 1; out of range or not a number: the nearest page).

    Returns
    -------
    dict
        ``rows`` of the page, ``page``, ``pages``, ``total`` (after filtering), ``start`` (1-based index
        of the first row shown), ``params`` (the filters and sort given, to keep in links) and ``complete``
        (True when the page holds every proposal of the run, so the browser may filter and sort it alone).
    """
    params = {key: str(args.get(key, "")).strip() for key in LISTING_KEYS[:-1]}
    params = {key: value for key, value in params.items() if value}
    shown = [r for r in rows if all(r[field] == params[key] for key, field in LISTING_FILTERS.items()
                                    if key in params)]
    if params.get("sort") in LISTING_SORTS:
        field = LISTING_SORTS[params["sort"]]
        shown = sorted(shown, key=lambda r: r[field], reverse=params.get("order") == "desc")
    pages = max(1, -(-len(shown) // size))
    page = str(args.get("page", "1")).strip()
    page = min(max(int(page), 1), pages) if page.isdigit() else 1
    start = (page - 1) * size
    return dict(rows=shown[start:start + size], page=page, pages=pages, total=len(shown), start=start + 1,
                params=params, complete=pages == 1 and len(shown) == len(rows))


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
    track = picture_track(rows, request.args.get("track", ""))
    if track:
        rows = [r for r in rows if r["track"] == track]
    diagnostics = views.for_track(row.diagnostics, track)
    loads = views.partner_loads(rows, rules)
    return render_template("staff/pictures.html", run=row, round=round_row, tracks=tracks,
                           track=track, capped=track and not request.args.get("track"), track_colours=charts.TRACK_COLOURS,
                           graph=charts.bipartite_svg(views.graph_pairs(rows, loads), t("graph"),
                                                      unused=views.unused_partner_names(diagnostics)),
                           load=charts.load_svg(loads + views.unused_loads(session, diagnostics, rules),
                                                t("load_chart")),
                           histogram=charts.histogram_svg([r["score"] for r in rows], label=t("histogram")))


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


@bp.route("/runs/<int:run_id>/decide", methods=["POST"])
@staff_required
def decide(run_id):
    """Record a decision on a pair from the workbench."""
    session = db_session()
    row = run_or_404(session, run_id)
    round_row = run_round(session, row)
    refuse_ineligible(session, round_row, request.form)
    views.record_decision(session, round_row, request.form, actor())
    session.commit()
    flash(t("decided"), "ok")
    # back to the page of the listing the decision was made on (only the listing's own keys are kept)
    back = {key: request.form.get("listing_" + key, "") for key in LISTING_KEYS}
    back = {key: value for key, value in back.items() if value}
    return redirect(url_for("runs.run", run_id=row.id, **back) + "#p-" + request.form.get("lead", ""))


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


def refuse_ineligible(session, round_row, values):
    """Abort 400 with the rule reasons when ``values`` approve or lock a pair the round's rules forbid.

    Reject and forbid are always allowed. Without a ``track`` the pair passes when it is eligible in any
    track where the lead applied as lead and the partner as partner. Malformed or unknown firms are left
    to :func:`web.proposals.record_decision`, which refuses them with its own message.
    """
    if values.get("kind") not in ("approve", "lock"):
        return
    firms = []
    for field in ("lead", "partner"):
        try:
            brn = parse_brn(str(values.get(field, "")))
        except ValueError:
            return
        row = session.scalars(select(db.FirmRow).where(db.FirmRow.brn == brn)).first()
        if row is None:
            return
        firms.append(row)
    reasons = ineligibility(session, round_row, *firms, str(values.get("track") or ""))
    if reasons:
        lead, partner = firms
        abort(400, f"{values['kind']} refused: lead {format_brn(lead.brn)} ({lead.name}) – partner "
                   f"{format_brn(partner.brn)} ({partner.name}) is not eligible in round {round_row.name}: "
                   + "; ".join(reasons))


def ineligibility(session, round_row, lead_row, partner_row, track=""):
    """The rule reasons against the pair, as text ([] when eligible in ``track``, or in some common track
    when ``track`` is '').

    Judged with the round's rules (:func:`matcher.tracks.round_rules`) on its reference date, for the
    product the lead applied for in that track.
    """
    rules = round_rules(round_row)
    stmt = select(db.ApplicationRow).where(db.ApplicationRow.round_id == round_row.id,
                                           db.ApplicationRow.firm_id.in_([lead_row.id, partner_row.id]))
    apps = list(session.scalars(stmt))
    products = {a.track: a.product_code or "" for a in apps if a.firm_id == lead_row.id and a.role == "lead"}
    partners = {a.track for a in apps if a.firm_id == partner_row.id and a.role == "partner"}
    tracks = [track] if track else sorted(set(products) & partners)
    tracks = [key for key in tracks if key in rules and key in products and key in partners]
    lead, partner = db.firm_from_row(lead_row), db.firm_from_row(partner_row)
    found = []
    for key in tracks:
        reasons = why_not(lead, partner, key, rules, round_row.reference_date, products[key])
        if not reasons:
            return []
        found.extend(f"[{key}] {reason_text(r)}" for r in reasons)
    return found


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
