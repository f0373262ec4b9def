"""What happened in the program: uploads of a round, SMEs' interest requests, the audit log."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from .. import db, importer
from .records import get_round

AUDIT_PAGE = 200


def import_file(session, round_id, kind, source, filename=None, actor=""):
    """Import firms or applications (of round ``round_id`` only: a row naming another round is refused) and log it.

    Returns the importer's :class:`~matcher.importer.ImportResult`; raises its ValidationError
    (every bad row) and stores nothing then. The caller commits.
    """
    round_row = get_round(session, round_id)
    if kind == "firms":
        result = importer.import_firms(source, session, filename=filename, progress=False)
    else:
        result = importer.import_applications(source, session, round_name=round_row.name, filename=filename,
                                              progress=False, only_round=True)
    db.audit(session, actor, f"import.{kind}", round=round_row.name, file=filename or "", inserted=result.inserted,
             updated=result.updated, unchanged=result.unchanged)
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
