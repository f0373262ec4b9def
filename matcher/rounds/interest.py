"""Interest between firms of a round, both ways: send, see, accept or decline; mutual interest; contacts.

A lead may ask a partner and a partner a lead, in a track where both applied and the pair is eligible.
One row per pair (:class:`matcher.db.InterestRow`): the sender, a note, the status (sent → seen →
accepted or declined) and the answer. Sending again is refused ("already sent"); sending to a firm
that already asked you accepts its request. Accepted is *mutual interest*: staff see it, the optimal
solver gives the pair a bonus (:func:`mutual_pairs`) and each firm then sees the other's contact
person (:func:`contact_of`). Each sender or answerer joins the stated preferences of its
application, which the stable mode reads for both sides.

Every function takes the acting firm's 사업자등록번호 (``firm``) and ``actor`` (who did it, for the audit
log: ``firm:<brn>``, or a staff username acting for the firm).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone

from sqlalchemy import or_, select
from sqlalchemy.orm import aliased

from .. import db, eligibility
from ..errors import InvalidValueError, NotFoundError, RefusedError
from ..firms import format_brn
from ..messages import N_, msg
from ..text import TextError, clean_text
from ..tracks import TRACKS, round_rules
from .records import get_round

NOTE_MAX = 500
STATUSES = ("sent", "seen", "accepted", "declined")
OPEN_STATUSES = ("sent", "seen")
STATUS_NAMES = (N_("interest.status.sent"), N_("interest.status.seen"), N_("interest.status.accepted"),
                N_("interest.status.declined"))


def _now():
    return datetime.now(timezone.utc).replace(tzinfo=None)


def named(firm_row):
    """A firm as people read it: "상호 (123-45-67890)"."""
    return msg("firm.named", name=firm_row.name, brn=format_brn(firm_row.brn))


@dataclass(frozen=True)
class InterestView:
    """One interest as a firm (or staff) reads it; ``direction`` is relative to the reader."""

    id: int
    round_id: int | None
    round_name: str
    track: str
    lead_brn: str
    lead_name: str
    partner_brn: str
    partner_name: str
    sender: str
    status: str
    note: str
    reply: str
    created_at: datetime
    answered_at: datetime | None
    direction: str = ""  # received / sent ('' for staff)

    @property
    def mutual(self):
        return self.status == "accepted"

    @property
    def other_brn(self):
        return self.partner_brn if (self.direction == "sent") == (self.sender == "lead") else self.lead_brn

    @property
    def other_name(self):
        return self.partner_name if self.other_brn == self.partner_brn else self.lead_name

    def to_dict(self):
        return dict(id=self.id, round=self.round_name, track=self.track, lead=self.lead_brn, lead_name=self.lead_name,
                    partner=self.partner_brn, partner_name=self.partner_name, sender=self.sender, status=self.status,
                    note=self.note, reply=self.reply, direction=self.direction, mutual=self.mutual,
                    created_at=self.created_at.isoformat() if self.created_at else None,
                    answered_at=self.answered_at.isoformat() if self.answered_at else None)


def _note(text, field="note"):
    try:
        note = clean_text(str(text or ""), 10_000).strip()
    except TextError as exc:
        raise InvalidValueError(msg("interest.note_bad", reason=exc.reason, reason_en=exc.reason)) from None
    if len(note) > NOTE_MAX:
        raise InvalidValueError(msg("interest.note_long", limit=NOTE_MAX, length=len(note)))
    return note


def _application(session, round_id, firm_id, role, track):
    a = db.ApplicationRow
    return session.scalars(select(a).where(a.round_id == round_id, a.firm_id == firm_id, a.role == role,
                                           a.track == track)).first()


def _side(session, round_row, firm_row, track):
    """The role the firm applied with in the track ('lead' or 'partner'); refused when it did not apply."""
    for role in ("lead", "partner"):
        if _application(session, round_row.id, firm_row.id, role, track) is not None:
            return role
    raise RefusedError(msg("interest.not_applicant", firm=named(firm_row), round=round_row.name,
                           track=msg(N_("track." + track))))


def interest_problems(session, round_row, lead, partner, track):
    """Why interest between ``lead`` and ``partner`` in ``track`` cannot be recorded (Msg items; [] when it can).

    The two firms differ, the track is open in the round, the lead applied as lead there and the partner
    as partner, and the rules allow the pair on the round's reference date.
    """
    if lead.id == partner.id:
        return [msg("interest.self", firm=named(lead))]
    rules = round_rules(round_row)
    rule = rules.get(track)
    if rule is None or not rule.open:
        return [msg("interest.track_closed", round=round_row.name, track=msg(N_("track." + track)))]
    problems = []
    lead_app = _application(session, round_row.id, lead.id, "lead", track)
    if lead_app is None:
        problems.append(msg("interest.no_application", firm=named(lead), round=round_row.name,
                            track=msg(N_("track." + track)), role=msg("role.lead")))
    if _application(session, round_row.id, partner.id, "partner", track) is None:
        problems.append(msg("interest.no_application", firm=named(partner), round=round_row.name,
                            track=msg(N_("track." + track)), role=msg("role.partner")))
    product = lead_app.product_code if lead_app is not None else ""
    reasons = eligibility.why_not(db.firm_from_row(lead), db.firm_from_row(partner), rule, rules,
                                  round_row.reference_date, product)
    return problems + list(reasons)  # each a Msg (eligibility.*)


def _pair_row(session, round_id, lead_id, partner_id, track):
    i = db.InterestRow
    return session.scalars(select(i).where(i.round_id == round_id, i.lead_id == lead_id, i.partner_id == partner_id,
                                           i.track == track)).first()


def _prefer(session, round_id, firm_row, role, track, other_brn):
    """Add ``other_brn`` to the end of the firm's stated preferences in the track (read by the stable mode)."""
    app = _application(session, round_id, firm_row.id, role, track)
    if app is not None and other_brn not in (app.preferences or []):
        app.preferences = [*(app.preferences or []), other_brn]  # a new list: the JSON change is seen


def send_interest(session, round_id, firm, other, track, note="", actor=""):
    """``firm`` tells ``other`` it would like to pair in ``track`` of the round.

    The firm's side is the one it applied with in the track. When ``other`` had already asked
    ``firm``, this accepts that request (mutual interest) instead.

    Returns
    -------
    InterestRow

    Raises
    ------
    RefusedError
        The firm did not apply in the track, the pair is not allowed (every reason), or the firm already
        sent interest to ``other`` (the date it did, whatever its status).
    InvalidValueError
        An unknown track or a note longer than :data:`NOTE_MAX`.
    """
    if track not in TRACKS:
        raise InvalidValueError(msg("interest.unknown_track", track=str(track), known=list(TRACKS)))
    round_row = get_round(session, round_id)
    me, them = db.get_firm(session, firm), db.get_firm(session, other)
    note = _note(note)
    rule = round_rules(round_row).get(track)
    if rule is None or not rule.open:
        raise RefusedError(msg("interest.track_closed", round=round_row.name, track=msg(N_("track." + track))))
    side = _side(session, round_row, me, track)
    lead, partner = (me, them) if side == "lead" else (them, me)
    problems = interest_problems(session, round_row, lead, partner, track)
    if problems:
        raise RefusedError(msg("interest.problems", reasons=problems))
    row = _pair_row(session, round_row.id, lead.id, partner.id, track)
    if row is not None and row.sender == side:
        raise RefusedError(msg("interest.already_sent", firm=named(them), date=row.created_at.date(),
                               status=msg(N_("interest.status." + row.status))))
    if row is not None:
        return _answer(session, round_row, row, me, them, True, note, actor)
    row = db.InterestRow(round_id=round_row.id, lead_id=lead.id, partner_id=partner.id, track=track, sender=side,
                         status="sent", note=note, created_at=_now())
    session.add(row)
    _prefer(session, round_row.id, me, side, track, them.brn)
    db.audit(session, actor, "interest.send", firm=me.brn, to=them.brn, track=track, round=round_row.name,
             side=side)
    session.flush()
    return row


def _received(session, interest_id, firm):
    """The interest ``interest_id`` and the two firms, when ``firm`` is the one that received it."""
    row = session.get(db.InterestRow, int(interest_id)) if str(interest_id).isdigit() else None
    me = db.get_firm(session, firm)
    if row is None or me.id not in (row.lead_id, row.partner_id):
        raise NotFoundError(msg("interest.not_found", id=str(interest_id)))
    receiver_id = row.partner_id if row.sender == "lead" else row.lead_id
    if receiver_id != me.id:
        raise RefusedError(msg("interest.not_receiver", firm=named(me)))
    sender = session.get(db.FirmRow, row.lead_id if row.sender == "lead" else row.partner_id)
    return row, me, sender


def answer_interest(session, interest_id, firm, accept, reply="", actor=""):
    """``firm`` accepts (mutual interest) or declines the interest it received, with a short message.

    Raises
    ------
    NotFoundError
        No such interest between ``firm`` and another firm (another firm's interest is "not found" too).
    RefusedError
        ``firm`` sent it (only the receiver answers) or it was answered already.
    """
    row, me, sender = _received(session, interest_id, firm)
    if row.status not in OPEN_STATUSES:
        raise RefusedError(msg("interest.answered", firm=named(sender), status=msg(N_("interest.status." + row.status))))
    return _answer(session, get_round(session, row.round_id), row, me, sender, accept, _note(reply), actor)


def _answer(session, round_row, row, me, sender, accept, reply, actor):
    row.status = "accepted" if accept else "declined"
    row.reply, row.answered_at = reply, _now()
    row.seen_at = row.seen_at or row.answered_at
    if accept:
        _prefer(session, round_row.id, me, "partner" if row.sender == "lead" else "lead", row.track, sender.brn)
    db.audit(session, actor, "interest.accept" if accept else "interest.decline", firm=me.brn, to=sender.brn,
             track=row.track, round=round_row.name)
    session.flush()
    return row


def mark_seen(session, firm, round_id=None):
    """Mark the interest ``firm`` received (in the round, when given) as seen; how many were new."""
    me = db.get_firm(session, firm)
    i = db.InterestRow
    stmt = select(i).where(i.status == "sent", or_((i.sender == "lead") & (i.partner_id == me.id),
                                                   (i.sender == "partner") & (i.lead_id == me.id)))
    if round_id is not None:
        stmt = stmt.where(i.round_id == round_id)
    rows = list(session.scalars(stmt))
    now = _now()
    for row in rows:
        row.status, row.seen_at = "seen", now
    return len(rows)


def _views(session, where, me_id=None):
    lead, partner = aliased(db.FirmRow), aliased(db.FirmRow)
    i = db.InterestRow
    stmt = (select(i, db.RoundRow.name, lead.brn, lead.name, partner.brn, partner.name)
            .join(lead, lead.id == i.lead_id).join(partner, partner.id == i.partner_id)
            .outerjoin(db.RoundRow, db.RoundRow.id == i.round_id).where(*where).order_by(i.id.desc()))
    out = []
    for row, round_name, lead_brn, lead_name, partner_brn, partner_name in session.execute(stmt):
        direction = ""
        if me_id is not None:
            sender_id = row.lead_id if row.sender == "lead" else row.partner_id
            direction = "sent" if sender_id == me_id else "received"
        out.append(InterestView(row.id, row.round_id, round_name or "", row.track, lead_brn, lead_name, partner_brn,
                                partner_name, row.sender, row.status, row.note or "", row.reply or "",
                                row.created_at, row.answered_at, direction))
    return out


def inbox(session, firm, round_id=None):
    """Interest ``firm`` received and sent (in the round, when given), newest first: ``{"received", "sent"}``."""
    me = db.get_firm(session, firm)
    i = db.InterestRow
    where = [or_(i.lead_id == me.id, i.partner_id == me.id)]
    if round_id is not None:
        where.append(i.round_id == round_id)
    views = _views(session, where, me.id)
    return {"received": [v for v in views if v.direction == "received"],
            "sent": [v for v in views if v.direction == "sent"]}


def list_interests(session, round_id=None):
    """Every interest (of one round when given), newest first, for staff (mutual ones marked)."""
    where = [db.InterestRow.round_id == round_id] if round_id is not None else []
    return _views(session, where)


def mutual_pairs(session, round_id):
    """The round's mutually interested pairs as ``{(track, lead_brn, partner_brn)}``."""
    lead, partner = aliased(db.FirmRow), aliased(db.FirmRow)
    i = db.InterestRow
    stmt = (select(i.track, lead.brn, partner.brn).join(lead, lead.id == i.lead_id)
            .join(partner, partner.id == i.partner_id).where(i.round_id == round_id, i.status == "accepted"))
    return {tuple(row) for row in session.execute(stmt)}


def contact_of(session, round_id, firm, other):
    """The other firm's contact person as ``firm`` may see it: only once both said yes, else None.

    Returns
    -------
    dict or None
        ``name``, ``role``, ``phone``, ``email`` (empty strings where the firm gave none).
    """
    me, them = db.get_firm(session, firm), db.get_firm(session, other)
    i = db.InterestRow
    found = session.scalar(select(i.id).where(
        i.round_id == round_id, i.status == "accepted",
        or_((i.lead_id == me.id) & (i.partner_id == them.id), (i.lead_id == them.id) & (i.partner_id == me.id))))
    if found is None:
        return None
    return {"name": them.contact_name or "", "role": them.contact_role or "", "phone": them.contact_phone or "",
            "email": them.contact_email or ""}


def contacts(session, round_id, firm):
    """Contact persons of every firm ``firm`` shares mutual interest with in the round, by 사업자등록번호."""
    views = inbox(session, firm, round_id)
    others = {v.other_brn for v in views["received"] + views["sent"] if v.mutual}
    return {brn: contact_of(session, round_id, firm, brn) for brn in sorted(others)}
