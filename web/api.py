"""JSON API under ``/api/v1``.

Public: rounds, recommendations and why-not for a firm. Staff (session login): runs, jobs, proposals,
decisions. Every POST and DELETE needs the CSRF token in the ``X-CSRFToken`` header
(``GET /api/v1/csrf-token`` gives one for the session). Errors: ``{"error": {"status": …, "message": …}}``;
query parameters are checked here and a bad one is a 400 naming it and its value.
"""

from __future__ import annotations

from dataclasses import asdict

from flask import Blueprint, abort, current_app, jsonify, request, url_for
from flask_wtf.csrf import generate_csrf

from matcher import directory, rounds
from matcher.errors import MatcherError
from matcher.messages import N_, msg
from matcher.firms import parse_brn
from matcher.matching import DECISION_KINDS
from matcher.recommend import normalize_filters
from matcher.tracks import TRACKS

from . import proposals as views
from .auth import actor, authenticate, login_user, logout_user, staff_required
from .i18n import current_lang
from .jobs import start
from .runs import job_json
from .search import filters_of, firm_or_404, page_round, recommend_or_abort, search_form
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
    body = _json_body(username=str, password=str)
    user = authenticate(db_session(), body.get("username") or "", body.get("password") or "")
    if user is None:
        abort(401, "unknown username or wrong password")
    login_user(user)
    return jsonify(username=user.username, role=user.role)


@bp.delete("/session")
def logout():
    """Log out: the session no longer carries a staff role (needs the CSRF token like every POST)."""
    logout_user()  # as the HTML logout does: ends the session server-side; the language and CSRF token stay
    return jsonify(logged_out=True)


@bp.get("/rounds")
def rounds_index():
    """Every round with its open tracks and application counts per track and role."""
    s = db_session()
    counts = rounds.application_counts(s)
    return jsonify(rounds=[_round_json(r, counts) for r in sorted(rounds.list_rounds(s), key=lambda r: r.id)])


@bp.get("/rounds/<int:round_id>")
def round_detail(round_id):
    """One round with its open tracks and application counts."""
    s = db_session()
    return jsonify(_round_json(rounds.get_round(s, round_id), rounds.application_counts(s, round_id)))


@bp.get("/rounds/<int:round_id>/overview")
@staff_required
def round_overview(round_id):
    """Where each track of a round stands: applications, eligible, proposed, approved, rejected, pending… (staff)."""
    return jsonify(tracks=[asdict(o) for o in rounds.round_overview(db_session(), round_id)])


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
    result = recommend_or_abort(s, firm.brn, form)
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
    return jsonify(runs=[_run_json(r, n) for r, n in reversed(rounds.list_runs(db_session(), round_id))])


@bp.post("/rounds/<int:round_id>/runs")
@staff_required
def start_run(round_id):
    """Start batch matching of a round in the background (staff): 202 with the job (200 with the job already
    running on the same inputs); 409 with ``conflicts`` when decisions make it impossible."""
    body = _json_body(track=str, mode=str, time_limit=float)
    s = db_session()
    job, new = rounds.submit_match(s, round_id, body.get("track") or "", body.get("mode") or "optimal",
                                   body.get("time_limit"), actor(), default_limit=current_app.config["RUN_TIME_LIMIT"])
    s.commit()
    if new:
        start(job)
    return jsonify(job_json(job)), 202 if new else 200, {"Location": url_for("api.job", job_id=job.id)}


@bp.get("/jobs/<job_id>")
@staff_required
def job(job_id):
    """A background job's progress (staff): status queued/running/done/failed/cancelled/interrupted."""
    return jsonify(job_json(rounds.get_job(db_session(), job_id)))


@bp.post("/jobs/<job_id>/cancel")
@staff_required
def cancel_job(job_id):
    """Ask a queued or running job to stop (staff)."""
    s = db_session()
    view = rounds.cancel_job(s, job_id, actor())
    s.commit()
    return jsonify(job_json(view))


@bp.post("/jobs/<job_id>/retry")
@staff_required
def retry_job(job_id):
    """Start again a job that failed, was cancelled or was interrupted (staff); 202 with the new job."""
    s = db_session()
    job, new = rounds.retry_job(s, job_id, actor())
    s.commit()
    if new:
        start(job)
    return jsonify(job_json(job)), 202 if new else 200


@bp.get("/runs/<int:run_id>")
@staff_required
def run(run_id):
    """One stored run with its status, objective, bound, gap, time and diagnostics (staff)."""
    s = db_session()
    row = rounds.get_run(s, run_id)
    n = dict((r.id, c) for r, c in rounds.list_runs(s, row.round_id))[row.id]
    return jsonify(_run_json(row, n, diagnostics=True))


@bp.get("/runs/<int:run_id>/proposals")
@staff_required
def run_proposals(run_id):
    """The stored proposals of a run with the decision that counts now (``current``), filterable by track,
    status, partner_brn, decision, q, score_min, score_max (staff)."""
    s = db_session()
    rows = rounds.proposal_rows(s, rounds.get_run(s, run_id))
    filters = _proposal_filters(request.args)
    brn = filters.pop("partner_brn", None)
    rows, _params = rounds.runs.filter_rows(rows, filters)
    if brn:
        rows = [r for r in rows if r["partner_brn"] == brn]
    return jsonify(run=run_id, proposals=[views.as_json(r) for r in rows])


@bp.get("/rounds/<int:round_id>/decisions")
@staff_required
def decisions(round_id):
    """The staff decisions that count in a round; ``?history=1`` for every decision ever taken (staff)."""
    s = db_session()
    found = (rounds.decision_history(s, round_id) if request.args.get("history") in ("1", "true")
             else rounds.list_decisions(s, round_id))
    return jsonify(decisions=[d.to_dict() for d in found])


@bp.post("/rounds/<int:round_id>/decisions")
@staff_required
def decide(round_id):
    """Record a decision ``{"lead", "partner", "kind", "note", "track"}`` (staff); kind is approve, reject, lock,
    forbid or clear; 201 with the decision that now counts (``null`` after clear)."""
    s = db_session()
    body = _json_body(lead=str, partner=str, kind=str, note=str, track=str)
    found = rounds.decide(s, round_id, body.get("lead") or "", body.get("partner") or "", body.get("kind") or "",
                          body.get("note") or "", actor(), body.get("track") or "")
    s.commit()
    return jsonify(decision=found.to_dict() if found else None), 201


@bp.delete("/rounds/<int:round_id>/decisions/<lead>/<partner>")
@staff_required
def clear_decision(round_id, lead, partner):
    """Clear the decision on the pair lead–partner (staff); 200 also when it had none."""
    s = db_session()
    rounds.decide(s, round_id, lead, partner, "clear", request.args.get("note", ""), actor())
    s.commit()
    return jsonify(decision=None)


PROPOSAL_STATUSES = ("proposed", "approved", "rejected")


def _proposal_filters(args):
    """The proposals filters given, checked (400 naming every bad one) and normalised."""
    allowed = dict(track=TRACKS, status=PROPOSAL_STATUSES, decision=(*DECISION_KINDS, "none"))
    filters = {key: args[key].strip() for key in ("q", "score_min", "score_max") if args.get(key, "").strip()}
    problems = []
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


JSON_TYPES = {str: N_("http.type_text"), float: N_("http.type_number"), bool: N_("http.type_bool"),
              dict: N_("http.type_object"), list: N_("http.type_list")}


def _json_body(**fields):
    """The request's JSON object, each of ``fields`` (name → ``str`` or ``float``) of its type or null.

    A wrong type is a 400 naming every such field, the type wanted and the one sent: the API never
    stores ``{"x": 1}`` as the text ``"{'x': 1}"``, nor reads ``true`` as a one-second time limit.
    """
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        abort(400, "expected a JSON object body (Content-Type: application/json)")
    wrong = [msg("http.field_type", field=name, expected=msg(JSON_TYPES[kind]), got=msg(_json_type(body[name])))
             for name, kind in fields.items() if body.get(name) is not None and not _is(body[name], kind)]
    if wrong:
        abort(400, " ".join(m.text(current_lang()) for m in wrong))
    return body


def _is(value, kind):
    if kind is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    return isinstance(value, kind)


def _json_type(value):
    if isinstance(value, bool):
        return JSON_TYPES[bool]
    if isinstance(value, (int, float)):
        return JSON_TYPES[float]
    return next(code for kind, code in JSON_TYPES.items() if isinstance(value, kind))


def _round_json(row, counts):
    apps = {f"{track}/{role}": n for (rid, track, role), n in counts.items() if rid == row.id}
    return dict(id=row.id, name=row.name, reference_date=row.reference_date.isoformat(),
                open_tracks=list(row.open_tracks or []), applications=apps)


def _run_json(row, n_proposals, diagnostics=False):
    data = dict(id=row.id, round_id=row.round_id, track=row.track, status=row.status, objective=row.objective,
                bound=row.bound, gap=row.gap, seconds=row.seconds, created_by=row.created_by,
                created_at=row.created_at.isoformat() if row.created_at else None, params=row.params,
                proposals=n_proposals)
    if diagnostics:
        data["diagnostics"] = row.diagnostics
    return data
