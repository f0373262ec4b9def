"""Hash of a stored match run, to check that a change leaves a run the same (issue 9: "without changing any answer").

sha256 of the run's proposals in id order (track, lead and partner firm ids, score, explanation JSON with its
keys sorted, status), and of its diagnostics; with the objective, bound, status and fingerprint as stored.
Two runs print the same line when they stored the same thing.

Usage::

    .venv/bin/python bench/round_run_hash.py /tmp/bench_round/n20000-s20261001/bench.sqlite [RUN_ID]   # default: the newest
"""

import hashlib
import json
import sqlite3
import sys


def run_hash(path, run=None):
    con = sqlite3.connect(path)
    if run is None:
        run = con.execute("select max(id) from match_runs").fetchone()[0]
    status, objective, bound, fp, diagnostics = con.execute(
        "select status, objective, bound, fingerprint, diagnostics from match_runs where id = ?", (run,)).fetchone()
    h = hashlib.sha256()
    rows = con.execute("select track, lead_id, partner_id, score, explanation, status from proposals "
                       "where run_id = ? order by id", (run,)).fetchall()
    for track, lead, partner, score, explanation, row_status in rows:
        h.update(repr((track, lead, partner, score)).encode())
        h.update(json.dumps(json.loads(explanation), sort_keys=True, ensure_ascii=False).encode())
        h.update(row_status.encode())
    d = hashlib.sha256(json.dumps(json.loads(diagnostics), sort_keys=True, ensure_ascii=False).encode())
    return (f"run {run}: {len(rows)} proposals {h.hexdigest()[:16]}, objective {objective!r}, bound {bound!r}, "
            f"{status}, fingerprint {fp[:16]}, diagnostics {d.hexdigest()[:16]}")


if __name__ == "__main__":
    print(run_hash(sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else None))
