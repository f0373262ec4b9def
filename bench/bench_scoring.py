"""Benchmark: building the scored candidate graph (top-50 partners per lead) at scale.

Generates synthetic firms (Korean product phrases from the shipped G2B classes,
technology words, KSIC codes, 시도 weighted by firm share, certificates) and times
:func:`matcher.candidates.candidate_edges` in a fresh subprocess per size, reporting
wall time and the child's peak resident memory (``ru_maxrss``).

Usage::

    .venv/bin/python bench/bench_scoring.py                 # 1k×3k, 10k×10k, 100k×30k
    .venv/bin/python bench/bench_scoring.py --sizes 1000x3000 --method kiwi
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from datetime import date

import numpy as np

from matcher import codes
from matcher.firms import Application, Certificate, Firm
from matcher.tracks import load_rules

ON = date(2026, 3, 19)
TECH = ["AI", "IoT", "지능형", "스마트", "친환경", "고효율", "저전력", "자동화", "원격제어", "클라우드",
        "빅데이터", "영상분석", "센서", "무선통신", "고강도", "경량", "방수", "내열", "정밀가공", "모듈형"]
VERBS = ["제조", "개발", "생산", "설계", "납품", "유지보수", "시공", "가공", "조립", "공급"]
NEEDS = ["협력사를 찾습니다", "부품 공급이 필요함", "공동 개발 희망", "생산 설비 협력", "기술 지원 필요"]
KSIC_POOL = ["26421", "26429", "26511", "27192", "28111", "28903", "29131", "29199", "30399",
             "31201", "32021", "33401", "58221", "62010", "63112", "71531", "72121", "41221", "42121"]
SIZES = ["소상공인", "소기업", "중기업", "중견기업", "대기업"]


def _vocabulary():
    table = codes.g2b_table()
    rows = table[table["code"].str.len() == 8]
    return list(rows["code"]), list(rows["name_ko"])


def synthetic_pool(n, role, seed):
    """``n`` synthetic (Firm, Application) pairs for ``role`` 'lead' or 'partner' (materials track)."""
    rng = np.random.default_rng(seed)
    class_codes, names = _vocabulary()
    regions = list(codes.regions())
    share = np.array([codes.regions()[r].firm_share for r in regions])
    theme = rng.integers(len(class_codes), size=n)
    other = rng.integers(len(class_codes), size=n)
    region = rng.choice(len(regions), size=n, p=share / share.sum())
    size_p = [0.2, 0.5, 0.3, 0, 0] if role == "lead" else [0.1, 0.3, 0.35, 0.15, 0.1]
    size = rng.choice(5, size=n, p=size_p)
    out = []
    for i in range(n):
        t, o = theme[i], other[i]
        code = class_codes[t]
        words = rng.choice(TECH, size=2, replace=False)
        desc = f"{words[0]} {names[t]} {rng.choice(VERBS)} 및 {words[1]} {names[o]} {rng.choice(VERBS)}"
        certs = []
        if role == "partner":
            kind = ("patent", "materials_parts", "rnd_product")[i % 3]
            certs.append(Certificate(kind, code, date(2024, 1, 1), date(2027, 12, 31)))
        firm = Firm(brn=f"{seed % 10}{i:09d}", name=f"{role}{i}", size_class=SIZES[size[i]],
                    region=regions[region[i]], founded=date(2015, 1, 1),
                    ksic_codes=[KSIC_POOL[(t * 7 + i % 2) % len(KSIC_POOL)]],
                    g2b_codes=[code, class_codes[o]], description=desc, certificates=certs)
        product = f"{code}{i % 100:02d}" if role == "lead" else ""
        text = f"{names[t]} {rng.choice(NEEDS)}" if role == "lead" else f"{names[o]} 공급 가능"
        out.append((firm, Application("bench", firm.brn, role, "materials", product, text)))
    return out


def run_one(n_leads, n_partners, method, k):
    """Generate, build the graph, print one JSON line (generation is not timed)."""
    leads = synthetic_pool(n_leads, "lead", 1)
    partners = synthetic_pool(n_partners, "partner", 2)
    rule = load_rules()["materials"]
    from matcher.candidates import candidate_edges
    t0 = time.perf_counter()
    edges = candidate_edges(leads, partners, rule, ON, k=k, text_method=method)
    seconds = time.perf_counter() - t0
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"leads": n_leads, "partners": n_partners, "method": method, "k": k,
                      "edges": len(edges), "seconds": round(seconds, 1), "peak_mb": round(peak_mb)}))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000x3000,10000x10000,100000x30000")
    parser.add_argument("--method", default="char", choices=["char", "kiwi"])
    parser.add_argument("-k", type=int, default=50)
    parser.add_argument("--one", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.one:
        n_leads, n_partners = map(int, args.one.split("x"))
        run_one(n_leads, n_partners, args.method, args.k)
        return
    print(f"{'leads':>8} {'partners':>9} {'method':>6} {'edges':>9} {'seconds':>8} {'peak MB':>8}")
    for size in args.sizes.split(","):
        cmd = [sys.executable, __file__, "--one", size, "--method", args.method, "-k", str(args.k)]
        res = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if res.returncode:
            print(f"{size}: failed\n{res.stderr[-2000:]}")
            continue
        r = json.loads(res.stdout.strip().splitlines()[-1])
        print(f"{r['leads']:>8} {r['partners']:>9} {r['method']:>6} {r['edges']:>9} "
              f"{r['seconds']:>8} {r['peak_mb']:>8}", flush=True)


if __name__ == "__main__":
    main()
