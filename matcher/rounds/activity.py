"""What happened in the program: uploads of a round and the audit log (interest: :mod:`.interest`)."""

from __future__ import annotations

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
        The round page's round (the web): rows without a 회차 (round) cell belong to it, and a row naming
        another round is refused.
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
        result = importer.import_applications(source, session, round_name=round_name,
                                              only_round=round_id is not None, **options)
    db.audit(session, actor, f"import.{kind}", round=round_name or "", file=filename or str(source),
             inserted=result.inserted, updated=result.updated, unchanged=result.unchanged, rejected=result.rejected)
    return result


def audit_entries(session, limit=AUDIT_PAGE):
    """The latest entries of the audit log, newest first."""
    return list(session.scalars(select(db.AuditRow).order_by(db.AuditRow.id.desc()).limit(limit)))
