"""Export a match run's proposals as XLSX or CSV, with the staff decision (kind and note) on each pair.

Text cells that a spreadsheet would run as a formula (starting with ``=``, ``+``,
``-``, ``@``, a tab or a carriage return) are neutralised with a leading single quote.
"""

from __future__ import annotations

import csv
import io

from openpyxl import Workbook
from sqlalchemy import select

from . import db
from .errors import MatcherError, NotFoundError
from .scoring import COMPONENTS

FORMATS = ("xlsx", "csv")
HEADERS = ["track", "lead_brn", "lead_name", "partner_brn", "partner_name", "score", *COMPONENTS,
           "reasons", "status", "decision", "decision_note"]
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value):
    """``value`` with a leading quote when it is text a spreadsheet would evaluate.

    Examples
    --------
    >>> safe_cell("=HYPERLINK(1)"), safe_cell("주식회사"), safe_cell(-1.5)
    ("'=HYPERLINK(1)", '주식회사', -1.5)
    """
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def proposal_table(session, run_id):
    """The run's proposals as rows of :data:`HEADERS` (already neutralised).

    ``decision`` and ``decision_note`` are the round's staff decision on the pair (approve, reject,
    lock or forbid, and its note; empty when none), as they stand at export time.
    """
    run = session.get(db.MatchRunRow, int(run_id)) if str(run_id).isdigit() else None
    if run is None:
        raise NotFoundError(f"run {run_id!r} not found")
    decisions = _decisions(session, run.round_id)
    rows = []
    for p in run.proposals:
        decision = decisions.get((p.lead_id, p.partner_id, p.track)) or decisions.get((p.lead_id, p.partner_id, ""))
        explanation = p.explanation or {}
        values = {c.get("name"): c.get("value") for c in explanation.get("components", [])}
        reasons = "; ".join(r.get("ko", "") if isinstance(r, dict) else str(r) for r in explanation.get("reasons", []))
        row = [p.track, p.lead.brn, p.lead.name, p.partner.brn, p.partner.name, round(float(p.score), 6),
               *[values.get(name) for name in COMPONENTS], reasons, p.status,
               decision.kind if decision else "", decision.note or "" if decision else ""]
        rows.append([safe_cell(v) for v in row])
    return rows


def _decisions(session, round_id):
    """``{(lead_id, partner_id, track): DecisionRow}`` of a round (track '' for a decision on every track)."""
    stmt = select(db.DecisionRow).where(db.DecisionRow.round_id == round_id)
    return {(d.lead_id, d.partner_id, d.track or ""): d for d in session.scalars(stmt)}


def export_run(session, run_id, fmt):
    """The proposals of run ``run_id`` as file bytes.

    Parameters
    ----------
    fmt : {"xlsx", "csv"}
        CSV is UTF-8 with a byte-order mark (so Excel reads the Korean correctly).

    Returns
    -------
    bytes
    """
    if fmt not in FORMATS:
        raise MatcherError(f"export format {fmt!r} is not one of {', '.join(FORMATS)}")
    rows = proposal_table(session, run_id)
    if fmt == "csv":
        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\r\n")
        writer.writerow(HEADERS)
        writer.writerows(rows)
        return buf.getvalue().encode("utf-8-sig")
    book = Workbook()
    sheet = book.active
    sheet.title = f"run {run_id}"
    sheet.append(HEADERS)
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
