"""Staff: a round after the match — access codes, the selection stages, the quota, publication, results.

Views read the form, call :mod:`matcher.rounds` (access, stages, publication) and redirect back to the
round's selection page; every one is staff-only (a viewer reads, never changes).
"""

from __future__ import annotations

from datetime import datetime

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for

from matcher import db
from matcher.errors import MatcherError, NotFoundError
from matcher.export import table_bytes
from matcher.messages import N_, msg
from matcher.rounds import access, interest, publication, stages
from matcher.tracks import TRACKS

from .auth import actor, staff_required
from .charts import funnel_svg
from .i18n import current_lang
from .store import db_session

bp = Blueprint("selection", __name__, url_prefix="/staff/rounds/<int:round_id>")

MIMETYPES = {"csv": "text/csv; charset=utf-8",
             "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}


def _say(m):
    return m.text(current_lang())


@bp.route("/selection")
@staff_required
def page(round_id):
    """The round's access codes, candidates per track (ranked), quotas, publication and the funnel."""
    session = db_session()
    round_row = db.get_round(session, round_id)
    lang = current_lang()
    open_tracks = [t for t in TRACKS if t in (round_row.open_tracks or [])]
    ranked = {t: stages.ranked(session, round_id, t) for t in open_tracks}
    earlier = {}  # 상생협력제품 of other rounds, by firm: what later rounds see of a firm's history
    for p in stages.products(session):
        if p.round_name != round_row.name:
            for brn in (p.lead_brn, p.partner_brn):
                earlier.setdefault(brn, []).append(p)
    funnel = publication.funnel(session, round_id)
    chart = funnel_svg(funnel, lang)
    return render_template("staff/selection.html", round=round_row, tracks=open_tracks, ranked=ranked,
                           stages=stages.round_stages(round_row), quotas={t: stages.quota_of(round_row, t)
                                                                            for t in open_tracks},
                           access=access.access_status(session, round_id), funnel=funnel, chart=chart,
                           mutual=interest.list_interests(session, round_id),
                           products=stages.products(session, round_id=round_id), earlier=earlier,
                           stage_names=[msg(N_("stage." + s)) for s in stages.round_stages(round_row)],
                           known_stages=stages.program_settings()["known_stages"],
                           any_recorded=any(c.events for t in open_tracks for c in ranked[t]))


def _back(round_id, anchor=""):
    return redirect(url_for("selection.page", round_id=round_id) + anchor)


def _done(session, round_id, message, anchor=""):
    session.commit()
    flash(_say(message), "ok")
    return _back(round_id, anchor)


def _refused(exc, round_id, anchor=""):
    if isinstance(exc, NotFoundError):
        abort(404, exc.text(current_lang()))
    flash(exc.text(current_lang()), "error")
    return _back(round_id, anchor)


@bp.route("/access", methods=["POST"])
@staff_required
def issue(round_id):
    """Issue access codes (every applicant, or the 사업자등록번호 given) and download the receipts."""
    session = db_session()
    brns = [b for b in request.form.get("brns", "").replace(",", " ").split() if b] or None
    fmt = request.form.get("format", "xlsx") if request.form.get("format") in MIMETYPES else "xlsx"
    try:
        receipts = access.issue_codes(session, round_id, actor(), brns)
    except MatcherError as exc:
        return _refused(exc, round_id, "#access")
    head, rows = access.receipt_table(receipts, current_lang())
    round_row = db.get_round(session, round_id)
    body = table_bytes(head, rows, fmt, title=_say(msg("access.sheet")))
    session.commit()
    name = f"receipts-{round_row.id}-{datetime.now():%Y%m%d-%H%M}.{fmt}"
    return Response(body, mimetype=MIMETYPES[fmt], headers={"Content-Disposition": f"attachment; filename={name}",
                                                            "Cache-Control": "no-store"})


@bp.route("/access/revoke", methods=["POST"])
@staff_required
def revoke(round_id):
    """Revoke a firm's access code."""
    session = db_session()
    try:
        count = access.revoke_code(session, round_id, request.form.get("brn", ""), actor())
    except MatcherError as exc:
        return _refused(exc, round_id, "#access")
    return _done(session, round_id, msg("access.revoked", count=count), "#access")


@bp.route("/stage", methods=["POST"])
@staff_required
def record(round_id):
    """Record a candidate's score at a stage (or 탈락, with ``stage=rejected``)."""
    session = db_session()
    f = request.form
    try:
        if f.get("stage") == "rejected":
            stages.drop_candidate(session, round_id, f.get("lead", ""), f.get("partner", ""), f.get("note", ""), actor())
        else:
            stages.record_stage(session, round_id, f.get("lead", ""), f.get("partner", ""), f.get("stage", ""),
                                f.get("score", ""), f.get("note", ""), f.get("held_on") or None, actor())
    except MatcherError as exc:
        return _refused(exc, round_id, "#candidates")
    return _done(session, round_id, msg("stage.recorded"), "#candidates")


@bp.route("/stages", methods=["POST"])
@staff_required
def stage_list(round_id):
    """Set the round's stages (comma-separated keys, in order), before any is recorded."""
    session = db_session()
    try:
        keys = stages.set_stages(session, round_id, request.form.get("stages", "").split(","), actor())
    except MatcherError as exc:
        return _refused(exc, round_id, "#candidates")
    return _done(session, round_id, msg("stage.list_set", stages=[msg(N_("stage." + k)) for k in keys]), "#candidates")


@bp.route("/quota", methods=["POST"])
@staff_required
def quota(round_id):
    """Set a track's selection quota."""
    session = db_session()
    try:
        value = stages.set_quota(session, round_id, request.form.get("track", ""), request.form.get("quota", ""),
                                 actor())
    except MatcherError as exc:
        return _refused(exc, round_id, "#candidates")
    return _done(session, round_id, msg("stage.quota_set", quota=value), "#candidates")


@bp.route("/confirm", methods=["POST"])
@staff_required
def confirm(round_id):
    """Confirm a track's selection: the ticked pairs are selected (within the quota), the rest 탈락."""
    session = db_session()
    pairs = [tuple(v.split(":", 1)) for v in request.form.getlist("pair") if ":" in v]
    try:
        made = stages.confirm_selection(session, round_id, request.form.get("track", ""), pairs, actor(),
                                        request.form.get("confirmed_on") or None)
    except MatcherError as exc:
        return _refused(exc, round_id, "#candidates")
    return _done(session, round_id, msg("stage.confirmed", count=len(made)), "#candidates")


@bp.route("/publish", methods=["POST"])
@staff_required
def publish(round_id):
    """Publish the round's results to its firms (or take them back with ``undo``)."""
    session = db_session()
    if request.form.get("undo"):
        publication.unpublish(session, round_id, actor())
        return _done(session, round_id, msg("publication.withdrawn"), "#publish")
    publication.publish(session, round_id, actor())
    return _done(session, round_id, msg("publication.done"), "#publish")


@bp.route("/results.<fmt>")
@staff_required
def results(round_id, fmt):
    """Every application with its stage scores and outcome (Korean headers unless ``lang=en``), XLSX or CSV."""
    if fmt not in MIMETYPES:
        abort(404, _say(msg("result.format", value=fmt, known=list(MIMETYPES))))
    session = db_session()
    round_row = db.get_round(session, round_id)
    lang = request.args.get("lang") if request.args.get("lang") in ("ko", "en") else "ko"
    head, rows = publication.results_table(session, round_id, lang)
    body = table_bytes(head, rows, fmt, title=round_row.name)
    db.audit(session, actor(), "round.results_export", round=round_row.name, format=fmt)
    session.commit()
    return Response(body, mimetype=MIMETYPES[fmt],
                    headers={"Content-Disposition": f"attachment; filename=results-{round_row.id}.{fmt}"})
