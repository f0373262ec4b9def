"""Ranking quality against known good pairs: precision@k, recall@k and NDCG@k.

The held-out pairs (``split = test`` in ``known_pairs.csv``) are the relevant
partners of their leads; training pairs of the same lead are removed from its
ranking before cutting at ``k`` (they are already known, so neither a hit nor a miss).

Run on the demo round (loaded into a temporary database)::

    .venv/bin/python -m matcher.evaluation            # or: matcher evaluate (on the current database)
"""

from __future__ import annotations

import argparse
import csv
import tempfile
from pathlib import Path

import numpy as np

from . import db
from .candidates import candidate_edges
from .errors import NotFoundError
from .directory.service import round_applications
from .scoring import COMPONENTS, load_weights
from .tracks import round_rules

TEXT_ONLY = {name: (1.0 if name == "text" else 0.0) for name in COMPONENTS}


def hit_matrix(ranked, relevant, k):
    """Hits of each query's top-k, as arrays (the metrics below are means over its rows).

    Parameters
    ----------
    ranked : dict of query → sequence of distinct items, best first
    relevant : dict of query → set of items; queries with no relevant item are skipped
    k : int

    Returns
    -------
    hits : ndarray of bool, shape (n_queries, k)
        ``hits[q, r]``: the item at rank ``r`` of query ``q`` is relevant (False past the list's end).
    n_relevant : ndarray of int, shape (n_queries,)
    """
    queries = [q for q, rel in relevant.items() if rel]
    hits = np.zeros((len(queries), k), dtype=bool)
    for row, q in enumerate(queries):
        top = list(ranked.get(q, []))[:k]
        hits[row, :len(top)] = [item in relevant[q] for item in top]
    return hits, np.array([len(relevant[q]) for q in queries], dtype=np.int64)


def precision_at_k(ranked, relevant, k):
    """Mean over queries of |top-k ∩ relevant| / k (0.0 when there is no query).

    Examples
    --------
    >>> precision_at_k({"a": ["x", "y"]}, {"a": {"y"}}, 2)
    0.5
    """
    hits, _ = hit_matrix(ranked, relevant, k)
    return float(hits.sum(axis=1).mean() / k) if len(hits) else 0.0


def recall_at_k(ranked, relevant, k):
    """Mean over queries of |top-k ∩ relevant| / |relevant|.

    Examples
    --------
    >>> recall_at_k({"a": ["x", "y"]}, {"a": {"y", "z"}}, 2)
    0.5
    """
    hits, n_rel = hit_matrix(ranked, relevant, k)
    return float((hits.sum(axis=1) / n_rel).mean()) if len(hits) else 0.0


def ndcg_at_k(ranked, relevant, k):
    """Mean over queries of DCG@k / ideal DCG@k; binary relevance, gain 1 / log2(rank + 1).

    Examples
    --------
    >>> round(ndcg_at_k({"a": ["x", "y"]}, {"a": {"y"}}, 2), 4)
    0.6309
    """
    hits, n_rel = hit_matrix(ranked, relevant, k)
    if not len(hits):
        return 0.0
    discount = 1.0 / np.log2(np.arange(2, k + 2))
    ideal = np.cumsum(discount)[np.minimum(n_rel, k) - 1]
    return float((hits @ discount / ideal).mean())


def read_known_pairs(path):
    """Rows of ``known_pairs.csv`` (lead_brn, partner_brn, track, split) as dicts."""
    with open(path, encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def rankings(session, round_row, track, leads_wanted, exclude, k, weights=None, text_method=None):
    """Partner rankings (BRNs, best first) for the leads ``leads_wanted`` in ``track`` of the round.

    Pairs in ``exclude`` (lead → set of partner BRNs) are dropped before cutting at ``k``.
    """
    rule = round_rules(round_row)[track]
    apps = round_applications(session, round_row, track=track)
    leads = [(db.firm_from_row(a.firm), db.application_from_row(a)) for a in apps
             if a.role == "lead" and a.firm.brn in leads_wanted]
    partners = [(db.firm_from_row(a.firm), db.application_from_row(a)) for a in apps if a.role == "partner"]
    extra = max([len(v) for v in exclude.values()] + [0])
    edges = candidate_edges(leads, partners, rule, round_row.reference_date, k=k + extra, weights=weights,
                            text_method=text_method)
    out = {}
    for lead_brn, group in edges.groupby("lead_brn", sort=False):
        ranked = [p for p in group["partner_brn"] if p not in exclude.get(lead_brn, set())]
        out[lead_brn] = ranked[:k]
    return out


def evaluate(session, pairs, round_name=None, k=10, weights_by_track=None, text_method=None):
    """precision@k, recall@k and NDCG@k per track and over all test leads.

    Parameters
    ----------
    session : Session
    pairs : list of dict
        From :func:`read_known_pairs`.
    round_name : str, optional
        Default: the latest round.
    k : int
    weights_by_track : callable, optional
        ``track → weights``; default the configured weights.
    text_method : str, optional

    Returns
    -------
    dict
        ``{track or "all": {"leads": n, "precision": p, "recall": r, "ndcg": g}}``.

    Raises
    ------
    NotFoundError
        Unknown ``round_name``, or no round at all.
    """
    round_row = db.get_round(session, round_name) if round_name else db.latest_round(session)
    if round_row is None:
        raise NotFoundError("no round in the database to evaluate on (load one, e.g. `matcher demo load`)")
    results, all_ranked, all_relevant = {}, {}, {}
    for track in sorted({p["track"] for p in pairs if p["split"] == "test"}):
        relevant, exclude = {}, {}
        for p in pairs:
            if p["track"] == track:
                target = relevant if p["split"] == "test" else exclude
                target.setdefault(p["lead_brn"], set()).add(p["partner_brn"])
        weights = weights_by_track(track) if weights_by_track else load_weights(track)
        ranked = rankings(session, round_row, track, set(relevant), exclude, k, weights, text_method)
        results[track] = _scores(ranked, relevant, k)
        all_ranked.update({(track, q): v for q, v in ranked.items()})
        all_relevant.update({(track, q): v for q, v in relevant.items()})
    results["all"] = _scores(all_ranked, all_relevant, k)
    return results


def _scores(ranked, relevant, k):
    return {"leads": len(relevant), "precision": precision_at_k(ranked, relevant, k),
            "recall": recall_at_k(ranked, relevant, k), "ndcg": ndcg_at_k(ranked, relevant, k)}


def compare_text_methods(session, pairs, k=10, round_name=None):
    """The labelled check behind the default text method: each method with text-only and full weights.

    Returns
    -------
    list of dict
        One row per (method, weights, track) with the metrics.
    """
    rows = []
    for method in ("char", "kiwi"):
        for label, by_track in (("text only", lambda t: TEXT_ONLY), ("full score", None)):
            res = evaluate(session, pairs, round_name, k, by_track, method)
            for track, m in res.items():
                rows.append({"method": method, "weights": label, "track": track, **m})
    return rows


def format_rows(rows, k):
    lines = [f"{'method':<6} {'weights':<10} {'track':<12} {'leads':>5} {'P@'+str(k):>6} {'R@'+str(k):>6} "
             f"{'NDCG@'+str(k):>8}"]
    for r in rows:
        lines.append(f"{r['method']:<6} {r['weights']:<10} {r['track']:<12} {r['leads']:>5} "
                     f"{r['precision']:>6.3f} {r['recall']:>6.3f} {r['ndcg']:>8.3f}")
    return "\n".join(lines)


def main(argv=None):
    from .demo import DEMO_DIR, load_demo
    parser = argparse.ArgumentParser(description="Evaluate rankings on the demo round's held-out known pairs.")
    parser.add_argument("-k", type=int, default=10)
    parser.add_argument("--pairs", default=str(DEMO_DIR / "known_pairs.csv"))
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'eval.sqlite'}"
        load_demo(DEMO_DIR, url)
        with db.transaction(url) as session:
            rows = compare_text_methods(session, read_known_pairs(args.pairs), args.k)
        db.dispose_engines()
    print(format_rows(rows, args.k))


if __name__ == "__main__":
    main()

