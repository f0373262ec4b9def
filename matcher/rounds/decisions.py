"""Staff decisions on pairs: approve, reject, lock, forbid and clear, with their history.

The decision that counts is the latest of each pair (``decisions``, one row per pair, written by
an upsert so two staff deciding at once never lose one); every decision ever taken is kept in
``decision_events`` (who, when, note). A pair must exist in the round (the lead applied as lead
and the partner as partner in a common track); approve and lock also need the pair eligible.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.dialects import postgresql, sqlite

from .. import db
from ..eligibility import why_not
from ..errors import InvalidValueError, NotFoundError, OverrideError, Problem, RefusedError, ValidationError, as_msg
from ..firms import format_brn, parse_brn
from ..messages import N_, msg
from ..text import TextError, ascii_digits, clean_text
from ..matching import DECISION_KINDS, KEEP_KINDS
from ..directory.lookup import brn_digits
from ..messages import N_, msg
from ..tracks import TRACKS, round_rules
from .records import get_round

KINDS = (*DECISION_KINDS, "clear")
BULK_KINDS = ("approve", "reject", "clear")
NOTE_MAX = 2000


@dataclass(frozen=True)
class DecisionView:
    """A decision as people read it: both firms by 사업자등록번호 and name, kind, note, who and when."""

    lead_brn: str
    lead_name: str
    partner_brn: str
    partner_name: str
    track: str
    kind: str
    note: str
    decided_by: str
    decided_at: datetime | None

    def to_dict(self):
        out = dict(lead=self.lead_brn, lead_name=self.lead_name, partner=self.partner_brn,
                   partner_name=self.partner_name, track=self.track, kind=self.kind, note=self.note,
                   decided_by=self.decided_by, decided_at=self.decided_at.isoformat() if self.decided_at else None)
        return out


def check_kind(kind, allowed=KINDS):
    if kind not in allowed:
        raise InvalidValueError(msg("decision.unknown_kind", kind=str(kind), known=list(allowed)))
    return kind


def _firm(session, field, text):
    """The firm a decision names by 사업자등록번호 or, with the SME search's forgiving lookup, by name."""
    try:
        brn = parse_brn(ascii_digits(str(text or "")))
    except ValueError as exc:
        if str(text or "").strip() and brn_digits(str(text)) is None:
            return _firm_by_name(session, field, str(text).strip())
        raise InvalidValueError(msg("decision.bad_brn", role=msg(N_("role." + field)), value=str(text),
                                    why=as_msg(exc))) from None
    row = session.scalars(select(db.FirmRow).where(db.FirmRow.brn == brn)).first()
    if row is None:
        raise NotFoundError(msg("firm.not_found", role=msg(N_("role." + field)), brn=format_brn(brn)))
    return row


def _firm_by_name(session, field, name):
    """The one firm ``name`` points to (an exact name, or the only firm the lookup finds); else an error
    naming the firms it could be."""
    from ..directory.service import find_firms  # the directory's search, loaded only for a name
    found = find_firms(session, name, per_page=6)
    exact = [hit["firm"] for hit in found.firms if hit["match"] == "exact"]
    close = [hit["firm"] for hit in found.firms if hit["match"] != "fuzzy"]  # a typo's guess is only offered
    if len(exact) == 1 or (not exact and len(close) == 1 and found.total == 1):
        return (exact or close)[0]
    role = msg(N_("role." + field))
    if not found.firms:
        raise NotFoundError(msg("decision.firm_not_found", role=role, name=name))
    raise InvalidValueError(msg("decision.firm_ambiguous", role=role, name=name, count=found.total,
                                firms=[msg("firm.named", name=hit["firm"].name, brn=format_brn(hit["firm"].brn))
                                       for hit in found.firms[:5]]))


def _check_note(note):
    try:
        return clean_text(str(note or ""), NOTE_MAX).strip()
    except TextError as exc:
        raise ValidationError([Problem(None, "note", str(note)[:40], exc.reason)]) from None


def _check_track(track):
    track = str(track or "").strip()
    if track and track not in TRACKS:
        from ..errors import UnknownTrackError
        raise UnknownTrackError(msg("track.not_one_of", track=track, known=list(TRACKS)))
    return track


def decide(session, round_id, lead, partner, kind, note="", actor="", track=""):
    """Record a staff decision on a pair (the caller commits).

    Parameters
    ----------
    session : sqlalchemy.orm.Session
    round_id : int
    lead, partner : str
        사업자등록번호 (any separators).
    kind : {"approve", "reject", "lock", "forbid", "clear"}
        ``clear`` takes the pair's decision back (nothing happens when it has none).
    note : str
    actor : str
    track : str, optional
        The track the decision is about ('' for every track the pair shares).

    Returns
    -------
    DecisionView or None
        The decision that now counts (None after ``clear``).

    Raises
    ------
    InvalidValueError, NotFoundError, UnknownTrackError, ValidationError
        A bad kind, 사업자등록번호, track or note; an unknown firm.
    RefusedError
        The pair does not exist in the round, or approve/lock on a pair its rules refuse.
    """
    checked = _check(session, get_round(session, round_id), lead, partner, kind, note, track)
    return _record(session, *checked, actor)


def _check(session, round_row, lead, partner, kind, note, track, allowed=KINDS):
    check_kind(kind, allowed)
    lead_row, partner_row = _firm(session, "lead", lead), _firm(session, "partner", partner)
    note, track = _check_note(note), _check_track(track)
    if kind != "clear":
        refuse_pair(session, round_row, lead_row, partner_row, track, kind)
    return round_row, lead_row, partner_row, kind, note, track


def forbid_lead(session, round_id, lead, note="", actor="", track=""):
    """Forbid the lead with every partner that applied in a track it leads in (``track`` only, when given):
    the lead gets no partner in the round. Returns the decisions recorded (the caller commits).

    Raises
    ------
    RefusedError
        The lead has no lead application in the round (in ``track``).
    """
    round_row = get_round(session, round_id)
    lead_row, note, track = _firm(session, "lead", lead), _check_note(note), _check_track(track)
    tracks = {a.track for a in _applications(session, round_row, [lead_row.id])
              if a.role == "lead" and (not track or a.track == track)}
    if not tracks:
        raise RefusedError(msg("decision.no_lead_application", lead=msg("firm.named", name=lead_row.name,
                                                                        brn=format_brn(lead_row.brn)),
                               round=round_row.name))
    partners = select(db.ApplicationRow.firm_id).where(  # no DISTINCT over firms' JSON columns (PostgreSQL)
        db.ApplicationRow.round_id == round_row.id, db.ApplicationRow.role == "partner",
        db.ApplicationRow.track.in_(tracks))
    stmt = (select(db.FirmRow).where(db.FirmRow.id.in_(partners), db.FirmRow.id != lead_row.id)
            .order_by(db.FirmRow.brn))
    return [_record(session, round_row, lead_row, partner_row, "forbid", note, track, actor)
            for partner_row in session.scalars(stmt)]


HELD_KINDS = ("forbid", "lock")
"""Decisions a bulk action does not replace unless asked to (``override``): each was taken on purpose."""


def decide_many(session, round_id, pairs, kind, note="", actor="", override=False):
    """The same decision on many pairs ``[(lead, partner, track)]``, all or none.

    A pair whose decision is a forbid or a lock (:data:`HELD_KINDS`) of another kind is not decided
    over silently: the call is refused naming those pairs unless ``override`` is true.

    Raises
    ------
    ValidationError
        Listing every pair refused (row = its place in ``pairs``, from 1); nothing is stored then.
    OverrideError
        Pairs forbidden or locked would get another decision (``held`` lists them); nothing is stored.
    """
    round_row = get_round(session, round_id)
    check_kind(kind, BULK_KINDS)
    if not pairs:
        raise ValidationError([Problem(None, "pairs", "", msg("decision.no_pair"))])
    checked, problems = [], []
    for i, (lead, partner, track) in enumerate(pairs, start=1):
        try:
            checked.append(_check(session, round_row, lead, partner, kind, note, track, BULK_KINDS))
        except (RefusedError, NotFoundError, InvalidValueError) as exc:
            problems.append((i, lead, partner, exc))
    if problems:
        raise ValidationError([Problem(i, "pair", f"{l}–{p}", e.msg) for i, l, p, e in problems])
    if not override:
        _refuse_overrides(session, round_row, checked, kind)
    return [_record(session, *c, actor) for c in checked]


def _refuse_overrides(session, round_row, checked, kind):
    """OverrideError naming the pairs of ``checked`` held by a forbid or lock that ``kind`` would replace."""
    current = decisions_by_pair(session, round_row.id)
    held = [current[(lead.brn, partner.brn)] for _r, lead, partner, *_rest in checked
            if (lead.brn, partner.brn) in current and current[(lead.brn, partner.brn)].kind in HELD_KINDS
            and current[(lead.brn, partner.brn)].kind != kind]
    if held:
        raise OverrideError(msg("decision.bulk_would_override", kind=msg(N_("decision.kind." + kind)),
                                count=len(held), pairs=[held_pair(d) for d in held]), held)


def bulk_question(kind, held):
    """What the page asks before a bulk ``kind`` replaces the ``held`` decisions (listed beside it)."""
    return msg("decision.bulk_confirm", kind=msg(N_("decision.kind." + kind)), count=len(held))


def without_held(session, round_id, pairs, kind):
    """``pairs`` less those whose forbid or lock ``kind`` would replace (the rest of a bulk decision)."""
    current = decisions_by_pair(session, get_round(session, round_id).id)
    kept = []
    for lead, partner, track in pairs:
        try:
            key = (parse_brn(ascii_digits(str(lead))), parse_brn(ascii_digits(str(partner))))
        except ValueError:  # decide_many names it
            key = None
        held = current.get(key)
        if held is None or held.kind not in HELD_KINDS or held.kind == kind:
            kept.append((lead, partner, track))
    return kept


def held_pair(d):
    """A held decision as people read it: its kind, both firms named, and its note."""
    return msg("decision.held_pair", kind=msg(N_("decision.kind." + d.kind)),
               lead=msg("firm.named", name=d.lead_name, brn=format_brn(d.lead_brn)),
               partner=msg("firm.named", name=d.partner_name, brn=format_brn(d.partner_brn)), note=d.note or "—")


def _record(session, round_row, lead_row, partner_row, kind, note, track, actor):
    now = db._now()
    key = dict(round_id=round_row.id, lead_id=lead_row.id, partner_id=partner_row.id)
    if kind == "clear":
        gone = session.execute(delete(db.DecisionRow).filter_by(**key)).rowcount
        if not gone:
            return None
    else:
        values = dict(key, kind=kind, note=note, decided_by=actor or "", track=track, decided_at=now)
        session.execute(_upsert(session, values))
    session.add(db.DecisionEventRow(**key, kind=kind, note=note, decided_by=actor or "", track=track, decided_at=now))
    db.audit(session, actor, f"decision.{kind}", round=round_row.name, lead=lead_row.brn, partner=partner_row.brn,
             track=track, note=note)
    session.flush()
    if kind == "clear":
        return None
    return DecisionView(lead_row.brn, lead_row.name, partner_row.brn, partner_row.name, track, kind, note,
                        actor or "", now)


def _upsert(session, values):
    """INSERT … ON CONFLICT (round, lead, partner) DO UPDATE: the latest decision wins, none is lost."""
    dialect = session.get_bind().dialect.name
    module = {"sqlite": sqlite, "postgresql": postgresql}.get(dialect)
    if module is None:
        raise RefusedError(f"decisions need SQLite or PostgreSQL, not {dialect}")
    stmt = module.insert(db.DecisionRow).values(**values)
    changed = {k: stmt.excluded[k] for k in ("kind", "note", "decided_by", "track", "decided_at")}
    return stmt.on_conflict_do_update(index_elements=["round_id", "lead_id", "partner_id"], set_=changed)


def refuse_pair(session, round_row, lead_row, partner_row, track="", kind="approve"):
    """RefusedError when the pair cannot exist in the round, or (approve/lock) its rules refuse it."""
    pair = msg("decision.pair", lead=_named(lead_row), partner=_named(partner_row))
    why = pair_problem(session, round_row, lead_row, partner_row, track)
    if why is not None:
        raise RefusedError(msg("decision.pair_not_in_round", kind=msg(N_("decision.kind." + kind)), pair=pair,
                               round=round_row.name, why=why))
    if kind in KEEP_KINDS:
        reasons = ineligibility(session, round_row, lead_row, partner_row, track)
        if reasons:
            raise RefusedError(msg("decision.pair_ineligible", kind=msg(N_("decision.kind." + kind)), pair=pair,
                                   round=round_row.name,
                                   reasons=[msg("decision.track_reason", track=msg(N_("track." + t)), reason=r)
                                            for t, r in reasons]))


def _named(row):
    return msg("firm.named", name=row.name, brn=format_brn(row.brn))


def _applications(session, round_row, firm_ids):
    stmt = select(db.ApplicationRow).where(db.ApplicationRow.round_id == round_row.id,
                                           db.ApplicationRow.firm_id.in_(firm_ids))
    return list(session.scalars(stmt))


def pair_problem(session, round_row, lead_row, partner_row, track=""):
    """Why the pair cannot exist in the round: a :class:`~matcher.messages.Msg`, None when it can."""
    if lead_row.id == partner_row.id:
        return msg("decision.same_firm")
    applied = {(a.firm_id, a.role, a.track) for a in _applications(session, round_row, [lead_row.id, partner_row.id])
               if not track or a.track == track}
    leads = {t for f, r, t in applied if f == lead_row.id and r == "lead"}
    partners = {t for f, r, t in applied if f == partner_row.id and r == "partner"}
    if leads & partners:
        return None
    where = msg("decision.in_track", track=msg(N_("track." + track))) if track else ""
    if not leads and not partners and any(f == lead_row.id and r == "partner" for f, r, _t in applied) and any(
            f == partner_row.id and r == "lead" for f, r, _t in applied):
        return msg("decision.roles_reversed", lead=lead_row.name, partner=partner_row.name, where=where)
    found = []
    if not leads:
        found.append(msg("decision.no_application", firm=lead_row.name, role=msg("role.lead"), where=where))
    if not partners:
        found.append(msg("decision.no_application", firm=partner_row.name, role=msg("role.partner"), where=where))
    if leads and partners:
        found.append(msg("decision.no_common_track", lead=lead_row.name, partner=partner_row.name,
                         leads=[msg(N_("track." + t)) for t in sorted(leads)],
                         partners=[msg(N_("track." + t)) for t in sorted(partners)]))
    return msg("decision.problems", problems=found)


def ineligibility(session, round_row, lead_row, partner_row, track=""):
    """The rule reasons against the pair as ``[(track, Reason)]`` ([] when eligible in ``track``, or in
    some track both applied in when ``track`` is '').

    Judged with the round's rules on its reference date, for the product the lead applied for.
    """
    rules = round_rules(round_row)
    apps = _applications(session, round_row, [lead_row.id, partner_row.id])
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
        found.extend((key, r) for r in reasons)
    return found


def _views(session, model, round_id, *where):
    lead, partner = db.FirmRow.__table__.alias("lead"), db.FirmRow.__table__.alias("partner")
    stmt = (select(lead.c.brn, lead.c.name, partner.c.brn, partner.c.name, model.track, model.kind, model.note,
                   model.decided_by, model.decided_at)
            .join(lead, lead.c.id == model.lead_id).join(partner, partner.c.id == model.partner_id)
            .where(model.round_id == round_id, *where).order_by(model.id))
    return [DecisionView(*row[:4], row[4] or "", row[5], row[6] or "", row[7] or "", row[8])
            for row in session.execute(stmt)]


def list_decisions(session, round_id):
    """The decisions that count in a round (one per pair), oldest first."""
    return _views(session, db.DecisionRow, get_round(session, round_id).id)


def decision_history(session, round_id, lead=None, partner=None):
    """Every decision taken in a round (of one pair when ``lead`` and ``partner`` are given), oldest first."""
    round_row = get_round(session, round_id)
    where = []
    if lead is not None and partner is not None:
        where = [db.DecisionEventRow.lead_id == _firm(session, "lead", lead).id,
                 db.DecisionEventRow.partner_id == _firm(session, "partner", partner).id]
    return _views(session, db.DecisionEventRow, round_row.id, *where)


def decisions_by_pair(session, round_id):
    """``{(lead_brn, partner_brn): DecisionView}`` of the decisions that count."""
    return {(d.lead_brn, d.partner_brn): d for d in list_decisions(session, round_id)}
