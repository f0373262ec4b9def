"""How fast a huge upload is refused: an XLSX of N tiny rows (default 2 million, ~5.5 MB) read by
``importer.read_table`` (streaming, header first, row cap) against pandas ``read_excel`` reading it whole
(what the importer did before). Each reader runs in its own process; peak MB is the child's ru_maxrss.

    .venv/bin/python bench/bench_import_limits.py [--rows 2000000] [--skip-pandas]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CHILD = r"""
import json, resource, sys, time
path, how = sys.argv[1], sys.argv[2]
started = time.perf_counter()
if how == "pandas":
    import pandas as pd
    frame = pd.read_excel(path, dtype=str, engine="openpyxl", sheet_name=None)
    outcome = f"read {sum(len(f) for f in frame.values()):,} rows"
else:
    from matcher import importer
    from matcher.errors import ValidationError
    required = ("brn", "name", "size_class", "region") if how == "firms" else None
    try:
        importer.read_table(path, required=required)
        outcome = "read"
    except ValidationError as exc:
        outcome = str(exc.problems[0])
print(json.dumps({"seconds": time.perf_counter() - started, "outcome": outcome,
                  "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def make_file(path, rows, header):
    from openpyxl import Workbook
    book = Workbook(write_only=True)
    sheet = book.create_sheet("data")
    sheet.append(header)
    for i in range(rows):
        sheet.append([i % 10, "x"])
    book.save(path)


def run(path, how):
    out = subprocess.run([sys.executable, "-c", CHILD, str(path), how], capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=2_000_000)
    parser.add_argument("--skip-pandas", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        cases = []
        for label, header in (("no 사업자등록번호 column", ["a", "b"]), ("right header", ["사업자등록번호", "회사명"])):
            path = Path(tmp) / f"{len(cases)}.xlsx"
            started = time.perf_counter()
            make_file(path, args.rows, header)
            print(f"made {path.name}: {args.rows:,} rows, {path.stat().st_size / 1e6:.1f} MB "
                  f"in {time.perf_counter() - started:.0f} s", file=sys.stderr)
            cases.append((label, path))
        print("| file | reader | seconds | peak MB | outcome |")
        print("|---|---|---:|---:|---|")
        for label, path in cases:
            readers = ["firms"] + ([] if args.skip_pandas or label != cases[0][0] else ["pandas"])
            for how in readers:
                r = run(path, how)
                name = "read_table (import firms)" if how == "firms" else "pandas read_excel (before)"
                print(f"| {label} | {name} | {r['seconds']:.1f} | {r['peak_mb']:.0f} | {r['outcome'][:70]} |",
                      flush=True)


if __name__ == "__main__":
    main()
