"""Upload templates: the columns a firms or applications file may have, a CSV and an XLSX to fill in.

Each template has the Korean headers the importer reads (:data:`matcher.validate.FIRM_COLUMNS`,
:data:`~matcher.validate.APPLICATION_COLUMNS`), one example row that passes the importer's checks, and —
in the workbook — the code lists (size classes, regions, certificates, licences, roles, tracks) on a
second sheet. What each column holds is a coded message (``upload.template.column.*``) so the page and
the workbook say it in the reader's language.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

from openpyxl import Workbook
from openpyxl.styles import Font

from .codes import regions
from .firms import CERTIFICATE_KINDS, LICENCE_KINDS, SIZE_CLASSES, format_brn
from .messages import N_, msg
from .tracks import TRACKS, load_rules
from .validate import APPLICATION_COLUMNS, APPLICATION_REQUIRED, FIRM_COLUMNS, FIRM_REQUIRED

KINDS = ("firms", "applications")
EXAMPLE_BRN = "1078153660"
"""The example row's 사업자등록번호 (valid check digit; the row is named as an example to delete)."""


@dataclass(frozen=True)
class Column:
    """One column of a template: its key, the Korean header, whether a file must have it, what it holds."""

    key: str
    header: str
    required: bool

    @property
    def hint(self):
        return msg(N_("upload.template.column." + self.key))


def columns(kind):
    """The template's columns of ``kind`` (``firms`` or ``applications``), in the importer's order."""
    spec, required = (FIRM_COLUMNS, FIRM_REQUIRED) if kind == "firms" else (APPLICATION_COLUMNS, APPLICATION_REQUIRED)
    return [Column(key, next(n for n in names if not n.isascii()), key in required) for key, names in spec.items()]


def example_row(kind, round_name=""):
    """One row that passes the importer's checks (applications: a lead of 소재부품 in ``round_name``)."""
    if kind == "firms":
        values = dict(brn=format_brn(EXAMPLE_BRN), name="(예시) 주식회사 한빛부품", size_class="소기업",
                      founded="2019-03-01", region="대전", ksic="26421", g2b="46171610",
                      description="AI CCTV 카메라 모듈 부품 설계·제조", certificates="벤처::2024-01-01~2026-12-31",
                      licences="", debarment="", affiliate_group="", members="")
    else:
        values = dict(round=round_name, brn=format_brn(EXAMPLE_BRN), role="주관", track=load_rules()["materials"].name_ko,
                      product_code="4617161001234567", text="AI CCTV 카메라 부품을 함께 만들 협력기업을 찾습니다",
                      preferences="")
    return [values.get(c.key, "") for c in columns(kind)]


def code_lists():
    """``[(title message, [values])]``: what the coded columns accept, for the workbook's second sheet."""
    rules = load_rules()
    return [
        (msg("upload.template.codes.size_class"), list(SIZE_CLASSES)),
        (msg("upload.template.codes.region"), list(regions())),
        (msg("upload.template.codes.certificates"), [ko for ko, _en in CERTIFICATE_KINDS.values()]),
        (msg("upload.template.codes.licences"), [ko for ko, _en in LICENCE_KINDS.values()]),
        (msg("upload.template.codes.role"), ["주관", "협력"]),
        (msg("upload.template.codes.track"), [rules[key].name_ko for key in TRACKS if key in rules]),
    ]


def template_csv(kind, round_name=""):
    """The CSV template (UTF-8 with BOM, so Excel shows Korean): the header and the example row."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([c.header for c in columns(kind)])
    writer.writerow(example_row(kind, round_name))
    return out.getvalue().encode("utf-8-sig")


def template_xlsx(kind, round_name="", lang="ko"):
    """The workbook: sheet 1 the header and the example row (the importer reads the sheet with a
    사업자등록번호 column), sheet 2 the code lists and what every column holds, in ``lang``."""
    book = Workbook()
    data = book.active
    data.title = msg(N_("upload.template.sheet." + kind)).text(lang)
    data.append([c.header for c in columns(kind)])
    data.append(example_row(kind, round_name))
    for cell in data[1]:
        cell.font = Font(bold=True)
    for i, c in enumerate(columns(kind), start=1):
        data.column_dimensions[data.cell(1, i).column_letter].width = max(12, 2 * len(c.header) + 4)
    codes = book.create_sheet(msg("upload.template.sheet.codes").text(lang))
    lists = code_lists()
    codes.append([title.text(lang) for title, _values in lists])
    for row in range(max(len(values) for _t, values in lists)):
        codes.append([values[row] if row < len(values) else None for _t, values in lists])
    guide_at = len(lists) + 2
    codes.cell(1, guide_at, msg("upload.template.codes.column").text(lang)).font = Font(bold=True)
    codes.cell(1, guide_at + 1, msg("upload.template.codes.holds").text(lang)).font = Font(bold=True)
    for row, c in enumerate(columns(kind), start=2):
        codes.cell(row, guide_at, c.header + (" *" if c.required else ""))
        codes.cell(row, guide_at + 1, c.hint.text(lang))
    for cell in codes[1]:
        cell.font = Font(bold=True)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
