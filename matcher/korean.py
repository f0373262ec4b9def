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

    Examples
    --------
    >>> has_final_consonant("현래랩"), has_final_consonant("아이디스"), has_final_consonant("LG")
    (True, False, None)
    >>> has_final_consonant("한화테크윈(0.884)")
    True
    """
    text = str(word)
    while _TRAILING_PARENS.search(text) and _TRAILING_PARENS.sub("", text):
        text = _TRAILING_PARENS.sub("", text)
    last = text.rstrip()[-1:]
    if not ("가" <= last <= "힣"):
        return None
    return (ord(last) - 0xAC00) % 28 != 0


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
