"""One way to say why: every message a person reads is a code plus parameters.

The engine never writes a sentence. It builds a :class:`Msg` — a stable ``code`` (the gettext
``msgid``) and the values the sentence names (firms, 사업자등록번호, rows, counts, dates) — and the
edge (a web page, the CLI, an export) renders it in the reader's language from the gettext catalogs
``matcher/messages/locale/{ko,en}/LC_MESSAGES/matcher.po``.

Examples
--------
>>> m = msg("demo.firm_applies", firm="아이디스", role=msg("role.partner"))
>>> m.text("ko")
'아이디스가 협력기업으로 신청합니다'
>>> m.text("en")
'아이디스 applies as partner'
>>> Msg.from_json(m.to_json()) == m
True

Templates are Python brace formats. A Korean particle follows its value through the format spec
(``{firm:이}`` → 아이디스가, 현래랩이); numbers are grouped by locale, dates written by locale, a
:class:`Msg` parameter is rendered in the same language and a list is joined with commas.
"""

from __future__ import annotations

import string
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import lru_cache
from importlib import resources
from pathlib import Path

from ..korean import PARTICLES, particle

LANGS = ("ko", "en")
DOMAIN = "matcher"
DEFAULT_LANG = "ko"


def N_(code):
    """Mark ``code`` for extraction where the code is chosen at run time (``msg(N_("a"), …)``)."""
    return code


@dataclass(frozen=True)
class Msg:
    """A message: its ``code`` (the catalog's msgid) and the parameters its sentence names.

    Equal messages have equal codes and parameters, so a message can be compared in a test and
    stored (:meth:`to_json`) to be rendered later in whatever language the reader has.
    """

    code: str
    params: dict = field(default_factory=dict, compare=True, hash=False)

    def text(self, lang=DEFAULT_LANG):
        """The message in ``lang`` (``"ko"`` or ``"en"``)."""
        return render(self, lang)

    @property
    def ko(self):
        return self.text("ko")

    @property
    def en(self):
        return self.text("en")

    def __str__(self):
        return self.text("en")

    def to_json(self):
        """A JSON-ready ``{"code", "params"}``; parameters that are messages or dates are kept typed."""
        return {"code": self.code, "params": {k: _param_json(v) for k, v in self.params.items()}}

    @classmethod
    def from_json(cls, data):
        """The message :meth:`to_json` wrote (a plain string is taken as a code without parameters)."""
        if isinstance(data, str):
            return cls(data)
        return cls(data["code"], {k: _param_value(v) for k, v in (data.get("params") or {}).items()})


def msg(code, /, **params):
    """The message ``code`` with ``params``. Extracted by ``pybabel extract`` (keyword ``msg``)."""
    return Msg(code, params)


def dumps(message):
    """``message`` as the text a database column keeps (JSON of a :class:`Msg`; a string as it is)."""
    import json

    if isinstance(message, Msg):
        return json.dumps(message.to_json(), ensure_ascii=False, separators=(",", ":"))
    return "" if message is None else str(message)


def loads(text):
    """What :func:`dumps` wrote: a :class:`Msg`, or the plain string an older row holds."""
    import json

    if not text or not text.startswith("{"):
        return text or ""
    try:
        data = json.loads(text)
    except ValueError:
        return text
    return Msg.from_json(data) if isinstance(data, dict) and "code" in data else text


def render(message, lang=DEFAULT_LANG):
    """``message`` (a :class:`Msg`, or a plain string shown as it is) in ``lang``."""
    if not isinstance(message, Msg):
        return "" if message is None else str(message)
    lang = lang if lang in LANGS else DEFAULT_LANG
    template = translations(lang).gettext(message.code)
    if not message.params:
        return template
    try:
        return _Formatter(lang).vformat(template, (), message.params)
    except (KeyError, IndexError, ValueError):
        return template


def known(code, lang=DEFAULT_LANG):
    """Whether the ``lang`` catalog has a text for ``code``."""
    return translations(lang).gettext(code) != code


def codes():
    """Every code the catalogs know (the Korean catalog's msgids)."""
    return sorted(k for k in translations("ko")._catalog if isinstance(k, str) and k)


# --- catalogs ------------------------------------------------------------------------------------

def locale_dir():
    """The folder holding ``{lang}/LC_MESSAGES/matcher.po`` (and the compiled ``.mo`` files)."""
    return Path(resources.files(__package__) / "locale")


@lru_cache(maxsize=None)
def translations(lang):
    """The compiled catalog of ``lang``: the ``.mo`` file, or the ``.po`` compiled in memory when the
    ``.mo`` is missing or older (a checkout between ``make messages`` runs)."""
    from babel.support import Translations

    folder = locale_dir() / lang / "LC_MESSAGES"
    po, mo = folder / f"{DOMAIN}.po", folder / f"{DOMAIN}.mo"
    if mo.exists() and (not po.exists() or mo.stat().st_mtime >= po.stat().st_mtime):
        with open(mo, "rb") as f:
            return Translations(f, domain=DOMAIN)
    import io

    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    with open(po, "rb") as f:
        catalog = read_po(f, locale=lang, domain=DOMAIN)
    buf = io.BytesIO()
    write_mo(buf, catalog)
    buf.seek(0)
    return Translations(buf, domain=DOMAIN)


# --- formatting ------------------------------------------------------------------------------------

_LOCALES = {"ko": "ko_KR", "en": "en_US"}
KOREA = "Asia/Seoul"
"""The zone a time is written in, in either language: the program runs in Korea."""


class _Formatter(string.Formatter):
    """Brace formatting in one language: particles by format spec, numbers and dates by locale."""

    def __init__(self, lang):
        self.lang = lang

    def format_field(self, value, spec):
        quoted = spec[:1] == "'" and (spec[1:] in PARTICLES or spec[1:] in ROS)
        if quoted:  # {value:'은} → '값'은: a typed value in quotes, the particle by its last syllable
            spec = spec[1:]
        text = self._text(value, spec)
        if quoted:
            return f"'{text}'" + (_ro(text) if spec in ROS else particle(text, spec))
        if spec in PARTICLES or spec in ROS:
            return text + (_ro(text) if spec in ROS else particle(text, spec))
        return text

    def _text(self, value, spec):
        from babel.dates import format_date, format_datetime
        from babel.numbers import format_decimal

        locale = _LOCALES[self.lang]
        if isinstance(value, Msg):
            return render(value, self.lang)
        if isinstance(value, bool) or value is None:
            return "" if value is None else str(value)
        if isinstance(value, (list, tuple)):
            return ", ".join(self._text(v, "") for v in value)
        if spec and spec not in PARTICLES and spec not in ROS:
            return format(value, spec)
        if isinstance(value, int):
            return format_decimal(value, locale=locale)
        if isinstance(value, float):
            return format_decimal(value, format="#,##0.###", locale=locale)
        if isinstance(value, datetime):
            return format_datetime(value, format="medium", tzinfo=KOREA, locale=locale)  # naive = UTC, as stored
        if isinstance(value, date):
            return format_date(value, format="medium", locale=locale)
        return str(value)


ROS = ("로", "으로")


def _ro(word):
    """로 after a vowel or ㄹ, 으로 after any other final consonant; 로(으로) when not Hangul."""
    from ..korean import final_consonant

    final = final_consonant(word)
    if final is None:
        return "(으)로"
    return "로" if final in (0, 8) else "으로"


def _param_json(value):
    if isinstance(value, Msg):
        return {"$msg": value.to_json()}
    if isinstance(value, datetime):
        return {"$datetime": value.isoformat()}
    if isinstance(value, date):
        return {"$date": value.isoformat()}
    if isinstance(value, (list, tuple)):
        return [_param_json(v) for v in value]
    return value


def _param_value(value):
    if isinstance(value, dict):
        if "$msg" in value:
            return Msg.from_json(value["$msg"])
        if "$datetime" in value:
            return datetime.fromisoformat(value["$datetime"])
        if "$date" in value:
            return date.fromisoformat(value["$date"])
    if isinstance(value, list):
        return [_param_value(v) for v in value]
    return value
