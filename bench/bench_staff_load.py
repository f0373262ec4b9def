"""Benchmark: the staff round page and the public pages under load while a run and an import go (issue 22).

A 20,000-application round (``bench_round.generate``: the demo round's generator scaled up) is imported into
a fresh SQLite database (``--database-url`` for PostgreSQL), then ``python -m web`` starts — with
``--jobs worker`` beside one ``matcher worker`` process (the default), or with ``--jobs thread`` (jobs in the
web process's threads, as before issue 22's item 13). Three phases of ``--seconds`` each:

* ``idle``: ``--clients`` staff clients fetch ``/staff/rounds/ID`` back to back, 2 visitors the public pages;
* ``busy``: the same while a matching run (time limit 60 s) and an import of the round's firms file (uploaded
  through the web) go; the phase starts when both are queued and the table says whether they were still going.

Prints per phase and page: requests, p50, p95, max (ms) and requests/s. Usage::

    .venv/bin/python bench/bench_staff_load.py --size 20000 --clients 8 --seconds 30 [--jobs thread]

The goal (issue 22): the staff page p95 < 300 ms at 8 clients while a run and an import go, public pages
p95 < 200 ms meanwhile.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import re
import socket
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
from bench_round import ROUND, REFERENCE_DATE, TRACKS, _matcher, generate  # noqa: E402

PASSWORD = "bench staff password"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Client:
    def __init__(self, port):
        self.port, self.cookies, self.csrf = port, {}, None
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)

    def request(self, method, path, body=None, headers=None):
        sent = dict(headers or {})
        if self.cookies:
            sent["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if self.csrf and method != "GET":
            sent["X-CSRFToken"] = self.csrf
        try:
            self.conn.request(method, path, body=body, headers=sent)
            response = self.conn.getresponse()
        except (http.client.HTTPException, OSError):
            self.conn.close()
            self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
            self.conn.request(method, path, body=body, headers=sent)
            response = self.conn.getresponse()
        data = response.read()
        for key, value in response.getheaders():
            if key.lower() == "set-cookie":
                name, val = value.split(";", 1)[0].split("=", 1)
                self.cookies[name] = val
        return response.status, data

    def login(self):
        self.csrf = json.loads(self.request("GET", "/api/v1/csrf-token")[1])["csrf_token"]
        status, data = self.request("POST", "/api/v1/session", json.dumps({"username": "staff", "password": PASSWORD}),
                                    {"Content-Type": "application/json"})
        assert status == 200, data
        return self

    def upload(self, path, filename, data):
        boundary = uuid.uuid4().hex
        body = (f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{filename}"\r\n'
                "Content-Type: text/csv\r\n\r\n").encode() + data + f"\r\n--{boundary}--\r\n".encode()
        return self.request("POST", path, body, {"Content-Type": f"multipart/form-data; boundary={boundary}"})


def prepare(size, work, url):
    work.mkdir(parents=True, exist_ok=True)
    if not (work / "applications.csv").exists():
        generate(size, 20261201, work)
    marker = work / f"imported-{re.sub(r'[^a-z0-9]', '_', url)[-40:]}"
    env = dict(os.environ, DATABASE_URL=url)
    if not marker.exists():
        for step in (["db", "upgrade"], ["round", "create", ROUND, "--reference-date", REFERENCE_DATE, "--tracks",
                                          ",".join(TRACKS)],
                     ["import", "firms", str(work / "firms.csv")],
                     ["import", "applications", str(work / "applications.csv")], ["index", "build"]):
            subprocess.run([*_matcher(ROOT), *step], env=env, check=True, cwd=ROOT, stdout=subprocess.DEVNULL)
        marker.touch()
    first_brn = (work / "firms.csv").read_text(encoding="utf-8").splitlines()[1].split(",")[0]
    return first_brn


def start(url, jobs, instance, threads):
    port = free_port()
    env = dict(os.environ, DATABASE_URL=url, MATCHER_INSTANCE=str(instance), MATCHER_STAFF_PASSWORD=PASSWORD,
               MATCHER_JOBS=jobs, MATCHER_SECRET_KEY="bench")
    procs = [subprocess.Popen([sys.executable, "-m", "web", "--port", str(port), "--threads", str(threads)],
                              cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)]
    if jobs == "worker":
        procs.append(subprocess.Popen([*_matcher(ROOT), "worker", "--poll", "0.2"], cwd=ROOT, env=env,
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            if Client(port).request("GET", "/api/v1/rounds")[0] == 200:
                return port, procs
        except OSError:
            time.sleep(0.3)
    raise SystemExit("the server did not start")


def load(port, paths, clients, seconds, results, stop):
    def one(i):
        client = Client(port).login() if paths[0].startswith("/staff") else Client(port)
        n = 0
        while not stop.is_set():
            path = paths[(i + n) % len(paths)]
            started = time.perf_counter()
            status, _ = client.request("GET", path)
            results.append((paths[0], time.perf_counter() - started, status))
            n += 1
    threads = [threading.Thread(target=one, args=(i,), daemon=True) for i in range(clients)]
    for t in threads:
        t.start()
    return threads


def percentile(values, q):
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))] if values else float("nan")


def phase(port, staff_paths, public_paths, clients, seconds, label, rows, watch=None):
    results, stop = [], threading.Event()
    threads = load(port, staff_paths, clients, seconds, results, stop)
    threads += load(port, public_paths, 2, seconds, results, stop)
    started = time.monotonic()
    time.sleep(seconds)
    active = watch() if watch else ""
    stop.set()
    for t in threads:
        t.join(130)
    elapsed = time.monotonic() - started
    for group, name in ((staff_paths[0], "staff round page"), (public_paths[0], "public pages")):
        times = [t for p, t, s in results if p == group and s == 200]
        errors = sum(1 for p, _t, s in results if p == group and s != 200)
        rows.append((label, name, len(times), errors, percentile(times, 0.5) * 1000, percentile(times, 0.95) * 1000,
                     max(times, default=float("nan")) * 1000, len(times) / elapsed, active))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", type=int, default=20000)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--jobs", choices=("worker", "thread"), default="worker")
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--work", type=Path, default=Path("/tmp/bench_staff_load"))
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args(argv)
    work = args.work / str(args.size)
    url = args.database_url or f"sqlite:///{work / 'bench.sqlite'}"
    brn = prepare(args.size, work, url)
    port, procs = start(url, args.jobs, work / "instance", args.threads)
    rows = []
    try:
        staff = Client(port).login()
        rounds = json.loads(staff.request("GET", "/api/v1/rounds")[1])["rounds"]
        round_id = next(r["id"] for r in rounds if r["name"] == ROUND)
        staff_paths = [f"/staff/rounds/{round_id}"]
        public_paths = ["/", f"/firms/{brn}", f"/firms/{brn}?track=materials", "/tracks"]
        for path in staff_paths + public_paths:  # warm the caches (templates, search index)
            staff.request("GET", path)
        phase(port, staff_paths, public_paths, args.clients, args.seconds, "idle", rows)
        status, data = staff.request("POST", f"/api/v1/rounds/{round_id}/runs",
                                     json.dumps({"time_limit": 60}), {"Content-Type": "application/json"})
        job = json.loads(data)["id"]
        upload = threading.Thread(target=staff.upload, daemon=True,
                                  args=(f"/staff/rounds/{round_id}/import/firms", "firms.csv",
                                        (work / "firms.csv").read_bytes()))
        upload.start()
        watcher = Client(port).login()

        def watch():
            found = json.loads(watcher.request("GET", f"/api/v1/jobs/{job}")[1])
            jobs = json.loads(watcher.request("GET", f"/api/v1/rounds/{round_id}/runs")[1])
            return f"run {found['status']} {found['fraction']:.0%}; {len(jobs['runs'])} runs stored"
        phase(port, staff_paths, public_paths, args.clients, args.seconds, "busy", rows, watch)
    finally:
        for p in procs:
            p.terminate()
            p.wait(30)
    load_avg = os.getloadavg()
    print(f"\nsize {args.size} applications, {args.clients} staff clients + 2 visitors, jobs={args.jobs}, "
          f"{args.threads} threads, {args.seconds:g} s a phase; load average {load_avg[0]:.2f} {load_avg[1]:.2f}")
    print("| phase | page | requests | errors | p50 ms | p95 ms | max ms | req/s | jobs at the end |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---|")
    for label, name, n, errors, p50, p95, top, rate, active in rows:
        print(f"| {label} | {name} | {n} | {errors} | {p50:.0f} | {p95:.0f} | {top:.0f} | {rate:.1f} | {active} |")


if __name__ == "__main__":
    main()
