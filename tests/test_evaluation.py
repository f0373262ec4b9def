"""Ranking metrics against slow obvious implementations, and the demo-round evaluation."""

import math
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from matcher.evaluation import evaluate, ndcg_at_k, precision_at_k, read_known_pairs, recall_at_k


def slow_precision(ranked, relevant, k):
    values = []
    for q, rel in relevant.items():
        if rel:
            values.append(sum(1 for item in ranked.get(q, [])[:k] if item in rel) / k)
    return sum(values) / len(values) if values else 0.0


def slow_recall(ranked, relevant, k):
    values = []
    for q, rel in relevant.items():
        if rel:
            values.append(sum(1 for item in ranked.get(q, [])[:k] if item in rel) / len(rel))
    return sum(values) / len(values) if values else 0.0


def slow_ndcg(ranked, relevant, k):
    values = []
    for q, rel in relevant.items():
        if not rel:
            continue
        dcg = sum(1 / math.log2(r + 2) for r, item in enumerate(ranked.get(q, [])[:k]) if item in rel)
        ideal = sum(1 / math.log2(r + 2) for r in range(min(len(rel), k)))
        values.append(dcg / ideal)
    return sum(values) / len(values) if values else 0.0


ITEMS = st.integers(0, 12)
QUERIES = st.sampled_from("abcdef")


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(QUERIES, st.lists(ITEMS, unique=True, max_size=10)),
       st.dictionaries(QUERIES, st.sets(ITEMS, max_size=5)), st.integers(1, 12))
def test_fast_metrics_match_slow_ones(ranked, relevant, k):
    assert precision_at_k(ranked, relevant, k) == pytest.approx(slow_precision(ranked, relevant, k))
    assert recall_at_k(ranked, relevant, k) == pytest.approx(slow_recall(ranked, relevant, k))
    assert ndcg_at_k(ranked, relevant, k) == pytest.approx(slow_ndcg(ranked, relevant, k))


def test_worked_example():
    ranked = {"lead1": ["p1", "p2", "p3"], "lead2": ["p9", "p8"]}
    relevant = {"lead1": {"p2"}, "lead2": {"p5", "p8"}, "lead3": set()}
    assert precision_at_k(ranked, relevant, 2) == pytest.approx((1 / 2 + 1 / 2) / 2)
    assert recall_at_k(ranked, relevant, 2) == pytest.approx((1 + 1 / 2) / 2)
    ideal2 = 1 + 1 / math.log2(3)
    assert ndcg_at_k(ranked, relevant, 2) == pytest.approx((1 / math.log2(3) + (1 / math.log2(3)) / ideal2) / 2)


DEMO = Path(__file__).resolve().parent.parent / "data" / "demo"


@pytest.mark.slow
@pytest.mark.skipif(not (DEMO / "known_pairs.csv").exists(), reason="demo round not generated")
def test_demo_round_held_out_pairs_are_found(db_url):
    from matcher import db
    from matcher.demo import load_demo
    load_demo(DEMO, db_url)
    with db.transaction(db_url) as session:
        res = evaluate(session, read_known_pairs(DEMO / "known_pairs.csv"), k=10)
    assert res["all"]["leads"] > 0
    assert res["all"]["recall"] > 0.8  # held-out partners land in the top 10
    assert res["all"]["ndcg"] > 0.5
