"""Text vectors and code/region/capability closeness; scalar and vectorised forms agree."""

from datetime import date

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.exceptions import NotFittedError

from matcher.features import (G2B_LEVELS, KSIC_LEVELS, TextVectorizer, capability_arrays, capability_match, char_tfidf,
                              g2b_match, ksic_match, lead_capability_keys, level_keys, noun_tokens,
                              pairs_capability_value, pairs_level_value, pairs_region_value, partner_keys,
                              region_closeness, region_index, text_similarity)
from matcher.firms import Certificate, Firm, Licence

REF = date(2026, 3, 19)


@pytest.mark.slow
def test_particles_and_spacing_do_not_defeat_the_noun_tokenizer():
    assert noun_tokens(["영상감시카메라를", "영상 감시 카메라"]) == [["영상", "감시", "카메라"]] * 2


@pytest.mark.parametrize(("method", "least"), [("char", 0.25), ("kiwi", 0.99)])
def test_spacing_and_particle_variants_still_match(method, least):
    same = text_similarity("영상감시카메라를 납품", "영상 감시 카메라 납품", method)
    other = text_similarity("영상감시카메라를 납품", "사무용 책상과 의자", method)
    assert same > least
    assert other < (0.02 if method == "char" else 1e-6)  # char: one shared syllable (상), at its block's weight


@pytest.mark.parametrize("method", ["char", "kiwi"])
def test_cctv_analytics_is_closer_to_surveillance_cameras_than_to_furniture(method):
    lead = "AI 기반 CCTV 영상분석"
    assert text_similarity(lead, "지능형 영상감시 카메라", method) > text_similarity(lead, "사무용 가구 책상", method)


def test_vectorizer_rows_are_unit_length_and_unknown_method_refused():
    x = TextVectorizer().fit_transform(["감시 카메라", "가구", ""])
    norms = np.sqrt(np.asarray(x.multiply(x).sum(axis=1)).ravel())
    assert norms == pytest.approx([1.0, 1.0, 0.0])
    with pytest.raises(ValueError, match="text method 'bert'"):
        TextVectorizer(method="bert").fit(["a"])


def test_vectorizer_transform_before_fit_is_not_fitted_error():
    with pytest.raises(NotFittedError):
        TextVectorizer().transform(["감시 카메라"])
    empty = TextVectorizer().fit(["", ""])  # fitted, but no terms: zero-width vectors, not an error
    assert empty.transform(["감시 카메라"]).shape == (1, 0)


def test_g2b_levels_commodity_over_class_over_family_over_segment():
    assert g2b_match(["4617161001"], ["46171610"]).value == 1.0
    assert g2b_match(["46171610"], ["46171699"]).level == "class"
    assert g2b_match(["46171610"], ["46179999"]).level == "family"
    assert g2b_match(["46171610"], ["46999999"]).level == "segment"
    assert g2b_match(["46171610"], ["56101500"]).value == 0.0


def test_ksic_levels_down_to_the_section():
    assert ksic_match(["26421"], ["26421"]).level == "sub-class"
    assert ksic_match(["26421"], ["26511"]).level == "division"
    assert ksic_match(["26421"], ["28111"]).level == "section"  # both manufacturing (C)
    assert ksic_match(["26421"], ["62010"]).value == 0.0


def test_region_closeness():
    assert region_closeness("대전", "대전광역시") == 1.0
    assert 0.5 < region_closeness("대전", "세종") < 1.0
    assert region_closeness("서울", "제주") == 0.0
    assert region_closeness("서울", "부산") < region_closeness("서울", "대전")


def test_capability_levels():
    rule = type("R", (), {"partner_licence": False})()
    dp = Certificate("direct_production", "4617161001", date(2024, 1, 1), date(2026, 12, 31))
    old = Certificate("direct_production", "4617161001", date(2020, 1, 1), date(2024, 5, 31))
    partner = Firm("2208162517", "p", "중기업", "대전", certificates=[dp])
    assert capability_match(["4617161001"], [], partner, rule, REF)[:2] == (1.0, "dp_exact")
    assert capability_match(["4617161002"], [], partner, rule, REF)[:2] == (0.7, "dp_class")
    expired = Firm("2208162517", "p", "중기업", "대전", certificates=[old])
    assert capability_match(["4617161001"], [], expired, rule, REF)[0] == 0.0


G2B = st.sampled_from(["46171610", "4617161001", "4617161002", "46171699", "46170000", "46999999",
                       "56101500", "5610150001", "4617161012345678"])
KSIC = st.sampled_from(["26421", "26429", "2642", "26511", "28111", "62010", "41221", "42"])
REGIONS = st.sampled_from(["서울", "부산", "대전", "세종", "제주", "경기", "충남", "대전광역시", "화성"])
CERT = st.builds(Certificate, st.sampled_from(["direct_production", "patent", "materials_parts", "rnd_product",
                                               "venture", "sobujang"]),
                 st.sampled_from(["", "4617161001", "4617161002", "46171610", "56101500", "5610150001"]),
                 st.sampled_from([None, date(2024, 1, 1), date(2026, 6, 1)]),
                 st.sampled_from([None, date(2025, 1, 1), date(2027, 1, 1)]))
LICENCE = st.builds(Licence, st.sampled_from(["general", "specialty"]), st.sampled_from(["", "건축", "토목"]))


@settings(max_examples=60, deadline=None)
@given(st.lists(st.lists(G2B, max_size=3), min_size=1, max_size=5),
       st.lists(st.lists(G2B, max_size=3), min_size=1, max_size=5),
       st.lists(st.lists(KSIC, max_size=3), min_size=5, max_size=5),
       st.lists(st.lists(KSIC, max_size=3), min_size=5, max_size=5),
       st.lists(REGIONS, min_size=5, max_size=5), st.lists(REGIONS, min_size=5, max_size=5))
def test_vectorised_closeness_agrees_with_scalar(lead_codes, part_codes, lead_ksic, part_ksic, lead_reg, part_reg):
    li, pi = np.meshgrid(np.arange(len(lead_codes)), np.arange(len(part_codes)), indexing="ij")
    li, pi = li.ravel(), pi.ravel()
    lengths = [lvl[0] for lvl in G2B_LEVELS]
    got = pairs_level_value(level_keys(lead_codes, lengths), partner_keys(level_keys(part_codes, lengths)),
                            li, pi, [lvl[1] for lvl in G2B_LEVELS])
    want = [g2b_match(lead_codes[a], part_codes[b]).value for a, b in zip(li, pi)]
    assert got == pytest.approx(want)
    kl = [lvl[0] for lvl in KSIC_LEVELS]
    sq = np.arange(5)
    got = pairs_level_value(level_keys(lead_ksic, kl, True), partner_keys(level_keys(part_ksic, kl, True)),
                            sq, sq[::-1], [lvl[1] for lvl in KSIC_LEVELS])
    assert got == pytest.approx([ksic_match(lead_ksic[a], part_ksic[b]).value for a, b in zip(sq, sq[::-1])])
    got = pairs_region_value(region_index(lead_reg)[sq], region_index(part_reg)[sq[::-1]])
    assert got == pytest.approx([region_closeness(lead_reg[a], part_reg[b]) for a, b in zip(sq, sq[::-1])],
                                abs=1e-6)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.lists(G2B, max_size=2), min_size=1, max_size=4),
       st.lists(st.lists(LICENCE, max_size=2), min_size=4, max_size=4),
       st.lists(st.tuples(st.lists(CERT, max_size=3), st.lists(LICENCE, max_size=2)), min_size=1, max_size=4),
       st.booleans())
def test_vectorised_capability_agrees_with_scalar(lead_codes, lead_lics, partner_specs, licence_track):
    rule = type("R", (), {"partner_licence": licence_track})()
    partners = [Firm(f"{i:010d}", "p", "대기업", "서울", certificates=c, licences=l)
                for i, (c, l) in enumerate(partner_specs)]
    lead_lics = lead_lics[:len(lead_codes)]
    work_ids = {}
    keys = lead_capability_keys(lead_codes, lead_lics, work_ids)
    cap = capability_arrays(partners, REF, work_ids)
    li, pi = np.meshgrid(np.arange(len(lead_codes)), np.arange(len(partners)), indexing="ij")
    got = pairs_capability_value(keys, cap, li.ravel(), pi.ravel(), rule)
    want = [capability_match(lead_codes[a], lead_lics[a], partners[b], rule, REF)[0]
            for a, b in zip(li.ravel(), pi.ravel())]
    assert got == pytest.approx(want)


def test_no_text_at_all_gives_zero_vectors():
    vec = TextVectorizer()
    assert vec.fit_transform(["", ""]).shape == (2, 0)
    assert vec.transform(["카메라"]).shape == (1, 0)
    assert text_similarity("", "") == 0.0


def _same_bits(a, b):
    """Two CSR matrices equal array by array: shape, row pointers, column order within rows, float bits."""
    a, b = a.tocsr(), b.tocsr()
    return (a.shape == b.shape and np.array_equal(a.indptr, b.indptr) and np.array_equal(a.indices, b.indices)
            and a.data.dtype == b.data.dtype == np.float32
            and np.array_equal(a.data.view(np.uint32), b.data.view(np.uint32)))


_TEXT = st.text(alphabet=st.sampled_from(list("가나다라카메센서모듈 \t\n\u3000ABcdé1-İßΣς") + ["\U0001F600"]),
                max_size=30)


@settings(max_examples=300, deadline=None)
@given(st.lists(_TEXT | st.sampled_from(["", "  ", "카메라", "CCTV 카메라", "a", "ab"]), max_size=40),
       st.sampled_from([None, 0.5, 0.3, 1.0]))
def test_char_tfidf_is_the_vectorizer_s_matrix_to_the_bit(texts, max_df):
    """Same values *and* the same order of entries in a row (sklearn's first-seen order), which the
    float32 sums of the norm and of the sparse products follow; upper case, Unicode spaces, one-letter
    words, texts under 20 (max_df 1) and no terms at all included."""
    assert _same_bits(char_tfidf(texts, max_df), TextVectorizer("char", max_df).fit_transform(texts))


@pytest.mark.slow
def test_char_tfidf_on_the_demo_round_is_the_vectorizer_s(demo_input):
    from matcher.features import firm_text
    texts = [firm_text(*fa) for pool in demo_input.pools.values() for fa in pool.leads + pool.partners]
    for corpus in (texts, texts * 25):  # 24,000 texts: the large-corpus max_df of 0.05
        assert _same_bits(char_tfidf(corpus), TextVectorizer("char").fit_transform(corpus))


def test_char_tfidf_with_more_characters_than_its_keys_hold_falls_back_to_the_vectorizer():
    texts = ["".join(chr(0x4E00 + i + j) for j in range(3)) + " 공통" for i in range(0, 66_000, 3)]
    assert _same_bits(char_tfidf(texts), TextVectorizer("char").fit_transform(texts))


def test_nouns_remembered_in_one_call_are_the_tokenizer_s_and_the_memory_is_bounded(monkeypatch):
    from matcher import features
    texts = ["영상감시카메라를 제조", "소방 펌프 제어반", "영상감시카메라를 제조", ""]
    features.forget_nouns()
    features.remember_nouns(texts)
    assert [features.text_nouns(t) for t in texts] == [tuple(n) for n in noun_tokens(texts[:3])] + [()]
    monkeypatch.setattr(features, "NOUNS_REMEMBERED", 2)
    features.remember_nouns(["드론 비행 제어기", "배터리 팩"])
    assert len(features._NOUNS) == 2 and "소방 펌프 제어반" not in features._NOUNS  # the oldest forgotten first
    assert features.text_nouns("소방 펌프 제어반") == tuple(noun_tokens(["소방 펌프 제어반"])[0])
    features.forget_nouns()
