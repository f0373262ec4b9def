"""Rounds: create, rename, open and close tracks, find one, and the per-track overview staff read first."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from .. import db
from ..errors import NotFoundError, Problem, UnknownTrackError, ValidationError
from ..messages import msg
from ..text import TextError, clean_name
from ..tracks import TRACKS, load_rules, track_key

NAME_MAX = 100


def check_name(name):
    """The round name as stored (:func:`matcher.text.clean_name`: NFC, invisible characters dropped, spaces
    collapsed, trimmed); refused when blank, too long, all digits or with control characters.

    One rule for the web, the API, the CLI and the import. An all-digit name would be read as a round id.

    Raises
    ------
    ValidationError
        With one :class:`~matcher.errors.Problem` on column ``name`` (English) and the Korean text.

    Examples
    --------
    >>> check_name("  2026년\u00a0 2차\u200b ")
    '2026년 2차'
    """
    try:
        text = clean_name(name or "", NAME_MAX)
    except TextError as exc:
        raise ValidationError([Problem(None, "round name", None, exc.reason)]) from None
    if not text:
        reason = msg("round.name_empty")
    elif text.isdigit():
        reason = msg("round.name_digits", name=text)
    else:
        return text
    raise ValidationError([Problem(None, "round name", text, reason)])


def check_reference_date(value):
    """A :class:`datetime.date` from a date or ``YYYY-MM-DD`` text; ValidationError naming the value otherwise."""
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value or "").strip())
    except ValueError:
        raise ValidationError([Problem(None, "reference_date", str(value or ""), msg("value.not_a_date", format="YYYY-MM-DD"))]) from None


def check_tracks(tracks):
    """Track keys from keys or Korean/English names, in program order; UnknownTrackError naming a bad one."""
    keys = set()
    for text in tracks or ():
        try:
            keys.add(track_key(text))
        except UnknownTrackError as exc:
            raise UnknownTrackError(msg("track.unknown_named", track=str(text), why=exc.msg)) from None
    return [key for key in TRACKS if key in keys]


def default_tracks():
    """The tracks a new round opens unless told otherwise: those open in ``data/tracks.toml`` (가치창출, the
    value-creation track, is closed there)."""
    return [key for key, rule in load_rules().items() if rule.open]


def create_round(session, name, reference_date, tracks=None, actor=""):
    """Create a round with ``tracks`` open (keys or names; None: :func:`default_tracks`); ValidationError for a
    bad or taken name or date, UnknownTrackError for a bad track."""
    tracks = default_tracks() if tracks is None else tracks
    name, ref, open_tracks = check_name(name), check_reference_date(reference_date), check_tracks(tracks)
    _refuse_taken(session, name)
    row = db.RoundRow(name=name, reference_date=ref, open_tracks=open_tracks)
    session.add(row)
    _flush_name(session, name)
    db.audit(session, actor, "round.create", round=name, reference_date=ref.isoformat(), open_tracks=open_tracks)
    return row


def rename_round(session, round_id, name, actor=""):
    """Give round ``round_id`` a new name (same rule as :func:`create_round`)."""
    row = get_round(session, round_id)
    name = check_name(name)
    if name != row.name:
        _refuse_taken(session, name)
        db.audit(session, actor, "round.rename", round=row.name, name=name)
        row.name = name
    _flush_name(session, name)
    return row


def set_tracks(session, round_id, tracks, actor=""):
    """Open exactly ``tracks`` in the round (the others close)."""
    row = get_round(session, round_id)
    row.open_tracks = check_tracks(tracks)
    db.audit(session, actor, "round.tracks", round=row.name, open_tracks=row.open_tracks)
    session.flush()
    return row


def _refuse_taken(session, name):
    if session.scalars(select(db.RoundRow.id).where(db.RoundRow.name == name)).first() is not None:
        raise _taken(name)


def _taken(name):
    return ValidationError([Problem(None, "round name", name, msg("round.exists"))])


def _flush_name(session, name):
    """Flush; another session that took ``name`` since :func:`_refuse_taken` looked is the same refusal
    (the unique index decides the race: one creator wins, every other gets "already exists", never a 500).
    The caller's transaction is then unusable until it rolls back."""
    try:
        session.flush()
    except IntegrityError:
        raise _taken(name) from None


def get_round(session, round_id):
    """A round by its id (an int or digits); NotFoundError naming it."""
    row = session.get(db.RoundRow, db.as_id(round_id)) if db.as_id(round_id) is not None else None
    if row is None:
        raise NotFoundError(msg("round.not_found", round=str(round_id)))
    return row


def find_round(session, name_or_id):
    """A round by name, else by id (a name is never all digits, so the two cannot clash)."""
    try:
        text = clean_name(name_or_id, None)
    except TextError:
        text = str(name_or_id)
    row = session.scalars(select(db.RoundRow).where(db.RoundRow.name == text)).first()
    if row is None and db.as_id(text) is not None:
        row = session.get(db.RoundRow, db.as_id(text))
    if row is None:
        raise NotFoundError(msg("round.name_not_found", round=str(name_or_id)))
    return row


def list_rounds(session):
    """Every round, newest first."""
    return list(session.scalars(select(db.RoundRow).order_by(db.RoundRow.id.desc())))


def application_counts(session, round_id=None):
    """``{(round_id, track, role): n}`` over the applications (of one round when given)."""
    stmt = select(db.ApplicationRow.round_id, db.ApplicationRow.track, db.ApplicationRow.role, func.count())
    if round_id is not None:
        stmt = stmt.where(db.ApplicationRow.round_id == round_id)
    stmt = stmt.group_by(db.ApplicationRow.round_id, db.ApplicationRow.track, db.ApplicationRow.role)
    return {(r, tr, role): n for r, tr, role, n in session.execute(stmt)}


@dataclass
class TrackOverview:
    """Where one track of a round stands (the numbers on the staff home and the round page)."""

    track: str
    open: bool
    leads: int = 0
    partners: int = 0
    eligible_leads: int = 0
    eligible_partners: int = 0
    proposed: int = 0
    approved: int = 0
    rejected: int = 0
    pending: int = 0
    unmatched_leads: int = 0
    unused_large_partners: int = 0
    new_interests: int = 0
    run_id: int | None = None
