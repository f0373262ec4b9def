"""Worked examples of each track's rules from program.md."""

from datetime import date

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from matcher.errors import ConfigError
from matcher.firms import SIZE_CLASSES, Certificate, Licence
from matcher.tracks import covers, lead_reasons, load_rules, pair_reasons, partner_reasons

REF = date(2026, 3, 19)
DP = Certificate("direct_production", "4617161001", date(2024, 1, 1), date(2026, 12, 31))


def codes(reasons):
    return [r.code.removeprefix("eligibility.") for r in reasons]


def test_innovation_large_partner_refused(rules, make_firm):
    partner = make_firm(brn="2208162517", size_class="대기업", certificates=[DP])
    reasons = partner_reasons(rules["innovation"], partner, REF, "4617161001")
    assert "partner_size" in codes(reasons)
    assert "partner 대기업 may not join Innovation growth" in [r.en for r in reasons]
    assert "대기업 협력기업은 혁신성장 과제에 참여할 수 없음" in [r.ko for r in reasons]


def test_innovation_lead_must_be_startup_or_small(rules, make_firm):
    old_medium = make_firm(size_class="중기업", founded=date(2000, 1, 1))
    young_medium = make_firm(size_class="중기업", founded=date(2022, 1, 1))
    old_small = make_firm(size_class="소기업", founded=date(2000, 1, 1))
    assert codes(lead_reasons(rules["innovation"], old_medium, REF)) == ["lead_condition"]
    assert lead_reasons(rules["innovation"], young_medium, REF) == []
    assert lead_reasons(rules["innovation"], old_small, REF) == []


def test_innovation_partner_needs_direct_production_for_the_product(rules, make_firm):
    good = make_firm(certificates=[DP])
    other_product = make_firm(certificates=[Certificate("direct_production", "4617161002",
                                                        date(2024, 1, 1), date(2026, 12, 31))])
    expired = make_firm(certificates=[Certificate("direct_production", "4617161001",
                                                  date(2021, 6, 1), date(2024, 5, 31))])
    rule = rules["innovation"]
    assert partner_reasons(rule, good, REF, "4617161001") == []
    assert codes(partner_reasons(rule, other_product, REF, "4617161001")) == ["certificate_missing"]
    [reason] = partner_reasons(rule, expired, REF, "4617161001")
    assert reason.en == "직접생산확인 for 4617161001 expired 2024-05-31"


def test_materials_partner_needs_one_of_three_certificates(rules, make_firm):
    rule = rules["materials"]
    for kind in ("materials_parts", "rnd_product", "patent"):
        firm = make_firm(size_class="대기업", certificates=[Certificate(kind, "", None, None)])
        assert partner_reasons(rule, firm, REF) == []
    venture_only = make_firm(certificates=[Certificate("venture", "", None, None)])
    assert codes(partner_reasons(rule, venture_only, REF)) == ["certificate_missing"]


def test_large_partner_minimum_five_in_materials_and_convergence(rules):
    for track in ("materials", "convergence"):
        cap = rules[track].capacity_for("대기업")
        assert (cap.min, cap.max) == (5, None)
        assert (rules[track].capacity_for("소기업").min, rules[track].capacity_for("소기업").max) == (1, 1)


def test_convergence_refuses_materials_parts_certificate(rules, make_firm):
    firm = make_firm(certificates=[Certificate("materials_parts", "", None, None)])
    assert codes(partner_reasons(rules["convergence"], firm, REF)) == ["certificate_missing"]


def test_construction_needs_licences_and_large_partner(rules, make_firm):
    rule = rules["construction"]
    lic = [Licence("general", "건축")]
    lead = make_firm(licences=lic)
    partner = make_firm(brn="2208162517", size_class="대기업", licences=[Licence("specialty", "전기")])
    assert pair_reasons(rule, lead, partner, REF) == []
    assert codes(lead_reasons(rule, make_firm(), REF)) == ["lead_licence"]
    sme_partner = make_firm(brn="2208162517", size_class="중기업", licences=lic)
    assert codes(partner_reasons(rule, sme_partner, REF)) == ["partner_size"]
    cap = rule.capacity_for("대기업")
    assert (cap.min, cap.max) == (1, 5)


def test_debarred_and_affiliates_never_eligible(rules, make_firm):
    lead = make_firm(affiliate_group="G1")
    partner = make_firm(brn="2208162517", certificates=[DP], affiliate_group="G1",
                        debarred_from=date(2026, 1, 1), debarred_to=date(2026, 12, 31))
    got = codes(pair_reasons(rules["innovation"], lead, partner, REF, "4617161001"))
    assert got == ["debarred", "affiliate"]
    partner.affiliate_group = "G2"
    partner.debarred_to = date(2026, 3, 18)
    assert pair_reasons(rules["innovation"], lead, partner, REF, "4617161001") == []


def test_value_track_closed_by_default_and_overridable(rules, make_firm):
    assert not rules["value"].open
    opened = load_rules(overrides={"value": {"open": True}})
    assert opened["value"].open
    assert "track_closed" in codes(lead_reasons(rules["value"], make_firm(), REF))


def test_bad_override_is_a_config_error():
    with pytest.raises(ConfigError, match="unknown track"):
        load_rules(overrides={"nope": {}})
    with pytest.raises(ConfigError, match="min 6 > max 5"):
        load_rules(overrides={"construction": {"capacity": [{"sizes": ["대기업"], "min": 6, "max": 5}]}})


def test_catalogue_number_covered_by_class():
    assert covers("46171610", "4617161012345678")
    assert not covers("", "4617161001")


def test_round_rules_open_exactly_the_rounds_tracks():
    from types import SimpleNamespace

    from matcher.tracks import round_rules

    rnd = SimpleNamespace(open_tracks=["value", "construction"],
                          rule_overrides={"construction": {"capacity": [{"sizes": ["대기업"], "min": 2, "max": 5}]}})
    rules = round_rules(rnd)
    assert {k for k, r in rules.items() if r.open} == {"value", "construction"}
    cap = rules["construction"].capacity_for("대기업")
    assert (cap.min, cap.max) == (2, 5)
    assert rules["construction"].capacity_for("중견기업") is None


@pytest.mark.parametrize("override, message", [
    ({"construction": {"capcity": []}}, "unknown field"),
    ({"construction": {"capacity": [{"sizes": ["대기업"], "min": -1, "max": 5}]}}, "must not be negative"),
    ({"construction": {"capacity": [{"sizes": ["대기업"], "min": "five", "max": 5}]}}, "whole numbers"),
    ({"construction": {"capacity": [{"sizes": ["거대기업"], "min": 1, "max": 5}]}}, "unknown size class"),
    ({"innovation": {"lead_any_of": ["young"]}}, "unknown lead condition"),
    ({"innovation": {"partner_certificates_any": ["iso9001"]}}, "unknown certificate"),
])
def test_override_mistakes_are_named(override, message):
    with pytest.raises(ConfigError, match=message):
        load_rules(overrides=override)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.sampled_from([*SIZE_CLASSES, "기타"]), st.dates(date(2010, 1, 1), date(2026, 12, 31))),
                min_size=1, max_size=12),
       st.lists(st.sampled_from(["startup", "small", "sme"]), unique=True))
def test_the_lead_condition_kernel_is_the_rule_written_out_firm_by_firm(firms, conditions):
    """startup/small/SME have one home (tracks.meets_lead_condition, used by lead_reasons and the directory's
    index); the slow obvious version stays in tests/oracles.py."""
    from matcher.firms import Firm
    from matcher.tracks import meets_lead_condition, size_codes
    from oracles import meets_lead_condition as one_by_one
    on = date(2026, 10, 1)
    made = [Firm(brn="1078153660", name="x", size_class=size, region="서울", founded=founded) for size, founded in firms]
    fast = meets_lead_condition(conditions, np.array([f.is_startup(on) for f in made]),
                                size_codes([f.size_class for f in made]))
    assert fast.tolist() == [one_by_one(conditions, f, on) for f in made]
