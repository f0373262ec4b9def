"""The SME directory: lookup, the whole directory with applicants marked, explained empty results,
why-not, interest offers, the stored index in step with imports, and the index against the pure path."""

import io
import json
from datetime import date

import numpy as np
import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from matcher import db, directory, importer
from matcher.cli import main
from matcher.directory import store
from matcher.directory.index import partner_failures, lead_failures, asker_from_index
from matcher.firms import Certificate
from matcher.tracks import lead_reasons, load_rules, pair_reasons, partner_reasons

from helpers import REF, make_brn
from oracles import recommend_leads, recommend_partners

CHUNGGA = "2088107080"



def _firm(n, name, size="소기업", region="대전", certs=(), **extra):
    row = db.FirmRow(brn=extra.pop("brn", None) or make_brn(n), name=name, size_class=size, region=region,
                     founded=extra.pop("founded", date(2015, 1, 1)), ksic_codes=extra.pop("ksic", ["26421"]),
                     g2b_codes=extra.pop("g2b", ["46171610"]), description=extra.pop("description", ""),
                     licences=extra.pop("licences", []), **extra)
    for kind, code, *valid in certs:
        start, end = valid or (date(2024, 1, 1), date(2027, 12, 31))
        row.certificates.append(db.CertificateRow(kind=kind, code=code, valid_from=start, valid_to=end))
    return row


@pytest.fixture
def names_db(db_url):
    """Firms whose names a new user would type in many ways (the issue's 청가에너지 and its neighbours)."""
    with db.transaction(db_url) as s:
        s.add_all([_firm(0, "주식회사 청가에너지", brn=CHUNGGA, description="드론 비행 제어기"),
                   _firm(1, "주식회사 청가전자"), _firm(2, "(주)청가메카"), _firm(3, "㈜청다에너지"),
                   _firm(4, "정태에너지"), *[_firm(10 + i, f"가나다산업 {i}") for i in range(45)]])
    return db_url


@pytest.mark.parametrize("query", ["208-81-07080", "208 81 07080", "2088107080", "２０８－８１－０７０８０",
                                   " 208.81.07080 "])
def test_a_brn_in_any_spelling_finds_the_firm(names_db, query):
    with db.transaction(names_db) as s:
        found = directory.find_firms(s, query)
        assert found.exact is not None and found.exact.brn == CHUNGGA


@pytest.mark.parametrize("query", ["청가 에너지", "청가에너쥐", "(주)청가", "Chungga Energy", "㈜청가에너지",
                                   "주식회사청가에너지"])
def test_names_typed_as_a_new_user_would_find_the_firm(names_db, query):
    with db.transaction(names_db) as s:
        found = directory.find_firms(s, query)
        names = [hit["firm"].name for hit in found.firms]
        assert "주식회사 청가에너지" in names[:3], (query, names)
        if query != "(주)청가":  # 청가 alone is a prefix of three firms
            assert names[0] == "주식회사 청가에너지", (query, names)


def test_results_are_counted_and_paged(names_db):
    with db.transaction(names_db) as s:
        first = directory.find_firms(s, "가나다산업", per_page=20)
        assert first.total == 45 and first.pages == 3 and len(first.firms) == 20
        last = directory.find_firms(s, "가나다산업", page=3, per_page=20)
        assert len(last.firms) == 5
        seen = {h["firm"].brn for p in (1, 2, 3) for h in directory.find_firms(s, "가나다산업", page=p).firms}
        assert len(seen) == 45


def test_search_page_shows_the_count_and_pages(names_db):
    from web import create_app
    app = create_app({"TESTING": True, "DATABASE_URL": names_db, "WTF_CSRF_ENABLED": False, "SECRET_KEY": "x"})
    client = app.test_client()
    response = client.get("/?q=208 81 07080")
    assert response.status_code == 302 and response.headers["Location"] == f"/firms/{CHUNGGA}"
    page = client.get("/?q=가나다산업").get_data(as_text=True)
    assert "45곳 찾음" in page and "1/3 쪽" in page and "page=2" in page
    assert "주식회사 청가에너지" in client.get("/?q=청가에너쥐").get_data(as_text=True)


# --- a small round: the directory, explained empty results, why-not, interest ---------------------------

PRODUCT = "4015151301"


@pytest.fixture
def round_db(db_url):
    """혁신성장 and 소재부품: one lead applicant, partner applicants and non-applicants of every kind."""
    with db.transaction(db_url) as s:
        rnd = db.RoundRow(name="R1", reference_date=REF, open_tracks=["innovation", "materials"])
        dp = ("direct_production", PRODUCT)
        firms = {
            "lead": _firm(1, "주관 펌프", description="소방 펌프 제어", founded=date(2022, 1, 1), affiliate_group="G"),
            "applied": _firm(2, "신청 협력", size="중기업", certs=[dp, ("materials_parts", "")], description="펌프"),
            "outsider": _firm(3, "미신청 협력", size="중기업", certs=[dp], description="펌프 부품", region="부산"),
            "other_product": _firm(4, "다른 물품", certs=[("direct_production", "4015156601")]),
            "debarred": _firm(5, "제재 기업", certs=[dp], debarred_from=date(2026, 1, 1), debarred_to=date(2026, 12, 31)),
            "affiliate": _firm(6, "같은 계열", certs=[dp], affiliate_group="G"),
            "large": _firm(7, "대기업", size="대기업", certs=[dp, ("patent", "40151513")]),
            "expired": _firm(8, "만료", certs=[("direct_production", PRODUCT, date(2020, 1, 1), date(2025, 1, 1))]),
            "nothing": _firm(9, "인증 없음"),
        }
        s.add(rnd)
        s.add_all(firms.values())
        s.flush()
        s.add(db.ApplicationRow(round_id=rnd.id, firm_id=firms["lead"].id, role="lead", track="innovation",
                                product_code=PRODUCT, text="펌프 협력사"))
        s.add(db.ApplicationRow(round_id=rnd.id, firm_id=firms["applied"].id, role="partner", track="innovation",
                                text="펌프 공급"))
        s.add(db.ApplicationRow(round_id=rnd.id, firm_id=firms["applied"].id, role="partner", track="materials",
                                text="펌프 공급"))
    return db_url


def test_the_directory_offers_every_eligible_firm_and_marks_applicants(round_db):
    with db.transaction(round_db) as s:
        res = directory.recommend(s, make_brn(1), track="innovation")
        assert res["pool_size"] == 2 and res["applicants"] == 1
        rows = {r["name"]: r for r in res["recommendations"]}
        assert set(rows) == {"신청 협력", "미신청 협력"}
        assert rows["신청 협력"]["applied"] and "R1에 협력기업으로 신청" in rows["신청 협력"]["applied_label"]["ko"]
        assert not rows["미신청 협력"]["applied"] and rows["미신청 협력"]["applied_label"] is None
        only = directory.recommend(s, make_brn(1), track="innovation", applicants_only=True)
        assert [r["name"] for r in only["recommendations"]] == ["신청 협력"]


def test_interest_is_offered_only_where_the_round_would_take_it(round_db):
    with db.transaction(round_db) as s:
        rows = {r["name"]: r for r in directory.recommend(s, make_brn(1), track="innovation")["recommendations"]}
        assert rows["신청 협력"]["interest"]["ok"]
        offer = rows["미신청 협력"]["interest"]
        assert not offer["ok"] and "신청하지 않았습니다" in offer["problems"][0]["ko"]
        # what the page offers agrees with what the round accepts
        from matcher.rounds import interest
        lead, outsider = directory.get_firm(s, make_brn(1)), directory.get_firm(s, make_brn(3))
        round_row = db.get_round(s, "R1")
        assert interest.interest_problems(s, round_row, lead, outsider, "innovation")
        row = interest.send_interest(s, round_row.id, make_brn(1), make_brn(2), "innovation", "함께 해요", "firm:" + make_brn(1))
        assert row.status == "sent"


def test_an_empty_result_says_why_with_counts_and_what_would_widen_it(round_db):
    with db.transaction(round_db) as s:
        res = directory.recommend(s, make_brn(1), track="innovation", filters={"region": "제주"})
        assert res["recommendations"] == []
        empty = res["empty_reason"]
        counts = empty["counts"]
        assert counts == {"certificate_missing": 2, "partner_size": 1, "debarred": 1, "affiliate": 1,
                          "certificate_expired": 1, "filtered": 2}
        assert sum(counts.values()) == empty["population"] == 8  # every firm but the lead, counted once
        assert "직접생산확인 (4015151301)이 없음" in empty["ko"] and "are debarred" in empty["en"]
        assert "in your affiliate group" in empty["en"]
        widen = {w.get("code") or w.get("track"): w for w in empty["widen"]}
        assert widen["4015156601"]["partners"] == 1  # the nearest product with a certified partner
        assert widen["materials"]["partners"] >= 1  # another open track the lead could apply to


def test_cli_and_json_explain_an_empty_result(round_db):
    res = CliRunner().invoke(main, ["recommend", make_brn(1), "-t", "innovation", "--region", "제주", "--lang", "en"])
    assert res.exit_code == 0, res.output
    assert "(no eligible firm found)" in res.output and "are debarred" in res.output
    assert "→ product 4015156601" in res.output
    res = CliRunner().invoke(main, ["recommend", make_brn(1), "-t", "innovation", "--region", "제주", "--json"])
    data = json.loads(res.output)
    assert data["empty_reason"]["counts"]["certificate_missing"] == 2


def test_web_and_api_explain_an_empty_result(round_db):
    from web import create_app
    app = create_app({"TESTING": True, "DATABASE_URL": round_db, "WTF_CSRF_ENABLED": False, "SECRET_KEY": "x"})
    client = app.test_client()
    page = client.get(f"/firms/{make_brn(1)}?track=innovation&region=제주").get_data(as_text=True)
    assert "결과가 없는 이유" in page and "부정당업자 제재 중" in page and "4015156601" in page
    data = client.get(f"/api/v1/firms/{make_brn(1)}/recommendations?track=innovation&region=제주").get_json()
    assert data["recommendations"] == [] and data["empty_reason"]["counts"]["debarred"] == 1
    page = client.get(f"/firms/{make_brn(1)}?track=innovation").get_data(as_text=True)
    assert page.count('class="inline interest"') == 1  # only the applicant can be asked through the round


def test_why_not_says_when_an_eligible_firm_is_not_in_the_list(round_db):
    with db.transaction(round_db) as s:
        why = directory.why_not(s, make_brn(1), make_brn(3), "innovation", applicants_only=True)
        assert why["eligible"] and not why["in_pool"] and "신청하지 않아" in why["pool_note"]["ko"]
        why = directory.why_not(s, make_brn(1), make_brn(3), "innovation", filters={"region": "서울"})
        assert why["eligible"] and not why["in_pool"] and "outside the filters" in why["pool_note"]["en"]
        why = directory.why_not(s, make_brn(1), make_brn(3), "innovation")
        assert why["in_pool"] and "has not applied" in why["pool_note"]["en"]
        why = directory.why_not(s, make_brn(1), make_brn(2), "innovation")
        assert why["in_pool"] and why["pool_note"] is None
        why = directory.why_not(s, make_brn(1), "협력", "innovation")  # 신청 협력, 미신청 협력
        assert why["other"] is None and {c.name for c in why["candidates"]} == {"신청 협력", "미신청 협력"}


def test_a_planned_product_decides_the_certificate_asked_for(round_db):
    with db.transaction(round_db) as s:
        res = directory.recommend(s, make_brn(1), track="innovation", product="4015156601")
        assert [r["name"] for r in res["recommendations"]] == ["다른 물품"]


@pytest.mark.parametrize("field, value, words", [("ksic", "999", "KSIC"), ("g2b", "2513189", "물품분류번호"),
                                                 ("ksic", "26421, 12", "KSIC"), ("g2b", "abcdefgh", "물품분류번호")])
def test_describe_refuses_malformed_codes_beside_their_field(round_db, field, value, words):
    from web import create_app
    app = create_app({"TESTING": True, "DATABASE_URL": round_db, "WTF_CSRF_ENABLED": False, "SECRET_KEY": "x"})
    response = app.test_client().post("/describe", data={"name": "x", "size": "소기업", "track": "materials",
                                                          field: value})
    page = response.get_data(as_text=True)
    assert response.status_code == 400 and words in page and f'value="{value}"' in page
    assert 'class="field-error"' in page


# --- the stored index ---------------------------------------------------------------------------------------

FIRMS_CSV = "사업자등록번호,회사명,기업규모,설립일,지역,업종코드,물품분류번호,제품기술,인증\n{brn},새 협력사,중기업,2015-01-01,대전,26421,46171610,펌프 부품 제조,직접생산확인:4015151301:2024-01-01~2027-12-31\n"


def test_the_index_is_stored_and_follows_imports_without_refitting(round_db):
    with db.transaction(round_db) as s:
        index, _seconds = directory.build_and_save(s)
        model = index.model
    store.forget()
    with db.transaction(round_db) as s:
        assert directory.stored_info(s).version == directory.data_version(s)  # committed with it
        assert directory.current_index(s).version == index.version  # loaded from the database, not rebuilt
        new = make_brn(77)
        importer.import_firms(io.BytesIO(FIRMS_CSV.format(brn=new).encode()), s, filename="firms.csv")
    with db.transaction(round_db) as s:
        res = directory.recommend(s, make_brn(1), track="innovation")
        assert new in {r["brn"] for r in res["recommendations"]}
        assert directory.stored_info(s).version != directory.data_version(s)  # a read never stores (issue 22)
    with db.transaction(round_db) as s:
        directory.store_current(s)  # the writers' call: an import job, the server's start
    with db.transaction(round_db) as s:
        info = directory.stored_info(s)
        assert info.version == directory.data_version(s) and info.fitted == "transform"
        fresh = directory.current_index(s)
        assert fresh.model.tfidf_.vocabulary_ == model.tfidf_.vocabulary_  # the same fitted model
    res = CliRunner().invoke(main, ["index", "status"])
    assert res.exit_code == 0 and "up to date" in res.output
    res = CliRunner().invoke(main, ["index", "build"])
    assert res.exit_code == 0 and "index built" in res.output and "firms" in res.output


def test_a_certificate_change_alone_reaches_the_index(round_db):
    with db.transaction(round_db) as s:
        directory.build_and_save(s)
        assert make_brn(9) not in {r["brn"] for r in directory.recommend(s, make_brn(1), track="innovation")["recommendations"]}
        row = db.get_firm(s, make_brn(9))
        row.certificates = [db.CertificateRow(kind="direct_production", code=PRODUCT, valid_from=date(2024, 1, 1),
                                              valid_to=date(2027, 1, 1))]
    with db.transaction(round_db) as s:
        assert make_brn(9) in {r["brn"] for r in directory.recommend(s, make_brn(1), track="innovation")["recommendations"]}


def test_no_query_path_fits_a_text_model(round_db, monkeypatch):
    """Directory, round applicants only, pair detail, why-not, the pages, the API and the CLI: transform only."""
    from matcher import features, scoring
    from web import create_app
    with db.transaction(round_db) as s:
        directory.build_and_save(s)

    def refuse(*_args, **_kwargs):
        raise AssertionError("a query fitted a text model")
    monkeypatch.setattr(features.TextVectorizer, "fit_transform", refuse)
    monkeypatch.setattr(features.TextVectorizer, "fit", refuse)
    monkeypatch.setattr(scoring, "text_similarity", refuse)  # explain() without the index's text value
    with db.transaction(round_db) as s:
        for track in ("innovation", "materials"):
            for as_partner in (False, True):
                for only in (False, True):
                    directory.recommend(s, make_brn(1), track=track, as_partner=as_partner, applicants_only=only)
                    directory.recommend(s, make_brn(2), track=track, as_partner=as_partner, applicants_only=only)
        assert directory.pair_detail(s, make_brn(1), make_brn(2), "innovation")["score"] > 0
        assert directory.why_not(s, make_brn(1), make_brn(3), "innovation")["eligible"]
    client = create_app({"TESTING": True, "DATABASE_URL": round_db, "SECRET_KEY": "x"}).test_client()
    for path in (f"/firms/{make_brn(1)}", f"/firms/{make_brn(1)}?track=innovation&applicants_only=1",
                 f"/firms/{make_brn(2)}?track=innovation&as_partner=1", f"/firms/{make_brn(1)}/partners/{make_brn(2)}?track=innovation",
                 f"/firms/{make_brn(1)}/why-not?track=innovation&other={make_brn(3)}",
                 f"/api/v1/firms/{make_brn(1)}/recommendations?track=innovation&applicants_only=1"):
        assert client.get(path).status_code == 200, path
    for args in (["recommend", make_brn(1), "--applicants-only"], ["recommend", make_brn(2), "--as", "partner", "-t", "materials"]):
        res = CliRunner().invoke(main, args, env={"DATABASE_URL": round_db})
        assert res.exit_code == 0, res.output


def test_shown_firms_read_as_plain_rows_are_the_stored_firms(round_db):
    from sqlalchemy import select
    from matcher.directory.service import _load_firms
    with db.transaction(round_db) as s:
        rows = list(s.scalars(select(db.FirmRow)))
        assert _load_firms(s, [r.id for r in rows]) == {r.id: db.firm_from_row(r) for r in rows}
        assert _load_firms(s, []) == {}


# --- the index against the pure functions and the rules, on a generated directory -----------------------------

WORDS = ["펌프", "밸브", "카메라", "드론", "센서", "조명", "제어", "모듈", "렌즈", "배터리", "소프트웨어", "계측"]
PRODUCTS = ["4015151301", "4015156601", "4617161001", "2513189901"]


def _random_directory(url, n=70, seed=5):
    rng = np.random.default_rng(seed)
    sizes = ["소상공인", "소기업", "중기업", "중견기업", "대기업"]
    kinds = ["direct_production", "materials_parts", "patent", "rnd_product", "venture"]
    with db.transaction(url) as s:
        rnd = db.RoundRow(name="R", reference_date=REF, open_tracks=["innovation", "materials", "convergence",
                                                                      "construction"])
        s.add(rnd)
        rows = []
        for i in range(n):
            certs = []
            for _ in range(int(rng.integers(0, 3))):
                kind = str(rng.choice(kinds))
                code = str(rng.choice(PRODUCTS)) if kind == "direct_production" else str(rng.choice(["", "40151513", "46171610"]))
                start = date(int(rng.integers(2022, 2027)), 1, 1)
                certs.append((kind, code, start, date(start.year + int(rng.integers(1, 4)), 6, 30)))
            licences = [{"kind": "general", "work_type": str(rng.choice(["건축", "토목"]))}] if rng.random() < 0.3 else []
            debar = rng.random() < 0.08
            rows.append(_firm(i, f"기업{i}", size=str(rng.choice(sizes, p=[0.2, 0.3, 0.3, 0.1, 0.1])),
                              region=str(rng.choice(["대전", "서울", "부산", "경기"])), certs=certs,
                              founded=date(int(rng.integers(2005, 2025)), 2, 28), licences=licences,
                              ksic=[str(rng.choice(["26421", "29131", "28123"]))],
                              g2b=[str(rng.choice(["46171610", "40151513", "25131899"]))],
                              description=" ".join(rng.choice(WORDS, size=4)),
                              affiliate_group=str(rng.choice(["A", "B"])) if rng.random() < 0.15 else None,
                              debarred_from=date(2026, 1, 1) if debar else None,
                              debarred_to=date(2026, 12, 31) if debar else None))
        s.add_all(rows)
        s.flush()
        for i, row in enumerate(rows):
            if rng.random() < 0.5:
                track = str(rng.choice(["innovation", "materials", "convergence", "construction"]))
                role = str(rng.choice(["lead", "partner"]))
                product = str(rng.choice(PRODUCTS)) if role == "lead" and track == "innovation" else ""
                s.add(db.ApplicationRow(round_id=rnd.id, firm_id=row.id, role=role, track=track,
                                        product_code=product, text=" ".join(rng.choice(WORDS, size=3))))
    return url


def test_the_index_gives_the_same_results_as_the_pure_functions(db_url):
    _random_directory(db_url)
    with db.transaction(db_url) as s:
        index = directory.current_index(s)
        from sqlalchemy import select
        firms = {row.id: db.firm_from_row(row) for row in s.scalars(select(db.FirmRow))}
        rnd = db.get_round(s, "R")
        apps = directory.round_applications(s, rnd)
        rules, on = directory.rules_and_day(rnd)
        checked = 0
        for firm_id, firm in firms.items():
            for track in ("innovation", "materials", "construction"):
                for as_partner in (False, True):
                    res = directory.recommend(s, firm.brn, track=track, as_partner=as_partner, k=8)
                    role, other = ("partner", "lead") if as_partner else ("lead", "partner")
                    side = {a.firm_id: db.application_from_row(a) for a in apps if a.role == other and a.track == track}
                    own = next((db.application_from_row(a) for a in apps
                                if a.firm_id == firm_id and a.role == role and a.track == track), None)
                    pool = [(firms[i], side.get(i)) for i in sorted(firms)]
                    if as_partner:
                        slow = recommend_leads(firm, track, 8, leads=pool, rules=rules, on=on, partner_application=own,
                                               text_model=index.model).recommendations
                    else:
                        slow = recommend_partners(firm, track, 8, partners=pool, rules=rules, on=on,
                                                  lead_application=own, text_model=index.model)
                    fast = [(r["brn"], r["score"], r["applied"]) for r in res["recommendations"]]
                    applied = {firms[i].brn for i in side}
                    assert fast == [(r.firm.brn, round(r.score, 4), r.firm.brn in applied) for r in slow], (firm.brn, track)
                    checked += len(fast)
        assert checked > 300


def test_vectorised_eligibility_agrees_with_the_rules(db_url):
    _random_directory(db_url, n=60, seed=11)
    rules = load_rules()
    with db.transaction(db_url) as s:
        from sqlalchemy import select
        index = directory.current_index(s)
        rnd = db.get_round(s, "R")
        rows = list(s.scalars(select(db.FirmRow).order_by(db.FirmRow.id)))
        firms = [db.firm_from_row(r) for r in rows]
        for day in (REF, date(2027, 3, 1)):
            for key in ("innovation", "materials", "convergence", "construction"):
                rule = rules[key]
                for i in range(0, len(firms), 7):
                    lead = firms[i]
                    asker = asker_from_index(index, i)
                    for product in ("", "4015151301", "4015151312345678"):
                        fails = partner_failures(index, rule, day.toordinal(), product, asker)
                        slow = [not partner_reasons(rule, p, day, product) and p.brn != lead.brn
                                and not (lead.affiliate_group and lead.affiliate_group == p.affiliate_group)
                                for p in firms]
                        if not lead_reasons(rule, lead, day):  # then the pair rules say the same
                            assert slow == [not pair_reasons(rule, lead, p, day, product) for p in firms]
                        assert (fails < 0).tolist() == slow, (key, lead.brn, product, day)
                    leads_fail = lead_failures(index, rule, day.toordinal(), np.array([""] * len(firms), dtype=object),
                                               asker, asker.certs)
                    # a lead's applied product: from the application rows as the service passes them, and as strings
                    app_of = np.full(len(firms), -1, dtype=np.int64)
                    positions, app_rows = index.applications(rnd.id, key, "lead")
                    app_of[positions] = app_rows
                    products = np.array([""] * len(firms), dtype=object)
                    products[positions] = index.app_docs.product[app_rows]
                    by_rows = lead_failures(index, rule, day.toordinal(), asker=asker, asker_certs=asker.certs,
                                            app_of=app_of)
                    assert by_rows.tolist() == lead_failures(index, rule, day.toordinal(), products, asker,
                                                             asker.certs).tolist()
                    if not partner_reasons(rule, lead, day, ""):  # the asker may partner: the pair rules decide
                        assert (by_rows < 0).tolist() == [not pair_reasons(rule, p, lead, day, products[j])
                                                          for j, p in enumerate(firms)], (key, lead.brn, day)
                    expected = [not lead_reasons(rule, p, day) and p.brn != lead.brn
                                and not (lead.affiliate_group and lead.affiliate_group == p.affiliate_group)
                                for p in firms]
                    assert (leads_fail < 0).tolist() == expected, (key, lead.brn, day)


def test_partner_rules_alone_count_the_same_as_the_rules(rules, make_firm):
    from matcher.directory.index import build_index, PARTNER_CHECKS
    import pandas as pd
    firms = pd.DataFrame([dict(id=1, brn="1078153660", name="a", size_class="대기업", region="대전", founded=None,
                               ksic_codes=[], g2b_codes=[], description="", licences=[], debarred_from=None,
                               debarred_to=None, affiliate_group=None)])
    certs = pd.DataFrame([dict(firm_id=1, kind="patent", code="40151513", valid_from=None, valid_to=None)])
    apps = pd.DataFrame(columns=["id", "round_id", "firm_id", "role", "track", "product_code", "text"])
    index = build_index(firms, certs, apps)
    fails = partner_failures(index, rules["innovation"], REF.toordinal())
    assert PARTNER_CHECKS[fails[0]] == "partner_size"
    assert partner_failures(index, rules["materials"], REF.toordinal())[0] == -1
    assert Certificate("patent").valid_on(REF)


def test_the_index_is_stored_and_read_the_same_on_postgresql_and_sqlite(db_url, tmp_path):
    # db_url is PostgreSQL in CI's second pass (TEST_DATABASE_URL), a SQLite file otherwise
    sqlite = f"sqlite:///{tmp_path / 'same.sqlite'}"
    db.init_db(sqlite)
    answers = []
    for where in (db_url, sqlite):
        _random_directory(where, n=40, seed=3)
        with db.transaction(where) as s:
            directory.build_and_save(s)
        store.forget()
        with db.transaction(where) as s:
            assert directory.current_index(s).version == directory.stored_info(s).version
            rows = [directory.recommend(s, make_brn(i), track="materials", k=5)["recommendations"] for i in range(0, 40, 4)]
            answers.append([[(r["brn"], r["score"]) for r in row] for row in rows])
    assert answers[0] == answers[1] and any(answers[0])



def test_a_firm_s_round_is_asked_once_per_request_and_follows_a_write(round_db):
    from sqlalchemy import event
    with db.transaction(round_db) as s:
        firm = directory.get_firm(s, make_brn(1))
        directory.current_index(s)  # built (or loaded) before counting
        statements = []
        listen = lambda *args: statements.append(args[2])  # noqa: E731
        event.listen(s.get_bind(), "before_cursor_execute", listen)
        try:
            assert directory.resolve_round(s, firm).name == "R1"
            assert directory.resolve_round(s, firm, "R1").name == "R1" and directory.round_named(s).name == "R1"
            assert directory.resolve_round(s, firm).name == "R1"
            asked = len(statements)
        finally:
            event.remove(s.get_bind(), "before_cursor_execute", listen)
        assert asked == 1  # the rounds, once (the firm's own rounds are the index's applications)
        later = db.RoundRow(name="R2", reference_date=date(2026, 9, 1), open_tracks=["innovation"])
        s.add(later)
        s.flush()
        s.add(db.ApplicationRow(round_id=later.id, firm_id=firm.id, role="lead", track="innovation", text=""))
        s.flush()
        assert directory.resolve_round(s, firm).name == "R2" and directory.round_named(s).name == "R2"


@settings(max_examples=200, deadline=None)
@given(st.lists(st.lists(st.integers(-3, 12), min_size=3, max_size=3), min_size=0, max_size=30),
       st.lists(st.integers(-3, 12), min_size=1, max_size=12))
def test_key_lookups_agree_with_numpy_isin(block, wanted):
    # the few-keys comparison the scores use, against np.isin (its other branch past 8 keys included)
    from matcher.directory.index import _any_in, _in
    block = np.array(block, dtype=np.int64).reshape(-1, 3)
    keys = np.array(wanted, dtype=np.int64)
    assert np.array_equal(_any_in(block, keys), np.isin(block, keys).any(axis=1))
    assert np.array_equal(_in(block[:, 0], wanted), np.isin(block[:, 0], wanted))


def test_kept_firms_follow_a_committed_change_and_keep_nothing_of_a_rolled_back_one(round_db):
    """The shown firms kept with the index (service._shown_firms) are the database's after a change this
    process commits, and a change rolled back after a query in its own transaction leaves no trace."""
    from matcher.directory.service import stored_firm

    def shown(s):
        return {r["brn"]: r["name"] for r in directory.recommend(s, make_brn(1), track="innovation")["recommendations"]}

    with db.transaction(round_db) as s:
        assert shown(s)[make_brn(3)] == "미신청 협력"
        assert stored_firm(s, make_brn(3)).firm == db.firm_from_row(directory.get_firm(s, make_brn(3)))
    with db.transaction(round_db) as s:
        directory.get_firm(s, make_brn(3)).name = "새 이름 협력"
    with db.transaction(round_db) as s:
        assert shown(s)[make_brn(3)] == "새 이름 협력"
        assert stored_firm(s, make_brn(3)).name == "새 이름 협력"
    s = db.session_factory(round_db)()
    try:
        directory.get_firm(s, make_brn(3)).name = "되돌릴 이름"
        s.flush()
        assert shown(s)[make_brn(3)] == "되돌릴 이름"  # its own transaction sees its change
        assert stored_firm(s, make_brn(3)).name == "되돌릴 이름"
        s.rollback()
    finally:
        s.close()
    with db.transaction(round_db) as s:
        assert shown(s)[make_brn(3)] == "새 이름 협력"
        assert stored_firm(s, make_brn(3)).name == "새 이름 협력"


def test_the_firm_page_reads_its_firm_as_the_database_has_it(round_db):
    """stored_firm (no ORM row) gives every firm as get_firm does, and the same errors."""
    from matcher.directory.service import stored_firm
    from matcher.errors import MatcherError, NotFoundError
    with db.transaction(round_db) as s:
        for n in range(1, 10):
            row = directory.get_firm(s, make_brn(n))
            found = stored_firm(s, f" {make_brn(n)[:3]}-{make_brn(n)[3:5]}-{make_brn(n)[5:]} ")
            assert (found.id, found.firm) == (row.id, db.firm_from_row(row))
        with pytest.raises(NotFoundError):
            stored_firm(s, make_brn(60))
        with pytest.raises(MatcherError, match="1234567890"):
            stored_firm(s, "1234567890")


@settings(max_examples=300, deadline=None)
@given(st.integers(1, 40), st.integers(1, 30), st.floats(0.02, 0.6), st.integers(0, 2 ** 31 - 1))
def test_term_sums_are_scipy_s_product_to_the_last_bit(n_docs, n_terms, density, seed):
    """index.term_sums (plain NumPy) against the scipy expression it replaced, exactly equal."""
    from scipy import sparse

    from matcher.directory import index as index_module
    from matcher.directory.index import term_sums
    rng = np.random.default_rng(seed)
    x = sparse.random(n_docs, n_terms, density=density, format="csr", dtype=np.float32, random_state=rng)
    xt = x.T.tocsr()
    q = sparse.random(1, n_terms, density=density, format="csr", dtype=np.float32, random_state=rng)
    weights = q.data.astype(np.float64)
    expected = np.asarray(xt[q.indices].T @ weights).ravel()
    assert np.array_equal(term_sums(xt, q.indices, weights, n_docs), expected)
    saved, index_module.GATHER_ENTRIES = index_module.GATHER_ENTRIES, 0  # scipy's own product above the limit
    try:
        assert np.array_equal(term_sums(xt, q.indices, weights, n_docs), expected)
    finally:
        index_module.GATHER_ENTRIES = saved


def test_a_firm_s_round_follows_an_application_committed_elsewhere(round_db):
    """The firm's own rounds come from the index: a committed application moves its page to that round."""
    with db.transaction(round_db) as s:
        assert directory.resolve_round(s, directory.get_firm(s, make_brn(3))).name == "R1"  # no application: the latest
    with db.transaction(round_db) as s:
        older = db.RoundRow(name="R0", reference_date=date(2025, 3, 1), open_tracks=["innovation"])
        s.add(older)
        s.flush()
        s.add(db.ApplicationRow(round_id=older.id, firm_id=directory.get_firm(s, make_brn(3)).id, role="partner",
                                track="innovation", text=""))
    with db.transaction(round_db) as s:
        assert directory.resolve_round(s, directory.get_firm(s, make_brn(3))).name == "R0"
        assert directory.resolve_round(s, directory.get_firm(s, make_brn(1))).name == "R1"


def test_rounds_are_read_as_plain_rows_and_see_the_transaction_s_own_rounds(round_db):
    """The rounds the SME pages read (one plain statement) are the ORM's, and a round added but not yet
    flushed in the same transaction is listed (as the ORM query's autoflush listed it)."""
    from sqlalchemy import select
    with db.transaction(round_db) as s:
        listed = directory.list_rounds(s)
        orm = list(s.scalars(select(db.RoundRow).order_by(db.RoundRow.id.desc())))
        columns = ("id", "name", "reference_date", "open_tracks", "rule_overrides", "created_at")
        assert [[getattr(r, c) for c in columns] for r in listed] == [[getattr(r, c) for c in columns] for r in orm]
    with db.transaction(round_db) as s:
        s.add(db.RoundRow(name="R9", reference_date=date(2027, 3, 1), open_tracks=["materials"]))
        assert directory.round_named(s).name == "R9" and directory.round_named(s, "R9").open_tracks == ["materials"]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.sampled_from([0.0, 0.25, 0.5, 1 / 3, 0.1 + 0.2, 0.3, 0.7]), st.integers(0, 60)),
                min_size=0, max_size=300, unique_by=lambda t: t[1]), st.integers(1, 12))
def test_top_k_is_the_full_sort_by_score_then_brn(pairs, k):
    """index.top_k (a partial sort, keys read once) against sorting every firm by (-score, 사업자등록번호)."""
    from matcher.directory.index import top_k
    scores = np.array([s for s, _ in pairs], dtype=np.float64)
    brns = np.array([f"{b:010d}" for _, b in pairs], dtype=object)
    expected = sorted(range(len(pairs)), key=lambda i: (-round(float(scores[i]), 12), brns[i]))[:k]
    assert top_k(scores, brns, k).tolist() == expected


def test_kept_firms_are_whole_for_every_thread_when_the_store_is_cleared(round_db, monkeypatch):
    """Four threads asking for firms while a tiny store (two firms kept) is cleared on almost every read: each
    gets every firm it asked for (a clear between another thread's update and read lost them: a 500). The
    test counts the clears that fell while another thread was inside its look-up, so it fails when the
    interleaving that broke the old code never happened."""
    import sys
    import threading

    from matcher.directory import service
    monkeypatch.setenv("MATCHER_FIRMS_KEPT", "2")
    inside, overlapping = set(), []

    class Kept(dict):
        def clear(self):
            if inside - {threading.get_ident()}:
                overlapping.append(1)
            super().clear()

    with db.transaction(round_db) as s:
        index = directory.current_index(s)
        ids = [int(i) for i in index.firm_id]
    index.forget("shown_firms")
    index.derived("shown_firms", Kept)
    factory, failures = db.session_factory(round_db), []

    def ask(seed):
        rng = np.random.default_rng(seed)
        with factory() as s:
            for _ in range(150):
                wanted = rng.choice(ids, size=4, replace=False).tolist()
                inside.add(threading.get_ident())
                got = service._shown_firms(s, index, wanted)
                inside.discard(threading.get_ident())
                if sorted(got) != sorted(wanted):
                    failures.append((wanted, sorted(got)))

    old = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        threads = [threading.Thread(target=ask, args=(i,)) for i in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        sys.setswitchinterval(old)
    assert overlapping, "no clear fell inside another thread's look-up: the race was not exercised"
    assert not failures, failures[:3]


def test_the_firms_kept_are_read_from_the_environment_when_used(monkeypatch):
    """MATCHER_FIRMS_KEPT as the process has it now (not at import); a bad value is refused by name."""
    from matcher.directory import service
    from matcher.errors import MatcherError
    monkeypatch.setenv("MATCHER_FIRMS_KEPT", "7")
    assert service.firms_kept() == 7
    monkeypatch.delenv("MATCHER_FIRMS_KEPT")
    assert service.firms_kept() == service.FIRMS_KEPT
    monkeypatch.setenv("MATCHER_FIRMS_KEPT", "many")
    with pytest.raises(MatcherError, match="MATCHER_FIRMS_KEPT 'many' is not a whole number"):
        service.firms_kept()
