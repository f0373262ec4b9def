"""Eligibility with reasons: one worked example per kind of reason, and the vectorised table
agreeing with ``tracks.pair_reasons`` on random pools."""

from datetime import date

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from matcher.eligibility import eligibility_table, rule_for, why_not
from matcher.errors import UnknownTrackError
from matcher.firms import Application, Certificate, Firm, Licence
from matcher.tracks import load_rules, pair_reasons

REF = date(2026, 3, 19)
DP = Certificate("direct_production", "4617161001", date(2024, 1, 1), date(2026, 12, 31))
PATENT = Certificate("patent", "46171610", date(2024, 1, 1), date(2027, 12, 31))


def codes(reasons):
    return [r.code.removeprefix("eligibility.") for r in reasons]


@pytest.mark.parametrize(("track", "lead_fields", "partner_fields", "product", "expected"), [
    ("innovation", {}, {"size_class": "대기업", "certificates": [DP]}, "4617161001", "partner_size"),
    ("innovation", {"size_class": "중기업", "founded": date(2000, 1, 1)}, {"certificates": [DP]}, "4617161001",
     "lead_condition"),
    ("materials", {"size_class": "대기업"}, {"certificates": [PATENT]}, "", "lead_size"),
    ("innovation", {}, {"certificates": []}, "4617161001", "certificate_missing"),
    ("innovation", {}, {"certificates": [Certificate("direct_production", "4617161001", date(2021, 6, 1),
                                                     date(2024, 5, 31))]}, "4617161001", "certificate_expired"),
    ("innovation", {}, {"certificates": [DP]}, "4617161099", "certificate_missing"),
    ("materials", {}, {"certificates": [PATENT], "debarred_from": date(2026, 1, 1),
                       "debarred_to": date(2026, 12, 31)}, "", "debarred"),
    ("materials", {"affiliate_group": "G1"}, {"certificates": [PATENT], "affiliate_group": "G1"}, "", "affiliate"),
    ("materials", {}, {"brn": "1078153660", "certificates": [PATENT]}, "", "same_firm"),
    ("value", {}, {}, "", "track_closed"),
    ("construction", {}, {"size_class": "대기업", "licences": [Licence("general", "건축")]}, "", "lead_licence"),
    ("construction", {"licences": [Licence("specialty", "토목")]}, {"size_class": "대기업"}, "", "partner_licence"),
])
def test_each_kind_of_reason(rules, make_firm, track, lead_fields, partner_fields, product, expected):
    lead = make_firm(**{"brn": "1078153660", "founded": date(2022, 1, 1), **lead_fields})
    partner = make_firm(**{"brn": "2208162517", **partner_fields})
    reasons = why_not(lead, partner, track, rules, REF, product)
    assert expected in codes(reasons)
    assert all(r.ko and r.en for r in reasons)
    app = Application("r", lead.brn, "lead", track, product)
    table = eligibility_table([(lead, app)], [(partner, None)], rules[track], REF)
    assert not table.pair_ok([0], [0])[0]


def test_reason_texts_name_the_values(rules, make_firm):
    lead = make_firm(brn="1078153660", founded=date(2022, 1, 1))
    expired = Certificate("direct_production", "4617161001", date(2021, 6, 1), date(2024, 5, 31))
    partner = make_firm(brn="2208162517", certificates=[expired])
    [reason] = why_not(lead, partner, "innovation", rules, REF, "4617161001")
    assert reason.en == "직접생산확인 for 4617161001 expired 2024-05-31"


def test_eligible_pair_has_no_reasons(rules, make_firm):
    lead = make_firm(brn="1078153660", founded=date(2022, 1, 1))
    partner = make_firm(brn="2208162517", certificates=[DP])
    assert why_not(lead, partner, rules["innovation"], rules, REF, "4617161001") == []


def test_unknown_track(rules):
    with pytest.raises(UnknownTrackError, match="track 'nope'"):
        rule_for("nope", rules)


# --- random pools -----------------------------------------------------------------------------

BRNS = [f"{i:010d}" for i in range(8)]
PRODUCTS = ["", "4617161001", "4617161002", "4617161012345678", "5610150001"]
CERTS = st.builds(Certificate,
                  st.sampled_from(["direct_production", "patent", "materials_parts", "rnd_product", "venture"]),
                  st.sampled_from(["", "4617161001", "4617161002", "46171610", "5610150001"]),
                  st.sampled_from([None, date(2024, 1, 1), date(2026, 6, 1)]),
                  st.sampled_from([None, date(2025, 1, 1), date(2027, 1, 1)]))
TEXTS = ["AI 기반 CCTV 영상분석", "지능형 영상감시 카메라 제조", "영상 감시 카메라를 납품", "사무용 가구 책상",
         "태양광 발전 장치", "전기자동차 충전장치 개발", "드론 부품 가공", ""]


@st.composite
def firms(draw, brn=None):
    return Firm(
        brn=brn or draw(st.sampled_from(BRNS)), name=draw(st.sampled_from(["가", "나", "다"])),
        size_class=draw(st.sampled_from(["소상공인", "소기업", "중기업", "중견기업", "대기업"])),
        region=draw(st.sampled_from(["서울", "대전", "세종", "부산", "제주"])),
        founded=draw(st.sampled_from([None, date(2000, 1, 1), date(2022, 5, 1)])),
        ksic_codes=draw(st.lists(st.sampled_from(["26421", "26429", "28111", "62010"]), max_size=2)),
        g2b_codes=draw(st.lists(st.sampled_from(["46171610", "46171699", "56101500", "4617161001"]), max_size=2)),
        description=draw(st.sampled_from(TEXTS)),
        certificates=draw(st.lists(CERTS, max_size=3)),
        licences=draw(st.lists(st.builds(Licence, st.sampled_from(["general", "specialty"]),
                                         st.sampled_from(["", "건축"])), max_size=1)),
        debarred_from=draw(st.sampled_from([None, date(2026, 1, 1)])),
        debarred_to=draw(st.sampled_from([None, date(2026, 12, 31)])),
        affiliate_group=draw(st.sampled_from([None, None, "G1", "G2"])),
    )


@st.composite
def pool(draw, role, max_size=6):
    out = []
    for firm in draw(st.lists(firms(), min_size=1, max_size=max_size)):
        if draw(st.booleans()):
            app = Application("r", firm.brn, role, "t", draw(st.sampled_from(PRODUCTS)), draw(st.sampled_from(TEXTS)))
        else:
            app = None
        out.append((firm, app))
    return out


TRACK_KEYS = st.sampled_from(["innovation", "materials", "convergence", "construction"])


@pytest.mark.slow
@settings(max_examples=80, deadline=None)
@given(pool("lead"), pool("partner"), TRACK_KEYS)
def test_table_agrees_with_pair_reasons(leads, partners, track):
    rule = load_rules()[track]
    table = eligibility_table(leads, partners, rule, REF)
    li, pi = np.meshgrid(np.arange(len(leads)), np.arange(len(partners)), indexing="ij")
    got = table.pair_ok(li.ravel(), pi.ravel())
    want = [not pair_reasons(rule, leads[a][0], partners[b][0], REF, leads[a][1].product_code if leads[a][1] else "")
            for a, b in zip(li.ravel(), pi.ravel())]
    assert got.tolist() == want
