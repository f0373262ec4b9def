"""The catalogs against the source: which codes the source uses, which each language lacks.

``make messages`` runs ``pybabel extract`` (keywords ``msg``, ``N_``, ``t``, ``_``), then this module's
``check`` on the template it wrote, then ``pybabel compile``. A code is a dotted name
(``job.solving``); the flat keys of ``web/i18n.py``'s old dictionary are not codes and are skipped.

    python -m matcher.messages.catalog check build/matcher.pot   # exit 1 when a code lacks a text
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

from . import DOMAIN, LANGS, locale_dir

CODE = re.compile(r"[a-z][a-z0-9_]*(\.[a-z0-9_]+)+")
"""A message code: lower-case dotted words (``interest.already_sent``)."""

KEYWORDS = {"msg": None, "N_": None, "t": None, "_": None}
ROOT = Path(__file__).resolve().parents[2]


def read_catalog(lang):
    """The ``lang`` catalog as a Babel :class:`~babel.messages.catalog.Catalog`."""
    from babel.messages.pofile import read_po

    with open(locale_dir() / lang / "LC_MESSAGES" / f"{DOMAIN}.po", "rb") as f:
        return read_po(f, locale=lang, domain=DOMAIN)


def source_codes(root=ROOT):
    """``{code: [(file, line), …]}`` for every code the source and the templates use literally."""
    from babel.messages.extract import extract_from_dir
    from babel.messages.frontend import parse_mapping_cfg

    with open(root / "babel.cfg", encoding="utf-8") as f:
        method_map, options_map = parse_mapping_cfg(f)
    found = {}
    for filename, line, message, _comments, _context in extract_from_dir(
            root, method_map, options_map, keywords=KEYWORDS, strip_comment_tags=True):
        for text in (message if isinstance(message, tuple) else (message,)):
            if text and CODE.fullmatch(text):
                found.setdefault(text, []).append((filename, line))
    return found


def template_codes(pot):
    """The codes in a template written by ``pybabel extract``."""
    from babel.messages.pofile import read_po

    with open(pot, "rb") as f:
        return {m.id for m in read_po(f) if isinstance(m.id, str) and CODE.fullmatch(m.id)}


def missing(codes):
    """``{lang: [code, …]}``: the codes of ``codes`` that a language has no text for."""
    out = {}
    for lang in LANGS:
        catalog = read_catalog(lang)
        texts = {m.id: m.string for m in catalog if m.id}
        out[lang] = sorted(c for c in codes if not texts.get(c))
    return out


def check(pot=None):
    """Print what the catalogs lack against the source (or ``pot``); True when nothing is missing."""
    codes = template_codes(pot) if pot else set(source_codes())
    gaps = missing(codes)
    for lang, lacking in gaps.items():
        for code in lacking:
            print(f"{lang}: no text for {code}")
    known = {m.id for m in read_catalog("ko") if m.id}
    unused = sorted(known - codes - dynamic_codes(known))
    for code in unused:
        print(f"unused: {code} (in the catalogs, not in the source)")
    return not any(gaps.values())


DYNAMIC_PREFIXES = ("role.", "mode.", "track.", "status.", "job.status.", "decision.kind.", "eligibility.", "conflict.",
                    "import.kind.", "product.", "empty.count.", "component.", "proposal.status.", "export.",
                    "audit.", "ui.", "filter.",
                    "column.")
"""Codes chosen at run time from a value (``msg("track." + key)``); never reported unused."""


def dynamic_codes(known):
    return {c for c in known if c.startswith(DYNAMIC_PREFIXES)}


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if not argv or argv[0] != "check":
        print(__doc__)
        return 2
    return 0 if check(argv[1] if len(argv) > 1 else None) else 1


if __name__ == "__main__":
    sys.exit(main())
