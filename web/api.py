"""JSON API under ``/api/v1``.

Public: rounds, recommendations and why-not for a firm. Staff (session login): runs, jobs, proposals,
decisions. Every POST and DELETE needs the CSRF token in the ``X-CSRFToken`` header
(``GET /api/v1/csrf-token`` gives one for the session). Errors: ``{"error": {"status": …, "message": …}}``;
query parameters are checked here and a bad one is a 400 naming it and its value.
"""

from __future__ import annotations

from flask import Blueprint, abort, current_app, jsonify, request, session, url_for
from flask_wtf.csrf import generate_csrf
from sqlalchemy import select

from matcher import db, directory
from matcher.errors import MatcherError, NotFoundError
from matcher.firms import parse_brn
from matcher.matching import DECISION_KINDS
from matcher.recommend import normalize_filters
from matcher.tracks import TRACKS

from . import proposals as views
from .auth import actor, authenticate, login_user, staff_required
from .jobs import get_job
from .rounds import application_counts, round_or_404
from .runs import refuse_ineligible, run_or_404, start_job
from .search import filters_of, firm_or_404, page_round, search_form
from .store import db_session

bp = Blueprint("api", __name__, url_prefix="/api/v1")


@bp.get("/")
def index():
    """Every endpoint of this API with its methods and what it does."""
    endpoints = []
    for rule in sorted(current_app.url_map.iter_rules(), key=lambda r: r.rule):
        if rule.rule.startswith("/api/v1"):
            doc = (current_app.view_functions[rule.endpoint].__doc__ or "").strip().split("\n")[0]
            endpoints.append(dict(path=rule.rule, methods=sorted(rule.methods - {"HEAD", "OPTIONS"}), doc=doc))
    return jsonify(endpoints=endpoints)


@bp.get("/csrf-token")
def csrf_token():
    """A CSRF token for this session, to send as ``X-CSRFToken`` on every POST and DELETE."""
    return jsonify(csrf_token=generate_csrf())


@bp.post("/session")
def login():
    """Log in with ``{"username", "password"}``; the session cookie then carries the staff role."""
    body = _json_body()
    user = authenticate(db_session(), str(body.get("username", "")), str(body.get("password", "")))
    if user is None:
        abort(401, "unknown username or wrong password")
    login_user(user)
    return jsonify(username=user.username, role=user.role)


@bp.delete("/session")
def logout():
    """Log out: the session no longer carries a staff role (needs the CSRF token like every POST)."""
    session.pop("user_id", None)  # as the HTML logout does; the language and CSRF token stay
    return jsonify(logged_out=True)


@bp.get("/rounds")
def rounds():
    """Every round with its open tracks and application counts per track and role."""
    s = db_session()
    counts = application_counts(s)
    return jsonify(rounds=[_round_json(r, counts) for r in s.scalars(select(db.RoundRow).order_by(db.RoundRow.id))])


@bp.get("/rounds/<int:round_id>")
def round_detail(round_id):
    """One round with its open tracks and application counts."""
    s = db_session()
    return jsonify(_round_json(round_or_404(s, round_id), application_counts(s, round_id)))


@bp.get("/firms/<brn>/recommendations")
def recommendations(brn):
    """Ranked partners (or, with ``as_partner=1``, leads) from the track's directory, with explanations.

    ``applicants_only=1`` keeps the round's applicants; ``product=`` the product a lead means to apply
    for. An empty list comes with ``empty_reason`` (counts by reason code, and what would widen it).
    """
    s = db_session()
    firm = firm_or_404(s, brn)
    form = _checked_form(request.args)
    page_round(s, firm, form)
    try:
        result = directory.recommend(s, firm.brn, track=form["track"], k=form["k"], as_partner=form["as_partner"],
                                     filters=filters_of(form), round_name=form["round"] or None,
                                     applicants_only=form["applicants_only"], product=form["product"])
    except NotFoundError as exc:
        abort(404, str(exc))
    except MatcherError as exc:
        abort(400, str(exc))
    return jsonify(firm=firm.brn, track=form["track"], as_partner=form["as_partner"], round=form["round"] or None,
                   reasons=result["reasons"], note={"ko": result["note_ko"], "en": result["note_en"]},
                   pool_size=result["pool_size"], applicants=result["applicants"],
                   applicants_only=form["applicants_only"], product=result["product"] or None,
                   empty_reason=result["empty_reason"], recommendations=result["recommendations"])


@bp.get("/firms/<brn>/why-not")
def why_not_api(brn):
    """Every eligibility reason against the pair (firm, ``other``) in a track, and whether it is in the pool."""
    s = db_session()
    form = _checked_form(request.args)
    other_brn = request.args.get("other", "").strip()
    if not other_brn:
        abort(400, "query parameter 'other' is required (the other firm's 사업자등록번호)")
    try:
        parse_brn(other_brn)
    except ValueError as exc:
        abort(400, f"query parameter 'other' {other_brn!r}: 사업자등록번호 {exc}")
    firm, other = firm_or_404(s, brn), firm_or_404(s, other_brn)
    page_round(s, firm, form)
    why = directory.why_not(s, firm.brn, other.brn, form["track"], form["as_partner"], form["round"] or None,
                            filters_of(form), form["applicants_only"], form["product"])
    return jsonify(firm=firm.brn, other=other.brn, eligible=why["eligible"], reasons=why["reasons"],
                   in_pool=why["in_pool"], applied=why.get("applied", False), pool_note=why["pool_note"])


@bp.get("/rounds/<int:round_id>/runs")
@staff_required
def runs(round_id):
    """The runs of a round (staff)."""
    s = db_session()
    row = round_or_404(s, round_id)
    stmt = select(db.MatchRunRow).where(db.MatchRunRow.round_id == row.id).order_by(db.MatchRunRow.id)
    return jsonify(runs=[_run_json(r) for r in s.scalars(stmt)])


@bp.post("/rounds/<int:round_id>/runs")
@staff_required
def start_run(round_id):
    """Start batch matching of a round in the background (staff); 202 with the job."""
    body = _json_body()
    row = round_or_404(db_session(), round_id)
    job = start_job(row, str(body.get("track") or ""), str(body.get("mode") or "optimal"), body.get("time_limit"))
    return jsonify(job.to_dict()), 202, {"Location": url_for("api.job", job_id=job.id)}


@bp.get("/jobs/<job_id>")
@staff_required
def job(job_id):
    """A background job's progress (staff)."""
    found = get_job(job_id)
    if found is None:
        abort(404, f"job {job_id!r} not found")
    return jsonify(found.to_dict())


@bp.get("/runs/<int:run_id>")
@staff_required
def run(run_id):
    """One run with its status, objective, bound, gap, time and diagnostics (staff)."""
    return jsonify(_run_json(run_or_404(db_session(), run_id), diagnostics=True))


@bp.get("/runs/<int:run_id>/proposals")
@staff_required
def run_proposals(run_id):
    """The proposals of a run, filterable by track, status, partner_brn and decision (staff)."""
    s = db_session()
    rows = views.proposal_rows(s, run_or_404(s, run_id))
    for field, value in _proposal_filters(request.args).items():
        rows = [r for r in rows if r[field] == value]
    return jsonify(run=run_id, proposals=[views.as_json(r) for r in rows])


@bp.get("/rounds/<int:round_id>/decisions")
@staff_required
def decisions(round_id):
    """The staff decisions of a round (staff)."""
    s = db_session()
    row = round_or_404(s, round_id)
    firms = {f.id: f.brn for f in s.scalars(select(db.FirmRow))}
    return jsonify(decisions=[_decision_json(d, firms) for d in views.decisions_of(s, row.id).values()])


@bp.post("/rounds/<int:round_id>/decisions")
@staff_required
def decide(round_id):
    """Record a decision ``{"lead", "partner", "kind", "note", "track"}`` (staff); 201 with all decisions."""
    s = db_session()
    row = round_or_404(s, round_id)
    body = _json_body()
    refuse_ineligible(s, row, body)
    views.record_decision(s, row, body, actor())
    s.commit()
    firms = {f.id: f.brn for f in s.scalars(select(db.FirmRow))}
    return jsonify(decisions=[_decision_json(d, firms) for d in views.decisions_of(s, row.id).values()]), 201


PROPOSAL_STATUSES = ("proposed", "approved", "rejected")


def _proposal_filters(args):
    """The proposals filters given, checked (400 naming every bad one) and normalised."""
    allowed = dict(track=TRACKS, status=PROPOSAL_STATUSES, decision=DECISION_KINDS)
    filters, problems = {}, []
    for field in ("track", "status", "partner_brn", "decision"):
        value = args.get(field, "").strip()
        if not value:
            continue
        if field == "partner_brn":
            try:
                value = parse_brn(value)
            except ValueError as exc:
                problems.append(f"partner_brn {value!r}: 사업자등록번호 {exc}")
        elif value not in allowed[field]:
            problems.append(f"{field} {value!r} is not one of {', '.join(allowed[field])}")
        filters[field] = value
    if problems:
        abort(400, "; ".join(problems))
    return filters


def _checked_form(args):
    """The search form of a recommendations or why-not query; 400 naming every bad parameter.

    Unlike the HTML pages (which fall back to defaults), the API refuses a missing or unknown track,
    a ``k`` that is not a whole number from 1 to 50 and filter values it does not know.
    """
    problems = []
    track = args.get("track", "").strip()
    if not track:
        problems.append(f"query parameter 'track' is required ({', '.join(TRACKS)})")
    elif track not in TRACKS:
        problems.append(f"track {track!r} is not one of {', '.join(TRACKS)}")
    k = args.get("k", "").strip()
    if k and not (k.isdigit() and 1 <= int(k) <= 50):
        problems.append(f"k {k!r} must be a whole number from 1 to 50")
    filters = dict(region=args.get("region", ""), size_class=args.get("size_filter", ""),
                   certificate=args.get("certificate", ""))
    try:
        wanted = normalize_filters(filters)
    except MatcherError as exc:
        problems.append(str(exc).replace("size_class filter", "size_filter"))
        wanted = {}
    if problems:
        abort(400, "; ".join(problems))
    values = dict(args.items())
    values.update({"size_filter" if key == "size_class" else key: next(iter(v)) for key, v in wanted.items()})
    return search_form(values)


def _json_body():
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        abort(400, "expected a JSON object body (Content-Type: application/json)")
    return body


def _round_json(row, counts):
    apps = {f"{track}/{role}": n for (rid, track, role), n in counts.items() if rid == row.id}
    return dict(id=row.id, name=row.name, reference_date=row.reference_date.isoformat(),
                open_tracks=list(row.open_tracks or []), applications=apps)


def _run_json(row, diagnostics=False):
    data = dict(id=row.id, round_id=row.round_id, track=row.track, status=row.status, objective=row.objective,
                bound=row.bound, gap=row.gap, seconds=row.seconds, created_by=row.created_by,
                created_at=row.created_at.isoformat() if row.created_at else None, params=row.params,
                proposals=len(row.proposals))
    if diagnostics:
        data["diagnostics"] = row.diagnostics
    return data


def _decision_json(d, firms):
    return dict(lead=firms.get(d.lead_id), partner=firms.get(d.partner_id), track=d.track, kind=d.kind,
                note=d.note, decided_by=d.decided_by,
                decided_at=d.decided_at.isoformat() if d.decided_at else None)
