"""Text at the edge (matcher/text.py): NFC, control characters refused with their position, lengths."""

import re
import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from matcher.errors import MatcherError
from matcher.text import TextError, ascii_digits, clean_text, control_character


def test_nfd_hangul_becomes_nfc():
    nfd = unicodedata.normalize("NFD", "한빛테크")
    assert nfd != "한빛테크" and clean_text(nfd) == "한빛테크"


@pytest.mark.parametrize("text, position, name", [("가\x00나", 2, "U+0000 NUL"), ("\x1bx", 1, "U+001B"),
                                                   ("ab\x7f", 3, "U+007F DEL"), ("a\u2028", 2, "U+2028")])
def test_control_characters_are_refused_with_their_position(text, position, name):
    with pytest.raises(TextError) as info:
        clean_text(text)
    assert info.value.reason.en == f"contains the control character {name} at character {position}"
    assert f"{position}번째 글자에 제어 문자({name})가 있습니다" == info.value.reason.ko
    assert isinstance(info.value, MatcherError)


def test_line_breaks_are_allowed_in_free_text_but_not_in_single_line_fields():
    assert clean_text("첫 줄\r\n둘째\t줄") == "첫 줄\r\n둘째\t줄"
    with pytest.raises(TextError, match=re.escape("U+000A LF at character 2")):
        clean_text("a\nb", single_line=True)


def test_length_limit_names_both_lengths():
    assert clean_text("가" * 200, max_length=200) == "가" * 200
    with pytest.raises(TextError, match="is 100,000 characters long; at most 200 are allowed"):
        clean_text("x" * 100_000, max_length=200)


@pytest.mark.parametrize("text, digits", [("９００００００３３６", "9000000336"), ("٩٠", "90"), ("१२", "12"),
                                          ("123-45", "123-45")])
def test_unicode_digits_become_ascii(text, digits):
    assert ascii_digits(text) == digits


@given(st.text())
def test_clean_text_either_refuses_or_returns_nfc_without_controls(text):
    try:
        cleaned = clean_text(text)
    except TextError:
        assert control_character(unicodedata.normalize("NFC", text)) is not None or len(text) > 10_000
    else:
        assert cleaned == unicodedata.normalize("NFC", cleaned)
        assert control_character(cleaned) is None
