"""Benchmark of the assignment solver (``matcher.assignment.solve``).

Generated instances with clustered eligibility (leads mostly eligible with partners
of their own product cluster, some across clusters, so the graph has one giant
component) and 5-SME minimums for large partners, plus the OR-Library ``assignp``
instances when ``../shared/reference/orlib-assign`` is present.

Run: ``.venv/bin/python bench/bench_solver.py [--sizes 2000,20000,100000] [--hard] [--orlib]``
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

ORLIB = Path(__file__).resolve().parents[2] / "shared" / "reference" / "orlib-assign"
HARD_LARGE_SHARE = 0.25
"""``--hard``: a quarter of the partners are large (minimum 5), so many minimums bind."""
SIZES = {2000: (2_000, 660, 9_000), 20000: (20_000, 6_600, 90_000), 100000: (100_000, 33_000, 500_000)}


def generate_instance(n_leads, n_partners, n_edges, large_share=0.1, large_weight=1.0, cluster_size=60, cross=0.08, seed=0):
    """A random instance shaped like an intake round.

    Partners are 85 % SMEs (at most one lead), ``large_share`` large firms (either
    unused or at least 5 leads, no upper limit) and the rest construction-style
    partners (up to 5 leads). Each lead draws its eligible partners mostly from its own
    cluster; large partners are drawn four times as often as the others.

    Returns
    -------
    leads : list of str
    partners : pandas.DataFrame
        ``partner_id, min_leads, max_leads`` (max ``None`` = unbounded).
    edges : pandas.DataFrame
        ``lead_id, partner_id, score`` without duplicate pairs.
    """
    rng = np.random.default_rng(seed)
    n_clusters = max(1, n_leads // cluster_size)
    kind = rng.choice(3, size=n_partners, p=[0.95 - large_share, large_share, 0.05])
    kind[0] = 1
    mins = np.where(kind == 1, 5, 1)
    maxs = np.where(kind == 0, 1, np.where(kind == 2, 5, 0))
    p_cluster = rng.integers(0, n_clusters, n_partners)
    weight = np.where(kind == 1, large_weight, 1.0) * rng.uniform(0.5, 1.5, n_partners)
    order = np.lexsort((np.arange(n_partners), p_cluster))
    cum = np.cumsum(weight[order])
    starts = np.searchsorted(p_cluster[order], np.arange(n_clusters + 1))
    lead_cluster = rng.integers(0, n_clusters, n_leads)
    e_lead = rng.integers(0, n_leads, int(n_edges * 1.1))
    far = rng.random(e_lead.size) < cross
    cl = np.where(far, rng.integers(0, n_clusters, e_lead.size), lead_cluster[e_lead])
    lo = np.where(starts[cl] > 0, cum[np.maximum(starts[cl] - 1, 0)], 0.0)
    hi = cum[np.maximum(starts[cl + 1] - 1, 0)]
    empty = starts[cl] == starts[cl + 1]
    pos = np.searchsorted(cum, lo + rng.random(e_lead.size) * (hi - lo), side="right")
    pos = np.where(empty, rng.integers(0, n_partners, e_lead.size), np.minimum(pos, n_partners - 1))
    e_partner = order[pos]
    quality = rng.uniform(0, 40, n_partners)
    score = np.round(quality[e_partner] + rng.uniform(0, 60, e_lead.size), 2)
    edges = pd.DataFrame({"lead_id": e_lead, "partner_id": e_partner, "score": score})
    edges = edges.drop_duplicates(["lead_id", "partner_id"]).head(n_edges)
    leads = [f"L{i:06d}" for i in range(n_leads)]
    pid = np.array([f"P{i:06d}" for i in range(n_partners)], dtype=object)
    partners = pd.DataFrame({"partner_id": pid, "min_leads": mins,
                             "max_leads": [None if m == 0 else int(m) for m in maxs]})
    edges = pd.DataFrame({"lead_id": np.array(leads, dtype=object)[edges.lead_id.to_numpy()],
                          "partner_id": pid[edges.partner_id.to_numpy()], "score": edges.score.to_numpy()})
    return leads, partners, edges.reset_index(drop=True)


def read_orlib(path):
    """An OR-Library ``assignp`` file as a maximising instance (score = C - cost) and its cost table."""
    raw = np.loadtxt(path, skiprows=1, dtype=np.int64)
    n = int(Path(path).read_text().split(None, 1)[0])
    i, j, c = raw[:, 0] - 1, raw[:, 1] - 1, raw[:, 2]
    big = n * int(c.max()) + 1
    leads = [f"r{k}" for k in range(n)]
    partners = pd.DataFrame({"partner_id": [f"c{k}" for k in range(n)], "min_leads": 0, "max_leads": 1})
    edges = pd.DataFrame({"lead_id": np.array(leads, dtype=object)[i],
                          "partner_id": partners.partner_id.to_numpy()[j], "score": (big - c).astype(float)})
    return leads, partners, edges, c


def orlib_optimum(name):
    for line in (ORLIB / "assignopt.txt").read_text().splitlines():
        parts = line.split()
        if len(parts) >= 2 and parts[0].startswith(name):
            return int(parts[-1])
    return None


def _peak_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_one(label, time_limit):
    """Solve one instance in this process; print one table row."""
    from matcher.assignment import solve

    if label.startswith("assignp"):
        leads, partners, edges, cost = read_orlib(ORLIB / f"{label}.txt")
    elif label.endswith("-hard"):
        leads, partners, edges = generate_instance(*SIZES[int(label[:-5])], large_share=HARD_LARGE_SHARE)
    else:
        leads, partners, edges = generate_instance(*SIZES[int(label)])
    start = time.perf_counter()
    sol = solve(leads, partners, edges, time_limit=time_limit)
    seconds = time.perf_counter() - start
    extra = ""
    if label.startswith("assignp"):
        chosen = sol.edge_index
        extra = f"cost {int(cost[chosen].sum())} (known {orlib_optimum(label)})"
    size = f"{len(leads)}/{len(partners)}/{len(edges)}"
    print(f"| {label} | {size} | {sol.status} | {sol.objective:.2f} | {sol.bound:.2f} | {sol.gap:.2e} "
          f"| {seconds:.2f} | {_peak_mb():.0f} | {extra} |", flush=True)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="2000,20000,100000")
    parser.add_argument("--orlib", action="store_true", help="also run the OR-Library assignp instances")
    parser.add_argument("--hard", action="store_true", help="also run 2000 and 20000 with 25%% large partners")
    parser.add_argument("--time-limit", type=float, default=55.0)
    parser.add_argument("--one", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.one:
        run_one(args.one, args.time_limit)
        return
    labels = [s for s in args.sizes.split(",") if s]
    if args.hard:
        labels += ["2000-hard", "20000-hard"]
    if args.orlib and ORLIB.is_dir():
        labels += ["assignp800", "assignp1500", "assignp3000", "assignp5000"]
    print("| instance | leads/partners/edges | status | objective | bound | gap | seconds | peak MB | note |")
    print("|---|---|---|---|---|---|---|---|---|")
    for label in labels:
        # one process per instance so peak memory is that instance's own
        subprocess.run([sys.executable, __file__, "--one", label, "--time-limit", str(args.time_limit)],
                       check=True)


if __name__ == "__main__":
    main()
