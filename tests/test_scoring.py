"""Weights, the score formula and the Explanation object."""

import json
from datetime import date

import pytest

from matcher.errors import ConfigError
from matcher.firms import Application, Certificate
from matcher.scoring import COMPONENTS, check_weights, combine, explain, load_weights

REF = date(2026, 3, 19)
PATENT = Certificate("patent", "46171610", date(2024, 1, 1), date(2027, 12, 31))


def test_default_and_track_weights():
    default = load_weights()
    assert set(default) == set(COMPONENTS)
    assert default["text"] == 0.35
    construction = load_weights("construction")
    assert construction["product_code"] == 0.0
    assert construction["region"] == 0.25


@pytest.mark.parametrize(("weights", "message"), [
    ({"txt": 1.0}, "unknown component"),
    ({"text": -1.0}, "must be a number"),
    ({"text": 0.0}, "all weights are zero"),
])
def test_bad_weights_refused(weights, message):
    with pytest.raises(ConfigError, match=message):
        check_weights(weights)


def test_bad_weights_file(tmp_path):
    bad = tmp_path / "w.toml"
    bad.write_text("[default]\ntext = 'high'\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="weight text = 'high'"):
        load_weights(path=bad)


def test_score_is_weighted_mean_in_unit_interval():
    w = {"text": 1.0, "product_code": 3.0, "industry": 0.0, "region": 0.0, "capability": 0.0}
    assert combine({"text": 1.0, "product_code": 0.0, "industry": 1, "region": 1, "capability": 1}, w) == 0.25


def test_contributions_add_up_to_the_score(rules, make_firm):
    lead = make_firm(brn="1078153660", description="AI 기반 CCTV 영상분석")
    partner = make_firm(brn="2208162517", description="지능형 영상감시 카메라", ksic_codes=["26429"],
                        certificates=[PATENT])
    expl = explain(lead, Application("r", lead.brn, "lead", "materials", "4617161001", "카메라 부품"),
                   partner, None, rules["materials"], REF)
    assert sum(c.contribution for c in expl.components) == pytest.approx(expl.score, abs=1e-12)
    assert 0 <= expl.score <= 1
    data = json.loads(json.dumps(expl.to_dict(), ensure_ascii=False))
    assert data["score"] == pytest.approx(expl.score)
    assert [c["name"] for c in data["components"]] == list(COMPONENTS)
    assert "같은 물품분류 (46171610 보안용카메라)" in data["reasons_ko"]
    assert "both in 대전" in data["reasons_en"]
    assert expl.component("capability").en == "patented product for the same commodity (46171610)"


def test_same_commodity_outranks_same_segment_all_else_equal(rules, make_firm):
    lead = make_firm(brn="1078153660", g2b_codes=["46171610"])
    commodity = make_firm(brn="2208162517", g2b_codes=["46171610"], certificates=[PATENT])
    segment = make_firm(brn="1208147521", g2b_codes=["46999999"], certificates=[PATENT])
    a = explain(lead, None, commodity, None, rules["materials"], REF, text_value=0.3)
    b = explain(lead, None, segment, None, rules["materials"], REF, text_value=0.3)
    assert a.component("product_code").value == 1.0
    assert b.component("product_code").value == 0.1
    assert a.score > b.score
    assert b.component("product_code").en.startswith("same product segment (46 ")


def test_region_reason_for_different_regions(rules, make_firm):
    lead = make_firm(brn="1078153660", region="대전")
    partner = make_firm(brn="2208162517", region="세종", certificates=[PATENT])
    expl = explain(lead, None, partner, None, rules["materials"], REF, text_value=0.0)
    assert expl.component("region").ko.startswith("가까운 지역 (대전–세종")
    assert expl.component("text").contribution == 0.0


@pytest.mark.parametrize("partner_code, ko, en", [
    ("20423", "같은 세세분류 (20423 화장품 제조업)", "same KSIC sub-class (20423 Manufacture of perfumes and cosmetics)"),
    ("20422", "같은 세분류 (2042 세제, 화장품 및 광택제 제조업)",
     "same KSIC class (2042 Manufacture of detergents, cosmetics and polishing preparations)"),
    ("20411", "같은 소분류 (204 기타 화학제품 제조업)", "same KSIC group (204 Manufacture of other chemical products)"),
    ("20111", "같은 중분류 (20 화학물질 및 화학제품 제조업; 의약품 제외)", None),
    ("10111", "같은 대분류 (C 제조업)", "same KSIC section (C Manufacturing)"),
])
def test_the_industry_reason_names_the_level_that_matched_with_its_own_name(rules, make_firm, partner_code, ko,
                                                                            en):
    lead = make_firm(brn="1078153660", ksic_codes=["20423"], description="비건 화장품")
    partner = make_firm(brn="2208162517", ksic_codes=[partner_code], certificates=[PATENT])
    expl = explain(lead, None, partner, None, rules["materials"], REF, text_value=0.0)
    assert expl.component("industry").ko == ko
    if en:
        assert expl.component("industry").en == en


def test_the_industry_reason_follows_the_ksic_list_of_the_round(rules, make_firm):
    from matcher import codelists
    lead = make_firm(brn="1078153660", ksic_codes=["01151"])
    partner = make_firm(brn="2208162517", ksic_codes=["01151"], certificates=[PATENT])
    with codelists.using(codelists.shipped_lists(date(2024, 1, 1))):  # the 10th revision
        tenth = explain(lead, None, partner, None, rules["materials"], REF, text_value=0.0)
    eleventh = explain(lead, None, partner, None, rules["materials"], REF, text_value=0.0)
    assert tenth.component("industry").ko == "같은 세세분류 (01151 콩나물 재배업)"
    assert eleventh.component("industry").ko == "같은 세세분류 (01151 채소, 화훼 및 과실작물 시설 재배업)"
