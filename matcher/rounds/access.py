"""Firms' access codes: issued per round to every firm that applied, shown once, kept as a hash.

A firm signs in with its 사업자등록번호 and the code (:func:`sign_in`); what it does afterwards is tied to
that firm only. Staff issue the codes (an export of "application receipts" shows each code once),
revoke one, or issue a new one (the old one stops working). The code is random (60 bits from an
alphabet without look-alike characters), so a plain sha256 is enough to keep it: nothing is
guessable from the hash, and a wrong guess is throttled at the door (``web.firm_auth``).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timezone

from sqlalchemy import select, update

from .. import db
from ..errors import NotFoundError
from ..firms import format_brn, parse_brn
from ..messages import N_, msg
from ..text import ascii_digits
from .records import get_round

ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I/L: read over the phone without mistakes
GROUPS, GROUP_LENGTH = 3, 4


def _now():
    return datetime.now(timezone.utc).replace(tzinfo=None)


def new_code():
    """A fresh random access code such as ``K7QH-2MXD-PW9R`` (60 bits)."""
    chars = "".join(secrets.choice(ALPHABET) for _ in range(GROUPS * GROUP_LENGTH))
    return "-".join(chars[i:i + GROUP_LENGTH] for i in range(0, len(chars), GROUP_LENGTH))


def code_hash(code):
    """The stored form of ``code``: sha256 of its letters, upper case, without dashes and spaces.

    Examples
    --------
    >>> code_hash("k7qh-2mxd-pw9r") == code_hash("K7QH 2MXD PW9R")
    True
    """
    letters = "".join(ch for ch in str(code or "").upper() if ch.isalnum())
    return hashlib.sha256(letters.encode("ascii", "ignore")).hexdigest()


@dataclass(frozen=True)
class Receipt:
    """An application receipt: the firm, what it applied for, and its new code (shown this once)."""

    round_name: str
    brn: str
    name: str
    applied: tuple  # ((track, role), ...)
    code: str
    issued_at: datetime


@dataclass(frozen=True)
class SignedIn:
    """Who a firm session belongs to: the firm, the round of its code, the code's row (checked per request)."""

    access_id: int
    firm_id: int
    brn: str
    name: str
    round_id: int


def _applicants(session, round_id):
    """Firm rows of a round's applicants with their (track, role) pairs, in firm-id order."""
    a = db.ApplicationRow
    rows = session.execute(select(db.FirmRow, a.track, a.role).join(a, a.firm_id == db.FirmRow.id)
                           .where(a.round_id == round_id).order_by(db.FirmRow.id, a.track, a.role)).all()
    found = {}
    for firm, track, role in rows:
        found.setdefault(firm.id, (firm, []))[1].append((track, role))
    return list(found.values())


def issue_codes(session, round_id, actor, brns=None):
    """A new access code for each firm that applied in the round (or for the firms ``brns`` only).

    A firm's earlier codes in the round are revoked, so re-issuing is how a lost code is replaced.

    Returns
    -------
    list of Receipt
        With the codes in clear: the only time they are shown.

    Raises
    ------
    NotFoundError
        A firm of ``brns`` that did not apply in the round.
    """
    round_row = get_round(session, round_id)
    applicants = _applicants(session, round_row.id)
    if brns is not None:
        wanted = {parse_brn(ascii_digits(str(b))) for b in brns}
        applicants = [(f, apps) for f, apps in applicants if f.brn in wanted]
        missing = sorted(wanted - {f.brn for f, _a in applicants})
        if missing:
            raise NotFoundError(msg("access.not_applicant", firm=format_brn(missing[0]), round=round_row.name))
    now, receipts = _now(), []
    for firm, applied in applicants:
        _revoke(session, round_row.id, firm.id, now)
        code = new_code()
        session.add(db.FirmAccessRow(round_id=round_row.id, firm_id=firm.id, code_hash=code_hash(code),
                                     created_at=now, created_by=actor or ""))
        receipts.append(Receipt(round_row.name, firm.brn, firm.name, tuple(applied), code, now))
    db.audit(session, actor, "access.issue", round=round_row.name, firms=len(receipts),
             brns=[r.brn for r in receipts][:50])
    return receipts


def _revoke(session, round_id, firm_id, now):
    t = db.FirmAccessRow
    result = session.execute(update(t).where(t.round_id == round_id, t.firm_id == firm_id, t.revoked_at.is_(None))
                             .values(revoked_at=now))
    return result.rowcount or 0


def revoke_code(session, round_id, brn, actor):
    """Revoke the firm's code in the round (its sessions end at their next request); the number revoked."""
    round_row = get_round(session, round_id)
    firm = db.get_firm(session, brn)
    count = _revoke(session, round_row.id, firm.id, _now())
    db.audit(session, actor, "access.revoke", round=round_row.name, firm=firm.brn, revoked=count)
    return count


def sign_in(session, brn, code):
    """The firm session for 사업자등록번호 ``brn`` and ``code``, or None when they do not match a live code.

    The same None for an unknown firm, a wrong code and a revoked code (nothing to learn from the answer).
    """
    try:
        digits = parse_brn(ascii_digits(str(brn or "")))
    except ValueError:
        return None
    wanted = code_hash(code)
    t = db.FirmAccessRow
    rows = session.execute(select(t, db.FirmRow).join(db.FirmRow, db.FirmRow.id == t.firm_id)
                           .where(db.FirmRow.brn == digits, t.revoked_at.is_(None))
                           .order_by(t.id.desc())).all()
    for access, firm in rows:
        if hmac.compare_digest(access.code_hash, wanted):
            return SignedIn(access.id, firm.id, firm.brn, firm.name, access.round_id)
    return None


def signed_in(session, access_id):
    """The :class:`SignedIn` of a live code row ``access_id`` (None once it is revoked or gone)."""
    if not access_id:
        return None
    t = db.FirmAccessRow
    row = session.execute(select(t, db.FirmRow).join(db.FirmRow, db.FirmRow.id == t.firm_id)
                          .where(t.id == int(access_id), t.revoked_at.is_(None))).first()
    if row is None:
        return None
    access, firm = row
    return SignedIn(access.id, firm.id, firm.brn, firm.name, access.round_id)


def access_status(session, round_id):
    """Per applicant firm of the round: ``{"brn", "name", "issued_at" (None: no live code)}``."""
    round_row = get_round(session, round_id)
    t = db.FirmAccessRow
    live = dict(session.execute(select(t.firm_id, t.created_at)
                                .where(t.round_id == round_row.id, t.revoked_at.is_(None))).all())
    return [{"brn": f.brn, "name": f.name, "applied": apps, "issued_at": live.get(f.id)}
            for f, apps in _applicants(session, round_row.id)]


RECEIPT_COLUMNS = (N_("access.col.round"), N_("access.col.brn"), N_("access.col.name"), N_("access.col.applied"),
                   N_("access.col.code"), N_("access.col.issued_at"))


def receipt_table(receipts, lang="ko"):
    """Header and rows of the application receipts (:func:`issue_codes`) in ``lang``, for an export."""
    head = [msg(code).text(lang) for code in RECEIPT_COLUMNS]
    rows = [[r.round_name, format_brn(r.brn), r.name,
             ", ".join(msg("access.applied_as", track=msg(N_("track." + t)), role=msg(N_("role." + role))).text(lang)
                       for t, role in r.applied),
             r.code, r.issued_at] for r in receipts]
    return head, rows
