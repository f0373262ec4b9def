"""The demo round: deterministic, committed as generated, and exercising every rule both ways."""

import tomllib
from collections import Counter
from itertools import product

import pytest

from matcher import codes, demo, importer
from matcher.summary import track_summary
from matcher.tracks import load_rules, pair_reasons
from matcher.validate import check_applications

PAIR_RULE_CODES = {"lead_size", "lead_condition", "lead_licence", "partner_size", "partner_licence",
                   "certificate_missing", "certificate_expired", "certificate_not_yet_valid", "debarred",
                   "same_firm", "affiliate"}
"""Every reason code of tracks.pair_reasons except track_closed (the importer refuses applications to a
closed track, so a loaded round never holds one)."""


class _Round:
    def __init__(self, open_tracks):
        self.open_tracks = open_tracks
        self.rule_overrides = {}


@pytest.fixture(scope="module")
def committed():
    """The committed demo files, validated as the importer would (no database)."""
    spec = demo.read_round()
    firms_frame = importer.read_table(demo.DEMO_DIR / "firms.csv")
    firm_records, problems = importer.validate_firms(firms_frame)
    assert problems == []
    firms = {f.brn: f for _row, f in firm_records}
    apps_frame = importer.read_table(demo.DEMO_DIR / "applications.csv")
    app_records, problems = check_applications(apps_frame, {spec["name"]: _Round(spec["open_tracks"])}, set(firms))
    assert problems == []
    pairs = importer.read_table(demo.DEMO_DIR / "known_pairs.csv")
    return spec, firms, [a for _row, a in app_records], pairs


def test_generator_is_deterministic_and_matches_the_committed_files():
    first = demo.render(demo.generate())
    assert first == demo.render(demo.generate())
    for name, text in first.items():
        assert (demo.DEMO_DIR / name).read_bytes() == text.encode("utf-8"), f"{name} differs: run matcher demo generate"


def test_another_seed_gives_another_round():
    assert demo.render(demo.generate(seed=7))["firms.csv"] != demo.render(demo.generate())["firms.csv"]


def test_families_use_known_codes():
    families = demo.load_families()
    assert 25 <= sum(not f.work for f in families) <= 40
    names = codes.ksic_names()
    for f in families:
        assert codes.g2b_name(f.g2b) is not None, f.key
        assert f.ksic in names, f.key
        assert all(r in {g.key for g in families} for r in f.related), f.key
        assert len(f.lead) >= 3 and len(f.partner) >= 2
        if "innovation" in f.tracks:
            assert any(codes.is_sme_competition(c) for c in f.detailed), f.key
        if "construction" in f.tracks:
            assert f.work


def test_round_file(committed):
    spec, *_ = committed
    assert spec["name"] == "2026년 2차"
    assert str(spec["reference_date"]) == "2026-10-01"
    assert spec["open_tracks"] == ["innovation", "materials", "convergence", "construction"]


def test_shape_of_the_round(committed):
    spec, firms, apps, _pairs = committed
    assert 1400 <= len(firms) <= 1600
    large = sum(f.is_large for f in firms.values())
    assert 0.04 <= large / len(firms) <= 0.07
    per_track = Counter(a.track for a in apps)
    assert set(per_track) == set(spec["open_tracks"])
    regions = Counter(f.region for f in firms.values())
    assert regions.most_common(2)[0][0] in ("경기", "서울") and len(regions) == 17
    assert len({f.name for f in firms.values()}) == len(firms)
    assert sum(bool(f.affiliate_group) for f in firms.values()) >= 8
    builders = [firms[a.brn] for a in apps if a.track == "construction"]
    assert sum(bool(f.licences) for f in builders) > 0.9 * len(builders)


def test_product_codes_fit_each_track(committed):
    _spec, _firms, apps, _pairs = committed
    for a in apps:
        if a.track == "innovation":
            assert codes.is_sme_competition(a.product_code)
        elif a.track == "materials":
            assert len(a.product_code) == 16
        elif a.track == "convergence":
            assert len(a.product_code) == 10
        else:
            assert a.product_code == ""


def test_every_rule_has_passing_and_failing_pairs(committed):
    spec, firms, apps, _pairs = committed
    rules, on = load_rules(), spec["reference_date"]
    seen, allowed = Counter(), Counter()
    for track in spec["open_tracks"]:
        leads = [a for a in apps if a.track == track and a.role == "lead"]
        partners = [a for a in apps if a.track == track and a.role == "partner"]
        for lead, partner in product(leads, partners):
            reasons = pair_reasons(rules[track], firms[lead.brn], firms[partner.brn], on, lead.product_code)
            seen.update({r.code.removeprefix("eligibility.") for r in reasons})
            allowed[track] += not reasons
    assert PAIR_RULE_CODES <= set(seen), PAIR_RULE_CODES - set(seen)
    assert all(allowed[t] > 0 for t in spec["open_tracks"])


def test_known_pairs_are_eligible_and_split(committed):
    spec, firms, apps, pairs = committed
    rules, on = load_rules(), spec["reference_date"]
    roles = {(a.brn, a.role, a.track): a for a in apps}
    assert len(pairs) >= 150
    assert set(pairs["split"]) == {"train", "test"}
    assert 0.2 <= (pairs["split"] == "test").mean() <= 0.4
    for lead_brn, partner_brn, track in zip(pairs["lead_brn"], pairs["partner_brn"], pairs["track"]):
        lead = roles[(lead_brn, "lead", track)]
        assert (partner_brn, "partner", track) in roles
        assert pair_reasons(rules[track], firms[lead_brn], firms[partner_brn], on, lead.product_code) == []
    sme_partners = [p for p, t in zip(pairs["partner_brn"], pairs["track"])
                    if t != "construction" and not firms[p].is_large]
    assert len(sme_partners) == len(set(sme_partners))  # 1:1 for SME partners
    assert max(Counter(p for p, t in zip(pairs["partner_brn"], pairs["track"]) if t == "construction").values()) <= 5


def test_large_partners_mostly_have_five_leads_in_their_family(committed):
    spec, firms, apps, _pairs = committed
    raw = tomllib.loads((demo.DEMO_DIR / "round.toml").read_text(encoding="utf-8"))
    few = set(raw["demo"]["few_leads_partners"])
    family_of = {f.brn: (tuple(f.g2b_codes[:1])) for f in firms.values()}
    for track in ("materials", "convergence"):
        leads = Counter(family_of[a.brn] for a in apps if a.track == track and a.role == "lead")
        large = [a.brn for a in apps if a.track == track and a.role == "partner" and firms[a.brn].is_large]
        many = [brn for brn in large if leads[family_of[brn]] >= 5]
        assert len(many) >= len(large) - 2
        assert {brn for brn in large if brn in few} == set(large) - set(many)
    assert 1 <= len(few) <= 4


def test_fast_pair_count_agrees_with_pair_reasons(committed):
    spec, firms, apps, _pairs = committed
    rules, on = load_rules(), spec["reference_date"]
    for track in ("innovation", "construction"):
        track_apps = [a for a in apps if a.track == track]
        fast = track_summary(rules[track], track_apps, firms, on).allowed_pairs
        slow = sum(not pair_reasons(rules[track], firms[l.brn], firms[p.brn], on, l.product_code)
                   for l in track_apps if l.role == "lead" for p in track_apps if p.role == "partner")
        assert fast == slow


def test_written_firms_read_back_as_generated(committed):
    """The generator's writer and the importer's reader agree on every field of every firm."""
    _spec, firms, apps, _pairs = committed
    generated = demo.generate()
    assert {f.brn: f for f in generated.firms} == firms
    assert [(a.brn, a.role, a.track, a.product_code, a.text, a.preferences) for a in generated.applications] == [
        (a.brn, a.role, a.track, a.product_code, a.text, a.preferences) for a in apps]
