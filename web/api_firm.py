"""JSON API for firms (signed in with an access code) and for staff's selection work, under ``/api/v1``.

Firm routes act for the signed-in firm only: a body naming another firm (``"firm": …``) is a 403 and
nothing is stored. Staff routes (stages, selection, publication) need a staff session; a firm session
gets 401 there. Every POST needs the CSRF token (``X-CSRFToken``), as in :mod:`web.api`.
"""

from __future__ import annotations

from flask import Blueprint, abort, g, jsonify, request

from matcher.messages import msg
from matcher.rounds import interest, profiles, publication, stages

from .api import _json_body
from .auth import actor, staff_required
from .firm_auth import acting_firm, authenticate, count_interest, firm_actor, firm_required, sign_in_firm
from .i18n import current_lang
from .store import db_session

bp = Blueprint("api_firm", __name__, url_prefix="/api/v1")


def _body_for_me():
    """The JSON body; 403 when it names a firm other than the signed-in one."""
    body = _json_body()
    if "firm" in body:
        acting_firm(str(body["firm"]))
    return body


@bp.post("/firm/session")
def sign_in():
    """Sign a firm in with ``{"brn", "code"}`` (throttled like the staff login)."""
    body = _json_body()
    found = authenticate(str(body.get("brn", "")), str(body.get("code", "")))
    if found is None:
        abort(401, msg("firm.sign_in_failed").text(current_lang()))
    sign_in_firm(found)
    return jsonify(brn=found.brn, name=found.name, round_id=found.round_id)


@bp.delete("/firm/session")
def sign_out():
    """End the firm session."""
    from flask import session
    session.pop("firm_access", None)
    return jsonify(signed_out=True)


@bp.get("/firm")
@firm_required
def me():
    """The signed-in firm: its applications with published results, interest received and sent, history."""
    s = db_session()
    box = interest.inbox(s, g.firm.brn, g.firm.round_id)
    return jsonify(brn=g.firm.brn, name=g.firm.name, round_id=g.firm.round_id,
                   results=[r.to_dict() for r in publication.firm_results(s, g.firm.brn)],
                   received=[v.to_dict() for v in box["received"]], sent=[v.to_dict() for v in box["sent"]],
                   contacts=interest.contacts(s, g.firm.round_id, g.firm.brn),
                   products=[p.to_dict() for p in stages.products(s, g.firm.brn)])


@bp.post("/firm/interest")
@firm_required
def send():
    """Send interest ``{"other", "track", "note"}`` from the signed-in firm (refusals are 400 with the reasons)."""
    body = _body_for_me()
    s = db_session()
    count_interest(g.firm.brn)
    row = interest.send_interest(s, g.firm.round_id, g.firm.brn, str(body.get("other", "")),
                                 str(body.get("track", "")), str(body.get("note", "")), firm_actor())
    s.commit()
    return jsonify(id=row.id, status=row.status), 201


@bp.post("/firm/interest/<int:interest_id>")
@firm_required
def answer(interest_id):
    """Accept or decline an interest the firm received: ``{"accept": true|false, "reply"}``."""
    body = _body_for_me()
    s = db_session()
    row = interest.answer_interest(s, interest_id, g.firm.brn, bool(body.get("accept")), str(body.get("reply", "")),
                                   firm_actor())
    s.commit()
    return jsonify(id=row.id, status=row.status)


@bp.post("/firm/profile")
@firm_required
def profile():
    """Change the signed-in firm's profile fields (any of the form's); every problem at once (400)."""
    body = _body_for_me()
    s = db_session()
    changes = profiles.update_profile(s, g.firm.brn, {k: str(v) for k, v in body.items() if k != "firm"},
                                      firm_actor())
    s.commit()
    return jsonify(changed=sorted(changes))


@bp.get("/rounds/<int:round_id>/candidates")
@staff_required
def candidates(round_id):
    """The round's candidates of ``track`` (every track when absent), ranked, with their stages."""
    track = request.args.get("track") or None
    s = db_session()
    found = stages.ranked(s, round_id, track) if track else stages.candidates(s, round_id)
    return jsonify(candidates=[c.to_dict() for c in found])


@bp.post("/rounds/<int:round_id>/stages")
@staff_required
def record(round_id):
    """Record ``{"lead", "partner", "stage", "score", "note", "held_on"}`` (``stage: "rejected"`` for 탈락)."""
    body = _json_body()
    s = db_session()
    if body.get("stage") == "rejected":
        stages.drop_candidate(s, round_id, str(body.get("lead", "")), str(body.get("partner", "")),
                              str(body.get("note", "")), actor())
    else:
        stages.record_stage(s, round_id, str(body.get("lead", "")), str(body.get("partner", "")),
                            str(body.get("stage", "")), body.get("score"), str(body.get("note", "")),
                            body.get("held_on"), actor())
    s.commit()
    return jsonify(recorded=True), 201


@bp.post("/rounds/<int:round_id>/selection")
@staff_required
def confirm(round_id):
    """Confirm ``{"track", "pairs": [[lead, partner], …], "confirmed_on"}`` within the track's quota."""
    body = _json_body()
    s = db_session()
    made = stages.confirm_selection(s, round_id, str(body.get("track", "")),
                                    [tuple(map(str, p)) for p in body.get("pairs") or []], actor(),
                                    body.get("confirmed_on"))
    s.commit()
    return jsonify(selected=len(made))


@bp.post("/rounds/<int:round_id>/publish")
@staff_required
def publish(round_id):
    """Publish the round's results to its firms (``{"undo": true}`` takes them back)."""
    body = request.get_json(silent=True) or {}
    s = db_session()
    row = (publication.unpublish if body.get("undo") else publication.publish)(s, round_id, actor())
    s.commit()
    return jsonify(published=row.published_at is not None)
