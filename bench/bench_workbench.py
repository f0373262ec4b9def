"""The staff workbench's reads on a large directory: the decisions API, the round page, a run's proposals.

Builds a SQLite database (the demo round, plus EXTRA firms that applied nowhere, as a national directory
would have), matches the round, records 50 decisions, then times each request through the Flask test
client (median of 5). Run it from a checkout: ``python bench/bench_workbench.py [--extra 50000]``.
Pass ``--tree PATH`` to time another checkout of the project on the same database (e.g. an older commit).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def build(url, extra):
    from sqlalchemy import insert, select

    from matcher import db, rounds
    from matcher.firms import brn_check_digit
    subprocess.run([sys.executable, "-c", "from matcher.cli import main; main()", "demo", "load"], check=True,
                   env=dict(os.environ, DATABASE_URL=url), capture_output=True, cwd=ROOT)
    with db.transaction(url) as s:
        rows = []
        for n in range(extra):
            first = f"{200 + n % 700:03d}86{n % 100000:05d}"[:9]
            rows.append(dict(brn=first + str(brn_check_digit(first)), name=f"전국기업{n}", size_class="소기업",
                             region="서울", ksic_codes=["26421"], g2b_codes=["46171610"], description="부품",
                             licences=[]))
        seen = set(s.scalars(select(db.FirmRow.brn)))
        rows = [r for r in rows if r["brn"] not in seen and not seen.add(r["brn"])]
        for start in range(0, len(rows), 5000):
            s.execute(insert(db.FirmRow), rows[start:start + 5000])
    with db.transaction(url) as s:
        round_id = rounds.find_round(s, "2026년 2차").id
        run_id = rounds.run_match(s, round_id, time_limit=30)
        for r in rounds.proposal_rows(s, rounds.get_run(s, run_id))[:50]:
            rounds.decide(s, round_id, r["lead_brn"], r["partner_brn"], "reject", "bench", "bench")
    return round_id, run_id


def measure(url, round_id, run_id):
    from web import create_app
    from matcher.users import ensure_user
    from matcher import db
    app = create_app({"DATABASE_URL": url, "WTF_CSRF_ENABLED": False, "SECRET_KEY": "bench"})
    with db.transaction(url) as s:
        ensure_user(s, "bench", "bench-password", method="pbkdf2:sha256:1000")
    client = app.test_client()
    client.post("/login", data=dict(username="bench", password="bench-password"))
    out = {}
    for name, path in (("GET decisions (API)", f"/api/v1/rounds/{round_id}/decisions"),
                       ("round page", f"/staff/rounds/{round_id}"), ("run page", f"/staff/runs/{run_id}")):
        times = []
        for _ in range(5):
            start = time.perf_counter()
            response = client.get(path)
            times.append(time.perf_counter() - start)
            assert response.status_code == 200, (path, response.status_code)
        out[name] = statistics.median(times)
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--extra", type=int, default=50_000)
    parser.add_argument("--tree", help="another checkout to time on the same database")
    parser.add_argument("--measure", nargs=3, metavar=("URL", "ROUND", "RUN"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        url, round_id, run_id = args.measure
        for name, seconds in measure(url, int(round_id), int(run_id)).items():
            print(f"{name}\t{seconds}")
        return
    folder = tempfile.mkdtemp(prefix="bench-workbench-")
    url = f"sqlite:///{folder}/bench.sqlite"
    round_id, run_id = build(url, args.extra)
    here = measure(url, round_id, run_id)
    other = {}
    if args.tree:
        env = dict(os.environ, PYTHONPATH=str(Path(args.tree).resolve()))
        done = subprocess.run([sys.executable, str(Path(__file__).resolve()), "--measure", url, str(round_id),
                               str(run_id)], env=env, capture_output=True, text=True, check=True)
        other = {line.split("\t")[0]: float(line.split("\t")[1]) for line in done.stdout.splitlines()}
    print(f"{'request':<22} {'this tree (s)':>14} {'other tree (s)':>15} {'ratio':>7}")
    for name, seconds in here.items():
        theirs = other.get(name)
        ratio = f"{theirs / seconds:7.1f}" if theirs else "      —"
        print(f"{name:<22} {seconds:14.3f} {theirs if theirs is not None else float('nan'):15.3f} {ratio}")


if __name__ == "__main__":
    main()
