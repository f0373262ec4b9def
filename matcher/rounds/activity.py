"""What happened in the program: uploads of a round, SMEs' interest requests, the audit log."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from .. import db, importer
from .records import get_round

AUDIT_PAGE = 200


def import_file(session, round_id, kind, source, filename=None, actor="", *, round_name=None, skip_invalid=False,
                encoding=None, columns=None, progress=False):
    """Import firms or applications and log it: the web's upload and ``matcher import`` alike.

    Parameters
    ----------
    round_id : int or None
        The round page's round (the web), for application rows without a 회차 (round) cell.
    kind : {"firms", "applications"}
    source : path or file
    round_name : str, optional
        The round by name instead (``matcher import applications --round``), checked by the importer,
        which says how to create it when it does not exist. Neither: every row names its round.
    skip_invalid, encoding, columns, progress
        As for :func:`matcher.importer.import_firms`.

    Returns the importer's :class:`~matcher.importer.ImportResult`; raises its ValidationError
    (every bad row) and stores nothing then. The caller commits.
    """
    if round_id is not None:
        round_name = get_round(session, round_id).name
    options = dict(skip_invalid=skip_invalid, encoding=encoding, columns=columns, filename=filename,
                   progress=progress)
    if kind == "firms":
        result = importer.import_firms(source, session, **options)
    else:
        result = importer.import_applications(source, session, round_name=round_name, **options)
    db.audit(session, actor, f"import.{kind}", round=round_name or "", file=filename or str(source),
             inserted=result.inserted, updated=result.updated, unchanged=result.unchanged, rejected=result.rejected)
    return result


@dataclass(frozen=True)
class InterestView:
    created_at: datetime
    round_id: int | None
    round_name: str
    track: str
    lead_brn: str
    lead_name: str
    partner_brn: str
    partner_name: str
    note: str


def list_interests(session, round_id=None):
    """SMEs' interest requests (of one round when given), newest first."""
    lead, partner = db.FirmRow.__table__.alias("lead"), db.FirmRow.__table__.alias("partner")
    i = db.InterestRow
    stmt = (select(i.created_at, i.round_id, db.RoundRow.name, i.track, lead.c.brn, lead.c.name, partner.c.brn,
                   partner.c.name, i.note)
            .join(lead, lead.c.id == i.lead_id).join(partner, partner.c.id == i.partner_id)
            .outerjoin(db.RoundRow, db.RoundRow.id == i.round_id).order_by(i.created_at.desc(), i.id.desc()))
    if round_id is not None:
        stmt = stmt.where(i.round_id == round_id)
    return [InterestView(*row[:2], row[2] or "", *row[3:8], row[8] or "") for row in session.execute(stmt)]


def audit_entries(session, limit=AUDIT_PAGE):
    """The latest entries of the audit log, newest first."""
    return list(session.scalars(select(db.AuditRow).order_by(db.AuditRow.id.desc()).limit(limit)))
