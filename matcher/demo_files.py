"""The demo round's files in ``data/demo``: the generator's input and the files it writes.

Input: ``families.toml`` (product families, read by :func:`load_families`, and the words
firm names and application texts are drawn from, read by :func:`load_words`). Output:
``firms.csv``, ``applications.csv``, ``known_pairs.csv`` and ``round.toml``, rendered by
:func:`render_files` from what :func:`matcher.demo.generate` drew. The generator itself
is :mod:`matcher.demo`.
"""

from __future__ import annotations

import csv
import io
import tomllib
from dataclasses import dataclass
from pathlib import Path

from .firms import CERTIFICATE_KINDS, format_brn
from .paths import DATA_DIR
from .tracks import load_rules

DEMO_DIR = DATA_DIR / "demo"

FIRM_HEADERS = ("사업자등록번호", "회사명", "기업규모", "설립일", "지역", "업종코드", "물품분류번호", "제품기술",
                "인증", "건설면허", "제재기간", "계열그룹")
APPLICATION_HEADERS = ("회차", "사업자등록번호", "역할", "과제", "신청물품", "내용", "선호기업")


@dataclass(frozen=True)
class Family:
    """A product family of the demo: its codes and Korean phrasings (see ``families.toml``)."""

    key: str
    g2b: str
    ksic: str
    tracks: tuple
    related: tuple
    lead: tuple
    partner: tuple
    detailed: tuple = ()
    work: str = ""


def _families_toml(path):
    return tomllib.loads(Path(path or DEMO_DIR / "families.toml").read_text(encoding="utf-8"))


def load_families(path=None):
    """The demo's product families, in file order."""
    return [Family(key=f["key"], g2b=f["g2b"], ksic=f["ksic"], tracks=tuple(f["tracks"]),
                   related=tuple(f.get("related", ())), lead=tuple(f["lead"]), partner=tuple(f["partner"]),
                   detailed=tuple(f.get("detailed", ())), work=f.get("work", ""))
            for f in _families_toml(path)["family"]]


def load_words(path=None):
    """The ``[words]`` table of ``families.toml``: name → tuple of words or text templates, in file order."""
    return {key: tuple(items) for key, items in _families_toml(path)["words"].items()}


def read_round(source=DEMO_DIR):
    """The ``[round]`` table of ``round.toml``: name, reference_date (date), open_tracks."""
    return tomllib.loads((Path(source) / "round.toml").read_text(encoding="utf-8"))["round"]


# --- writing ----------------------------------------------------------------------------------


def _period(start, end):
    return f"{start.isoformat() if start else ''}~{end.isoformat() if end else ''}"


def _firm_row(firm, spelled):
    certs = "; ".join(f"{CERTIFICATE_KINDS[c.kind][0]}:{c.code}:{_period(c.valid_from, c.valid_to)}"
                      for c in firm.certificates)
    licences = "; ".join(f"{'종합' if l.kind == 'general' else '전문'}:{l.work_type}" for l in firm.licences)
    debarment = _period(firm.debarred_from, firm.debarred_to) if firm.debarred_from else ""
    brn = firm.brn if int(firm.brn[-2:]) % 7 == 0 else format_brn(firm.brn)
    return (brn, firm.name, firm.size_class, firm.founded.isoformat(), spelled.get(firm.brn, firm.region),
            ";".join(firm.ksic_codes), ";".join(firm.g2b_codes), firm.description, certs, licences,
            debarment, firm.affiliate_group or "")


def _csv_text(headers, rows):
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(headers)
    writer.writerows(rows)
    return out.getvalue()


def render_files(demo_round, seed, round_name, reference_date, open_tracks):
    """The demo files' contents: file name → text.

    Parameters
    ----------
    demo_round : matcher.demo.DemoRound
    seed : int
        Recorded in ``round.toml``.
    round_name : str
    reference_date : date
    open_tracks : sequence of str
    """
    rules = load_rules()
    firms = _csv_text(FIRM_HEADERS, (_firm_row(f, demo_round.region_spelled) for f in demo_round.firms))
    apps = _csv_text(APPLICATION_HEADERS, (
        (round_name, format_brn(a.brn), "주관" if a.role == "lead" else "협력", rules[a.track].name_ko,
         a.product_code, a.text, ";".join(format_brn(p) for p in a.preferences))
        for a in demo_round.applications))
    pairs = _csv_text(("lead_brn", "partner_brn", "track", "split"), demo_round.known_pairs)
    few = ", ".join(f'"{brn}"' for brn in demo_round.few_leads_partners)
    round_toml = (
        "# The demo round (written by `matcher demo generate`; loaded by `matcher demo load`).\n"
        "[round]\n"
        f'name = "{round_name}"\n'
        f"reference_date = {reference_date.isoformat()}\n"
        f"open_tracks = [{', '.join(repr(t).replace(chr(39), chr(34)) for t in open_tracks)}]\n\n"
        "[demo]\n"
        f"seed = {seed}\n"
        "# large partners in materials/convergence with fewer than five leads in their product family\n"
        f"few_leads_partners = [{few}]\n"
    )
    return {"firms.csv": firms, "applications.csv": apps, "known_pairs.csv": pairs, "round.toml": round_toml}
