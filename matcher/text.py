"""Text at the edge: one Unicode normal form, no control characters, bounded length.

Names (a round, a firm, a user) also go through :func:`clean_name`, which makes look-alikes one name:
zero-width and direction-control characters (U+200B, U+FEFF, U+202E …) are dropped, every kind of space
(NBSP, U+3000 …) becomes one ordinary space, runs of spaces collapse and the ends are trimmed.

Every piece of text that comes in (an upload cell, a form field, a query, a command-line argument) goes
through :func:`clean_text` before it is compared or stored: NFC (so NFD Hangul, as macOS file names and
some IMEs produce, is stored and found as NFC), no NUL or other control character (PostgreSQL refuses NUL
in text; the others are invisible and make look-alike names), and at most ``max_length`` characters (the
column width, so both databases behave the same). Digits of identifiers go through :func:`ascii_digits`
(NFKC: full-width ``９`` → ``9``; other scripts' decimal digits too).
"""

from __future__ import annotations

import re
import unicodedata

from .errors import InvalidValueError
from .messages import msg

MAX_TEXT = 10_000
"""The longest free text accepted anywhere (a description, an application text, a note)."""

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u2028\u2029]")
_CONTROL_OR_NEWLINE = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


class TextError(InvalidValueError):
    """Text refused at the edge; ``reason`` is the :class:`~matcher.messages.Msg` saying why.

    A :class:`ValueError` too, so the field parsers of :mod:`matcher.validate` report it as a problem of
    its row and column.
    """

    def __init__(self, reason):
        self.reason = reason
        super().__init__(reason)


def control_character(text, single_line=False):
    """The first control character in ``text`` as ``(position, char)`` (1-based), or None.

    Tab, line feed and carriage return are allowed unless ``single_line``.
    """
    m = (_CONTROL_OR_NEWLINE if single_line else _CONTROL).search(text)
    return (m.start() + 1, m.group()) if m else None


def char_name(char):
    """``'\\x00'`` → ``'U+0000 NUL'``."""
    names = {"\x00": "NUL", "\t": "TAB", "\n": "LF", "\r": "CR", "\x7f": "DEL"}
    return f"U+{ord(char):04X}" + (f" {names[char]}" if char in names else "")


def clean_text(value, max_length=MAX_TEXT, single_line=False):
    """``value`` as NFC text, refusing control characters and text longer than ``max_length``.

    Raises
    ------
    TextError
        Naming the character and its position, or the length and the limit.

    Examples
    --------
    >>> clean_text("\\u1100\\u1161 전자") == "가 전자"
    True
    """
    text = unicodedata.normalize("NFC", str(value))
    found = control_character(text, single_line)
    if found:
        position, char = found
        raise TextError(msg("text.control_character", char=char_name(char), n=position))
    if max_length is not None and len(text) > max_length:
        raise TextError(msg("text.too_long", n=len(text), max=max_length))
    return text


_SPACES = re.compile(r"\s+")


def clean_name(value, max_length=200):
    """``value`` as a name is stored and compared: :func:`clean_text` on one line, without invisible characters.

    Format characters (Unicode category ``Cf``: zero-width spaces and joiners, U+FEFF, the bidirectional
    controls U+200E/U+200F, U+202A–U+202E, U+2066–U+2069, the soft hyphen) are dropped: they only make a
    name look like another one. Any space (NBSP, U+3000, U+2009 …) is an ordinary space, runs collapse,
    the ends are trimmed. The result may be empty (the caller refuses a blank name).

    Raises
    ------
    TextError
        A control character, or a name longer than ``max_length`` once cleaned.

    Examples
    --------
    >>> clean_name("\ufeff 2026년\u00a0\u00a02차\u200b ")
    '2026년 2차'
    >>> clean_name("\u202e차2 년6202")
    '차2 년6202'
    """
    text = unicodedata.normalize("NFC", str(value))
    text = "".join(" " if c.isspace() and c not in "\r\n" else c for c in text
                   if unicodedata.category(c) != "Cf")
    text = _SPACES.sub(" ", clean_text(text, None, single_line=True)).strip()
    if max_length is not None and len(text) > max_length:
        raise TextError(msg("text.too_long", n=len(text), max=max_length))
    return text


def ascii_digits(text):
    """NFKC, then every decimal digit of any script as its ASCII digit (``'９٠'`` → ``'90'``)."""
    text = unicodedata.normalize("NFKC", str(text))
    return "".join(str(unicodedata.decimal(c)) if not c.isascii() and c.isdecimal() else c for c in text)


def shown(value, limit=40):
    """``value`` cut to ``limit`` characters for a message (a 100,000-character cell is not echoed whole)."""
    text = str(value)
    return text if len(text) <= limit else text[:limit] + "…"
