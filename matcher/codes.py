"""Reference codes a firm profile carries: regions (시도), KSIC industries and G2B product codes.

Tables ship in ``data/`` and load lazily on first use (nothing is read at import):

- ``regions.csv``: the 17 시도 with centroids and their share of firms;
- ``ksic.csv``: KSIC 11th revision (한국표준산업분류) sections, divisions and the sub-classes the
  demo uses; the official 통계청 workbook can replace it (:func:`load_ksic_workbook`,
  :func:`use_ksic_table`);
- ``g2b_classes.csv``: a curated set of G2B 물품분류번호 (UNSPSC-based, 2/4/6/8 digits) and some
  10-digit 세부품명;
- ``sme_competition_products.csv``: a curated subset of the 중소기업자간 경쟁제품 (SME-competition
  products) by 10-digit 세부품명번호; a full list can replace it (:func:`load_product_list`,
  :func:`use_product_list`).
"""

from __future__ import annotations

import csv
import json
import math
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pandas as pd

from .errors import InvalidValueError, Problem, ValidationError
from .messages import msg
from .paths import DATA_DIR  # shipped as matcher.data

EARTH_RADIUS_KM = 6371.0088

# --- regions ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Region:
    """One of the 17 시도: ``short`` ('서울') is the key the rest of the code uses."""

    code: str
    name: str
    short: str
    name_en: str
    lat: float
    lon: float
    firm_share: float


@cache
def regions():
    """The 17 시도 keyed by short name ('서울'), in the order of ``data/regions.csv``.

    Returns
    -------
    dict of str to Region
    """
    with open(DATA_DIR / "regions.csv", encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    return {
        r["short"]: Region(r["code"], r["name"], r["short"], r["name_en"],
                           float(r["lat"]), float(r["lon"]), float(r["firm_share"]))
        for r in rows
    }


# Names in use before the 특별자치도 renamings, and common two-syllable forms.
_OLD_REGION_NAMES = {
    "강원도": "강원", "전라북도": "전북", "제주도": "제주", "충청북": "충북", "충청남": "충남",
    "전라남": "전남", "경상북": "경북", "경상남": "경남", "세종시": "세종", "서울시": "서울",
}


@cache
def _region_aliases():
    aliases = {}
    for short, r in regions().items():
        for alias in (short, r.name, r.name_en, r.code):
            aliases[alias.lower().replace(" ", "")] = short
    for alias, short in _OLD_REGION_NAMES.items():
        aliases[alias] = short
    for short, r in regions().items():
        if r.name.endswith("광역시"):
            aliases[short + "시"] = short
    return aliases


def normalize_region(text):
    """The short name of a 시도 from any usual spelling.

    Parameters
    ----------
    text : str
        '서울', '서울특별시', 'Seoul', 'seoul', the 2-digit code '11', or an address starting with
        one of those ('서울특별시 강남구 …').

    Returns
    -------
    str
        The short name, e.g. '서울'.

    Raises
    ------
    InvalidValueError
        When ``text`` names none of the 17 시도.

    Examples
    --------
    >>> normalize_region("서울특별시")
    '서울'
    >>> normalize_region("Gyeonggi")
    '경기'
    """
    raw = str(text).strip()
    aliases = _region_aliases()
    key = raw.lower().replace(" ", "")
    if key in aliases:
        return aliases[key]
    first = raw.split()[0].lower() if raw.split() else ""
    if first in aliases:
        return aliases[first]
    names = ", ".join(regions())
    raise InvalidValueError(msg("region.unknown", names=names))


def region_distance_km(a, b):
    """Great-circle distance between the centroids of two 시도, in km.

    Examples
    --------
    >>> round(region_distance_km("서울", "부산"))
    325
    >>> region_distance_km("Seoul", "서울특별시")
    0.0
    """
    ra, rb = regions()[normalize_region(a)], regions()[normalize_region(b)]
    lat1, lon1, lat2, lon2 = map(math.radians, (ra.lat, ra.lon, rb.lat, rb.lon))
    h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(math.sqrt(h))


# --- KSIC -------------------------------------------------------------------------------------

KSIC_DIVISION_SECTIONS = (
    ((1, 3), "A"), ((5, 8), "B"), ((10, 34), "C"), ((35, 35), "D"), ((36, 39), "E"),
    ((41, 42), "F"), ((45, 47), "G"), ((49, 52), "H"), ((55, 56), "I"), ((58, 63), "J"),
    ((64, 66), "K"), ((68, 68), "L"), ((70, 73), "M"), ((74, 76), "N"), ((84, 84), "O"),
    ((85, 85), "P"), ((86, 87), "Q"), ((90, 91), "R"), ((94, 96), "S"), ((97, 98), "T"),
    ((99, 99), "U"),
)
"""Division number ranges (inclusive) of each KSIC section."""

KSIC_COLUMNS = ("code", "level", "name_ko", "name_en", "section")
_KSIC_CODE = re.compile(r"^(?:[A-U]|\d{2,5})$")

_ksic_override = []  # at most one DataFrame set by use_ksic_table()


def ksic_section(code):
    """The section letter (A–U) of a KSIC code of 2 to 5 digits (or a section letter itself).

    Raises
    ------
    InvalidValueError
        When ``code`` is not a KSIC code or its division belongs to no section.

    Examples
    --------
    >>> ksic_section("26421")
    'C'
    >>> ksic_section("42")
    'F'
    """
    code = str(code).strip().upper()
    if not _KSIC_CODE.match(code):
        raise InvalidValueError(msg("ksic.invalid"))
    if code.isalpha():
        return code
    division = int(code[:2])
    for (low, high), section in KSIC_DIVISION_SECTIONS:
        if low <= division <= high:
            return section
    raise InvalidValueError(msg("ksic.no_section", code=code[:2]))


def ksic_table():
    """The KSIC table in use: columns code, level (1 section … 5 sub-class), name_ko, name_en, section."""
    if _ksic_override:
        return _ksic_override[0]
    return _shipped_ksic()


@cache
def _shipped_ksic():
    return pd.read_csv(DATA_DIR / "ksic.csv", dtype=str, keep_default_na=False).assign(
        level=lambda df: df["level"].astype(int))


def use_ksic_table(table):
    """Use ``table`` (as :func:`load_ksic_workbook` returns) instead of the shipped ``ksic.csv``.

    ``None`` goes back to the shipped table.
    """
    _ksic_override.clear()
    if table is not None:
        table = table.copy()
        if "section" not in table.columns:
            table["section"] = [ksic_section(c) for c in table["code"]]
        _ksic_override.append(table[list(KSIC_COLUMNS)])
    ksic_names.cache_clear()


@cache
def ksic_names():
    """Every known KSIC code → (Korean name, English name)."""
    table = ksic_table()
    return {c: (ko, en) for c, ko, en in zip(table["code"], table["name_ko"], table["name_en"])}


def ksic_name(code, lang="ko"):
    """The name of the most specific known level of a KSIC code (None if even its section is unknown).

    Examples
    --------
    >>> ksic_name("26")
    '전자부품, 컴퓨터, 영상, 음향 및 통신장비 제조업'
    """
    code = str(code).strip().upper()
    names = ksic_names()
    candidates = [code] if code.isalpha() else [code[:n] for n in range(len(code), 1, -1)]
    try:
        candidates.append(ksic_section(code))
    except ValueError:
        pass
    for c in candidates:
        if c in names:
            return names[c][0 if lang == "ko" else 1]
    return None


_SECTION_ROW = re.compile(r"^([A-U])\s+(.+?)\s*(?:\([\d~\s]+\))?\s*$")


def load_ksic_workbook(path):
    """Read the official 통계청 KSIC workbook (one sheet: code, Korean name, English name).

    Section rows look like ``A 농업, 임업 및 어업(01~03)`` with the English name on the next row;
    codes of 2 to 5 digits are read as text so leading zeros survive.

    Parameters
    ----------
    path : str or Path

    Returns
    -------
    pandas.DataFrame
        Columns code, level (1 section, 2 division, 3 group, 4 class, 5 sub-class), name_ko,
        name_en, section; one row per code.

    Raises
    ------
    ValidationError
        When the workbook cannot be read or holds no KSIC codes.
    """
    from zipfile import BadZipFile

    from openpyxl import load_workbook

    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except (OSError, ValueError, KeyError, BadZipFile) as exc:
        raise ValidationError([Problem(None, None, str(path), f"cannot be read as a workbook ({exc})")],
                              source=str(path)) from exc
    try:
        rows = [tuple("" if v is None else str(v).strip() for v in r[:3])
                for r in book.worksheets[0].iter_rows(values_only=True)]
    finally:
        book.close()
    records = _ksic_records(rows)
    if not records:
        raise ValidationError([Problem(None, None, None, "no KSIC codes found in the first sheet")],
                              source=str(path))
    return pd.DataFrame.from_records(records, columns=list(KSIC_COLUMNS)).drop_duplicates("code")


def _ksic_records(rows):
    records = []
    for i, row in enumerate(rows):
        first = (row + ("", "", ""))[0]
        m = _SECTION_ROW.match(first)
        if m and not any(row[1:]):
            name_en = next((r[0] for r in rows[i + 1:i + 3] if r and r[0]), "")
            records.append((m.group(1), 1, m.group(2), name_en, m.group(1)))
        elif first.isdigit() and 2 <= len(first) <= 5:
            name_ko, name_en = (row + ("", ""))[1:3]
            records.append((first, len(first), name_ko, name_en, ksic_section(first)))
    return records


# --- G2B product codes ------------------------------------------------------------------------

G2B_LEVELS = {2: "segment", 4: "family", 6: "class", 8: "commodity", 10: "detailed"}
"""Levels of a G2B code by length: UNSPSC's four levels, then the 10-digit 세부품명."""


@cache
def g2b_table():
    """The shipped G2B codes: columns code, level, name_ko, name_en."""
    return pd.read_csv(DATA_DIR / "g2b_classes.csv", dtype=str, keep_default_na=False)


@cache
def _g2b_names():
    table = g2b_table()
    return {c: (ko, en) for c, ko, en in zip(table["code"], table["name_ko"], table["name_en"])}


def _g2b_lookup(code, index):
    code = str(code).strip().replace("-", "")
    if not (code.isdigit() and 2 <= len(code) <= 16):
        raise InvalidValueError(msg("g2b.invalid"))
    names = _g2b_names()
    products = sme_competition_products()
    for n in (10, 8, 6, 4, 2):
        if len(code) < n:
            continue
        prefix = code[:n]
        if prefix in names:
            return names[prefix][index]
        if n == 10 and index == 0 and prefix in products:
            return products[prefix]
    return None


def g2b_name(code):
    """Korean name of the most specific known level of a G2B code (None when nothing is known).

    Accepts an 8-digit 물품분류번호, a 10-digit 세부품명번호, a 16-digit 물품목록번호 or a
    2/4/6-digit segment, family or class.

    Raises
    ------
    InvalidValueError
        When ``code`` is not 2 to 16 digits.

    Examples
    --------
    >>> g2b_name("46171610")
    '감시카메라'
    >>> g2b_name("4617161012345678")
    '감시카메라'
    """
    return _g2b_lookup(code, 0)


def g2b_name_en(code):
    """English name of the most specific known level of a G2B code (None when nothing is known)."""
    return _g2b_lookup(code, 1)


# --- SME-competition products -----------------------------------------------------------------

_product_override = []  # at most one dict set by use_product_list()


def sme_competition_products():
    """10-digit 세부품명번호 → name of the 중소기업자간 경쟁제품 in use (the shipped subset by default)."""
    if _product_override:
        return _product_override[0]
    return _shipped_products()


@cache
def _shipped_products():
    with open(DATA_DIR / "sme_competition_products.csv", encoding="utf-8", newline="") as fh:
        return {r["code10"]: r["name"] for r in csv.DictReader(fh)}


def use_product_list(products):
    """Use ``products`` (code10 → name, e.g. from :func:`load_product_list`); ``None`` restores the shipped list."""
    _product_override.clear()
    if products is not None:
        _product_override.append(dict(products))


def is_sme_competition(code):
    """Whether a 10-digit 세부품명번호 is on the SME-competition list in use."""
    return str(code).strip() in sme_competition_products()


def load_product_list(path):
    """Read a JSON list ``[{"code": "1017161101", "name": "석회질비료"}, …]`` of SME-competition products.

    Returns
    -------
    dict of str to str
        10-digit code → name.

    Raises
    ------
    ValidationError
        Listing every item whose code is not 10 digits or that lacks a code or name
        (``row`` is the item's 1-based position in the list).
    """
    try:
        items = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ValidationError([Problem(None, None, str(path), f"cannot be read as JSON ({exc})")],
                              source=str(path)) from exc
    if not isinstance(items, list):
        raise ValidationError([Problem(None, None, None, "is not a JSON list of {code, name} objects")],
                              source=str(path))
    products, problems = {}, []
    for i, item in enumerate(items, start=1):
        code = str(item.get("code", "")).strip() if isinstance(item, dict) else ""
        name = str(item.get("name", "")).strip() if isinstance(item, dict) else ""
        if not (len(code) == 10 and code.isdigit()):
            problems.append(Problem(i, "code", code, "is not a 10-digit 세부품명번호"))
        elif not name:
            problems.append(Problem(i, "name", name, "is empty"))
        else:
            products[code] = name
    if problems:
        raise ValidationError(problems, source=str(path))
    return products
