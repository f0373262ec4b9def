"""Benchmark of the assignment solver (``matcher.assignment.solve``) against HiGHS on the whole MILP.

Instances:

- ``capped-N``, ``coop-N``, ``hubs-N``: the shapes of ``bench/shapes.py`` (issue 9: large
  partners 5..15; the same with 조합 leads; popular hubs 5..40 that were not designed for);
- ``N`` and ``N-hard``: the older clustered shape (:func:`generate_instance`, large partners
  unbounded; ``-hard`` with 25 % large partners);
- ``assignpN``: OR-Library assignment instances when ``../shared/reference/orlib-assign`` exists.

Each instance runs in its own process (peak memory is its own), first our solver, then with
``--whole`` the same instance as one MILP in HiGHS (``highspy``, the same HiGHS version, all
variables binary, the strong formulation, our deadline enforcement), and the ratio.

With ``--plain``, instead: each plain (no-minimum) component solved by each method in turn — OR-Tools'
min-cost flow (what the solver uses), scipy's LAPJVsp and the HiGHS LP (what it used before) — with the
seconds of each and the optimum they must agree on. Under ``--time-limit`` the note column gives the
plain components' own gap (measured after the run, against their optimum).

Run: ``.venv/bin/python bench/bench_solver.py [--labels capped-20000,...] [--time-limit S] [--whole] [--plain]``
"""

from __future__ import annotations

import argparse
import os
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
    """Peak MB of this process plus the largest of its finished children (HiGHS worker processes)."""
    return (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
            + resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss) / 1024


def _cpu():
    """CPU seconds of this process and its finished children (HiGHS runs in worker processes)."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def _end_workers():
    """Stop the HiGHS worker processes so that their CPU time and memory are counted."""
    from matcher.assignment import highs
    if highs._POOL is not None:  # made at the first solve
        highs._POOL.close()


def load(label):
    """``(leads, partners, edges, members, cost)`` of a label (``cost`` only for OR-Library)."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import shapes

    if label.startswith("assignp"):
        leads, partners, edges, cost = read_orlib(ORLIB / f"{label}.txt")
        return leads, partners, edges, None, cost
    name, _, size = label.rpartition("-")
    if name in shapes.SHAPES:
        leads, partners, edges, members = shapes.SHAPES[name](int(size))
        return leads, partners, edges, (members if members.max() > 1 else None), None
    if label.endswith("-hard"):
        return (*generate_instance(*SIZES[int(label[:-5])], large_share=HARD_LARGE_SHARE), None, None)
    return (*generate_instance(*SIZES[int(label)]), None, None)


def whole_milp(leads, partners, edges, members=None, time_limit=None):
    """The whole instance as one MILP in HiGHS: ``(objective, bound, status, seconds, cpu seconds)``."""
    from matcher.assignment import highs
    from matcher.assignment.instance import prepare
    from matcher.assignment.model import build_model
    start = time.perf_counter()
    cpu = _cpu()
    problem, _edges, _names = prepare(leads, partners, edges, members=members)
    model = build_model(problem)
    deadline = None if time_limit is None else start + time_limit
    res = highs.solve(model.c, model.A, model.b, np.zeros(model.n_vars), np.ones(model.n_vars), integer=True,
                      deadline=deadline)
    objective = None if res.x is None else -res.objective
    bound = None if res.bound is None else -res.bound
    seconds = time.perf_counter() - start
    _end_workers()
    return objective, bound, res.status, seconds, _cpu() - cpu


def plain_parts(label):
    """The plain (no binding minimum) components of a label's instance, each as its own problem.

    ``LABEL:relaxed`` drops every minimum first (what :func:`matcher.assignment.greedy.quick_solution`
    solves, and the shape of the components left after reduced-cost fixing): one plain component.
    """
    from dataclasses import replace

    from matcher.assignment.instance import prepare
    from matcher.assignment.problem import edge_components
    name, _, how = label.partition(":")
    leads, partners, edges, members, _cost = load(name)
    problem, _edges, _names = prepare(leads, partners, edges, members=members)
    if how == "relaxed":
        problem = replace(problem, cap_min=np.zeros_like(problem.cap_min), must_open=np.zeros_like(problem.must_open))
    comp = edge_components(problem)
    constrained = np.zeros(comp.max() + 1, bool)
    constrained[comp[problem.binding()[problem.partner] | (problem.weight > 1)]] = True
    return [problem.keep(comp == c) for c in np.flatnonzero(~constrained)]


def lapjvsp(problem):
    """The assignment method the solver used before (scipy's LAPJVsp ``min_weight_full_bipartite_matching``):
    ``min(max_leads, degree)`` slots per partner and a dummy slot per lead; ``edge_id`` of the chosen edges."""
    import scipy.sparse as sp
    from scipy.sparse.csgraph import min_weight_full_bipartite_matching
    leads, lrow = np.unique(problem.lead, return_inverse=True)
    parts, prow = np.unique(problem.partner, return_inverse=True)
    slots = np.minimum(problem.cap_max[parts], np.bincount(prow, minlength=len(parts)))
    first = np.concatenate([[0], np.cumsum(slots)])
    copies = slots[prow]
    edge = np.repeat(np.arange(problem.n_edges), copies)
    col = first[prow[edge]] + np.arange(len(edge)) - np.repeat(np.cumsum(copies) - copies, copies)
    n_slots, n_leads = int(first[-1]), len(leads)
    top = problem.score.max() + 1.0
    matrix = sp.csr_matrix((np.concatenate([top - problem.score[edge], np.full(n_leads, top)]),
                            (np.concatenate([lrow[edge], np.arange(n_leads)]),
                             np.concatenate([col, n_slots + np.arange(n_leads)]))),
                           shape=(n_leads, n_slots + n_leads))
    r, c = min_weight_full_bipartite_matching(matrix)
    real = c < n_slots
    slot_part = np.searchsorted(first, np.arange(n_slots), side="right") - 1
    key = lrow.astype(np.int64) * len(parts) + prow
    order = np.argsort(key)
    pos = order[np.searchsorted(key[order], r[real].astype(np.int64) * len(parts) + slot_part[c[real]])]
    return problem.edge_id[pos]


PLAIN_METHODS = ("flow", "lapjvsp", "lp")


def _plain_method(name, part):
    from matcher.assignment import plain
    if name == "flow":
        return plain.solve_plain(part)
    if name == "lapjvsp":
        return lapjvsp(part)
    return plain._by_lp(part, None)[0]


def run_plain(label, methods=PLAIN_METHODS):
    """One row per plain component of ``label``: seconds and value of each method (same process, in turn)."""
    from matcher.assignment import plain  # noqa: F401 - OR-Tools loaded before the clock starts
    for i, part in enumerate(plain_parts(label)):
        slots = np.minimum(part.cap_max[part.partner], np.bincount(part.partner)[part.partner]).sum()
        cells = []
        for name in methods:
            start = time.perf_counter()
            chosen = _plain_method(name, part)
            cells.append((time.perf_counter() - start, float(part.score[np.isin(part.edge_id, chosen)].sum())))
        top = int(part.cap_max[np.unique(part.partner)].max())
        print("PLAIN\t" + "\t".join([label, str(i), f"{len(np.unique(part.lead))}/{len(np.unique(part.partner))}/"
                                     f"{part.n_edges}", "none" if top > 10**9 else str(top), str(int(slots))]
                                    + [f"{t:.2f}\t{v:.2f}" for t, v in cells]), flush=True)


def plain_gap(label, sol):
    """The gap of ``sol`` on the instance's plain components alone (their optimum by the flow)."""
    from matcher.assignment import plain
    parts = plain_parts(label)
    if not parts:
        return ""
    chosen = np.zeros(int(max(p.edge_id.max() for p in parts)) + 1, bool)
    picked = sol.edge_index[sol.edge_index < len(chosen)]
    chosen[picked] = True
    value = sum(float(p.score[chosen[p.edge_id]].sum()) for p in parts)
    best = sum(float(p.score[np.isin(p.edge_id, plain.solve_plain(p))].sum()) for p in parts)
    return f"plain tracks {value:.2f} of {best:.2f} (gap {max(best - value, 0) / max(best, 1):.1e})"


PHASES = ("t_lp", "t_region", "t_restricted", "t_round", "t_milp")


def run_one(label, time_limit, whole=False):
    """Solve one instance in this process; print one row (``whole``: the HiGHS whole-MILP row)."""
    from matcher.assignment import solve

    leads, partners, edges, members, cost = load(label)
    size = f"{len(leads)}/{len(partners)}/{len(edges)}"
    if whole:
        objective, bound, status, seconds, cpu = whole_milp(leads, partners, edges, members, time_limit)
        shown = "—" if objective is None else f"{objective:.2f}"
        print(f"WHOLE\t{label}\t{status}\t{shown}\t{seconds:.2f}\t{_peak_mb():.0f}\t{cpu:.2f}", flush=True)
        return
    start = time.perf_counter()
    cpu = _cpu()
    sol = solve(leads, partners, edges, time_limit=time_limit, members=members)
    seconds = time.perf_counter() - start
    _end_workers()
    cpu = _cpu() - cpu
    peak = _peak_mb()
    extra = ""
    if label.startswith("assignp"):
        chosen = sol.edge_index
        extra = f"cost {int(cost[chosen].sum())} (known {orlib_optimum(label)})"
    elif time_limit is not None:  # measured after the run: how far the plain tracks are from their own optimum
        extra = plain_gap(label, sol)
    phases = " / ".join(f"{sol.stats.get(k, 0):.1f}" for k in PHASES)
    print(f"OURS\t{label}\t{size}\t{sol.status}\t{sol.objective:.2f}\t{sol.bound:.2f}\t{sol.gap:.1e}"
          f"\t{seconds:.2f}\t{peak:.0f}\t{phases}\t{extra}\t{cpu:.2f}", flush=True)


DEFAULT_LABELS = "capped-2000,capped-20000,coop-2000,coop-5000,coop-20000,hubs-20000,20000,20000-hard"


def _child(label, time_limit, whole=False, plain=False):
    args = [sys.executable, __file__, "--one", label]
    if time_limit is not None:
        args += ["--time-limit", str(time_limit)]
    if whole:
        args.append("--whole")
    if plain:
        args.append("--plain")
        out = subprocess.run(args, check=True, capture_output=True, text=True).stdout.strip().splitlines()
        return [line.split("\t") for line in out if line.startswith("PLAIN")]
    out = subprocess.run(args, check=True, capture_output=True, text=True).stdout.strip().splitlines()
    return out[-1].split("\t")


def print_plain(labels):
    """The plain components' table: each method's seconds on each (values must agree: all are exact)."""
    print(f"plain components, one method after the other in one process; load average before: "
          f"{os.getloadavg()[0]:.2f}")
    print("| instance | component | leads/partners/edges | partner max | slot edges | OR-Tools flow (s) "
          "| LAPJVsp (s) | HiGHS LP (s) | flow vs the better other | optimum |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for label in labels:
        for row in _child(label, None, plain=True):
            seconds = [float(row[6 + 2 * k]) for k in range(len(PLAIN_METHODS))]
            values = {row[7 + 2 * k] for k in range(len(PLAIN_METHODS))}
            optimum = row[7] if len(values) == 1 else "differ: " + " / ".join(sorted(values))
            print(f"| {' | '.join(row[1:6])} | {' | '.join(f'{t:.2f}' for t in seconds)} "
                  f"| {min(seconds[1:]) / max(seconds[0], 0.005):.1f}× | {optimum} |", flush=True)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--labels", default=DEFAULT_LABELS, help="comma-separated instance labels")
    parser.add_argument("--orlib", action="store_true", help="also run the OR-Library assignp instances")
    parser.add_argument("--time-limit", type=float, default=None, help="seconds for our solver (default none)")
    parser.add_argument("--whole", action="store_true", help="also solve each instance as one HiGHS MILP")
    parser.add_argument("--whole-limit", type=float, default=600.0, help="seconds for the whole MILP")
    parser.add_argument("--plain", action="store_true",
                        help="instead: each plain component by each method (LABEL:relaxed drops the minimums)")
    parser.add_argument("--one", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.one:
        if args.plain:
            run_plain(args.one)
        else:
            run_one(args.one, args.time_limit, whole=args.whole)
        return
    labels = [s for s in args.labels.split(",") if s]
    if args.orlib and ORLIB.is_dir():
        labels += ["assignp800", "assignp1500", "assignp3000", "assignp5000"]
    if args.plain:
        print_plain(labels)
        return
    limit = "none" if args.time_limit is None else f"{args.time_limit:g}"
    print(f"time limit: {limit}; per phase: LP / region bound / restricted incumbent / rounding / MILP (s)")
    print(f"load average before: {os.getloadavg()[0]:.2f}; seconds = wall (cpu = CPU time of the process and its "
          "HiGHS workers, less sensitive to the other engineers' load); peak MB = process + largest worker")
    print("| instance | leads/partners/edges | status | objective | bound | gap | seconds (cpu) | peak MB | phases "
          "| HiGHS whole MILP | ratio wall (cpu) | note |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for label in labels:
        # one process per instance so peak memory is that instance's own
        ours = _child(label, args.time_limit)
        ours[7] = f"{ours[7]} ({ours[11]})"
        whole, ratio = "", ""
        if args.whole:
            w = _child(label, args.whole_limit, whole=True)
            whole = f"{w[2]} {w[3]} in {w[4]} s, cpu {w[6]} s ({w[5]} MB)"
            ratio = (f"{float(w[4]) / max(float(ours[7].split()[0]), 1e-9):.1f}× "
                     f"({float(w[6]) / max(float(ours[11]), 1e-9):.1f}×)")
        print(f"| {' | '.join(ours[1:10])} | {whole} | {ratio} | {ours[10]} |", flush=True)


if __name__ == "__main__":
    main()
