"""Recommendations: never an ineligible firm, filters, a partner's invitations, DB helper and CLI."""

import json
from datetime import date

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from matcher import db
from matcher.cli import main
from matcher.errors import MatcherError, NotFoundError
from matcher.firms import Application, Certificate, Licence
from matcher.directory import recommend as recommend_for_brn
from matcher.tracks import load_rules, pair_reasons

from helpers import make_brn
from oracles import recommend_leads, recommend_partners
from test_eligibility import TRACK_KEYS, firms, pool

REF = date(2026, 3, 19)
PATENT = Certificate("patent", "46171610", date(2024, 1, 1), date(2027, 12, 31))


@pytest.mark.slow
@settings(max_examples=50, deadline=None)
@given(firms(brn="1078153660"), st.sampled_from([None, "4617161001", "4617161012345678"]),
       pool("partner", 8), TRACK_KEYS, st.integers(1, 5))
def test_recommendations_never_include_ineligible_firms(lead, product, partners, track, k):
    rules = load_rules()
    app = Application("r", lead.brn, "lead", track, product, "카메라") if product else None
    recs = recommend_partners(lead, track, k, partners=partners, rules=rules, on=REF, lead_application=app)
    assert len(recs) <= k
    for rec in recs:
        assert pair_reasons(rules[track], lead, rec.firm, REF, product or "") == []
    assert [r.rank for r in recs] == list(range(1, len(recs) + 1))
    assert [r.score for r in recs] == sorted((r.score for r in recs), reverse=True)
    eligible = [p for p, _ in partners if not pair_reasons(rules[track], lead, p, REF, product or "")]
    assert len(recs) == min(k, len(eligible))  # small pools are scored exhaustively


def test_filters_and_explanations(rules, make_firm):
    lead = make_firm(brn="1078153660", description="AI 기반 CCTV 영상분석")
    near = make_firm(brn="2208162517", region="대전", description="지능형 영상감시 카메라", certificates=[PATENT])
    far = make_firm(brn="1208147521", region="부산", size_class="중기업", description="영상감시 카메라",
                    certificates=[PATENT, Certificate("materials_parts", "", date(2024, 1, 1), date(2027, 1, 1))])
    recs = recommend_partners(lead, "materials", 5, partners=[near, far], rules=rules, on=REF)
    assert [r.firm.brn for r in recs] == ["2208162517", "1208147521"]
    assert recs[0].to_dict()["explanation"]["reasons_en"]
    only = dict(region="부산", size_class=["중기업"], certificate="materials_parts")
    recs = recommend_partners(lead, "materials", 5, only, partners=[near, far], rules=rules, on=REF)
    assert [r.firm.brn for r in recs] == ["1208147521"]
    with pytest.raises(MatcherError, match="unknown filter"):
        recommend_partners(lead, "materials", 5, {"colour": "red"}, partners=[near], rules=rules, on=REF)


def test_large_partner_is_told_it_needs_five_smes(rules, make_firm):
    large = make_firm(brn="2208162517", size_class="대기업", certificates=[PATENT], description="카메라 모듈")
    leads = [make_firm(brn=f"10{i:08d}", description=f"감시 카메라 {i}") for i in range(4)]
    res = recommend_leads(large, "materials", 10, leads=leads, rules=rules, on=REF)
    assert res.min_leads == 5 and res.max_leads is None
    assert len(res.recommendations) == 4
    assert "5 or more leads" in res.note_en and "cannot take part" in res.note_en
    assert "최소 5곳" in res.note_ko
    more = leads + [make_firm(brn=f"11{i:08d}", description="카메라") for i in range(3)]
    res = recommend_leads(large, "materials", 10, leads=more, rules=rules, on=REF)
    assert len(res.recommendations) == 7 and "cannot" not in res.note_en


def test_partner_that_may_not_partner_gets_reasons(rules, make_firm):
    large = make_firm(brn="2208162517", size_class="대기업")
    res = recommend_leads(large, "innovation", 5, leads=[make_firm()], rules=rules, on=REF)
    assert res.recommendations == []
    assert "eligibility.partner_size" in [r.code for r in res.reasons]


def _seed(url):
    with db.transaction(url) as s:
        rnd = db.RoundRow(name="R1", reference_date=REF, open_tracks=["materials", "construction"])
        s.add(rnd)
        rows = {
            "lead": db.FirmRow(brn="1078153660", name="리드", size_class="소기업", region="대전",
                               founded=date(2020, 1, 1), ksic_codes=["26421"], g2b_codes=["46171610"],
                               description="AI 기반 CCTV 영상분석", licences=[]),
            "good": db.FirmRow(brn="2208162517", name="카메라", size_class="중기업", region="대전",
                               ksic_codes=["26429"], g2b_codes=["46171610"], description="지능형 영상감시 카메라",
                               licences=[]),
            "big": db.FirmRow(brn="1208147521", name="대기업", size_class="대기업", region="서울",
                              ksic_codes=["26421"], g2b_codes=["46171610"], description="카메라 모듈", licences=[]),
        }
        rows["good"].certificates.append(db.CertificateRow(kind="patent", code="46171610",
                                                           valid_from=date(2024, 1, 1), valid_to=date(2027, 1, 1)))
        rows["big"].certificates.append(db.CertificateRow(kind="materials_parts", code="",
                                                          valid_from=date(2024, 1, 1), valid_to=date(2027, 1, 1)))
        s.add_all(rows.values())
        s.flush()
        s.add(db.ApplicationRow(round_id=rnd.id, firm_id=rows["lead"].id, role="lead", track="materials",
                                product_code="4617161012345678", text="영상감시카메라를 함께 만들 협력사"))
        for key in ("good", "big"):
            s.add(db.ApplicationRow(round_id=rnd.id, firm_id=rows[key].id, role="partner", track="materials",
                                    text="카메라 공급"))


def test_recommend_for_brn_uses_the_round_and_application(db_url):
    _seed(db_url)
    with db.transaction(db_url) as s:
        res = recommend_for_brn(s, "107-81-53660")
        json.dumps(res, ensure_ascii=False)
        assert res["track"] == "materials" and res["round"] == "R1" and res["pool_size"] == 2
        assert [r["brn"] for r in res["recommendations"]] == ["2208162517", "1208147521"]
        top = res["recommendations"][0]["explanation"]
        assert "같은 물품분류 (46171610 보안용카메라)" in top["reasons_ko"]
        inv = recommend_for_brn(s, "1208147521", as_partner=True)
        # the directory: the lead applicant and the 중기업 that could lead too (not an applicant)
        assert inv["role"] == "partner" and inv["min_leads"] == 5 and inv["eligible_leads"] == 2
        assert [r["brn"] for r in inv["recommendations"] if r["applied"]] == ["1078153660"]
        inv = recommend_for_brn(s, "1208147521", as_partner=True, applicants_only=True)
        assert [r["brn"] for r in inv["recommendations"]] == ["1078153660"]
        closed = recommend_for_brn(s, "1078153660", track="innovation")
        assert closed["recommendations"] == [] and "track_closed" in [r["code"] for r in closed["reasons"]]
        with pytest.raises(NotFoundError):
            recommend_for_brn(s, "0000000000")


def test_cli_table_and_json(db_url):
    _seed(db_url)
    runner = CliRunner()
    res = runner.invoke(main, ["recommend", "1078153660", "-k", "1"])
    assert res.exit_code == 0, res.output
    assert "카메라" in res.output and "같은 물품분류" in res.output and "대기업" not in res.output.splitlines()[-1]
    res = runner.invoke(main, ["recommend", "1078153660", "--json", "--lang", "en"])
    data = json.loads(res.output)
    assert data["recommendations"][0]["explanation"]["reasons_en"]
    res = runner.invoke(main, ["recommend", "1208147521", "--as", "partner", "--lang", "en"])
    assert "5 or more leads" in res.output and "needs at least 5" in res.output
    res = runner.invoke(main, ["recommend", "0000000000"])
    assert res.exit_code == 2 and "not found" in res.output


def test_construction_partners_rank_by_licence_and_region(rules, make_firm):
    lead = make_firm(brn="1078153660", licences=[Licence("specialty", "토목")], region="대전")
    same_work = make_firm(brn="2208162517", size_class="대기업", region="대전", licences=[Licence("general", "토목")])
    other = make_firm(brn="1208147521", size_class="대기업", region="부산", licences=[Licence("general", "건축")])
    recs = recommend_partners(lead, "construction", 5, partners=[other, same_work], rules=rules, on=REF)
    assert [r.firm.brn for r in recs] == ["2208162517", "1208147521"]
    assert recs[0].explanation.component("capability").value == 1.0


def test_cli_evaluate_on_known_pairs(db_url, tmp_path):
    _seed(db_url)
    pairs = tmp_path / "pairs.csv"
    pairs.write_text("lead_brn,partner_brn,track,split\n1078153660,2208162517,materials,test\n", encoding="utf-8")
    res = CliRunner().invoke(main, ["evaluate", "-k", "1", "--pairs", str(pairs)])
    assert res.exit_code == 0, res.output
    rows = [line.split() for line in res.output.splitlines() if line.startswith(("char", "kiwi"))]
    assert len(rows) == 8  # 2 methods × 2 weightings × (materials + all)
    full = [r for r in rows if r[0] == "char" and r[1] == "full" and r[3] == "all"][0]
    assert full[-1] == "1.000"  # the known partner ranks first


def test_large_partner_note_counts_eligible_leads_not_the_top_k(rules, make_firm):
    large = make_firm(brn="2208162517", size_class="대기업", certificates=[PATENT], description="카메라 모듈")
    leads = [make_firm(brn=f"10{i:08d}", description=f"감시 카메라 {i}") for i in range(7)]
    res = recommend_leads(large, "materials", 3, leads=leads, rules=rules, on=REF)
    assert len(res.recommendations) == 3
    assert "5 or more leads" in res.note_en and "cannot" not in res.note_en
    assert res.eligible_leads == 7
    res = recommend_leads(large, "materials", 2, leads=leads[:4], rules=rules, on=REF)
    assert len(res.recommendations) == 2
    assert "only 4 eligible" in res.note_en and "적격 후보 4곳뿐" in res.note_ko


def test_cli_no_open_track_is_a_clear_error(db_url):
    _seed(db_url)
    with db.transaction(db_url) as s:
        s.add(db.RoundRow(name="R2", reference_date=date(2026, 9, 1), open_tracks=[]))
    res = CliRunner().invoke(main, ["recommend", "1078153660", "--round", "R2"])
    assert res.exit_code == 2, res.output
    assert "round R2" in res.output and "no open track" in res.output and "107-81-53660" in res.output
    assert "Traceback" not in res.output and not isinstance(res.exception, StopIteration)


def test_the_latest_round_is_the_one_in_db(db_url):
    from matcher import evaluation, recommend
    assert not hasattr(recommend, "latest_round") and not hasattr(evaluation, "latest_round")  # db.latest_round only
    _seed(db_url)
    with db.transaction(db_url) as s:
        s.add(db.RoundRow(name="R0", reference_date=date(2025, 1, 1), open_tracks=["materials"]))
        s.add(db.RoundRow(name="R1b", reference_date=REF, open_tracks=[]))
    with db.transaction(db_url) as s:
        res = recommend_for_brn(s, "1078153660", track="materials")
        assert res["round"] == "R1"  # the latest round the firm applied in; R1b is empty
        res = recommend_for_brn(s, "2208162517", track="materials")  # (applied in R1 too)
        assert res["round"] == "R1"
        s.add(db.FirmRow(brn="1018100001", name="무신청", size_class="소기업", region="대전", licences=[]))
    with db.transaction(db_url) as s:
        assert recommend_for_brn(s, "1018100001", track="materials")["round"] == "R1b"  # no application


def test_cli_evaluate_without_any_round_is_a_clear_error(db_url, tmp_path):
    pairs = tmp_path / "pairs.csv"
    pairs.write_text("lead_brn,partner_brn,track,split\n1078153660,2208162517,materials,test\n", encoding="utf-8")
    res = CliRunner().invoke(main, ["evaluate", "--pairs", str(pairs)])
    assert res.exit_code == 2, res.output
    assert "no round in the database" in res.output and not isinstance(res.exception, AttributeError)


# --- a round with several leads and partners: scores, filters, defaults -------------------------

LEAD_TEXTS = ["AI 기반 CCTV 영상분석 소프트웨어", "드론 비행 제어 모듈", "스마트 가로등 조명 제어기",
              "수질 측정 센서", "영상감시 카메라 렌즈 가공"]
PARTNERS = [  # (size class, region, description, application text)
    ("중기업", "대전", "지능형 영상감시 카메라 제조", "카메라 공급"),
    ("중기업", "경기", "드론 기체와 비행 제어기", "드론 협력"),
    ("중기업", "서울", "LED 조명 제어 장치", "조명 공동 개발"),
    ("소기업", "부산", "수질 센서와 계측기", "센서 협력"),
    ("중기업", "서울", "CCTV 영상 저장 장치", "영상 장비"),
]


def _seed_round(url, name="R1", ref=REF, partner_only=None):
    """materials: five SME leads and five SME partners with different texts (the TF-IDF fit matters)."""
    with db.transaction(url) as s:
        rnd = db.RoundRow(name=name, reference_date=ref, open_tracks=["materials", "construction"])
        s.add(rnd)
        rows = []
        for i, text in enumerate(LEAD_TEXTS):
            rows.append((db.FirmRow(brn=make_brn(i), name=f"주관{i}", size_class="소기업", region="대전",
                                    founded=date(2018, 1, 1), ksic_codes=["26421"], g2b_codes=["46171610"],
                                    description=text, licences=[]), "lead", text))
        for j, (size, region, description, text) in enumerate(PARTNERS):
            row = db.FirmRow(brn=make_brn(50 + j), name=f"협력{j}", size_class=size, region=region,
                             ksic_codes=["26429"], g2b_codes=["46171610"], description=description, licences=[])
            row.certificates.append(db.CertificateRow(kind="materials_parts", code="", valid_from=date(2024, 1, 1),
                                                      valid_to=date(2028, 1, 1)))
            rows.append((row, "partner", text))
        if partner_only:
            rows.append((db.FirmRow(brn=partner_only, name="협력전용", size_class="중기업", region="대전",
                                    ksic_codes=["26429"], g2b_codes=["46171610"], description="렌즈",
                                    licences=[]), "partner", "렌즈 공급"))
            rows[-1][0].certificates.append(db.CertificateRow(kind="materials_parts", code="",
                                                              valid_from=date(2024, 1, 1), valid_to=date(2028, 1, 1)))
        s.add_all([r for r, _role, _text in rows])
        s.flush()
        for row, role, text in rows:
            s.add(db.ApplicationRow(round_id=rnd.id, firm_id=row.id, role=role, track="materials",
                                    product_code="4617161012345678", text=text))


def _scores(res):
    return {r["brn"]: r["score"] for r in res["recommendations"]}


def _components(rec):
    return {c["name"]: round(c["value"], 4) for c in rec["explanation"]["components"] if c["name"] != "text"}


def test_filters_only_remove_rows_and_components_agree_with_round_matching(db_url):
    from matcher import rounds
    _seed_round(db_url)
    with db.transaction(db_url) as s:
        everyone = _scores(recommend_for_brn(s, make_brn(0), k=10))
        assert len(everyone) == len(PARTNERS)
        for filters in ({"region": "서울"}, {"size_class": "소기업"}, {"region": ["대전", "경기"]},
                        {"certificate": "materials_parts"}):
            some = _scores(recommend_for_brn(s, make_brn(0), k=10, filters=filters))
            assert some and some == {brn: everyone[brn] for brn in some}, filters
        leads = recommend_for_brn(s, make_brn(50), as_partner=True, k=10)
        daejeon = recommend_for_brn(s, make_brn(50), as_partner=True, k=10, filters={"region": "대전"})
        assert _scores(daejeon) == {b: v for b, v in _scores(leads).items() if b in _scores(daejeon)}
        # the directory: the five lead applicants and the four other SME partners, which could lead too
        assert len(_scores(leads)) == len(LEAD_TEXTS) + 4 and leads["applicants"] == len(LEAD_TEXTS)
        run_id = rounds.run_match(s, rounds.find_round(s, "R1").id, track="materials")
        proposals = s.get(db.MatchRunRow, run_id).proposals
        assert len(proposals) == len(LEAD_TEXTS)
        for p in proposals:
            # Round matching fits its own text model on the round; the directory uses the stored one,
            # so only the other components must agree exactly.
            rec = next(r for r in recommend_for_brn(s, p.lead.brn, k=10)["recommendations"] if r["brn"] == p.partner.brn)
            stored = {c["name"]: round(c["value"], 4) for c in p.explanation["components"] if c["name"] != "text"}
            assert _components(rec) == stored


@pytest.mark.parametrize("filters, expected", [
    ({"region": ["서울특별시", "seoul", "Seoul", "11"]}, {"region": {"서울"}}),
    ({"size_class": ["medium firm", "Large Firm", "소기업"]}, {"size_class": {"중기업", "대기업", "소기업"}}),
    ({"certificate": ["특허제품", "특허", "patent", "직접생산", "R&D 성공제품", "g-pass"]},
     {"certificate": {"patent", "direct_production", "rnd_product", "gpass"}}),
])
def test_filter_values_are_normalised(filters, expected):
    from matcher.recommend import normalize_filters
    assert normalize_filters(filters) == expected


def test_unknown_filter_values_are_refused_with_the_allowed_values(db_url):
    from matcher.recommend import normalize_filters
    with pytest.raises(MatcherError) as err:
        normalize_filters({"region": "Atlantis", "size_class": ["large", "SME", "중견"], "certificate": "bogus"})
    message = str(err.value)
    for bad in ("'Atlantis'", "'large'", "'SME'", "'중견'", "'bogus'"):
        assert bad in message
    assert "제주" in message and "중견기업 (mid-sized firm)" in message and "patent (특허제품)" in message
    _seed_round(db_url)
    res = CliRunner().invoke(main, ["recommend", make_brn(0), "--region", "seoul", "--json"])
    assert res.exit_code == 0, res.output
    assert {r["region"] for r in json.loads(res.output)["recommendations"]} == {"서울"}
    for option, value in (("--size", "SME"), ("--certificate", "bogus"), ("--region", "xx")):
        res = CliRunner().invoke(main, ["recommend", make_brn(0), option, value])
        assert res.exit_code == 2 and repr(value) in res.output and "Traceback" not in res.output


@pytest.mark.parametrize("k", ["0", "-1"])
def test_k_below_one_is_refused(db_url, k):
    _seed_round(db_url)
    res = CliRunner().invoke(main, ["recommend", make_brn(0), "-k", k])
    assert res.exit_code == 2 and "-k" in res.output


def test_default_round_and_role_come_from_the_firms_own_application(db_url):
    only_partner = make_brn(90)
    _seed_round(db_url, partner_only=only_partner)
    with db.transaction(db_url) as s:
        s.add(db.RoundRow(name="R-new", reference_date=date(2027, 1, 1), open_tracks=["materials"]))
    with db.transaction(db_url) as s:
        res = recommend_for_brn(s, make_brn(0))
        assert res["round"] == "R1" and res["role"] == "lead" and res["pool_size"] == len(PARTNERS) + 1
        res = recommend_for_brn(s, only_partner)
        assert res["round"] == "R1" and res["role"] == "partner" and res["track"] == "materials"
        assert res["recommendations"]
        assert recommend_for_brn(s, only_partner, as_partner=False)["role"] == "lead"
    res = CliRunner().invoke(main, ["recommend", only_partner, "--lang", "en"])
    assert res.exit_code == 0 and "as partner" in res.output


@pytest.mark.parametrize("brn, message", [
    ("abc", "'abc' is not a 사업자등록번호"), ("12345", "'12345' is not a 사업자등록번호"),
    ("107-81-53661", "'107-81-53661' fails its check digit"),
])
def test_malformed_brn_says_so(db_url, brn, message):
    res = CliRunner().invoke(main, ["recommend", brn])
    assert res.exit_code == 2 and message in res.output and "not found" not in res.output


@pytest.mark.parametrize("track, size, ko, en", [
    ("materials", "대기업", "주관기업 5곳 이상과 협약", "signs with 5 or more leads"),
    ("materials", "중기업", "주관기업 1곳과 협약", "signs with 1 lead"),
    ("construction", "대기업", "주관기업 최대 5곳과 협약", "signs with up to 5 leads"),
])
def test_capacity_note_reads_naturally(rules, make_firm, track, size, ko, en):
    partner = make_firm(brn="2208162517", size_class=size, certificates=[PATENT],
                        licences=[Licence("general", "토목")])
    res = recommend_leads(partner, track, 5, leads=[], rules=rules, on=REF)
    assert ko in res.note_ko and en in res.note_en
    assert "~" not in res.note_ko and "제한 없음" not in res.note_ko


def test_track_not_open_in_the_round_says_so_without_a_pool(db_url):
    _seed_round(db_url)
    res = CliRunner().invoke(main, ["recommend", make_brn(0), "-t", "value", "--lang", "en"])
    assert res.exit_code == 0, res.output
    assert "not open in round R1" in res.output and "pool 0" in res.output
    with db.transaction(db_url) as s:
        data = recommend_for_brn(s, make_brn(0), track="value")
    assert data["pool_size"] == 0 and data["recommendations"] == []
    assert "track_closed" in [r["code"] for r in data["reasons"]]
