"""Message codes: every code has both texts, particles follow the word, messages survive storage,
and the progress a real run reports reads in Korean."""

from __future__ import annotations

import re
import subprocess
import sys
from datetime import date, datetime

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from matcher import messages
from matcher.messages import Msg, catalog, msg

ENGLISH_WORD = re.compile(r"[A-Za-z]{3,}")


def test_every_code_in_the_source_has_a_korean_and_an_english_text():
    used = catalog.source_codes()
    assert "job.solving" in used  # the extraction sees the engine's calls
    gaps = catalog.missing(set(used))
    assert gaps == {"ko": [], "en": []}, {lang: {c: used[c][:2] for c in codes} for lang, codes in gaps.items()}


def test_both_catalogs_have_the_same_codes_and_no_empty_text():
    ko, en = (catalog.read_catalog(lang) for lang in ("ko", "en"))
    ko_texts, en_texts = ({m.id: m.string for m in c if m.id} for c in (ko, en))
    assert set(ko_texts) == set(en_texts)
    assert [c for c, text in {**ko_texts, **en_texts}.items() if not text] == []
    assert all(catalog.CODE.fullmatch(c) for c in ko_texts)


def test_korean_texts_of_codes_hold_no_english_sentence():
    ko = catalog.read_catalog("ko")
    allowed = {"KSIC", "G2B", "CSV", "XLSX", "UTF", "JSON", "KRX", "DART"}  # names of files, lists and sites
    for m in ko:
        if m.id:
            words = set(ENGLISH_WORD.findall(re.sub(r"\{[^}]*\}", "", m.string))) - allowed
            assert not words, (m.id, m.string)


@pytest.mark.parametrize("template, params, korean", [
    ("{firm:이} 신청했습니다", {"firm": "아이디스"}, "아이디스가 신청했습니다"),
    ("{firm:이} 신청했습니다", {"firm": "현래랩"}, "현래랩이 신청했습니다"),
    ("{firm:은} 선정", {"firm": "청가에너지"}, "청가에너지는 선정"),
    ("{role:로} 신청", {"role": msg("role.partner")}, "협력기업으로 신청"),
    ("{region:로} 이전", {"region": "서울"}, "서울로 이전"),
    ("{region:로} 이전", {"region": "부산"}, "부산으로 이전"),
    ("{role:이} 될 수 없습니다", {"role": msg("role.lead")}, "주관기업이 될 수 없습니다"),
    ("{firm:와} 짝", {"firm": "한화테크윈(0.884)"}, "한화테크윈(0.884)과 짝"),
    ("{n:을} 넘습니다", {"n": 3}, "3을 넘습니다"),
    ("{firm:을} 찾습니다", {"firm": "LG"}, "LG을(를) 찾습니다"),
    ("과제 {track:'은} 없습니다", {"track": "혁신"}, "과제 '혁신'은 없습니다"),
    ("과제 {track:'은} 없습니다", {"track": "가치"}, "과제 '가치'는 없습니다"),
    ("{value:'이} 올바르지 않습니다", {"value": "123-45-67890"}, "'123-45-67890'이 올바르지 않습니다"),
    ("{value:'이} 틀립니다", {"value": "abc"}, "'abc'이(가) 틀립니다"),
])
def test_particles_follow_the_final_consonant_of_the_rendered_value(template, params, korean):
    assert messages._Formatter("ko").vformat(template, (), params) == korean


def test_numbers_and_dates_are_written_by_locale():
    ko, en = messages._Formatter("ko"), messages._Formatter("en")
    assert ko.vformat("{n}", (), {"n": 21810}) == en.vformat("{n}", (), {"n": 21810}) == "21,810"
    assert ko.vformat("{d}", (), {"d": date(2024, 5, 31)}) == "2024. 5. 31."
    assert en.vformat("{d}", (), {"d": date(2024, 5, 31)}) == "May 31, 2024"
    assert ko.vformat("{x:.3f}", (), {"x": 0.88412}) == "0.884"


params = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20) | st.dates()
    | st.datetimes(timezones=st.none()),
    lambda inner: st.lists(inner, max_size=3) | st.builds(
        Msg, st.sampled_from(["job.solving", "role.lead"]), st.dictionaries(st.sampled_from("abn"), inner, max_size=2)),
    max_leaves=4)


@settings(max_examples=60, suppress_health_check=[HealthCheck.too_slow])
@given(st.dictionaries(st.sampled_from(["a", "b", "firm", "n"]), params, max_size=3))
def test_a_stored_message_comes_back_equal(values):
    m = Msg("job.solving", values)
    assert Msg.from_json(m.to_json()) == m
    assert messages.loads(messages.dumps(m)) == m


def test_an_unknown_code_shows_itself_and_a_plain_string_stays():
    assert msg("no.such.code").text("ko") == "no.such.code"
    assert messages.render("plain", "ko") == "plain"
    assert messages.loads("queued") == "queued"


def test_progress_of_a_real_run_reads_in_korean_without_english(demo_input):
    from matcher.matching import match_round
    heard = []
    match_round(demo_input, track="materials", progress=lambda fraction, message="": heard.append(message))
    assert {"job.scoring_track", "job.solving", "job.explaining"} <= {m.code for m in heard}, heard
    for message in heard:
        assert isinstance(message, Msg), message
        korean = message.text("ko")
        assert not ENGLISH_WORD.findall(korean), (message.code, korean)
        assert message.text("en") != korean


def test_catalogs_round_trip_through_pybabel(tmp_path):
    """extract → compile with the pybabel command; the catalogs written back by Babel are unchanged."""
    from babel.messages.pofile import read_po, write_po
    root = catalog.ROOT
    pot = tmp_path / "matcher.pot"
    subprocess.run([sys.executable, "-m", "babel.messages.frontend", "-q", "extract", "-F", str(root / "babel.cfg"),
                    "--no-default-keywords", "-k", "msg", "-k", "N_", "-k", "t", "-k", "_", "--sort-output",
                    "-o", str(pot), str(root)], check=True, cwd=root)
    assert set(catalog.source_codes()) <= catalog.template_codes(pot)
    for lang in messages.LANGS:
        po = messages.locale_dir() / lang / "LC_MESSAGES" / "matcher.po"
        with open(po, "rb") as f:
            before = read_po(f, locale=lang)
        out = tmp_path / f"{lang}.po"
        with open(out, "wb") as f:
            write_po(f, before, width=120, sort_output=True)
        with open(out, "rb") as f:
            after = read_po(f, locale=lang)
        assert [(m.id, m.string) for m in after] == [(m.id, m.string) for m in before]
    compiled = tmp_path / "locale"
    compiled.mkdir()
    subprocess.run([sys.executable, "-m", "babel.messages.frontend", "-q", "compile", "-d",
                    str(messages.locale_dir()), "-D", "matcher", "-o", str(compiled / "ko.mo"), "-l", "ko",
                    "-i", str(messages.locale_dir() / "ko" / "LC_MESSAGES" / "matcher.po")], check=True)
    from babel.support import Translations
    with open(compiled / "ko.mo", "rb") as f:
        assert Translations(f).gettext("job.queued") == "대기 중"
