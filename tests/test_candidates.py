"""The candidate graph agrees with a slow dense reference; only eligible pairs, top-k per lead."""

from datetime import date

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_eligibility import TRACK_KEYS, pool

from matcher.candidates import candidate_edges, explain_pair
from matcher.features import TextVectorizer, firm_text
from matcher.firms import Application, Certificate
from matcher.scoring import COMPONENTS, explain, load_weights
from matcher.tracks import lead_reasons, load_rules, pair_reasons, partner_reasons

REF = date(2026, 3, 19)


def dense_reference(leads, partners, rule, k):
    """Every eligible pair scored one by one with the scalar explanation; top-k scores per lead."""
    lead_idx = [i for i in range(len(leads)) if not lead_reasons(rule, leads[i][0], REF)]
    part_idx = [j for j in range(len(partners)) if not partner_reasons(rule, partners[j][0], REF)]
    corpus = [firm_text(*leads[i]) for i in lead_idx] + [firm_text(*partners[j]) for j in part_idx]
    if not lead_idx or not part_idx:
        return {}
    x = TextVectorizer().fit_transform(corpus).toarray()
    xl, xp = x[:len(lead_idx)], x[len(lead_idx):]
    out = {}
    for a, i in enumerate(lead_idx):
        lead, app = leads[i]
        scores = []
        for b, j in enumerate(part_idx):
            partner, papp = partners[j]
            if pair_reasons(rule, lead, partner, REF, app.product_code if app else ""):
                continue
            expl = explain(lead, app, partner, papp, rule, REF, text_value=float(xl[a] @ xp[b]))
            scores.append((expl.score, j))
        if scores:
            out[i] = sorted(scores, reverse=True)[:k]
    return out


@settings(max_examples=40, deadline=None)
@given(pool("lead", 6), pool("partner", 8), TRACK_KEYS, st.integers(1, 4))
def test_agrees_with_dense_reference(leads, partners, track, k):
    rule = load_rules()[track]
    edges = candidate_edges(leads, partners, rule, REF, k=k)
    want = dense_reference(leads, partners, rule, k)
    got = {i: sorted(g["score"], reverse=True) for i, g in edges.groupby("lead_index")}
    assert set(got) == set(want)
    for i, scored in want.items():
        assert got[i] == pytest.approx([s for s, _ in scored], abs=1e-5)
    for row in edges.itertuples():
        lead, app = leads[row.lead_index]
        assert not pair_reasons(rule, lead, partners[row.partner_index][0], REF, app.product_code if app else "")
        assert row.score == pytest.approx(sum(load_weights(track)[c] * getattr(row, c) for c in COMPONENTS)
                                          / sum(load_weights(track).values()), abs=1e-9)


@settings(max_examples=30, deadline=None)
@given(pool("lead", 6), pool("partner", 8), TRACK_KEYS)
def test_sparse_path_keeps_only_eligible_pairs_with_exact_scores(leads, partners, track):
    """With the exhaustive shortcut off, candidates are a subset, but each is eligible and scored exactly."""
    rule = load_rules()[track]
    edges = candidate_edges(leads, partners, rule, REF, k=2, exhaustive_limit=0, pre_k=2, chunk_size=2)
    want = dense_reference(leads, partners, rule, len(partners))
    assert edges.groupby("lead_index").size().max() <= 2 if len(edges) else True
    for row in edges.itertuples():
        assert row.partner_index in {j for _, j in want[row.lead_index]}
        ref = dict((j, s) for s, j in want[row.lead_index])
        assert row.score == pytest.approx(ref[row.partner_index], abs=1e-5)


def test_code_match_without_shared_text_is_still_a_candidate(rules, make_firm):
    """Candidate recall: a partner in the lead's 물품분류 is found even when the texts share nothing."""
    patent = Certificate("patent", "46171610", date(2024, 1, 1), date(2027, 12, 31))
    lead = make_firm(brn="1078153660", description="영상 감시 장비", g2b_codes=["46171610"])
    same_class = make_firm(brn="2208162517", description="보안 기기", g2b_codes=["46171610"], certificates=[patent])
    texty = [make_firm(brn=f"99{i:08d}", description=f"영상 감시 장비 {i}", g2b_codes=["56101500"],
                       certificates=[patent]) for i in range(30)]
    edges = candidate_edges([(lead, None)], [(same_class, None)] + [(f, None) for f in texty],
                            rules["materials"], REF, k=3, exhaustive_limit=0, pre_k=3)
    assert "2208162517" in set(edges["partner_brn"])


def test_innovation_only_partners_certified_for_the_product(rules, make_firm):
    dp = Certificate("direct_production", "4617161001", date(2024, 1, 1), date(2026, 12, 31))
    other = Certificate("direct_production", "4617161002", date(2024, 1, 1), date(2026, 12, 31))
    lead = make_firm(brn="1078153660", founded=date(2022, 1, 1), description="감시카메라")
    good = make_firm(brn="2208162517", certificates=[dp], description="사무용 가구")
    wrong = make_firm(brn="1208147521", certificates=[other], description="감시카메라 제조")
    app = Application("r", lead.brn, "lead", "innovation", "4617161001", "감시카메라")
    for limit in (0, 10**6):
        edges = candidate_edges([(lead, app)], [(good, None), (wrong, None)], rules["innovation"], REF, k=5,
                                exhaustive_limit=limit)
        assert list(edges["partner_brn"]) == ["2208162517"]
        assert edges["capability"].iloc[0] == 1.0


def test_empty_pools_give_an_empty_frame(rules, make_firm):
    edges = candidate_edges([(make_firm(size_class="대기업"), None)], [(make_firm(brn="2208162517"), None)],
                            rules["materials"], REF)
    assert edges.empty
    assert {"lead_brn", "partner_brn", "score", *COMPONENTS} <= set(edges.columns)


def test_explain_pair_gives_reasons_or_explanation(rules, make_firm):
    lead = make_firm(brn="1078153660")
    big = make_firm(brn="2208162517", size_class="대기업")
    reasons = explain_pair(lead, None, big, None, rules["innovation"], REF)
    assert [r.code for r in reasons][:1] == ["eligibility.partner_size"]
    patent = Certificate("patent", "46171610", date(2024, 1, 1), date(2027, 12, 31))
    ok = explain_pair(lead, None, make_firm(brn="2208162517", certificates=[patent]), None, rules["materials"], REF)
    assert ok.track == "materials" and 0 <= ok.score <= 1


def test_top_k_per_lead_is_sorted(rules, make_firm):
    patent = Certificate("patent", "46171610", date(2024, 1, 1), date(2027, 12, 31))
    rng = np.random.default_rng(0)
    leads = [(make_firm(brn=f"10{i:08d}", description=f"카메라 {rng.integers(9)}"), None) for i in range(5)]
    partners = [(make_firm(brn=f"20{i:08d}", region=["서울", "대전", "부산"][i % 3], certificates=[patent],
                           description=f"카메라 렌즈 {rng.integers(9)}"), None) for i in range(12)]
    edges = candidate_edges(leads, partners, rules["materials"], REF, k=4)
    assert (edges.groupby("lead_index").size() == 4).all()
    for _, g in edges.groupby("lead_index"):
        assert list(g["score"]) == sorted(g["score"], reverse=True)


@pytest.mark.slow
def test_sparse_candidates_keep_almost_all_of_the_exact_top_k(rules, make_firm):
    """Fast vs slow: on 300 leads × 900 partners, the sparse path's top-10 carries ≥ 98% of the exact score."""
    rng = np.random.default_rng(7)
    words = ["감시", "카메라", "영상", "드론", "센서", "조명", "태양광", "배터리", "펌프", "밸브", "가구", "의자",
             "교육", "소프트웨어", "수질", "측정", "아스콘", "철근", "도료", "방수"]
    classes = ["46171610", "25131899", "39111804", "26111607", "41113319", "56101500", "30111597", "43232608"]
    regions = ["서울", "부산", "대전", "세종", "광주", "경기", "제주"]

    def firm(prefix, i, certs):
        return make_firm(brn=f"{prefix}{i:08d}", description=" ".join(rng.choice(words, 3)),
                         g2b_codes=list(rng.choice(classes, 2, replace=False)), region=str(rng.choice(regions)),
                         ksic_codes=[str(rng.choice(["26421", "26429", "28111", "62010"]))], certificates=certs)

    leads = [(firm("10", i, []), None) for i in range(300)]
    partners = [(firm("20", i, [Certificate("patent", str(rng.choice(classes)), date(2024, 1, 1),
                                            date(2027, 1, 1))]), None) for i in range(900)]
    exact = candidate_edges(leads, partners, rules["materials"], REF, k=10, exhaustive_limit=10**7)
    fast = candidate_edges(leads, partners, rules["materials"], REF, k=10, exhaustive_limit=0)
    assert len(exact) == len(fast) == 3000
    assert fast["score"].sum() >= 0.98 * exact["score"].sum()
    merged = fast.merge(exact, on=["lead_brn", "partner_brn"], suffixes=("", "_exact"))
    assert np.allclose(merged["score"], merged["score_exact"], atol=1e-6)  # same pair, same score
