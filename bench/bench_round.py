"""Benchmark: the whole round pipeline (`matcher import` then `matcher match`) on a generated round.

For each size N, a deterministic generator (the demo round's generator, :mod:`matcher.demo`, scaled
up: its product families with Korean descriptions, G2B/KSIC codes, 시도 by firm share, certificates
that pass and fail, construction licences, large partners with a minimum of 5, affiliates, debarred
firms; plus firms that applied nowhere, a quarter of N) writes ``firms.csv`` and ``applications.csv``.
They are imported through the normal path (``matcher round create``, ``matcher import firms``,
``matcher import applications``) into a fresh SQLite database, then ``matcher match ROUND`` runs as
a subprocess: its peak resident memory is that child's own (``os.wait4``) plus its largest HiGHS
worker's, and its phases are timed from its progress lines on stderr as they arrive (each line's
first word names the phase: loading, scoring, solving, storing; the bench also reads the phase from
the older messages "explaining").

Usage::

    .venv/bin/python bench/bench_round.py --sizes 20000,100000 --time-limits none,60

Generated files are kept in ``--work`` (default ``/tmp/bench_round``) and reused when present
(same size and seed, same bytes). ``--tree PATH`` runs another checkout's ``matcher`` on the same
files (e.g. ``git worktree add /tmp/before <commit>``), for the before/after columns.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ROUND = "벤치 회차"
REFERENCE_DATE = "2026-10-01"
TRACKS = ("innovation", "materials", "convergence", "construction")
DEMO_APPLICATIONS = 959
"""Applications in the demo's PLAN (leads + SME partners + large partners, every track)."""
PHASES = ("loading", "scoring", "solving", "storing")


# --- generation ---------------------------------------------------------------------------------


def generate(n, seed, out):
    """Write ``firms.csv`` and ``applications.csv`` of a round of about ``n`` applications into ``out``."""
    from matcher import demo
    from matcher.demo_files import load_families, load_words, render_files

    class Builder(demo._Builder):
        def name(self, suffixes):  # the demo's name space (4 × 46² × suffixes) is too small for 100k firms
            stem = self.pick(self.words["syllables"]) + self.pick(self.words["syllables"])
            text = self.pick(self.words["forms"]) + stem + self.pick(suffixes)
            while text in self._names:
                text = f"{text[:-1]}{int(self.rng.integers(2, 100))}{text[-1]}"
            self._names.add(text)
            return text

    b = Builder(seed, load_families(), load_words())
    scale = n / DEMO_APPLICATIONS
    for track, (n_leads, n_sme, n_large) in demo.PLAN.items():
        partners = demo._make_partners(b, track, round(n_sme * scale), round(n_large * scale))
        _make_leads(b, track, round(n_leads * scale), partners)
    for _ in range(max(1, n // 2000)):
        demo._edge_cases(b)
    families = list(b.families.values())
    for _ in range(n // 4):  # registered firms that applied nowhere this round
        family = b.pick(families)
        demo._new_firm(b, family, demo._sme_size(b, lead=True) if b.chance(0.95) else b.pick(("중견기업", "대기업")))
    spelled = {}
    files = render_files(demo.DemoRound(b.firms, b.applications, [], [], spelled), seed, ROUND,
                         demo.REFERENCE_DATE, TRACKS)
    out.mkdir(parents=True, exist_ok=True)
    for name in ("firms.csv", "applications.csv"):
        (out / name).write_text(files[name], encoding="utf-8")
    return len(b.firms), len(b.applications)


def _make_leads(b, track, n_leads, partners):
    """:func:`matcher.demo._make_leads` without its quadratic re-check of every partner after each plant.

    Which partners can be planted is decided once per partner (the same probe as the demo's); a used
    SME partner, or a construction partner used five times, leaves the list, as in the demo.
    """
    from matcher import demo
    plantable = demo._plantable(b, track, partners, {})
    used = {}
    niche_key, niche_n = demo.NICHE.get(track, ("", 0))
    families = [f for f in demo._families_for(b, track) if f.key != niche_key]
    for i in range(n_leads):
        niche = i < niche_n
        partner = b.pick(plantable) if not niche and plantable and b.chance(demo.PLANT_SHARE) else None
        family = b.families[niche_key] if niche else (partner[1] if partner else b.pick(families))
        if partner and family.related and b.chance(0.25):
            family = b.families[b.pick(family.related)]
            if track not in family.tracks:
                family = partner[1]
        demo._lead(b, track, family, partner, used)
        if partner:
            firm = partner[0]
            if (not firm.is_large) or (track == "construction" and used[firm.brn] >= 5):
                plantable.remove(partner)


# --- running --------------------------------------------------------------------------------------


class Refused(Exception):
    """The match refused its time limit (``time_limit_too_short``): when, at what memory, and why."""

    def __init__(self, seconds, mb, lines):
        super().__init__()
        self.seconds, self.mb, self.lines = seconds, mb, lines
        self.message = next(l for _t, l in lines if l.startswith("error: time limit"))


def _matcher(tree):
    python = Path(tree) / ".venv" / "bin" / "python"
    return [str(python if python.exists() else sys.executable), "-c", "from matcher.cli import main; main()"]


def run(cmd, env, cwd, on_line=None):
    """Run ``cmd``; returns (seconds, peak MB, stdout, stderr lines with arrival times).

    ``run.cpu`` is then the child's CPU seconds (user + sys, with its reaped children's).

    Peak MB is the larger of the child's own peak (``os.wait4``) and the largest total of the child with
    its own children (the HiGHS worker processes, :mod:`matcher.assignment.highs`, and the forked scoring
    process, :mod:`matcher.forked`), sampled every 0.1 s from ``/proc`` as proportional set sizes. (A worker's own ``ru_maxrss`` is no use: it counts the
    parent's pages at the moment of the fork.)
    """
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    lines, out = [], []
    reader = threading.Thread(target=lambda: out.append(proc.stdout.read()), daemon=True)
    reader.start()
    tree_peak, done = [0], threading.Event()
    sampler = threading.Thread(target=_sample_tree, args=(proc.pid, tree_peak, done), daemon=True)
    sampler.start()
    for line in proc.stderr:
        lines.append((time.perf_counter() - start, line.rstrip("\n")))
        if on_line:
            on_line(lines[-1])
    _pid, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    seconds = time.perf_counter() - start
    reader.join()
    done.set()
    sampler.join()
    peak = max(usage.ru_maxrss, tree_peak[0]) / 1024
    run.cpu = usage.ru_utime + usage.ru_stime  # the child's and its reaped children's (the HiGHS workers)
    if proc.returncode == 2 and any(l.startswith("error: time limit") for _t, l in lines):
        raise Refused(seconds, peak, lines)
    if proc.returncode:
        raise RuntimeError(f"{' '.join(cmd[3:])} failed ({proc.returncode}):\n"
                           + "\n".join(l for _t, l in lines[-30:]))
    return seconds, peak, "".join(out), lines


def _sample_tree(pid, peak, done):
    """Keep in ``peak[0]`` the largest memory in kB of ``pid`` and its children seen until ``done``.

    Each process counts its proportional set size (``Pss`` of ``/proc/PID/smaps_rollup``: a page shared
    by the processes of a fork counts once, split between them), or its resident size where the kernel
    gives no rollup.
    """
    while not done.wait(0.1):
        total = 0
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
                if stat.parent.name == str(pid) or fields[1] == str(pid):  # the process, or its child
                    total += _pss_kb(stat.parent) or int(fields[21]) * os.sysconf("SC_PAGE_SIZE") // 1024
            except (OSError, IndexError, ValueError):
                continue
        peak[0] = max(peak[0], total)


def _pss_kb(proc_dir):
    try:
        for line in (proc_dir / "smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


def phase_of(message):
    """The phase a progress message belongs to (its first word after the percentage), or None."""
    text = message.split("]", 1)[-1].strip().lower()
    word = text.split(" ", 1)[0].rstrip(":") if text else ""
    if word in ("explaining", "storing", "run"):
        return "storing"
    return word if word in PHASES else None


def phases(lines, total):
    """Seconds per phase from timestamped progress lines: a phase lasts until the next one starts.

    Time before the first progress line (starting Python, reading the round when the command does not
    report it) counts as loading.
    """
    out = dict.fromkeys(PHASES, 0.0)
    marks = [(t, phase_of(line)) for t, line in lines]
    marks = [(t, p) for t, p in marks if p]
    current, since = "loading", 0.0
    for t, p in marks:
        if p != current:
            out[current] += t - since
            current, since = p, t
    out[current] += total - since
    return out


def bench_size(n, limits, args):
    work = Path(args.work) / f"n{n}-s{args.seed}"
    if not (work / "applications.csv").exists():
        t0 = time.perf_counter()
        n_firms, n_apps = generate(n, args.seed, work)
        print(f"# generated {n_apps} applications, {n_firms} firms in {time.perf_counter() - t0:.0f} s ({work})",
              flush=True)
    db_path = work / "bench.sqlite"
    reuse = args.reuse_db and db_path.exists()
    if db_path.exists() and not reuse:
        db_path.unlink()
    env = dict(os.environ, DATABASE_URL=f"sqlite:///{db_path}", PYTHONUNBUFFERED="1")
    cli, cwd = _matcher(args.tree), args.tree
    t_import, mb_import = 0.0, 0.0
    for step in [] if reuse else (["round", "create", ROUND, "--reference-date", REFERENCE_DATE, "--tracks", ",".join(TRACKS)],
                 ["import", "firms", str(work / "firms.csv")],
                 ["import", "applications", str(work / "applications.csv")]):
        seconds, mb, _out, _lines = run(cli + step, env, cwd)
        t_import += seconds
        mb_import = max(mb_import, mb)
    for limit in limits:
        cmd = cli + ["match", ROUND] + ([] if limit is None else ["--time-limit", str(limit)])
        echo = (lambda tl: print(f"#   {tl[0]:7.1f} s  {tl[1]}", flush=True)) if args.verbose else None
        try:
            seconds, mb, out, lines = run(cmd, env, cwd, echo)
        except Refused as exc:
            p = phases(exc.lines, exc.seconds)
            print(f"{n:>8} {limit or '-':>6} {t_import:>7.1f} {p['loading']:>7.1f} {p['scoring']:>7.1f} "
                  f"{'-':>7} {'-':>7} {'-':>7} {exc.seconds:>7.1f} {exc.mb:>8.0f} {'-':>10} {'-':>9} {'refused':>10} {'-':>8}"
                  f" {'-':>10} {run.cpu:>6.1f}  # {exc.message}", flush=True)
            continue
        except RuntimeError as exc:
            print(f"{n:>8} {limit or '-':>6} failed: {exc}", flush=True)
            continue
        import json
        result = json.loads(out.strip().splitlines()[-1])
        pairs = _pairs_scored(lines)
        gap = result.get("gap")
        answer = next((t for t, line in lines if line.split("]", 1)[-1].strip().startswith("run ")), seconds)
        p = phases([(t, line) for t, line in lines if t <= answer], answer)
        print(f"{n:>8} {limit or '-':>6} {t_import:>7.1f} {p['loading']:>7.1f} {p['scoring']:>7.1f} "
              f"{p['solving']:>7.1f} {p['storing']:>7.1f} {answer:>7.1f} {seconds:>7.1f} {mb:>8.0f} {pairs:>10} "
              f"{result['proposals']:>9} {result['status']:>10} {'-' if gap is None else f'{gap:.1e}':>8} "
              f"{result['objective'] or 0:>10.1f} {run.cpu:>6.1f}", flush=True)


def check_pruning(n, args):
    """Solve the imported round of ``n`` applications with this pruning and with a wide one; print both.

    The wide pruning keeps 50 partners per lead, 50 of those with a minimum, and every eligible pair
    of a track up to a million (the pruning before issue 9, roughly): how much total score the
    narrower pruning gives up on this round.
    """
    from matcher import db, matching, rounds
    url = f"sqlite:///{Path(args.work) / f'n{n}-s{args.seed}' / 'bench.sqlite'}"
    with db.transaction(url) as s:
        inp = rounds.round_input(s, rounds.find_round(s, ROUND))
    print(f"{'pruning':>8} {'pairs':>9} {'status':>9} {'objective':>11} {'gap':>8} {'seconds':>8}")
    results = {}
    for name, values in (("this", {}), ("wide", dict(LEAD_K=50, LARGE_K=50, PARTNER_K=50,
                                                        EXHAUSTIVE_PAIRS=1_000_000))):
        saved = {k: getattr(matching, k) for k in values}
        for k, v in values.items():
            setattr(matching, k, v)
        try:
            t0 = time.perf_counter()
            rg = matching.build_graph(inp, list(inp.pools))
            chosen, summary = matching._solve(rg, [], [], "optimal", args.solver_limit)
            seconds = time.perf_counter() - t0
        finally:
            for k, v in saved.items():
                setattr(matching, k, v)
        results[name] = summary["objective"]
        print(f"{name:>8} {len(rg.edges):>9} {summary['status']:>9} {summary['objective']:>11.2f} "
              f"{summary['gap'] or 0:>8.1e} {seconds:>8.1f}", flush=True)
    print(f"# this pruning's total score / the wide one's: {results['this'] / results['wide']:.5f}")


def _pairs_scored(lines):
    """Pairs the solver was given, from the "solving N pairs" progress line."""
    for _t, line in lines:
        text = line.split("]", 1)[-1].strip()
        if text.startswith("solving "):
            word = text.split()[1]
            if word.isdigit():
                return int(word)
    return "?"


def write_instance(n, args):
    """The solver's instance of the imported round of ``n`` applications as ``matcher solve`` files.

    In ``args.write_instance``/n{n}: leads.csv (with members), partners.csv, edges.csv — what
    ``matcher match`` hands the solver (same pruning), so the solver can be profiled on it alone.
    """
    import importlib.util
    import pandas as pd
    from matcher import db, matching, rounds
    spec = importlib.util.spec_from_file_location("bench_shapes", Path(__file__).with_name("shapes.py"))
    shapes = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(shapes)
    url = f"sqlite:///{Path(args.work) / f'n{n}-s{args.seed}' / 'bench.sqlite'}"
    with db.transaction(url) as s:
        inp = rounds.round_input(s, rounds.find_round(s, ROUND))
    rg = matching.build_graph(inp, list(inp.pools))
    members = {brn: firm.members for (_t, role, brn), (firm, _a) in rg.inp.index().items() if role == "lead"}
    leads = list(rg.leads)
    partners = pd.DataFrame(matching._partner_tuples(rg), columns=["partner_id", "min_leads", "max_leads"])
    edges = pd.DataFrame({"lead_id": rg.edges["lead"], "partner_id": rg.edges["partner"],
                          "score": rg.edges["score"].astype(float)})
    folder = shapes.write_csv(Path(args.write_instance) / f"n{n}", leads, partners, edges,
                              [members.get(lead, 1) for lead in leads])
    print(f"# solver instance: {len(leads)} leads, {len(partners)} partners, {len(edges)} pairs in {folder}",
          flush=True)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="20000", help="Comma-separated numbers of applications.")
    parser.add_argument("--time-limits", "--time-limit", dest="time_limits", default="none",
                        help="Comma-separated --time-limit values for `matcher match` ('none' = no limit).")
    parser.add_argument("--seed", type=int, default=20261001)
    parser.add_argument("--work", default="/tmp/bench_round", help="Where generated files and databases go.")
    parser.add_argument("--tree", default=str(ROOT), help="Checkout whose `matcher` runs (default: this one).")
    parser.add_argument("-v", "--verbose", action="store_true", help="Echo the match's progress lines.")
    parser.add_argument("--reuse-db", action="store_true",
                        help="Match in the database a previous run imported (import shows 0.0).")
    parser.add_argument("--check-pruning", action="store_true",
                        help="After the table, solve each size's round with this pruning and a wide one (in-process).")
    parser.add_argument("--solver-limit", type=float, default=None, help="Solver seconds for --check-pruning.")
    parser.add_argument("--write-instance", metavar="DIR", default=None,
                        help="After the table, write each size's solver instance (matcher solve files) in DIR/nN.")
    args = parser.parse_args(argv)
    limits = [None if x.strip().lower() in ("none", "-", "") else float(x) for x in args.time_limits.split(",")]
    print(f"# {Path(args.tree).resolve()}  load: {os.getloadavg()[0]:.1f} (2 cores)")
    print(f"{'apps':>8} {'limit':>6} {'import':>7} {'load':>7} {'score':>7} {'solve':>7} {'store':>7} "
          f"{'answer':>7} {'exit':>7} {'peak MB':>8} {'pairs':>10} {'proposals':>9} {'status':>10} {'gap':>8} "
          f"{'objective':>10} {'cpu s':>6}",
          flush=True)
    sizes = [int(x) for x in args.sizes.split(",")]
    for n in sizes:
        bench_size(n, limits, args)
    if args.check_pruning:
        for n in sizes:
            check_pruning(n, args)
    if args.write_instance:
        for n in sizes:
            write_instance(n, args)


if __name__ == "__main__":
    main()
