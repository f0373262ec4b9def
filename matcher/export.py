"""Export proposals as XLSX or CSV: one row per pair, with its scores, reasons and the staff decision.

:func:`export_rows` is a pure function over plain rows (the dicts the proposals page shows, after its
filters), so an export holds exactly what the page holds; :func:`export_run` reads one stored run.
Korean headers and values by default, English with ``lang="en"``. Text cells that a spreadsheet would run
as a formula (starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return) are neutralised with a
leading single quote.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from datetime import datetime, timezone

from openpyxl import Workbook
from openpyxl.utils import get_column_letter

from .errors import InvalidValueError
from .messages import Msg, N_, known, msg
from .firms import format_brn
from .scoring import COMPONENTS
from .tracks import load_rules

FORMATS = ("xlsx", "csv")
LANGS = ("ko", "en")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")

# (key, message code of its header), in the order of the proposals page.
_FIRMS = [(key, "export.column." + key) for key in
          ("track", "lead_brn", "lead_name", "partner_brn", "partner_name", "score")]
_COMPONENT_COLUMNS = [(name, "component." + name) for name in COMPONENTS]
_DECISION = [(key, "export.column." + key) for key in
             ("status", "reasons", "decision", "note", "decided_by", "decided_at", "history")]
COLUMNS = [*_FIRMS, *_COMPONENT_COLUMNS, *_DECISION]
"""The export's columns in order: ``(key, message code of the header)``."""

DIAGNOSTIC_COLUMNS = [(key, "export.diagnostic." + key) for key in ("section", "track", "name", "brn", "reasons")]
_REQUIRED = ("track", "score", "lead_brn", "lead_name", "partner_brn", "partner_name")
_MIN_WIDTH, _MAX_WIDTH = 8, 60


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


def headers(lang="ko"):
    """The column headers of the proposals table in ``lang``."""
    return [_text(code, lang) for _key, code in COLUMNS]


def export_rows(rows, fmt, lang="ko", diagnostics=None, title=""):
    """Proposal rows as XLSX or CSV file bytes.

    Parameters
    ----------
    rows : list of dict
        One per pair, as the proposals page shows them: ``track``, ``score``, ``status``, ``lead_brn``,
        ``lead_name``, ``partner_brn``, ``partner_name``, ``components`` (``[{"name", "value"}]``),
        ``reasons`` (``[{"ko", "en"}]``), ``decision`` (approve, reject, lock, forbid, clear or ''),
        ``note``, ``decided_by``; optionally ``decided_at`` (datetime or ISO text, UTC) and ``history``
        (``[{"kind", "note", "decided_by", "decided_at"}]``, oldest first).
    fmt : {"xlsx", "csv"}
        CSV is UTF-8 with a byte-order mark (so Excel reads the Korean correctly) and holds the proposals
        only; XLSX has a frozen header row, an autofilter and column widths fitted to the text.
    lang : {"ko", "en"}
        Language of the headers, track names, statuses, decisions and reasons.
    diagnostics : dict, optional
        The run's diagnostics as :func:`matcher.matching.diagnose` returns them (``unused_partners``,
        ``unmatched_leads``, optionally ``blocking_pairs``); XLSX only, on a second sheet (진단/diagnostics).
    title : str
        Name of the proposals sheet (cut to Excel's 31 characters) and the workbook's title.

    Returns
    -------
    bytes

    Raises
    ------
    InvalidValueError
        Unknown format or language, or a row without one of the required keys or with a score that is
        not a number (naming the row and the key; ``exc.text(lang)`` renders it).
    """
    if fmt not in FORMATS:
        raise InvalidValueError(msg("export.format", format=str(fmt), known=list(FORMATS)))
    if lang not in LANGS:
        raise InvalidValueError(msg("export.language", lang=str(lang), known=list(LANGS)))
    table = [_table_row(row, i, lang) for i, row in enumerate(rows, start=1)]
    if fmt == "csv":
        return _csv_bytes(headers(lang), table)
    book = Workbook()
    sheet = book.active
    sheet.title = _sheet_title(title) or _text("export.sheet.proposals", lang)
    book.properties.title = title or None
    _fill_sheet(sheet, headers(lang), table)
    _number_formats(sheet, len(table))
    if diagnostics is not None:
        extra = book.create_sheet(_text("export.sheet.diagnostics", lang))
        _fill_sheet(extra, [_text(code, lang) for _k, code in DIAGNOSTIC_COLUMNS],
                    diagnostic_table(diagnostics, lang, _names(rows)))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def table_bytes(head, table, fmt, title=""):
    """Any table (a header and rows of plain values) as XLSX or CSV bytes, as :func:`export_rows` writes them:
    text a spreadsheet would evaluate is quoted, CSV is UTF-8 with a byte-order mark, XLSX has a frozen
    header, an autofilter and fitted widths. Dates stay dates (XLSX) or ISO text (CSV)."""
    if fmt not in FORMATS:
        raise InvalidValueError(msg("export.format", format=str(fmt), known=list(FORMATS)))
    rows = [[safe_cell(v) for v in row] for row in table]
    if fmt == "csv":
        return _csv_bytes([safe_cell(h) for h in head], rows)
    book = Workbook()
    sheet = book.active
    sheet.title = _sheet_title(title) or "1"
    book.properties.title = title or None
    _fill_sheet(sheet, list(head), rows)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def diagnostic_table(diagnostics, lang="ko", names=None):
    """The diagnostics as rows of :data:`DIAGNOSTIC_COLUMNS` (neutralised): each unused large partner and
    unmatched lead with its reasons, then the blocking pairs (when the run counted any).

    ``names`` maps 사업자등록번호 to firm names for the blocking pairs, which carry only numbers.
    An empty section gets one row saying so (없음/none), so an empty sheet never reads as a failed export.
    """
    diagnostics = diagnostics or {}
    out = []
    for key in ("unused_partners", "unmatched_leads"):
        section = _text(N_("export.section." + key), lang)
        items = [i for i in diagnostics.get(key) or [] if isinstance(i, dict)]
        for item in items:
            out.append([section, _track_name(item.get("track", ""), lang), item.get("name", ""),
                        _brn_text(item.get("brn", "")), _reasons_text(item.get("reasons", []), lang)])
        if not items:
            out.append([section, "", _text("value.none", lang), "", ""])
    out += _blocking_rows(diagnostics.get("blocking_pairs"), lang, names or {})
    return [[safe_cell(v) for v in row] for row in out]


def _blocking_rows(blocking, lang, names):
    if not isinstance(blocking, dict) or not blocking.get("count"):
        return []
    section, rows = _text("export.section.blocking_pairs", lang), []
    for lead, node in blocking.get("pairs", []):
        track, _, partner = str(node).rpartition(":")
        rows.append([section, _track_name(track, lang),
                     f"{names.get(lead, '')} – {names.get(partner, '')}",
                     f"{_brn_text(lead)} – {_brn_text(partner)}", _text("export.blocking_reason", lang)])
    more = int(blocking["count"]) - len(rows)
    if more > 0:
        rows.append([section, "", "", "", f"외 {more}쌍" if lang == "ko" else f"and {more} more"])
    return rows


def _table_row(row, index, lang):
    """One proposal as the export's cells (numbers as numbers, text neutralised)."""
    missing = [key for key in _REQUIRED if key not in row]
    if missing:
        raise InvalidValueError(msg("export.row_missing", row=index, fields=missing))
    score = _number(row["score"], index, "score")
    values = {c.get("name"): c.get("value") for c in row.get("components") or [] if isinstance(c, dict)}
    decided_at = _when(row.get("decided_at"))
    cells = [_track_name(row["track"], lang), _brn_text(row["lead_brn"]), row["lead_name"],
             _brn_text(row["partner_brn"]), row["partner_name"], round(score, 3),
             *[_rounded(values.get(name), index, name) for name in COMPONENTS],
             _status_name(row.get("status") or "", lang), _reasons_text(row.get("reasons") or [], lang),
             _decision_name(row.get("decision") or "", lang),
             row.get("note") or "", row.get("decided_by") or "", decided_at or "",
             _history_text(row.get("history") or [], lang)]
    return [safe_cell(v) for v in cells]


def _number(value, index, key):
    try:
        return float(value)
    except (TypeError, ValueError):
        raise InvalidValueError(msg("export.not_a_number", row=index, field=key, value=repr(value))) from None


def _rounded(value, index, key):
    return None if value is None else round(_number(value, index, key), 3)


def _status_name(status, lang):
    return _text(N_("proposal.status." + status), lang) if known("proposal.status." + status) else status


def _decision_name(kind, lang):
    code = "export.decision." + (kind or "none")
    return _text(N_(code), lang) if known(code) else kind


def _history_text(history, lang):
    """Every decision on the pair, oldest first: ``2026-12-01 09:41 승인 (staff): note | …``."""
    parts = []
    for entry in history:
        if not isinstance(entry, dict):
            continue
        when = _when(entry.get("decided_at"))
        head = " ".join(x for x in (_when_text(when), _decision_name(entry.get("kind") or "", lang)) if x)
        if entry.get("decided_by"):
            head += f" ({entry['decided_by']})"
        parts.append(f"{head}: {entry['note']}" if entry.get("note") else head)
    return " | ".join(parts)


def _when(value):
    """A naive UTC datetime from a datetime or ISO text (text that is not a date is kept as it is)."""
    if value in (None, ""):
        return None
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.strip())
        except ValueError:
            return value
    if isinstance(value, datetime) and value.tzinfo is not None:
        value = value.astimezone(timezone.utc).replace(tzinfo=None)
    return value


def _when_text(value):
    return value.strftime("%Y-%m-%d %H:%M") if isinstance(value, datetime) else str(value or "")


def _reasons_text(reasons, lang):
    if isinstance(reasons, (str, dict)):
        reasons = [reasons]
    return "; ".join(_reason_text(r, lang) for r in reasons)


def _reason_text(reason, lang):
    """A reason as a run stores it: a :class:`Msg`, its JSON, a ``{"ko", "en"}`` pair or plain text."""
    if isinstance(reason, Msg):
        return reason.text(lang)
    if isinstance(reason, dict):
        if "params" in reason or not ("ko" in reason or "en" in reason):
            return Msg.from_json(reason).text(lang) if "code" in reason else ""
        return _pick((reason.get("ko") or reason.get("en") or "", reason.get("en") or reason.get("ko") or ""), lang)
    return str(reason)


def _track_name(key, lang):
    rule = _rules().get(key)
    if key and known("track." + key):
        return _text(N_("track." + key), lang)
    return _pick((rule.name_ko, rule.name_en), lang) if rule is not None else (key or "")


_RULES = {}


def _rules():
    if not _RULES:
        _RULES.update(load_rules())
    return _RULES


def _brn_text(brn):
    brn = str(brn or "")
    return format_brn(brn) if len(brn) == 10 and brn.isdigit() else brn


def _names(rows):
    """사업자등록번호 → firm name, from the rows (for the blocking pairs)."""
    names = {}
    for row in rows:
        names.setdefault(str(row.get("lead_brn", "")), row.get("lead_name", ""))
        names.setdefault(str(row.get("partner_brn", "")), row.get("partner_name", ""))
    return names


def _text(code, lang):
    return msg(code, zone="UTC").text(lang)


def _pick(pair, lang):
    return pair[0] if lang == "ko" else pair[1]


def _csv_bytes(head, table):
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow(head)
    writer.writerows([_when_text(v) if isinstance(v, datetime) else v for v in row] for row in table)
    return buf.getvalue().encode("utf-8-sig")


def _sheet_title(title):
    """``title`` without the characters Excel refuses in a sheet name, cut to 31 characters."""
    return re.sub(r"[\[\]:*?/\\]", " ", str(title or "")).strip()[:31]


def _fill_sheet(sheet, head, table):
    """Header and rows, the header frozen, an autofilter over the table and widths fitted to the text."""
    sheet.append(head)
    for row in table:
        sheet.append(row)
    sheet.freeze_panes = "A2"
    sheet.auto_filter.ref = f"A1:{get_column_letter(len(head))}{len(table) + 1}"
    for i, title in enumerate(head, start=1):
        longest = max([_display_width(title)] + [_display_width(row[i - 1]) for row in table[:500]])
        sheet.column_dimensions[get_column_letter(i)].width = min(max(longest + 2, _MIN_WIDTH), _MAX_WIDTH)


def _number_formats(sheet, n_rows):
    """Scores with 3 decimals, decision times as dates."""
    keys = [key for key, _code in COLUMNS]
    score_columns = [keys.index("score") + 1] + [keys.index(name) + 1 for name in COMPONENTS]
    when_column = keys.index("decided_at") + 1
    for row in sheet.iter_rows(min_row=2, max_row=n_rows + 1):
        for col in score_columns:
            row[col - 1].number_format = "0.000"
        row[when_column - 1].number_format = "yyyy-mm-dd hh:mm"


def _display_width(value):
    """Width of ``value`` as a spreadsheet shows it (Korean and other wide characters count twice)."""
    if value is None:
        return 0
    if isinstance(value, float):
        return len(f"{value:.3f}")
    if isinstance(value, datetime):
        return 16
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in str(value))


# --- a stored run -------------------------------------------------------------------------------
