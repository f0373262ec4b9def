"""Benchmark: the SME directory — index build, and a lead's top 10 with explanations — at scale.

For each size a synthetic directory is written to a SQLite file (firms with Korean product phrases
from the shipped G2B classes, sizes, 시도 by firm share, certificates; one round with applications
from 20 % of the firms), then a fresh subprocess builds the index (time, peak memory) and asks
for the top 10 of random firms in 소재부품, as lead and as partner, through the service (a fresh
session each, as a request has), the web page and the JSON API (Flask test client), interleaved
per firm so that the machine's load weighs on all alike. ``--baseline`` also times the pure path
that fits TF-IDF over the pool on every query (what ``matcher recommend`` did before the index).
``--load`` runs a bounded loopback load test of the recommendations page against the real server
(``python -m web``: waitress, 4 threads) on a database you name (the demo's: ``make demo``).

Usage::

    .venv/bin/python bench/bench_directory.py                          # 10k, 100k, 500k firms
    .venv/bin/python bench/bench_directory.py --sizes 10000 --baseline
    .venv/bin/python bench/bench_directory.py --one 500000 --reuse-index   # one size, JSON, stored index
    .venv/bin/python bench/bench_directory.py --load --database-url sqlite:///instance/matcher.sqlite --port 5103

The generated directories are kept in ``$TMPDIR/matcher-bench-directory`` (``MATCHER_BENCH_CACHE``
names another folder; delete them after a schema change).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from datetime import date
from pathlib import Path

import numpy as np

REF = date(2026, 10, 1)
TECH = ["AI", "IoT", "지능형", "스마트", "친환경", "고효율", "저전력", "자동화", "원격제어", "클라우드",
        "빅데이터", "영상분석", "센서", "무선통신", "고강도", "경량", "방수", "내열", "정밀가공", "모듈형"]
VERBS = ["제조", "개발", "생산", "설계", "납품", "유지보수", "시공", "가공", "조립", "공급"]
SYLLABLES = list("가나다라마바사아자차카타파하한국대신동서남북성진영우태광명")
KSIC_POOL = ["26421", "26429", "26511", "27192", "28111", "28903", "29131", "29199", "30399",
             "31201", "32021", "33401", "58221", "62010", "63112", "71531", "72121", "41221", "42121"]
SIZES = ["소상공인", "소기업", "중기업", "중견기업", "대기업"]
TRACKS = ["innovation", "materials", "convergence"]
CACHE = Path(os.environ.get("MATCHER_BENCH_CACHE") or Path(tempfile.gettempdir()) / "matcher-bench-directory")
"""Where the generated directories are kept (``MATCHER_BENCH_CACHE`` overrides; regenerate after a schema change)."""


def _brn(i):
    from matcher.firms import brn_check_digit
    first = f"{100 + i // 1_000_000:03d}{(i // 10000) % 100:02d}{i % 10000:04d}"
    return first + str(brn_check_digit(first))


def generate(n, path, seed=20261201):
    """Write a synthetic directory of ``n`` firms (and one round with applications) to SQLite ``path``."""
    from sqlalchemy import insert

    from matcher import codes, db
    rng = np.random.default_rng(seed)
    table = codes.g2b_table()
    classes = table[table["code"].str.len() == 8]
    class_codes, class_names = list(classes["code"]), list(classes["name_ko"])
    products = list(codes.sme_competition_products())
    regions = list(codes.regions())
    share = np.array([codes.regions()[r].firm_share for r in regions])
    url = f"sqlite:///{path}"
    engine = db.init_db(url)
    theme = rng.integers(len(class_codes), size=n)
    region = rng.choice(len(regions), size=n, p=share / share.sum())
    size = rng.choice(5, size=n, p=[0.25, 0.4, 0.28, 0.05, 0.02])
    firms, certs, apps = [], [], []
    for i in range(n):
        t = theme[i]
        words = rng.choice(TECH, size=2, replace=False)
        name = "".join(rng.choice(SYLLABLES, size=2)) + str(rng.choice(["테크", "산업", "전자", "에너지", "시스템"]))
        firms.append(dict(id=i + 1, brn=_brn(i), name=f"주식회사 {name}" if i % 3 == 0 else name,
                          size_class=SIZES[size[i]], region=regions[region[i]],
                          founded=date(int(rng.integers(1995, 2025)), int(rng.integers(1, 13)), 1),
                          ksic_codes=[str(rng.choice(KSIC_POOL))], g2b_codes=[class_codes[t]],
                          description=f"{words[0]} {class_names[t]} {rng.choice(VERBS)}, {words[1]} 부품 {rng.choice(VERBS)}",
                          licences=[], affiliate_group=f"G{i % 500}" if rng.random() < 0.02 else None))
        r = rng.random()
        if r < 0.3:
            certs.append(dict(firm_id=i + 1, kind="direct_production", code=str(rng.choice(products)),
                              valid_from=date(2024, 1, 1), valid_to=date(2027, 12, 31)))
        if rng.random() < 0.25:
            certs.append(dict(firm_id=i + 1, kind=str(rng.choice(["patent", "rnd_product", "materials_parts"])),
                              code=class_codes[t], valid_from=date(2023, 1, 1), valid_to=date(2028, 12, 31)))
    with engine.begin() as conn:
        conn.execute(insert(db.RoundRow.__table__), [dict(id=1, name="벤치 1차", reference_date=REF,
                                                          open_tracks=TRACKS, rule_overrides={})])
        for start in range(0, n, 50_000):
            conn.execute(insert(db.FirmRow.__table__), firms[start:start + 50_000])
        if certs:
            conn.execute(insert(db.CertificateRow.__table__), certs)
        applicants = rng.choice(n, size=n // 5, replace=False)
        for j, i in enumerate(applicants):
            role = "lead" if rng.random() < 0.6 else "partner"
            track = str(rng.choice(TRACKS))
            product = str(rng.choice(products)) if role == "lead" and track == "innovation" else ""
            apps.append(dict(round_id=1, firm_id=int(i) + 1, role=role, track=track, product_code=product,
                             text=f"{rng.choice(TECH)} {class_names[theme[i]]} 협력", preferences=[]))
        conn.execute(insert(db.ApplicationRow.__table__), apps)
    db.dispose_engines()


def _peak_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _percentiles(times):
    ms = np.array(times) * 1000
    return round(float(np.percentile(ms, 50)), 1), round(float(np.percentile(ms, 95)), 1)


QUERY_KINDS = (("lead", False, None), ("partner", True, None), ("page", False, "/firms/{brn}?track=materials"),
               ("page_partner", True, "/firms/{brn}?track=materials&as_partner=1"),
               ("api", False, "/api/v1/firms/{brn}/recommendations?track=materials"),
               ("api_partner", True, "/api/v1/firms/{brn}/recommendations?track=materials&as_partner=1"))
"""What is timed for each firm asked: the service as lead and as partner, the page and the JSON API both ways."""


def run_one(n, queries, baseline, reuse=False):
    """In a child process: build the index of the size-``n`` directory and time queries; prints JSON.

    Each firm asked is timed through the service (a fresh session, as a request has), the web page
    and the JSON API (Flask test client), as lead and as partner, one after the other, so that the
    machine's load weighs on all alike; the shown firms kept with the index are forgotten before each
    call (every query reads the firms it shows from the database, as on a large directory).
    """
    from matcher import db, directory
    from matcher.directory.service import forget_shown_firms
    from web import create_app
    path = CACHE / f"directory-{n}.sqlite"
    url = f"sqlite:///{path}"
    os.environ["DATABASE_URL"] = url
    db.init_db(url)  # the newest migration
    out = {"firms": n}
    with db.transaction(url) as s:
        start = time.perf_counter()
        if reuse:
            index = directory.current_index(s)  # the stored one when it is in step with the data
        else:
            index, _ = directory.build_and_save(s)
            out["build_s"] = round(time.perf_counter() - start, 1)
            out["build_peak_mb"] = round(_peak_mb())
        out["index_mb"] = round(directory.stored_info(s).size_bytes / 2 ** 20, 1)
        out["applications"] = len(index.app_id)
        rng = np.random.default_rng(7)
        brns = [index.brn[i] for i in rng.choice(index.n_firms, size=queries, replace=False)]
        if baseline:
            out["baseline_s"] = round(_baseline(s, brns[:3]), 2)
    del index
    client = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench", "TESTING": True}).test_client()
    factory = db.session_factory(url)
    times = {kind: [] for kind, _, _ in QUERY_KINDS}

    def once(brn, as_partner, path):
        if path is None:
            with factory() as session:
                directory.recommend(session, brn, track="materials", k=10, as_partner=as_partner)
        else:
            response = client.get(path.format(brn=brn))
            assert response.status_code == 200, (path, brn, response.status_code)

    for kind, as_partner, path in QUERY_KINDS:  # warm up (index in memory)
        once(brns[0], as_partner, path)
    for brn in brns:
        for kind, as_partner, path in QUERY_KINDS:
            forget_shown_firms()
            t = time.perf_counter()
            once(brn, as_partner, path)
            times[kind].append(time.perf_counter() - t)
    for kind, values in times.items():
        out[f"{kind}_p50_ms"], out[f"{kind}_p95_ms"] = _percentiles(values)
    extra = np.array(times["page"]) - np.array(times["lead"])
    out["page_minus_lead_p50_ms"] = round(float(np.median(extra)) * 1000, 1)
    out["query_peak_mb"] = round(_peak_mb())
    print(json.dumps(out), flush=True)


def _baseline(session, brns):
    """Seconds per query of the pure path fitting TF-IDF over the loaded pool (the old way), mean of ``brns``."""
    from sqlalchemy import select
    from sqlalchemy.orm import selectinload

    from matcher import db, directory
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
    from oracles import recommend_partners  # the slow reference the tests check the index against
    times = []
    for brn in brns:
        t = time.perf_counter()
        rows = session.scalars(select(db.FirmRow).options(selectinload(db.FirmRow.certificates))).all()
        pool = [(db.firm_from_row(r), None) for r in rows]
        firm = db.firm_from_row(db.get_firm(session, brn))
        rules, on = directory.rules_and_day(db.latest_round(session))
        recommend_partners(firm, "materials", 10, partners=pool, rules=rules, on=on)
        times.append(time.perf_counter() - t)
        session.expunge_all()
    return float(np.mean(times))


def _cpu_seconds(pid):
    """User + system CPU seconds of process ``pid`` so far (Linux ``/proc``), or None."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _load_phase(base, brns, seconds, clients, seed, cookies):
    """``clients`` threads, each a browser (its own cookies), ask random firms' pages until the deadline.

    Returns (times of the 200 responses with results, errors by kind, pages without a result list).
    """
    import http.cookiejar
    times, errors, empty, lock = [], {}, [0], threading.Lock()
    deadline = time.perf_counter() + seconds

    def worker(i):
        rng = np.random.default_rng(seed + i)
        handlers = [urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())] if cookies else []
        opener = urllib.request.build_opener(*handlers)
        while time.perf_counter() < deadline:
            brn = brns[int(rng.integers(len(brns)))]
            t = time.perf_counter()
            try:
                with opener.open(f"{base}/firms/{brn}", timeout=10) as response:
                    body = response.read()
                    status = response.status
            except urllib.error.HTTPError as exc:
                kind = f"HTTP {exc.code}"
            except OSError as exc:  # refused, reset, timed out
                kind = type(getattr(exc, "reason", exc)).__name__
            else:
                kind = None if status == 200 else f"HTTP {status}"
            with lock:
                if kind is None:
                    times.append(time.perf_counter() - t)
                    if b'class="results"' not in body:
                        empty[0] += 1
                else:
                    errors[kind] = errors.get(kind, 0) + 1

    threads = [threading.Thread(target=worker, args=(i,), daemon=True) for i in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(seconds + 15)  # a request still open at the deadline has its own 10 s timeout
    return times, errors, empty[0]


def _phase_row(times, errors, empty, elapsed, cpu, client_cpu=None):
    p50, p95 = _percentiles(times) if times else (None, None)
    row = {"requests": len(times), "errors": sum(errors.values()), "error_kinds": errors,
           "without_results": empty, "seconds": round(elapsed, 1), "req_per_s": round(len(times) / elapsed, 1),
           "p50_ms": p50, "p95_ms": p95}
    if cpu is not None and times:
        row["server_cpu_ms_per_request"] = round(cpu * 1000 / len(times), 1)
    if client_cpu is not None and times:
        row["client_cpu_ms_per_request"] = round(client_cpu * 1000 / len(times), 1)
    return row


def _own_cpu():
    """CPU seconds (user + system) of this process, every thread: the Python client's cost."""
    t = os.times()
    return t.user + t.system


WRK_SCRIPT = """
local paths, n = {}, 0
for line in io.lines(os.getenv("BENCH_PATHS")) do n = n + 1; paths[n] = line end
math.randomseed(tonumber(os.getenv("BENCH_SEED") or "0") + tostring({}):len())
request = function() return wrk.format("GET", paths[math.random(n)]) end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('BENCH {"requests": %d, "seconds": %.3f, "p50_us": %d, "p95_us": %d, ' ..
    '"non_2xx": %d, "connect": %d, "read": %d, "write": %d, "timeout": %d}\\n',
    summary.requests, summary.duration / 1e6, latency:percentile(50), latency:percentile(95),
    e.status, e.connect, e.read, e.write, e.timeout))
end
"""


def _wrk_phase(base, brns, seconds, clients, cookie, server_pid):
    """The same traffic from ``wrk`` (C, two threads, ``clients`` connections, every one sending the cookie
    of one visitor): a client that takes little of the machine's two cores from the server."""
    import shutil
    wrk = shutil.which("wrk")
    if wrk is None:
        return {"skipped": "wrk not installed (Debian: apt-get install wrk)"}
    with tempfile.TemporaryDirectory() as tmp:
        script, paths = Path(tmp) / "bench.lua", Path(tmp) / "paths.txt"
        script.write_text(WRK_SCRIPT, encoding="utf-8")
        paths.write_text("".join(f"/firms/{brn}\n" for brn in brns), encoding="ascii")
        command = [wrk, "-t2", f"-c{clients}", f"-d{seconds:g}s", "--timeout", "10s", "-s", str(script),
                   *(["-H", f"Cookie: {cookie}"] if cookie else []), base + "/"]
        before, cpu0, start = resource.getrusage(resource.RUSAGE_CHILDREN), _cpu_seconds(server_pid), time.perf_counter()
        done = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 60,
                              env=dict(os.environ, BENCH_PATHS=str(paths)))
        elapsed, cpu1 = time.perf_counter() - start, _cpu_seconds(server_pid)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
    line = next((l for l in done.stdout.splitlines() if l.startswith("BENCH ")), None)
    if done.returncode != 0 or line is None:
        return {"failed": (done.stderr or done.stdout).strip()[-500:]}
    got = json.loads(line[len("BENCH "):])
    errors = {k: got[k] for k in ("non_2xx", "connect", "read", "write", "timeout") if got[k]}
    ok = got["requests"] - got["non_2xx"]
    row = {"requests": ok, "errors": sum(errors.values()), "error_kinds": errors, "seconds": round(got["seconds"], 1),
           "req_per_s": round(ok / got["seconds"], 1), "p50_ms": round(got["p50_us"] / 1000, 1),
           "p95_ms": round(got["p95_us"] / 1000, 1)}
    if ok and cpu0 is not None:
        row["server_cpu_ms_per_request"] = round((cpu1 - cpu0) * 1000 / ok, 1)
        client = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        row["client_cpu_ms_per_request"] = round(client * 1000 / ok, 1)
    row["wall_s"] = round(elapsed, 1)
    return row


def _visitor_cookie(base, brn):
    """The session cookie a browser gets from a first page (``name=value``), for wrk to send."""
    import http.cookiejar
    jar = http.cookiejar.CookieJar()
    urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar)).open(f"{base}/firms/{brn}", timeout=60).read()
    return "; ".join(f"{c.name}={c.value}" for c in jar)


def load_test(port, seconds, clients, database_url, warmup=10.0, cookies=True, threads=4, wrk=True,
              firms_kept=None):
    """Bounded loopback load test of the recommendations page against the real server.

    Starts ``python -m web --threads 4`` (waitress, as ``make run``) on 127.0.0.1:``port``; ``clients``
    threads, each a browser keeping its cookies, ask the page of a random applicant firm (its
    track and role as it applied: the ranked directory with explanations) for ``warmup`` seconds
    (reported as ``cold``: the server's first requests, the index loaded and its kept firms filling), then for
    ``seconds`` (the figures). Every request has a 10 s timeout; every non-200 answer, refused or
    timed-out request counts as an error; the server is stopped at the end whatever happens.
    The Python client shares the machine's cores with the server, so its own CPU a request is
    reported; with ``wrk`` installed the same server then gets the same traffic for ``seconds`` from
    wrk (a light C client), reported beside it as ``wrk``.
    """
    from sqlalchemy import select

    from matcher import db
    with db.transaction(database_url) as s:
        brns = sorted({b for b, in s.execute(select(db.FirmRow.brn).join(
            db.ApplicationRow, db.ApplicationRow.firm_id == db.FirmRow.id))})
    env = dict(os.environ, DATABASE_URL=database_url, MATCHER_STAFF_PASSWORD="bench-password")
    if firms_kept is not None:  # 0: every page reads the firms it shows (as on a directory too large to keep)
        env["MATCHER_FIRMS_KEPT"] = str(firms_kept)
    server = subprocess.Popen([sys.executable, "-m", "web", "--host", "127.0.0.1", "--port", str(port),
                               "--threads", str(threads)], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    out = {"database": database_url, "firms_with_applications": len(brns), "clients": clients,
           "server_threads": threads, "cookies": cookies, "firms_kept": firms_kept, "load_before": [round(x, 2) for x in os.getloadavg()]}
    try:
        base = f"http://127.0.0.1:{port}"
        for _ in range(150):
            if server.poll() is not None:
                raise SystemExit(f"the server exited ({server.returncode}); is port {port} free?")
            try:
                urllib.request.urlopen(f"{base}/tracks", timeout=2).read()
                break
            except OSError:
                time.sleep(0.2)
        else:
            raise SystemExit("the server did not answer within 30 s")
        start = time.perf_counter()
        urllib.request.urlopen(f"{base}/firms/{brns[0]}", timeout=120).read()  # loads the index
        out["first_page_s"] = round(time.perf_counter() - start, 2)
        for name, length, seed in (("cold", warmup, 1000), ("measured", seconds, 0)):
            if length <= 0:
                continue
            cpu0, own0, start = _cpu_seconds(server.pid), _own_cpu(), time.perf_counter()
            times, errors, empty = _load_phase(base, brns, length, clients, seed, cookies)
            cpu1, own1, elapsed = _cpu_seconds(server.pid), _own_cpu(), time.perf_counter() - start
            out[name] = _phase_row(times, errors, empty, elapsed, None if cpu0 is None else cpu1 - cpu0, own1 - own0)
        if wrk:
            out["wrk"] = _wrk_phase(base, brns, seconds, clients, _visitor_cookie(base, brns[0]) if cookies else "",
                                    server.pid)
        out["load_after"] = [round(x, 2) for x in os.getloadavg()]
        return out
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="10000,100000,500000")
    parser.add_argument("--queries", type=int, default=40)
    parser.add_argument("--baseline", action="store_true")
    parser.add_argument("--reuse-index", action="store_true",
                        help="time queries on the stored index when it is in step (no build figures)")
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--generate", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--load", action="store_true")
    parser.add_argument("--port", type=int, default=5103)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--warmup", type=float, default=10.0,
                        help="seconds of the same traffic first, reported apart as 'cold' (0: none)")
    parser.add_argument("--no-cookies", action="store_true", help="clients send no cookies (every request a new visitor)")
    parser.add_argument("--threads", type=int, default=4, help="server threads (waitress)")
    parser.add_argument("--no-wrk", action="store_true", help="no second phase from wrk after the Python client")
    parser.add_argument("--firms-kept", type=int, default=None,
                        help="the server keeps at most this many shown firms per index (0: none; default 20000)")
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL"))
    args = parser.parse_args(argv)
    if args.generate:
        generate(args.generate, CACHE / f"directory-{args.generate}.sqlite")
        return
    if args.one:
        run_one(args.one, args.queries, args.baseline, args.reuse_index)
        return
    if args.load:
        if not args.database_url:
            parser.error("--load needs --database-url (or DATABASE_URL), e.g. sqlite:///instance/matcher.sqlite")
        print(json.dumps(load_test(args.port, args.seconds, args.clients, args.database_url, args.warmup,
                                   not args.no_cookies, args.threads, not args.no_wrk, args.firms_kept),
                         ensure_ascii=False))
        return
    CACHE.mkdir(parents=True, exist_ok=True)
    rows = []
    for n in [int(x) for x in args.sizes.split(",")]:
        path = CACHE / f"directory-{n}.sqlite"
        if not path.exists():
            subprocess.run([sys.executable, __file__, "--generate", str(n)], check=True)
        extra = (["--baseline"] if args.baseline else []) + (["--reuse-index"] if args.reuse_index else [])
        res = subprocess.run([sys.executable, __file__, "--one", str(n), "--queries", str(args.queries), *extra],
                             check=True, capture_output=True, text=True)
        rows.append(json.loads(res.stdout.strip().splitlines()[-1]))
        print(json.dumps(rows[-1]), file=sys.stderr, flush=True)
    head = ["firms", "applications", "build_s", "build_peak_mb", "index_mb", "lead_p50_ms", "lead_p95_ms",
            "page_p50_ms", "page_p95_ms", "api_p95_ms", "partner_p50_ms", "partner_p95_ms", "page_partner_p95_ms",
            "api_partner_p95_ms", "query_peak_mb"]
    if args.baseline:
        head.append("baseline_s")
    print("| " + " | ".join(head) + " |")
    print("|" + "---:|" * len(head))
    for row in rows:
        print("| " + " | ".join(f"{row.get(h, ''):,}" if isinstance(row.get(h), int) else str(row.get(h, ""))
                                for h in head) + " |")


if __name__ == "__main__":
    main()
