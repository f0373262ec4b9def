"""What happened in the program: uploads of a round and the audit log (interest: :mod:`.interest`)."""

from __future__ import annotations

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


def audit_entries(session, limit=AUDIT_PAGE):
    """The latest entries of the audit log, newest first."""
    return list(session.scalars(select(db.AuditRow).order_by(db.AuditRow.id.desc()).limit(limit)))
