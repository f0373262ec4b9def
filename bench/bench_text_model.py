"""Benchmark: a round's text model, :func:`matcher.features.char_tfidf` against scikit-learn's ``TfidfVectorizer``.

Both fit ``char_wb`` 2-4-gram sublinear TF-IDF on the same texts (each track's eligible leads and
partners, as a round's run does); the table gives seconds of each (best of ``--repeat``), the ratio,
and whether the two matrices are the same to the bit (row pointers, column order within rows, float32
values). Corpora: the tracks of an imported ``bench_round.py`` round when its database is there, and
shapes it was not built for — the demo round's texts repeated (a large corpus: the 0.05 ``max_df``),
short texts, long texts, Latin-only texts.

Usage::

    .venv/bin/python bench/bench_text_model.py [--db /tmp/bench_round/n20000-s20261001/bench.sqlite]
"""

from __future__ import annotations

import argparse
import os
import random
import time
from pathlib import Path

import numpy as np

ROUND = "벤치 회차"


def corpora(db_path):
    """``[(name, texts)]``: the round's tracks (when imported) and other shapes."""
    from matcher import demo
    from matcher.eligibility import eligibility_table
    from matcher.features import firm_text
    out = []
    if db_path and Path(db_path).exists():
        from matcher import db, rounds
        with db.transaction(f"sqlite:///{db_path}") as s:
            inp = rounds.round_input(s, rounds.find_round(s, ROUND))
        for track, pool in inp.pools.items():
            table = eligibility_table(pool.leads, pool.partners, inp.rules[track], inp.reference_date)
            out.append((f"round {track}", [firm_text(*pool.leads[i]) for i in np.flatnonzero(table.lead_ok)]
                        + [firm_text(*pool.partners[j]) for j in np.flatnonzero(table.partner_ok)]))
    generated = demo.generate()
    texts = [f.description for f in generated.firms if f.description]
    out.append(("demo firms × 30", texts * 30))
    rng = random.Random(7)
    words = sorted({w for t in texts for w in t.split()})
    out.append(("short (1-3 words) × 20k", [" ".join(rng.sample(words, rng.randint(1, 3))) for _ in range(20_000)]))
    out.append(("long (200 words) × 2k", [" ".join(rng.choices(words, k=200)) for _ in range(2_000)]))
    latin = "abcdefghijklmnopqrstuvwxyz"
    out.append(("Latin, mixed case × 10k", [" ".join("".join(rng.choices(latin + latin.upper(), k=rng.randint(1, 9)))
                                                     for _ in range(rng.randint(3, 30))) for _ in range(10_000)]))
    return out


def best_of(repeat, fn):
    times, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return min(times), result


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", default="/tmp/bench_round/n20000-s20261001/bench.sqlite")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    from matcher.features import char_tfidf
    from matcher.vectorizer import TextVectorizer
    print(f"# load {os.getloadavg()[0]:.1f} (2 cores); best of {args.repeat}")
    print(f"{'corpus':<28} {'texts':>7} {'terms':>7} {'nonzeros':>9} {'sklearn s':>9} {'ours s':>7} {'ratio':>6} same")
    for name, texts in corpora(args.db):
        t_sk, a = best_of(args.repeat, lambda: TextVectorizer("char").fit_transform(texts))
        t_us, b = best_of(args.repeat, lambda: char_tfidf(texts))
        same = (a.shape == b.shape and np.array_equal(a.indptr, b.indptr) and np.array_equal(a.indices, b.indices)
                and np.array_equal(a.data.view(np.uint32), b.data.view(np.uint32)))
        print(f"{name:<28} {len(texts):>7} {a.shape[1]:>7} {a.nnz:>9} {t_sk:>9.2f} {t_us:>7.2f} {t_sk / t_us:>5.1f}x {same}",
              flush=True)


if __name__ == "__main__":
    main()
