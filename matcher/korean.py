"""Korean particles (조사) that depend on the word before them.

은/는, 이/가, 을/를 and 와/과 take their first form after a syllable with a final consonant
(받침, jongseong) and the second after a vowel. A name ending in a Latin letter or a digit
gets the combined form ("은(는)"), which reads correctly either way.
"""

from __future__ import annotations

import re

PARTICLES = {"은": ("은", "는"), "는": ("은", "는"), "이": ("이", "가"), "가": ("이", "가"),
             "을": ("을", "를"), "를": ("을", "를"), "과": ("과", "와"), "와": ("과", "와")}
"""A particle in either form → (after a final consonant, after a vowel)."""

_TRAILING_PARENS = re.compile(r"\s*\([^()]*\)\s*$")


def has_final_consonant(word):
    """Whether ``word``'s last syllable has a final consonant; None when it is not Hangul.

    A trailing parenthesis ("한화(0.884)") is skipped: the particle follows the word before it.
    A final digit is read in Korean (3 삼, 2 이).

    Examples
    --------
    >>> has_final_consonant("현래랩"), has_final_consonant("아이디스"), has_final_consonant("LG")
    (True, False, None)
    >>> has_final_consonant("한화테크윈(0.884)"), has_final_consonant("3")
    (True, True)
    """
    final = final_consonant(word)
    return None if final is None else final != 0


_DIGIT_FINALS = {"0": 21, "1": 8, "2": 0, "3": 16, "4": 0, "5": 0, "6": 1, "7": 8, "8": 8, "9": 0}
"""A digit's final consonant as read in Korean: 영(ㅇ) 일(ㄹ) 이 삼(ㅁ) 사 오 육(ㄱ) 칠(ㄹ) 팔(ㄹ) 구."""


def final_consonant(word):
    """The index (1–27; 8 is ㄹ) of the final consonant of ``word``'s last syllable, 0 for none.

    None when the last character is neither Hangul nor a digit.

    Examples
    --------
    >>> final_consonant("서울"), final_consonant("아이디스"), final_consonant("현래랩"), final_consonant("ABC")
    (8, 0, 17, None)
    """
    text = str(word)
    while _TRAILING_PARENS.search(text) and _TRAILING_PARENS.sub("", text):
        text = _TRAILING_PARENS.sub("", text)
    last = text.rstrip()[-1:]
    if last in _DIGIT_FINALS:
        return _DIGIT_FINALS[last]
    if not ("가" <= last <= "힣"):
        return None
    return (ord(last) - 0xAC00) % 28


def particle(word, which):
    """The form of particle ``which`` (은, 이, 을 or 과, either form) that follows ``word``.

    Examples
    --------
    >>> particle("현래랩", "와"), particle("아이디스", "과"), particle("ABC", "은")
    ('과', '와', '은(는)')
    """
    after_consonant, after_vowel = PARTICLES[which]
    final = has_final_consonant(word)
    if final is None:
        return f"{after_consonant}({after_vowel})"
    return after_consonant if final else after_vowel


def with_particle(word, which):
    """``word`` followed by the right form of ``which``.

    Examples
    --------
    >>> with_particle("한화테크윈(0.884)", "는"), with_particle("아이디스", "이")
    ('한화테크윈(0.884)은', '아이디스가')
    """
    return f"{word}{particle(word, which)}"
