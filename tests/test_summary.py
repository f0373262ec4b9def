"""Round summary (``matcher summary``, the round service's round_summary over the pure counts of
matcher.summary): counts checked by hand on a tiny round, and against pair_reasons."""

from datetime import date

import pytest

from matcher import db, demo, importer
from matcher.errors import NotFoundError
from matcher.firms import Application, Certificate
from matcher.rounds import round_overview, round_summary
from matcher.summary import format_summary, track_summary
from matcher.tracks import load_rules, pair_reasons, round_rules

REF = date(2026, 10, 1)


def _add_firm(session, brn, size, **fields):
    row = db.FirmRow(brn=brn, name=f"firm {brn[-3:]}", size_class=size, region="서울", founded=date(2023, 1, 1),
                     ksic_codes=[], g2b_codes=[], licences=fields.pop("licences", []), **fields)
    session.add(row)
    return row


@pytest.fixture
def tiny_round(db_url):
    with db.transaction(db_url) as s:
        rnd = db.RoundRow(name="작은회차", reference_date=REF, open_tracks=["innovation", "construction"])
        s.add(rnd)
        lead = _add_firm(s, "1000000001", "소기업")
        lead2 = _add_firm(s, "1000000002", "중기업", affiliate_group="G")
        partner = _add_firm(s, "1000000003", "소기업", affiliate_group="G")
        partner.certificates = [db.CertificateRow(kind="direct_production", code="4617161002",
                                                  valid_from=date(2025, 1, 1), valid_to=date(2027, 12, 31))]
        large = _add_firm(s, "1000000004", "대기업")
        large.certificates = [db.CertificateRow(kind="direct_production", code="4617161002",
                                                valid_from=date(2025, 1, 1), valid_to=date(2027, 12, 31))]
        s.flush()
        for firm, role, track, code in [(lead, "lead", "innovation", "4617161002"),
                                        (lead2, "lead", "innovation", "4617161002"),
                                        (partner, "partner", "innovation", "4617161002"),
                                        (large, "partner", "innovation", "4617161002"),
                                        (lead, "lead", "construction", "")]:
            s.add(db.ApplicationRow(round_id=rnd.id, firm_id=firm.id, role=role, track=track, product_code=code))
    return db_url


def test_tiny_round_by_hand(tiny_round):
    with db.transaction(tiny_round) as s:
        summary = round_summary(s, "작은회차")
    assert summary.firms == 4
    innovation, construction = summary.tracks
    # lead2 is a 중기업 founded 2023: a startup, so it may lead; but it is an affiliate of the only
    # SME partner, and the 대기업 may not partner in 혁신성장: one allowed pair (lead, partner).
    assert (innovation.leads, innovation.partners, innovation.large_partners) == (2, 2, 1)
    assert (innovation.eligible_leads, innovation.eligible_partners, innovation.allowed_pairs) == (2, 1, 1)
    assert innovation.refusals == {"partner_size": 1}
    assert (construction.leads, construction.partners, construction.allowed_pairs) == (1, 0, 0)
    assert construction.refusals == {"lead_licence": 1}
    text = format_summary(summary)
    assert text.startswith("round 작은회차 (reference date 2026-10-01): 4 firms applied")
    assert "partner_size 1" in text


def test_the_round_page_counts_the_eligible_firms_of_the_summary(tiny_round):
    with db.transaction(tiny_round) as s:
        summary = round_summary(s, "작은회차")
        overview = round_overview(s, db.get_round(s, "작은회차").id)
    assert [(t.track, t.leads, t.partners, t.eligible_leads, t.eligible_partners) for t in summary.tracks] == \
        [(o.track, o.leads, o.partners, o.eligible_leads, o.eligible_partners) for o in overview]


def test_tracks_not_open_in_the_round_are_closed(tiny_round):
    with db.transaction(tiny_round) as s:
        rules = round_rules(db.get_round(s, "작은회차"))
    assert rules["innovation"].open and rules["construction"].open
    assert not rules["materials"].open and not rules["value"].open


def test_round_overrides_apply(tiny_round):
    with db.transaction(tiny_round) as s:
        db.get_round(s, "작은회차").rule_overrides = {"innovation": {"partner_sizes": ["소기업", "중기업", "대기업"],
                                                              "capacity": [{"sizes": ["소기업", "중기업", "대기업"],
                                                                            "min": 1, "max": 1}]}}
    with db.transaction(tiny_round) as s:
        innovation = round_summary(s, "작은회차").tracks[0]
    assert innovation.allowed_pairs == 3  # the 대기업 now pairs with both leads


def test_default_round_is_the_latest_reference_date_not_the_newest_row(tiny_round):
    with db.transaction(tiny_round) as s:
        s.add(db.RoundRow(name="지난회차", reference_date=date(2025, 10, 1), open_tracks=["innovation"]))
    with db.transaction(tiny_round) as s:
        assert db.latest_round(s).name == "작은회차"
        assert round_summary(s).name == "작은회차"
        s.add(db.RoundRow(name="같은날", reference_date=REF, open_tracks=["innovation"]))
        s.flush()
        assert db.latest_round(s).name == "같은날"  # same date: the newest


def test_missing_rounds(db_url):
    with db.transaction(db_url) as s:
        with pytest.raises(NotFoundError, match="no round yet"):
            round_summary(s)
        with pytest.raises(NotFoundError, match="not found"):
            round_summary(s, "없음")


def test_same_firm_on_both_sides_is_not_a_pair(make_firm, rules):
    firm = make_firm(brn="1000000001",
                     certificates=[Certificate("patent", "4323260801", date(2024, 1, 1), date(2034, 1, 1))])
    apps = [Application("r", firm.brn, "lead", "convergence", "4323260801"),
            Application("r", firm.brn, "partner", "convergence", "4323260801")]
    s = track_summary(rules["convergence"], apps, {firm.brn: firm}, REF)
    assert (s.eligible_leads, s.eligible_partners, s.allowed_pairs) == (1, 1, 0)


def _brute_force_pairs(rule, apps, firms, on):
    """The slow, obvious count: every (lead, partner) application pair, judged with the lead's product."""
    return sum(not pair_reasons(rule, firms[l.brn], firms[p.brn], on, l.product_code)
               for l in apps if l.role == "lead" for p in apps if p.role == "partner")


def test_partner_certificate_is_judged_against_the_leads_product(make_firm, rules):
    # the partner's 직접생산확인 covers what the first lead applied for, not the partner's own application
    dp = Certificate("direct_production", "4617161002", date(2025, 1, 1), date(2027, 12, 31))
    lead, other = make_firm(brn="1000000001"), make_firm(brn="1000000003")
    partner = make_firm(brn="1000000002", certificates=[dp])
    apps = [Application("r", lead.brn, "lead", "innovation", "4617161002"),
            Application("r", other.brn, "lead", "innovation", "4617161003"),
            Application("r", partner.brn, "partner", "innovation", "4617161003")]
    firms = {f.brn: f for f in (lead, partner, other)}
    s = track_summary(rules["innovation"], apps, firms, REF)
    assert (s.eligible_leads, s.eligible_partners, s.allowed_pairs) == (2, 1, 1)
    assert s.refusals == {}
    assert s.allowed_pairs == _brute_force_pairs(rules["innovation"], apps, firms, REF)


def test_summary_agrees_with_pair_reasons_on_the_demo_round():
    spec = demo.read_round()
    frame = importer.read_table(demo.DEMO_DIR / "firms.csv")
    firms = {f.brn: f for _row, f in importer.validate_firms(frame)[0]}
    apps = [Application(spec["name"], a.brn, a.role, a.track, a.product_code) for a in demo.generate().applications]
    rules, on = load_rules(), spec["reference_date"]
    for track in ("innovation", "materials", "convergence", "construction"):
        track_apps = [a for a in apps if a.track == track]
        s = track_summary(rules[track], track_apps, firms, on)
        assert s.allowed_pairs == _brute_force_pairs(rules[track], track_apps, firms, on), track
