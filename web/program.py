"""A signed-in firm's pages: its applications and results, the interest inbox, its profile.

Views read the request, call :mod:`matcher.rounds` (interest, profiles, publication, stages) and render.
The firm is always the signed-in one (:func:`web.firm_auth.acting_firm`); staff may act for a firm
through the firm's own page (``/firms/<brn>/interest``), and the audit log names them.
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for

from matcher import db
from matcher.errors import MatcherError, NotFoundError
from matcher.messages import msg
from matcher.rounds import interest, profiles, publication, stages
from matcher.tracks import TRACKS

from .firm_auth import acting_firm, count_interest, firm_actor, firm_required
from .i18n import current_lang
from .store import db_session

bp = Blueprint("program", __name__)


def _say(m):
    return m.text(current_lang()) if hasattr(m, "text") else str(m)


def _error_text(exc):
    return exc.text(current_lang())


@bp.route("/my")
@firm_required
def home():
    """The firm's page: applications and published results, interest received and sent, contacts, history."""
    session = db_session()
    me = g.firm
    interest.mark_seen(session, me.brn, me.round_id)
    session.commit()
    return render_template("firm/home.html", **firm_page(session, me.brn, me.round_id))


def firm_page(session, brn, round_id):
    """What a firm's own page shows (also what staff see of a firm)."""
    row = db.get_firm(session, brn)
    box = interest.inbox(session, brn, round_id)
    mutual = {v.other_brn for v in box["received"] + box["sent"] if v.mutual}
    return dict(firm=row, round=db.get_round(session, round_id) if round_id else None,
                results=publication.firm_results(session, brn), inbox=box,
                contacts={other: interest.contact_of(session, round_id, brn, other) for other in mutual},
                products=stages.products(session, brn))


@bp.route("/firms/<brn>/interest", methods=["POST"])
def send(brn):
    """Interest from the firm ``brn`` in another firm: only the signed-in firm itself, or staff for it."""
    session = db_session()
    firm = acting_firm(brn)
    return _send(session, firm, request.form, redirect_to=request.form.get("next") or None)


@bp.route("/my/interest", methods=["POST"])
@firm_required
def send_mine():
    """The signed-in firm sends interest (from its inbox page)."""
    return _send(db_session(), g.firm.brn, request.form)


def _send(session, firm, form, redirect_to=None):
    other, track = form.get("other") or form.get("partner") or form.get("lead") or "", form.get("track", "")
    if track not in TRACKS:
        abort(400, _say(msg("interest.unknown_track", track=track, known=list(TRACKS))))
    round_id = _round_id(session, firm, form.get("round", ""))
    if g.get("firm") is not None:
        count_interest(firm)
    try:
        interest.send_interest(session, round_id, firm, other, track, form.get("note", ""), firm_actor(firm))
    except NotFoundError as exc:
        abort(404, _error_text(exc))
    except MatcherError as exc:
        flash(_say(msg("interest.not_sent", reason=_error_text(exc))), "error")
    else:
        session.commit()
        flash(_say(msg("interest.sent")), "ok")
    if g.get("firm") is None:  # staff acting for the firm: back to the firm's page
        return redirect(url_for("search.firm", brn=firm, track=track))
    return redirect(_local(redirect_to) or url_for("program.home"))


def _local(target):
    from .auth import safe_next
    return safe_next(target)


def _round_id(session, firm, name):
    """The round the firm acts in: its signed-in round, else (staff) the one named, else its latest."""
    if g.get("firm") is not None:
        return g.firm.round_id
    from matcher import directory
    row = directory.resolve_round(session, db.get_firm(session, firm), name or None)
    if row is None:
        abort(400, _say(msg("interest.no_round")))
    return row.id


@bp.route("/my/interest/<int:interest_id>", methods=["POST"])
@firm_required
def answer(interest_id):
    """Accept or decline an interest the firm received, with a short message."""
    session = db_session()
    accept = request.form.get("answer") == "accept"
    try:
        interest.answer_interest(session, interest_id, g.firm.brn, accept, request.form.get("reply", ""), firm_actor())
    except NotFoundError as exc:
        abort(404, _error_text(exc))
    except MatcherError as exc:
        flash(_error_text(exc), "error")
    else:
        session.commit()
        flash(_say(msg("interest.accepted_note") if accept else msg("interest.declined_note")), "ok")
    return redirect(url_for("program.home"))


@bp.route("/my/profile", methods=["GET", "POST"])
@firm_required
def profile():
    """The firm edits its profile and contact person (the import's checks; every problem shown at once)."""
    session = db_session()
    row = db.get_firm(session, g.firm.brn)
    values, problems = profiles.profile_cells(row), []
    if request.method == "POST":
        values = {**values, **{k: request.form.get(k, "") for k in (*profiles.EDITABLE, *profiles.CONTACT)}}
        try:
            changes = profiles.update_profile(session, row.brn, values, firm_actor())
        except MatcherError as exc:
            problems = getattr(exc, "problems", [])
            flash(_error_text(exc), "error")
            return render_template("firm/profile.html", firm=row, values=values, problems=problems), 400
        session.commit()
        flash(_say(msg("profile.saved", count=len(changes))), "ok")
        return redirect(url_for("program.profile"))
    return render_template("firm/profile.html", firm=row, values=values, problems=problems)
