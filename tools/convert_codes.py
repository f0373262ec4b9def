"""Convert the official code-list files into the tables shipped in ``data/`` (and their ``data/codes.toml``).

    python tools/convert_codes.py /work/shared/reference      # writes data/ksic*.csv, data/sme_*.csv, ...
    python tools/convert_codes.py /work/shared/reference --check   # exit 1 when data/ is not what it gives

Inputs (as published; none is copied into the repository):

- ``ksic_11th.xlsx``: 통계청's KSIC 11th revision table (code, Korean name, English name; sections as
  ``A 농업, 임업 및 어업(01~03)`` with the English name on the next row) → ``data/ksic.csv``;
- ``ksic_11th_hierarchy.xlsx``: the same classification laid out by level, one sheet per revision; its
  11th sheet must agree with the table code by code and name by name, and its 10th sheet gives the
  10th revision (in force 2017-07-01 to 2024-06-30; Korean names only) → ``data/ksic_10th.csv``;
- ``sme_competition_products.json``: the 중소기업자간 경쟁제품 list, ``[{"code", "name"}, …]`` →
  ``data/sme_competition_products.csv`` (``published`` is the name as in the file, ``name`` without its
  layout marks, or the G2B 세부품명 when the published text starts with it and runs a 비고 into it);
- ``g2b_categories.json``: G2B 물품분류 codes, ``[{"code", "name", "parent"}, …]`` (8-digit 물품분류번호 and
  10-digit 세부품명번호; ``parent`` is the name of the level above) → ``data/g2b_classes.csv``, with the
  segment/family/class names the previous curated table had for levels the file does not name
  (``source`` says which row came from where).

The readers are :func:`matcher.codelists.read_list`, the same that ``matcher codes load`` uses.
"""

from __future__ import annotations

import argparse
import hashlib
import sys
from datetime import date
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from matcher import codefiles, codelists  # noqa: E402
from matcher.codes import ksic_section  # noqa: E402

DATA = ROOT / "data"
CURATED_G2B = Path(__file__).with_name("g2b_curated_levels.csv")

META_HEAD = """\
# Where each shipped code list comes from (written by tools/convert_codes.py; see docs/codes.md).
# valid_from: the date the list takes effect; a round uses, per kind, the latest list whose valid_from is not
# after its reference date (a list loaded with `matcher codes load` counts the same as these).
"""


def sha256(path):
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def ksic_11th(reference):
    table, report = codelists.read_list("ksic", reference / "ksic_11th.xlsx")
    hierarchy = hierarchy_sheet(reference / "ksic_11th_hierarchy.xlsx", "11차")
    mine = dict(zip(table["code"], table["name_ko"]))
    theirs = dict(zip(hierarchy["code"], hierarchy["name_ko"]))
    if set(mine) != set(theirs):
        raise SystemExit(f"KSIC 11th: the table and the hierarchy differ in codes: "
                         f"{sorted(set(mine) ^ set(theirs))[:20]}")
    for code in mine:
        if _squash(mine[code]) != _squash(theirs[code]):  # the table is the official one; say where they differ
            print(f"note: KSIC {code}: ksic_11th.xlsx {mine[code]!r}, the hierarchy {theirs[code]!r}")
    return table, report


def _squash(text):
    return "".join(codefiles._dots(str(text)).split())


def hierarchy_sheet(path, revision):
    """One revision's sheet of the hierarchy workbook: five (code, name) column pairs, forward-filled."""
    from openpyxl import load_workbook
    book = load_workbook(path, read_only=True, data_only=True)
    try:
        sheet = next(s for s in book.worksheets if s.title.startswith(revision))
        rows = [tuple("" if v is None else str(v).strip() for v in r) for r in sheet.iter_rows(values_only=True)]
    finally:
        book.close()
    records = {}
    for row in rows[3:]:
        for level in range(5):
            code, name = (row + ("",) * 10)[2 * level:2 * level + 2]
            if code and name and code not in records:
                name = codefiles._SECTION_ROW.match(f"{code} {name}").group(2) if level == 0 else name
                name = codefiles._dots(name)
                records[code] = (code, level + 1, name, "", ksic_section(code))
    table = pd.DataFrame.from_records(list(records.values()), columns=list(codelists.COLUMNS["ksic"]))
    return codelists.sort_codes("ksic", table)


def products(reference, g2b):
    table, report = codelists.read_list("products", reference / "sme_competition_products.json")
    detailed = dict(zip(g2b["code"], g2b["name_ko"]))
    names = []
    for code, name in zip(table["code"], table["name"]):
        g2b_name = detailed.get(code, "")
        names.append(g2b_name if g2b_name and _squash(name).startswith(_squash(g2b_name)) else name)
    return table.assign(name=names), report


def g2b(reference):
    table, report = codelists.read_list("g2b", reference / "g2b_categories.json")
    table["source"] = table["source"].map({"file": "g2b_categories.json",
                                           "file (parent name)": "g2b_categories.json (parent)"})
    curated = pd.read_csv(CURATED_G2B, dtype=str, keep_default_na=False)
    english = dict(zip(curated["code"], curated["name_en"]))
    table["name_en"] = [english.get(c, "") for c in table["code"]]
    missing = curated[~curated["code"].isin(table["code"])].assign(source="curated")
    whole = pd.concat([table, missing[list(codelists.COLUMNS["g2b"])]], ignore_index=True)
    return codelists.sort_codes("g2b", whole), report


def meta(reference, counts):
    ksic11 = reference / "ksic_11th.xlsx"
    hierarchy = reference / "ksic_11th_hierarchy.xlsx"
    products_file = reference / "sme_competition_products.json"
    g2b_file = reference / "g2b_categories.json"
    return META_HEAD + f"""
[[ksic]]
file = "ksic.csv"
revision = "KSIC 11th revision (한국표준산업분류 제11차 개정, 통계청 고시 2024-01)"
valid_from = 2024-07-01
source = "ksic_11th.xlsx (통계청 한국표준산업분류 제11차 개정 분류표), checked against ksic_11th_hierarchy.xlsx"
source_sha256 = "{sha256(ksic11)}"
rows = {counts['ksic']}

[[ksic]]
file = "ksic_10th.csv"
revision = "KSIC 10th revision (한국표준산업분류 제10차 개정)"
valid_from = 2017-07-01
valid_to = 2024-06-30
source = "ksic_11th_hierarchy.xlsx, sheet 10차개정한국표준산업분류 (Korean names only)"
source_sha256 = "{sha256(hierarchy)}"
rows = {counts['ksic_10th']}

[[products]]
file = "sme_competition_products.csv"
revision = "중소기업자간 경쟁제품 2025–2027 (중소벤처기업부 지정 공고)"
valid_from = 2025-01-01
valid_to = 2027-12-31
source = "sme_competition_products.json"
source_sha256 = "{sha256(products_file)}"
rows = {counts['products']}
note = \"\"\"The file carries no dates. It is taken as the list designated for 2025-01-01 to 2027-12-31 (each
designation lasts three years, 2022-2024 before it); its items mention 뉴홈, a 2023 name, so it is no older
than the 2022-2024 list. Load the official list of another period with its date: matcher codes load products
FILE --from YYYY-MM-DD.\"\"\"

[[g2b]]
file = "g2b_classes.csv"
revision = "G2B 물품분류 (조달청), the codes g2b_categories.json names"
valid_from = 0001-01-01
source = "g2b_categories.json; segment, family and class names it lacks from the earlier curated table"
source_sha256 = "{sha256(g2b_file)}"
rows = {counts['g2b']}
note = \"\"\"Undated: it applies to every date until a dated list is loaded. 8- and 10-digit codes and the
names of their parents come from the file; rows marked curated (segments, families, some classes and
commodities) are the earlier hand-made table's, kept so explanations can name those levels.\"\"\"
"""


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("reference", type=Path, help="folder with the official files")
    parser.add_argument("--check", action="store_true", help="compare with data/ instead of writing")
    args = parser.parse_args(argv)
    ref = args.reference
    ksic, ksic_report = ksic_11th(ref)
    ksic10 = hierarchy_sheet(ref / "ksic_11th_hierarchy.xlsx", "10차")
    g2b_table, g2b_report = g2b(ref)
    product_table, product_report = products(ref, g2b_table)
    outputs = {"ksic.csv": ksic, "ksic_10th.csv": ksic10, "sme_competition_products.csv": product_table,
               "g2b_classes.csv": g2b_table}
    counts = {"ksic": len(ksic), "ksic_10th": len(ksic10), "products": len(product_table), "g2b": len(g2b_table)}
    texts = {name: table.to_csv(index=False, lineterminator="\n") for name, table in outputs.items()}
    texts["codes.toml"] = meta(ref, counts)
    if args.check:
        stale = [n for n, t in texts.items() if (DATA / n).read_text(encoding="utf-8") != t]
        print("data/ is up to date" if not stale else f"data/ differs from the conversion: {', '.join(stale)}")
        return 1 if stale else 0
    for name, text in texts.items():
        (DATA / name).write_text(text, encoding="utf-8")
        print(f"wrote data/{name}")
    for report in (ksic_report, product_report, g2b_report):
        print("\n".join(m.text("en") for m in report.messages()))
    print(f"KSIC 10th: {ksic10.groupby('level').size().to_dict()} (from the hierarchy workbook)")
    print(f"converted {date.today().isoformat()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
