import io
import unicodedata
from datetime import date

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from matcher import codes, db, importer
from matcher.errors import ValidationError
from matcher.paths import DATA_DIR
from matcher.validate import FIRM_REQUIRED
from matcher.firms import brn_check_digit, format_brn
from matcher.validate import parse_certificate, parse_date, parse_period

from helpers import make_brn

HEADER_KO = "사업자등록번호,회사명,기업규모,설립일,지역,업종코드,물품분류번호,제품기술,인증,건설면허,제재기간,계열그룹"
GOOD_ROWS = [
    "107-81-53660,한빛테크,소기업,2021-03-02,서울특별시,26519,46171610,AI 기반 CCTV 영상분석,"
    "직접생산확인:4617161002:2024-01-01~2026-12-31; 벤처::2023-01-01~2026-12-31,,,",
    "2208162517,대성건설,대기업,1990-05-01,경기,41121,,공공청사 시공,,종합:건축; 전문:전기,,대성그룹",
]
FIRMS_CSV = "\n".join([HEADER_KO, *GOOD_ROWS]) + "\n"
ROUND = "2026년 2차"


def _frame(**cells):
    base = {"brn": "107-81-53660", "name": "한빛테크", "size_class": "소기업", "region": "서울"}
    base.update(cells)
    return importer.read_table(io.BytesIO(pd.DataFrame([base]).to_csv(index=False).encode()), filename="x.csv")



@pytest.fixture
def session(db_url):
    with db.transaction(db_url) as s:
        s.add(db.RoundRow(name=ROUND, reference_date=date(2026, 10, 1),
                          open_tracks=["innovation", "materials", "convergence", "construction"]))
    with db.transaction(db_url) as s:
        yield s


def _count(session, row_type):
    return session.scalar(select(func.count()).select_from(row_type))


# --- validators: property tests ---------------------------------------------------------------


@given(st.text(alphabet="0123456789", min_size=9, max_size=9), st.booleans())
def test_any_valid_brn_with_or_without_dashes_validates(nine, dashed):
    digits = nine + str(brn_check_digit(nine))
    records, problems = importer.validate_firms(_frame(brn=format_brn(digits) if dashed else digits))
    assert problems == []
    assert records[0][1].brn == digits


@settings(suppress_health_check=[HealthCheck.filter_too_much])
@given(st.text(min_size=1, max_size=14).filter(lambda t: t.strip() and "\n" not in t and "\r" not in t
                                                 and not t.strip().replace("-", "").isdigit()))
def test_junk_brn_is_refused_naming_row_column_and_value(junk):
    _records, problems = importer.validate_firms(_frame(brn=junk))
    assert [(p.row, p.column) for p in problems] == [(2, "brn")]
    # the value as typed, or as read in NFC (豈 U+F900 is 豈 U+8C48) where the cell was cleaned first
    assert unicodedata.normalize("NFC", problems[0].value) == unicodedata.normalize("NFC", junk).strip()


_JUNK = st.text(alphabet="xyzqwXYZ!?#@ 가나다", min_size=1, max_size=10).filter(
    lambda t: t.strip() and t.strip().lower() not in {"micro", "small", "medium", "large"})


@given(st.sampled_from(["size_class", "founded", "region", "ksic", "g2b", "certificates", "licences", "debarment"]),
       _JUNK)
def test_junk_in_any_checked_field_is_refused_naming_it(column, junk):
    _records, problems = importer.validate_firms(_frame(**{column: junk}))
    assert [(p.row, p.column, p.value) for p in problems] == [(2, column, junk.strip())]


@given(st.dates(min_value=date(1900, 1, 1), max_value=date(2100, 12, 31)),
       st.sampled_from(["%Y-%m-%d", "%Y.%m.%d", "%Y/%m/%d", "%Y%m%d", "%Y-%m-%d 00:00:00"]))
def test_dates_in_usual_formats_parse_back(day, fmt):
    assert parse_date(day.strftime(fmt)) == day


@given(st.text(max_size=12).filter(lambda t: not any(c.isdigit() for c in t)))
def test_text_without_digits_is_not_a_date(text):
    with pytest.raises(ValueError):
        parse_date(text)


@given(st.dates(), st.dates())
def test_periods_must_not_end_before_they_start(a, b):
    if a <= b:
        assert parse_period(f"{a}~{b}") == (a, b)
    else:
        with pytest.raises(ValueError, match="starts after it ends"):
            parse_period(f"{a}~{b}")


@given(st.sampled_from(sorted(codes.regions())))
def test_long_region_names_are_repaired_with_a_note(short):
    notes = []
    records, problems = importer.validate_firms(_frame(region=codes.regions()[short].name), notes)
    assert problems == [] and records[0][1].region == short
    assert notes and notes[0].column == "region"


# --- validators: examples ---------------------------------------------------------------------


def test_certificates_in_korean_or_english_kinds():
    cert = parse_certificate("직접생산확인:4617161002:2024-01-01~2026-12-31")
    assert (cert.kind, cert.code, cert.valid_from, cert.valid_to) == (
        "direct_production", "4617161002", date(2024, 1, 1), date(2026, 12, 31))
    assert parse_certificate("venture::2023-01-01~").valid_to is None
    assert parse_certificate("창업기업 확인").kind == "startup"
    with pytest.raises(ValueError, match="without the 세부품명번호"):
        parse_certificate("직접생산확인::2024-01-01~2026-12-31")


def test_every_bad_field_of_every_row_is_reported():
    csv = "\n".join([HEADER_KO, GOOD_ROWS[0],
                     "123-45-67890,나쁜회사,거대기업,2021-13-02,화성,2651,4617,설명,이상한인증,면허:x,2026-12-31~2026-01-01,",
                     "107-81-53660,중복회사,소기업,,서울,,,,,,,",
                     ",,,,,,,,,,,x"]) + "\n"
    frame = importer.read_table(io.BytesIO(csv.encode()), filename="f.csv")
    _records, problems = importer.validate_firms(frame)
    found = {(p.row, p.column) for p in problems}
    assert {(3, c) for c in ("brn", "size_class", "founded", "region", "ksic", "g2b", "certificates",
                             "licences", "debarment")} <= found
    assert (4, "brn") in found  # repeats row 2
    assert {(5, "brn"), (5, "name"), (5, "size_class"), (5, "region")} <= found
    bad = next(p for p in problems if (p.row, p.column) == (3, "brn"))
    assert bad.value == "123-45-67890" and "check digit" in str(bad.reason)
    assert "row 3, brn: '123-45-67890' fails its check digit" in str(ValidationError(problems))


def test_missing_required_column_is_one_problem_without_a_row():
    frame = importer.read_table(io.BytesIO("회사명,지역\n한빛,서울\n".encode()), filename="f.csv")
    _records, problems = importer.validate_firms(frame)
    assert {(p.row, p.column) for p in problems} == {(None, "brn"), (None, "size_class")}


# --- reading ----------------------------------------------------------------------------------


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "cp949", "euc-kr"])
def test_csv_encodings_read_the_same(tmp_path, encoding):
    path = tmp_path / "firms.csv"
    path.write_bytes(FIRMS_CSV.encode(encoding))
    frame = importer.read_table(path)
    assert list(frame.columns[:5]) == ["brn", "name", "size_class", "founded", "region"]
    assert frame.loc[2, "name"] == "한빛테크" and frame.loc[3, "affiliate_group"] == "대성그룹"
    assert list(frame.index) == [2, 3]


def test_explicit_encoding_overrides_detection(tmp_path):
    path = tmp_path / "firms.csv"
    path.write_bytes(FIRMS_CSV.encode("cp949"))
    with pytest.raises(ValidationError, match="cannot decode"):
        importer.read_table(path, encoding="utf-8")
    assert importer.read_table(path, encoding="cp949").loc[2, "name"] == "한빛테크"


def test_xlsx_keeps_leading_zeros_of_text_cells(tmp_path):
    frame = pd.read_csv(io.StringIO(FIRMS_CSV), dtype=str).fillna("")
    frame.loc[0, "업종코드"] = "01110"
    frame.to_excel(tmp_path / "firms.xlsx", index=False)
    read = importer.read_table(tmp_path / "firms.xlsx")
    assert read.loc[2, "ksic"] == "01110"
    assert read.loc[2, "brn"] == "107-81-53660"


def test_uploaded_file_objects_with_a_filename(tmp_path):
    pd.read_csv(io.StringIO(FIRMS_CSV), dtype=str).fillna("").to_excel(tmp_path / "f.xlsx", index=False)
    upload = io.BytesIO((tmp_path / "f.xlsx").read_bytes())
    assert len(importer.read_table(upload, filename="upload.XLSX")) == 2
    assert len(importer.read_table(io.BytesIO(FIRMS_CSV.encode("cp949")), filename="up.csv")) == 2


@pytest.mark.parametrize("name, content", [("empty.csv", b""), ("fake.xlsx", b"not a workbook")])
def test_unreadable_files_are_one_problem(name, content):
    with pytest.raises(ValidationError, match="cannot be read as a table") as info:
        importer.read_table(io.BytesIO(content), filename=name)
    assert info.value.source == name


def test_column_mapping_file_for_other_layouts(tmp_path):
    csv = "사업자 번호,업체명,기업 구분,본사 소재지\n107-81-53660,한빛테크,소기업,Seoul\n"
    frame = importer.read_table(io.BytesIO(csv.encode()), filename="x.csv",
                                columns="data/columns.example.toml")
    records, problems = importer.validate_firms(frame)
    assert problems == [] and records[0][1].region == "서울"


def test_blank_lines_do_not_shift_row_numbers():
    csv = HEADER_KO + "\n" + GOOD_ROWS[0] + "\n\n" + GOOD_ROWS[1].replace("2208162517", "bad") + "\n"
    frame = importer.read_table(io.BytesIO(csv.encode()), filename="x.csv")
    _records, problems = importer.validate_firms(frame)
    assert [(p.row, p.column) for p in problems] == [(4, "brn")]


# --- importing firms --------------------------------------------------------------------------


def test_import_then_reimport_changes_nothing(tmp_path, session):
    path = tmp_path / "firms.csv"
    path.write_text(FIRMS_CSV, encoding="utf-8")
    first = importer.import_firms(path, session)
    assert (first.inserted, first.updated, first.unchanged) == (2, 0, 0)
    session.flush()
    second = importer.import_firms(path, session)
    assert (second.inserted, second.updated, second.unchanged, second.rejected) == (0, 0, 2, 0)
    firm = db.firm_from_row(db.get_firm(session, "107-81-53660"))
    assert firm.region == "서울" and [c.kind for c in firm.certificates] == ["direct_production", "venture"]
    builder = db.firm_from_row(db.get_firm(session, "2208162517"))
    assert [(l.kind, l.work_type) for l in builder.licences] == [("general", "건축"), ("specialty", "전기")]


def test_changed_rows_update_and_certificates_are_replaced(tmp_path, session):
    path = tmp_path / "firms.csv"
    path.write_text(FIRMS_CSV, encoding="utf-8")
    importer.import_firms(path, session)
    path.write_text(FIRMS_CSV.replace("; 벤처::2023-01-01~2026-12-31", "").replace("대성건설", "대성종합건설"),
                    encoding="utf-8")
    result = importer.import_firms(path, session)
    assert (result.inserted, result.updated, result.unchanged) == (0, 2, 0)
    assert [c.kind for c in db.get_firm(session, "1078153660").certificates] == ["direct_production"]
    assert db.get_firm(session, "2208162517").name == "대성종합건설"


def test_reimport_with_fewer_columns_keeps_what_the_file_does_not_mention(tmp_path, session):
    path = tmp_path / "firms.csv"
    path.write_text(FIRMS_CSV.replace("대성건설,대기업,1990-05-01,경기,41121,,공공청사 시공,,종합:건축; 전문:전기,,",
                                      "대성건설,대기업,1990-05-01,경기,41121,,공공청사 시공,"
                                      "직접생산확인:4617161002:2024-01-01~2026-12-31,종합:건축,"
                                      "2026-01-01~2026-12-31,"), encoding="utf-8")
    importer.import_firms(path, session)
    before = db.firm_from_row(db.get_firm(session, "2208162517"))
    assert before.debarred_to == date(2026, 12, 31) and before.affiliate_group == "대성그룹"
    path.write_text("사업자등록번호,회사명,기업규모,지역\n2208162517,대성종합건설,대기업,경기\n", encoding="utf-8")
    result = importer.import_firms(path, session)
    assert (result.inserted, result.updated, result.unchanged) == (0, 1, 0)
    after = db.firm_from_row(db.get_firm(session, "2208162517"))
    assert after.name == "대성종합건설"
    assert (after.debarred_from, after.debarred_to) == (date(2026, 1, 1), date(2026, 12, 31))
    assert after.affiliate_group == "대성그룹" and after.founded == date(1990, 5, 1)
    assert [(c.kind, c.code) for c in after.certificates] == [("direct_production", "4617161002")]
    assert [(l.kind, l.work_type) for l in after.licences] == [("general", "건축")]
    assert after.ksic_codes == ["41121"] and after.description == "공공청사 시공"
    # an empty cell in a column the file has still clears the stored value
    path.write_text("사업자등록번호,회사명,기업규모,지역,제재기간,인증\n2208162517,대성종합건설,대기업,경기,,\n",
                    encoding="utf-8")
    importer.import_firms(path, session)
    cleared = db.firm_from_row(db.get_firm(session, "2208162517"))
    assert cleared.debarred_to is None and cleared.certificates == [] and cleared.affiliate_group == "대성그룹"


def test_one_bad_row_refuses_the_whole_file(tmp_path, db_url):
    path = tmp_path / "firms.csv"
    path.write_text(FIRMS_CSV + "123-45-67890,x,소기업,,서울,,,,,,,\n", encoding="utf-8")
    with pytest.raises(ValidationError) as info:
        with db.transaction(db_url) as s:
            importer.import_firms(path, s)
    assert info.value.source == str(path)
    assert [(p.row, p.column, p.value) for p in info.value.problems] == [(4, "brn", "123-45-67890")]
    with db.transaction(db_url) as s:
        assert _count(s, db.FirmRow) == 0


def test_skip_invalid_imports_good_rows_and_writes_rejected_csv(tmp_path, session):
    path = tmp_path / "firms.csv"
    path.write_text(FIRMS_CSV + "123-45-67890,나쁜회사,소기업,,서울,,,,,,,\n", encoding="utf-8")
    result = importer.import_firms(path, session, skip_invalid=True)
    assert (result.inserted, result.rejected) == (2, 1)
    assert result.rejected_path == tmp_path / "firms.csv.rejected.csv"
    raw = result.rejected_path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # BOM so Excel shows Korean
    rejected = pd.read_csv(result.rejected_path, dtype=str, encoding="utf-8-sig")
    assert list(rejected.columns) == ["row", *HEADER_KO.split(","), "reason"]
    assert rejected.loc[0, "회사명"] == "나쁜회사" and "check digit" in rejected.loc[0, "reason"]


def test_uploads_with_skip_invalid_return_the_rejected_rows(session):
    upload = io.BytesIO((FIRMS_CSV + "123-45-67890,나쁜회사,소기업,,서울,,,,,,,\n").encode("cp949"))
    upload.filename = "업체목록.csv"
    result = importer.import_firms(upload, session, skip_invalid=True)
    assert (result.inserted, result.rejected, result.rejected_path) == (2, 1, None)
    assert list(result.rejected_rows["회사명"]) == ["나쁜회사"]
    assert list(result.rejected_rows["row"]) == [4]


def test_a_missing_column_cannot_be_skipped(session):
    with pytest.raises(ValidationError, match="column is missing"):
        importer.import_firms(io.BytesIO("회사명\n한빛\n".encode()), session, filename="x.csv", skip_invalid=True)


# --- importing applications -------------------------------------------------------------------


def _apps_csv(*rows, header="회차,사업자등록번호,역할,과제,신청물품,내용,선호기업"):
    return io.BytesIO(("\n".join([header, *rows]) + "\n").encode("utf-8"))


def test_applications_need_known_firms_and_rounds(session):
    frame = importer.read_table(_apps_csv(
        f"{ROUND},107-81-53660,주관,혁신성장,4617161002,AI CCTV,",
        "없는회차,107-81-53660,주관,혁신성장,4617161002,x,"), filename="a.csv")
    _records, problems = importer.validate_applications(frame, session)
    assert (2, "brn") in {(p.row, p.column) for p in problems}
    round_problem = next(p for p in problems if p.column == "round")
    assert round_problem.row == 3 and "matcher round create '없는회차'" in str(round_problem.reason)
    records, problems = importer.validate_applications(frame.iloc[:1], session, known_brns={"1078153660"})
    assert problems == [] and records[0][1].track == "innovation" and records[0][1].role == "lead"


@pytest.mark.parametrize("track, code, ok", [
    ("혁신성장", "4617161002", True), ("혁신성장", "4617161099", False), ("혁신성장", "4617161002000000", False),
    ("소재부품", "4617161012345678", True), ("materials", "4617161002", False),
    ("기술융합", "4323260801", True), ("convergence", "", False),
    ("역량강화", "", True), ("construction", "12", False), ("가치창출", "4323260801", False),
])
def test_product_code_must_fit_the_track(session, track, code, ok):
    frame = importer.read_table(_apps_csv(f"{ROUND},107-81-53660,lead,{track},{code},x,"), filename="a.csv")
    _records, problems = importer.validate_applications(frame, session, known_brns={"1078153660"})
    assert (problems == []) == ok, problems


@pytest.mark.parametrize("code", ["1017161101", "4617162201", "8111159901", "5612150601"])
def test_a_real_innovation_application_for_any_listed_product_imports(session, code):
    assert code in codes.sme_competition_products()
    frame = importer.read_table(_apps_csv(f"{ROUND},107-81-53660,주관,혁신성장,{code},x,"), filename="a.csv")
    records, problems = importer.validate_applications(frame, session, known_brns={"1078153660"})
    assert problems == [] and records[0][1].product_code == code


def test_every_listed_product_is_accepted_for_innovation(session):
    rows = [f"{ROUND},107-81-53660,주관,혁신성장,{code},x," for code in codes.sme_competition_products()]
    frame = importer.read_table(_apps_csv(*rows), filename="a.csv")
    _records, problems = importer.validate_applications(frame, session, known_brns={"1078153660"})
    assert [p for p in problems if p.column == "product_code"] == []


def test_a_round_before_a_lists_designation_is_judged_on_the_older_list(session):
    from matcher import codelists
    products = codelists.COLUMNS["products"]
    old = pd.DataFrame([("4617162201", "영상감시장치", "영상감시장치")], columns=list(products))
    new = pd.DataFrame([("4617162201", "영상감시장치", ""), ("9999999901", "새 제품", "")], columns=list(products))
    codelists.store_version(session, "products", old, date(2028, 1, 1))
    codelists.store_version(session, "products", new, date(2031, 1, 1))
    session.add_all([db.RoundRow(name="2030년", reference_date=date(2030, 12, 31), open_tracks=["innovation"]),
                     db.RoundRow(name="2031년", reference_date=date(2031, 1, 1), open_tracks=["innovation"])])
    session.flush()
    frame = importer.read_table(_apps_csv("2030년,107-81-53660,주관,혁신성장,9999999901,x,",
                                          "2031년,107-81-53660,주관,혁신성장,9999999901,x,"), filename="a.csv")
    _records, problems = importer.validate_applications(frame, session, known_brns={"1078153660"})
    assert [(p.row, p.column) for p in problems] == [(2, "product_code")]
    assert "in force from Jan 1, 2028" in str(problems[0].reason)


def test_an_unlisted_but_well_formed_detailed_code_is_a_warning_where_no_list_is_required(session):
    notes = []
    frame = importer.read_table(_apps_csv(f"{ROUND},107-81-53660,주관,기술융합,4323260899,x,",
                                          f"{ROUND},107-81-53660,협력,기술융합,4617162201,x,"), filename="a.csv")
    records, problems = importer.validate_applications(frame, session, known_brns={"1078153660"}, notes=notes)
    assert problems == [] and len(records) == 2
    assert [(n.row, n.column, n.value) for n in notes] == [(2, "product_code", "4323260899")]


def test_applications_are_checked_against_their_rounds_rules(session):
    session.add(db.RoundRow(name="특별회차", reference_date=date(2026, 10, 1), open_tracks=["materials", "value"],
                            rule_overrides={"materials": {"product": "detailed"}}))
    session.flush()
    rows = [f"{r},107-81-53660,{role},{t},{code},x," for r, role, t, code in [
        ("특별회차", "lead", "소재부품", "4323260801"),           # 10 digits: the override asks for a 세부품명번호
        ("특별회차", "partner", "소재부품", "4617161012345678"),  # 16 digits: fine by default, not in this round
        ("특별회차", "lead", "가치창출", "4323260801"),           # closed by default, open in this round
        (ROUND, "lead", "소재부품", "4617161012345678"),          # the other round keeps the default rules
        (ROUND, "lead", "가치창출", "4323260801")]]
    frame = importer.read_table(_apps_csv(*rows), filename="a.csv")
    _records, problems = importer.validate_applications(frame, session, known_brns={"1078153660"})
    assert [(p.row, p.column) for p in problems] == [(3, "product_code"), (6, "track")]


def test_round_option_fills_rows_without_a_round_and_upserts_idempotently(tmp_path, session):
    firms = tmp_path / "firms.csv"
    firms.write_text(FIRMS_CSV, encoding="utf-8")
    importer.import_firms(firms, session)
    apps = tmp_path / "apps.csv"
    apps.write_text("사업자등록번호,역할,과제,신청물품,내용,선호기업\n"
                    "107-81-53660,주관,기술융합,4617162201,영상분석,2208162517\n"
                    "2208162517,협력,역량강화,,건축 시공,\n", encoding="utf-8")
    with pytest.raises(ValidationError, match="no round was given"):
        importer.import_applications(apps, session)
    first = importer.import_applications(apps, session, round_name=ROUND)
    assert first.inserted == 2
    again = importer.import_applications(apps, session, round_name=ROUND)
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, 2)
    apps.write_text(apps.read_text(encoding="utf-8").replace("영상분석", "AI 영상분석"), encoding="utf-8")
    changed = importer.import_applications(apps, session, round_name=ROUND)
    assert (changed.inserted, changed.updated, changed.unchanged) == (0, 1, 1)
    stored = [db.application_from_row(a) for a in session.scalars(select(db.ApplicationRow))]
    assert {a.text for a in stored} == {"AI 영상분석", "건축 시공"}
    assert next(a for a in stored if a.role == "lead").preferences == ["2208162517"]


def test_duplicate_applications_in_one_file(session):
    row = f"{ROUND},107-81-53660,주관,혁신성장,4617161002,x,"
    frame = importer.read_table(_apps_csv(row, row), filename="a.csv")
    _records, problems = importer.validate_applications(frame, session, known_brns={"1078153660"})
    assert [(p.row, p.column) for p in problems] == [(3, "brn")]
    assert "row 2" in str(problems[0].reason)


def test_many_firms_import_in_one_go(session):
    rows = [f"{format_brn(b)},기업{i},소기업,2020-01-01,경기,26519,46171610,,,,," for i, b in enumerate(make_brn(1000 + i) for i in range(300))]
    result = importer.import_firms(io.BytesIO("\n".join([HEADER_KO, *rows]).encode()), session,
                                   filename="many.csv", progress=False)
    assert result.inserted == 300 and result.rejected_path is None


# --- column mapping files ---------------------------------------------------------------------


@pytest.mark.parametrize("content, reason", [
    ('columns = "x"\n'.encode(), "needs a [columns] table"),
    (b"[other]\na = 'brn'\n", "needs a [columns] table"),
    ('[columns]\n"업체명" = "name"\n'.encode("cp949"), "is not UTF-8 text"),
    (b"[columns\n", "is not valid TOML"),
    (b"[columns]\nfoo = 5\n", "foo: '5' must map to a column name in quotes"),
    (b"[columns]\nfoo = {a = 1}\n", "must map to a column name in quotes"),
    (b"[columns]\nfoo = 'nonexistent'\n", "foo: 'nonexistent' is not one of our columns"),
])
def test_bad_column_mapping_files_are_a_problem_naming_the_file(tmp_path, content, reason):
    mapping = tmp_path / "map.toml"
    mapping.write_bytes(content)
    with pytest.raises(ValidationError, match=r"map\.toml: 1 problem") as info:
        importer.read_table(io.BytesIO(FIRMS_CSV.encode()), filename="x.csv", columns=mapping)
    assert reason in str(info.value)


def test_every_bad_mapping_entry_is_reported():
    with pytest.raises(ValidationError, match="2 problem") as info:
        importer.read_table(io.BytesIO(FIRMS_CSV.encode()), filename="x.csv",
                            columns={"a": "nonexistent", "b": 3, "회사명": "name"})
    assert "a: 'nonexistent'" in str(info.value) and "b: '3'" in str(info.value)


# --- repairs, ambiguous columns, workbooks, empty files ---------------------------------------


def test_size_class_and_date_repairs_are_noted():
    frame = _frame(size_class="small", founded="2015.03.01", debarment="20260101 ~ 2026.12.31")
    notes = []
    records, problems = importer.validate_firms(frame, notes)
    assert problems == [] and records[0][1].founded == date(2015, 3, 1)
    assert [str(n) for n in notes] == [
        "row 2, size_class: 'small' read as '소기업'",
        "row 2, founded: '2015.03.01' read as '2015-03-01'",
        "row 2, debarment: '20260101 ~ 2026.12.31' read as '2026-01-01~2026-12-31'",
    ]
    notes = []
    importer.validate_firms(_frame(founded="20150301"), notes)
    assert [str(n) for n in notes] == ["row 2, founded: '20150301' read as '2015-03-01'"]


def test_values_written_as_we_store_them_need_no_note():
    notes = []
    importer.validate_firms(_frame(founded="2015-03-01", debarment="2026-01-01~"), notes)
    assert notes == []


@pytest.mark.parametrize("header, columns", [
    ("사업자등록번호,brn,회사명,기업규모,지역", "('사업자등록번호', 'brn')"),
    ("사업자등록번호,사업자등록번호,회사명,기업규모,지역", "('사업자등록번호', '사업자등록번호')"),
])
def test_two_columns_for_one_field_are_a_problem(header, columns):
    csv = header + "\n1078153660,2208162517,a,소기업,서울\n"
    with pytest.raises(ValidationError, match="x.csv: 1 problem") as info:
        importer.read_table(io.BytesIO(csv.encode()), filename="x.csv")
    assert f"brn: is given by 2 columns {columns}; keep one" in str(info.value)


def test_unused_columns_may_repeat():
    csv = "사업자등록번호,회사명,기업규모,지역,비고,비고\n1078153660,a,소기업,서울,x,y\n"
    assert len(importer.read_table(io.BytesIO(csv.encode()), filename="x.csv")) == 1


def _workbook(path, sheets):
    with pd.ExcelWriter(path) as writer:
        for name, frame in sheets.items():
            frame.to_excel(writer, sheet_name=name, index=False)


def test_workbook_reads_the_first_sheet_with_the_header_and_says_so(tmp_path):
    firms = pd.read_csv(io.StringIO(FIRMS_CSV), dtype=str).fillna("")
    _workbook(tmp_path / "f.xlsx", {"표지": pd.DataFrame({"안내": ["업체 목록"]}), "업체": firms, "기타": firms})
    frame = importer.read_table(tmp_path / "f.xlsx")
    assert len(frame) == 2 and frame.loc[2, "name"] == "한빛테크"
    assert str(frame.attrs["sheet_note"]) == ("read sheet '업체' (the first with a 사업자등록번호 column; "
                                         "the workbook has '표지', '업체', '기타')")
    _workbook(tmp_path / "one.xlsx", {"Sheet1": firms})
    assert importer.read_table(tmp_path / "one.xlsx").attrs["sheet_note"] is None


def test_workbook_import_reports_the_sheet_read(tmp_path, session):
    firms = pd.read_csv(io.StringIO(FIRMS_CSV), dtype=str).fillna("")
    _workbook(tmp_path / "f.xlsx", {"cover": pd.DataFrame({"x": ["y"]}), "firms": firms})
    result = importer.import_firms(tmp_path / "f.xlsx", session)
    assert result.inserted == 2 and "read sheet 'firms'" in str(result.sheet_note)


def test_header_only_files_have_no_data_rows(session):
    frame = importer.read_table(io.BytesIO((HEADER_KO + "\n").encode()), filename="x.csv")
    assert [str(p) for p in importer.validate_firms(frame)[1]] == ["has no data rows (only a header)"]
    with pytest.raises(ValidationError, match="has no data rows"):
        importer.import_firms(io.BytesIO((HEADER_KO + "\n").encode()), session, filename="x.csv",
                              skip_invalid=True)
    apps = importer.read_table(io.BytesIO("회차,사업자등록번호,역할,과제\n".encode()), filename="a.csv")
    assert [str(p) for p in importer.validate_applications(apps, session)[1]] == ["has no data rows (only a header)"]


def test_cooperative_member_count_is_read_validated_and_stored(tmp_path, session):
    # 조합원수/members: default 1; a 협동조합 standing for 7 SMEs keeps 7 (issue 9)
    records, problems = importer.validate_firms(_frame(members="7"))
    assert problems == [] and records[0][1].members == 7
    records, _problems = importer.validate_firms(_frame())
    assert records[0][1].members == 1
    for junk in ("0", "-2", "2.5", "많음"):
        _records, problems = importer.validate_firms(_frame(members=junk))
        assert [(p.row, p.column, p.value) for p in problems] == [(2, "members", junk)]
        assert "조합원수" in problems[0].reason.ko and "members" in problems[0].reason.en
    path = tmp_path / "firms.csv"
    path.write_text(HEADER_KO + ",조합원수\n" + GOOD_ROWS[0] + ",12\n" + GOOD_ROWS[1] + ",\n", encoding="utf-8")
    importer.import_firms(path, session)
    session.flush()
    stored = {r.brn: r.members for r in session.scalars(select(db.FirmRow))}
    assert stored == {"1078153660": 12, "2208162517": 1}
    assert db.firm_from_row(session.scalars(select(db.FirmRow).where(db.FirmRow.brn == "1078153660")).one()).members == 12


# --- public firm lists (KRX 상장법인목록) -------------------------------------------------------------

KRX_HEADER = "회사명,종목코드,업종,주요제품,상장일,결산월,대표자명,홈페이지,지역"
KRX_ROWS = ["케이지에이,123456,특수 목적용 기계 제조업,2차전지 전극 코팅기,2021-01-01,12월,홍길동,http://a.example,경기도",
            "아로마티카,654321,화장품 제조업,비건 화장품,2022-01-01,12월,김철수,http://b.example,서울특별시"]


def test_a_krx_list_as_published_is_refused_saying_what_is_needed(tmp_path):
    path = tmp_path / "krx.csv"
    path.write_text("\n".join([KRX_HEADER, *KRX_ROWS]) + "\n", encoding="utf-8")
    with pytest.raises(ValidationError) as info:
        importer.read_table(path, columns=DATA_DIR / "columns.krx.toml", required=FIRM_REQUIRED)
    by_column = {p.column: str(p.reason) for p in info.value.problems}
    assert set(by_column) == {"brn", "size_class"}
    assert "사업자등록번호" in by_column["brn"] and "KRX" in by_column["brn"] and "DART" in by_column["brn"]
    assert "기업규모" in by_column["size_class"]


def test_a_krx_list_with_brn_and_size_added_imports_with_the_shipped_mapping(tmp_path, session):
    rows = [f"{b},{s},{r}" for b, s, r in zip(("107-81-53660", "2208162517"), ("중기업", "중견기업"), KRX_ROWS)]
    path = tmp_path / "krx.csv"
    path.write_text("\n".join([f"사업자등록번호,기업규모,{KRX_HEADER}", *rows]) + "\n", encoding="cp949")
    result = importer.import_firms(path, session, columns=DATA_DIR / "columns.krx.toml")
    assert result.inserted == 2
    firms = {f.name: f for f in session.scalars(select(db.FirmRow))}
    assert firms["케이지에이"].ksic_codes == ["292"] and firms["케이지에이"].region == "경기"
    assert firms["아로마티카"].ksic_codes == ["20423"] and firms["아로마티카"].description == "비건 화장품"
    industry = [n for n in result.notes if n.column == "industry"]
    assert [(n.row, n.value) for n in industry] == [(2, "특수 목적용 기계 제조업"), (3, "화장품 제조업")]
    assert "292" in str(industry[0].reason)


def test_an_industry_that_names_no_ksic_level_is_a_warning(session):
    notes = []
    frame = _frame(industry="우주 관광업")
    records, problems = importer.validate_firms(frame, notes)
    assert problems == [] and records[0][1].ksic_codes == []
    assert [(n.column, n.value) for n in notes] == [("industry", "우주 관광업")]
    assert notes[0].reason.code in importer.WARNINGS


def test_repairs_of_one_kind_are_grouped_with_their_count():
    notes = []
    rows = [f"{b},기업{i},소기업,,서울특별시" for i, b in enumerate([make_brn(n) for n in range(3)])]
    frame = importer.read_table(io.BytesIO(("사업자등록번호,회사명,기업규모,설립일,지역\n" + "\n".join(rows)).encode()),
                                filename="f.csv")
    importer.validate_firms(frame, notes)
    kinds = importer.note_kinds(notes)
    assert [(k.note.column, k.note.value, k.count, k.rows) for k in kinds] == [("region", "서울특별시", 3, (2, 3, 4))]
