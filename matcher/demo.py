"""The synthetic demo round: a deterministic generator and its loader.

``matcher demo generate`` writes ``data/demo/firms.csv``, ``applications.csv``, ``round.toml``
and ``known_pairs.csv`` from the product families and words in ``data/demo/families.toml`` and a
fixed seed (same seed, same bytes); reading and writing those files is :mod:`matcher.demo_files`.
``matcher demo load`` creates the round and imports the files.

The round is built so that every track rule has firms that pass and firms that fail it
(startups and small firms leading 혁신성장 and a few 중기업 that may not, expired and
not-yet-valid 직접생산확인, partners without 소재부품/R&D/특허 evidence, large firms where only
SMEs may be, construction firms without a licence, debarred firms, affiliates, a firm on both
sides of a track), and so that some leads have a partner planted to fit them (same or
related family, eligible, often nearby): those pairs are ``known_pairs.csv``, split into train
and test for evaluation. Large partners in 소재부품 and 기술융합 mostly have many leads in their
family; the few with fewer than five are listed in ``round.toml`` (``few_leads_partners``).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import numpy as np

from . import codes, db
from .demo_files import DEMO_DIR, Family, load_families, load_words, read_round, render_files
from .firms import Certificate, Firm, Licence, brn_check_digit
from .tracks import load_rules, pair_reasons

SEED = 20261001
ROUND_NAME = "2026년 2차"
REFERENCE_DATE = date(2026, 10, 1)
OPEN_TRACKS = ("innovation", "materials", "convergence", "construction")
N_FIRMS = 1500

PLAN = {  # applications per track: SME leads, SME partners, large partners
    "innovation": (150, 120, 0),
    "materials": (200, 80, 12),
    "convergence": (180, 75, 10),
    "construction": (110, 0, 22),
}
NICHE = {"materials": ("rebar", 3), "convergence": ("water_quality", 2)}
"""A family per track given only a few leads, so its large partner has fewer than five."""
PLANT_SHARE = 0.35
TEST_SHARE = 0.3


def _eul(word):
    """The object particle after ``word``: 을 after a final consonant, else 를."""
    last = word.rstrip()[-1:] or "가"
    if "가" <= last <= "힣":
        return "을" if (ord(last) - 0xAC00) % 28 else "를"
    return "을(를)"


@dataclass
class DemoApplication:
    """An application as the generator draws it (written to ``applications.csv``)."""

    brn: str
    role: str
    track: str
    product_code: str
    text: str
    preferences: list = field(default_factory=list)


@dataclass
class DemoRound:
    """What the generator produced, before it is written out."""

    firms: list
    applications: list
    known_pairs: list  # (lead_brn, partner_brn, track, split)
    few_leads_partners: list
    region_spelled: dict  # brn → region as written in the file (a few long forms)


# --- generation -------------------------------------------------------------------------------


class _Builder:
    """Draws firms from one random generator; the only state is what has been drawn so far."""

    def __init__(self, seed, families, words):
        self.rng = np.random.default_rng(seed)
        self.words = words
        self.rules = load_rules()
        self.families = {f.key: f for f in families}
        self.firms, self.applications, self.pairs = [], [], []
        self.family_of, self.spelled = {}, {}
        self._brns, self._names = set(), set()
        region_table = codes.regions()
        self.region_names = list(region_table)
        shares = np.array([r.firm_share for r in region_table.values()])
        self.region_p = shares / shares.sum()

    def pick(self, items):
        return items[int(self.rng.integers(len(items)))]

    def chance(self, p):
        return bool(self.rng.random() < p)

    def brn(self, corporate=True):
        while True:
            middle = int(self.pick((81, 86, 87, 88))) if corporate else int(self.rng.integers(1, 80))
            nine = f"{int(self.rng.integers(101, 900)):03d}{middle:02d}{int(self.rng.integers(0, 10000)):04d}"
            digits = nine + str(brn_check_digit(nine))
            if digits not in self._brns:
                self._brns.add(digits)
                return digits

    def name(self, suffixes):
        while True:
            stem = self.pick(self.words["syllables"]) + self.pick(self.words["syllables"])
            text = self.pick(self.words["forms"]) + stem + self.pick(suffixes)
            if text not in self._names:
                self._names.add(text)
                return text

    def region(self):
        return self.region_names[int(self.rng.choice(len(self.region_names), p=self.region_p))]

    def day(self, start, end):
        return start + timedelta(days=int(self.rng.integers(0, (end - start).days + 1)))

    def founded(self, startup):
        if startup:
            return self.day(date(2019, 10, 10), date(2026, 6, 30))
        return self.day(date(1985, 1, 1), date(2019, 9, 30))


def _sme_size(b, lead):
    return b.pick(("소상공인",) * 3 + ("소기업",) * 10 + ("중기업",) * 7) if lead else \
        b.pick(("소기업",) * 4 + ("중기업",) * 6)


def _general_certificates(b, firm_founded):
    certs = []
    for kind, p in (("venture", 0.25), ("innobiz", 0.15), ("mainbiz", 0.1), ("performance", 0.05), ("gpass", 0.05)):
        if b.chance(p):
            start = b.day(date(2021, 1, 1), date(2026, 6, 30))
            certs.append(Certificate(kind, "", start, start + timedelta(days=3 * 365 - 1)))
    if firm_founded and firm_founded > date(2019, 10, 1) and b.chance(0.5):
        certs.append(Certificate("startup", "", firm_founded, firm_founded + timedelta(days=7 * 365 - 1)))
    return certs


def _description(b, family):
    phrases = [b.pick(family.partner), b.pick(family.lead)]
    if family.related and b.chance(0.4):
        phrases.append(b.pick(b.families[b.pick(family.related)].partner))
    text = ", ".join(dict.fromkeys(phrases))
    if text.endswith(("생산", "제조", "개발", "가공", "공급")):
        return text
    if family.work:  # as many choices as for products, so the random stream stays the same
        return text + b.pick((" 전문", " 시공", " 분야 시공 실적 보유", "", " 전문 시공"))
    return text + b.pick((" 전문", " 제조", " 생산 및 납품", "", " 개발·제조"))


def _new_firm(b, family, size, startup=False, region=None, ksic_extra=True):
    large = size in ("중견기업", "대기업")
    founded = b.day(date(1970, 1, 1), date(2005, 12, 31)) if large else b.founded(startup)
    kind = "builder_suffixes" if family.work else ("large_suffixes" if large else "suffixes")
    suffixes = b.words[kind]
    ksic = [family.ksic]
    g2b = [family.g2b]
    if ksic_extra and family.related and b.chance(0.3):
        other = b.families[b.pick(family.related)]
        ksic.append(other.ksic)
        g2b.append(other.g2b)
    firm = Firm(brn=b.brn(corporate=large or size != "소상공인" or b.chance(0.5)), name=b.name(suffixes),
                size_class=size, region=region or b.region(), founded=founded,
                ksic_codes=list(dict.fromkeys(ksic)), g2b_codes=list(dict.fromkeys(g2b)),
                description=_description(b, family))
    firm.certificates = [] if large else _general_certificates(b, founded)
    b.firms.append(firm)
    b.family_of[firm.brn] = family.key
    return firm


def _families_for(b, track):
    return [f for f in b.families.values() if track in f.tracks]


def _apply(b, firm, role, track, family, product, text_family=None, preferences=()):
    need_family = text_family or family
    if role == "lead":
        need = b.pick(need_family.lead)
        text = b.pick(b.words["lead_texts"]).format(need=need, eul=_eul(need), offer=b.pick(need_family.partner))
    else:
        text = b.pick(b.words["partner_texts"]).format(offer=b.pick(family.partner), need=b.pick(family.lead))
    b.applications.append(DemoApplication(firm.brn, role, track, product, text, list(preferences)))


def _product(b, track, family):
    if track == "innovation":
        listed = [c for c in family.detailed if codes.is_sme_competition(c)]
        return b.pick(listed)
    if track == "materials":
        return family.g2b + f"{int(b.rng.integers(0, 10**8)):08d}"
    if track == "convergence":
        return b.pick(family.detailed)
    return ""


def _evidence(b, track, family, product):
    """A qualifying certificate for a partner in ``track``; sometimes a non-qualifying one instead."""
    start = b.day(date(2023, 11, 1), date(2026, 5, 31))
    valid = (start, start + timedelta(days=3 * 365 - 1))
    roll = b.rng.random()
    if track == "innovation":
        code = product
        if roll < 0.08:
            return [Certificate("direct_production", code, date(2022, 3, 1), date(2025, 2, 28))]
        if roll < 0.12:
            return [Certificate("direct_production", code, date(2026, 11, 1), date(2029, 10, 31))]
        if roll < 0.18:
            other = b.pick([f for f in _families_for(b, "innovation") if f.key != family.key])
            return [Certificate("direct_production", _product(b, "innovation", other), *valid)]
        return [Certificate("direct_production", code, *valid)]
    kinds = ("materials_parts", "rnd_product", "patent") if track == "materials" else ("rnd_product", "patent")
    if roll < 0.06:
        return []
    if roll < 0.10:
        return [Certificate(b.pick(kinds), family.g2b, date(2020, 1, 1), date(2023, 12, 31))]
    if roll < 0.14:
        return [Certificate("sobujang" if track == "materials" else "materials_parts", "", *valid)]
    return [Certificate(b.pick(kinds), family.detailed[0] if family.detailed else family.g2b, *valid)]


def _make_partners(b, track, n_sme, n_large):
    niche_key = NICHE.get(track, ("",))[0]
    families = [f for f in _families_for(b, track) if f.key != niche_key]
    partners = []
    for i in range(n_sme + n_large):
        large = i >= n_sme
        family = b.families[niche_key] if niche_key and i == n_sme else b.pick(families)
        size = b.pick(("중견기업",) * 3 + ("대기업",) * 2) if large else _sme_size(b, lead=False)
        firm = _new_firm(b, family, size)
        product = _product(b, track, family)
        if track == "construction":
            firm.licences = [Licence("general", b.pick(("건축", "토목"))), Licence("specialty", family.work)]
        else:
            firm.certificates += _evidence(b, track, family, product)
        partners.append((firm, family, product))
        _apply(b, firm, "partner", track, family, product)
    return partners


def _plantable(b, track, partners, used):
    rule = b.rules[track]
    ok = []
    for firm, family, product in partners:
        if firm.brn in used and not firm.is_large:
            continue
        if track == "construction" and used.get(firm.brn, 0) >= 5:
            continue
        if not pair_reasons(rule, _PROBE, firm, REFERENCE_DATE, product):
            ok.append((firm, family, product))
    return ok


_PROBE = Firm(brn="0000000000", name="probe", size_class="소기업", region="서울", founded=date(2024, 1, 1),
              licences=[Licence("specialty", "")])


def _make_leads(b, track, n_leads, partners):
    used = {}
    plantable = _plantable(b, track, partners, used)
    niche_key, niche_n = NICHE.get(track, ("", 0))
    families = [f for f in _families_for(b, track) if f.key != niche_key]
    for i in range(n_leads):
        niche = i < niche_n
        partner = None
        if not niche and plantable and b.chance(PLANT_SHARE):
            partner = b.pick(plantable)
        family = b.families[niche_key] if niche else (partner[1] if partner else b.pick(families))
        if partner and family.related and b.chance(0.25):
            family = b.families[b.pick(family.related)]
            if track not in family.tracks:
                family = partner[1]
        _lead(b, track, family, partner, used)
        if partner:
            plantable = _plantable(b, track, partners, used)


def _lead(b, track, family, partner, used):
    startup = b.chance(0.45 if track == "innovation" else 0.3)
    size = _sme_size(b, lead=True)
    if track == "innovation" and not startup and size == "중기업" and partner is not None:
        size = "소기업"  # planted pairs must be eligible
    region = partner[0].region if partner and b.chance(0.6) else None
    firm = _new_firm(b, family, size, startup=startup, region=region)
    if track == "construction":
        kind = b.pick(("specialty",) * 4 + ("general",))
        firm.licences = [Licence(kind, family.work)] if partner or b.chance(0.9) else []
    product = partner[2] if partner and track == "innovation" else _product(b, track, family)
    prefs = []
    if partner:
        split = "test" if b.chance(TEST_SHARE) else "train"
        b.pairs.append((firm.brn, partner[0].brn, track, split))
        used[partner[0].brn] = used.get(partner[0].brn, 0) + 1
        if split == "train" and b.chance(0.3):
            prefs = [partner[0].brn]
    text_family = partner[1] if partner else family
    _apply(b, firm, "lead", track, family, product, text_family=text_family, preferences=prefs)
    return firm


def _edge_cases(b):
    """Firms that fail one rule each (and some that nearly do), so every rule has both outcomes."""
    fams = {t: [f for f in _families_for(b, t) if f.key != NICHE.get(t, ("",))[0]] for t in PLAN}
    for track in ("materials", "convergence", "materials"):  # large firms may not lead
        family = b.pick(fams[track])
        firm = _new_firm(b, family, "중견기업")
        _apply(b, firm, "lead", track, family, _product(b, track, family))
    for _ in range(2):  # large partners may not join 혁신성장
        family = b.pick(fams["innovation"])
        product = _product(b, "innovation", family)
        firm = _new_firm(b, family, "대기업")
        firm.certificates.append(Certificate("direct_production", product, date(2025, 1, 1), date(2027, 12, 31)))
        _apply(b, firm, "partner", "innovation", family, product)
    for _ in range(2):  # SMEs may not partner in 역량강화
        family = b.pick(fams["construction"])
        firm = _new_firm(b, family, "중기업")
        firm.licences = [Licence("specialty", family.work)]
        _apply(b, firm, "partner", "construction", family, "")
    family = b.pick(fams["construction"])  # a large builder without a licence
    firm = _new_firm(b, family, "대기업")
    _apply(b, firm, "partner", "construction", family, "")
    for _ in range(12):  # 중기업 over seven years old may not lead 혁신성장
        family = b.pick(fams["innovation"])
        firm = _new_firm(b, family, "중기업", startup=False)
        _apply(b, firm, "lead", "innovation", family, _product(b, "innovation", family))
    _same_firm_both_sides(b, fams)
    _affiliates(b, fams)
    _debarments(b)


def _same_firm_both_sides(b, fams):
    for _ in range(2):
        family = b.pick(fams["convergence"])
        firm = _new_firm(b, family, "소기업")
        product = _product(b, "convergence", family)
        firm.certificates.append(Certificate("patent", product, date(2024, 5, 1), date(2034, 4, 30)))
        _apply(b, firm, "lead", "convergence", family, product)
        _apply(b, firm, "partner", "convergence", family, product)


def _affiliates(b, fams):
    groups = (("한결그룹", "materials", 2), ("대성그룹", "convergence", 1), ("미래건설그룹", "construction", 2))
    for group, track, n_leads in groups:
        family = b.pick(fams[track])
        large = _new_firm(b, family, "대기업")
        large.affiliate_group = group
        product = _product(b, track, family)
        if track == "construction":
            large.licences = [Licence("general", "건축"), Licence("specialty", family.work)]
        else:
            large.certificates.append(Certificate("patent", family.detailed[0], date(2023, 1, 1), date(2033, 1, 1)))
        _apply(b, large, "partner", track, family, product)
        for _ in range(n_leads):
            lead = _new_firm(b, family, "중기업")
            lead.affiliate_group = group
            if track == "construction":
                lead.licences = [Licence("specialty", family.work)]
            _apply(b, lead, "lead", track, family, _product(b, track, family))
    family = b.pick(fams["innovation"])  # two SMEs of one group, both in 혁신성장
    product = _product(b, "innovation", family)
    lead, partner = _new_firm(b, family, "소기업", startup=True), _new_firm(b, family, "중기업")
    lead.affiliate_group = partner.affiliate_group = "새솔그룹"
    partner.certificates.append(Certificate("direct_production", product, date(2025, 3, 1), date(2028, 2, 28)))
    _apply(b, lead, "lead", "innovation", family, product)
    _apply(b, partner, "partner", "innovation", family, product)


def _debarments(b):
    applicants = list(dict.fromkeys(a.brn for a in b.applications))
    planted = {brn for pair in b.pairs for brn in pair[:2]}
    candidates = [brn for brn in applicants if brn not in planted]
    by_brn = {f.brn: f for f in b.firms}
    chosen = [candidates[int(i)] for i in b.rng.choice(len(candidates), size=14, replace=False)]
    for k, brn in enumerate(chosen):
        firm = by_brn[brn]
        if k < 8:  # under a current sanction
            firm.debarred_from, firm.debarred_to = date(2026, 3, 1), date(2027, 2, 28)
        else:  # a sanction that ended before the reference date
            firm.debarred_from, firm.debarred_to = date(2023, 1, 1), date(2023, 12, 31)


def _filler(b, n_large_target):
    """Firms registered but not applying in this round, up to :data:`N_FIRMS` (about 5% large)."""
    families = list(b.families.values())
    n_large = sum(1 for f in b.firms if f.is_large)
    while len(b.firms) < N_FIRMS:
        family = b.pick(families)
        if n_large < n_large_target:
            firm = _new_firm(b, family, b.pick(("중견기업", "대기업")))
            n_large += 1
        else:
            firm = _new_firm(b, family, _sme_size(b, lead=True), startup=b.chance(0.3))
        if family.work:
            firm.licences = [Licence(b.pick(("general", "specialty")), family.work)]
        elif b.chance(0.3):
            firm.certificates.append(Certificate("patent", family.g2b, date(2022, 6, 1), date(2032, 5, 31)))


def generate(seed=SEED, families=None):
    """Generate the demo round (no files written) from ``families`` (default: ``families.toml``).

    Returns
    -------
    DemoRound
    """
    b = _Builder(seed, families or load_families(), load_words())
    for track, (n_leads, n_sme, n_large) in PLAN.items():
        partners = _make_partners(b, track, n_sme, n_large)
        _make_leads(b, track, n_leads, partners)
    _edge_cases(b)
    _filler(b, n_large_target=round(0.05 * N_FIRMS))
    for firm in b.firms:
        if b.chance(0.05):
            b.spelled[firm.brn] = codes.regions()[firm.region].name
    return DemoRound(b.firms, b.applications, b.pairs, _few_leads_partners(b), b.spelled)


def _few_leads_partners(b):
    """Large partners in 소재부품/기술융합 with fewer than five leads in their family."""
    leads_per_family = {}
    for app in b.applications:
        if app.role == "lead":
            key = (app.track, b.family_of[app.brn])
            leads_per_family[key] = leads_per_family.get(key, 0) + 1
    by_brn = {f.brn: f for f in b.firms}
    return sorted(app.brn for app in b.applications
                  if app.role == "partner" and app.track in ("materials", "convergence")
                  and by_brn[app.brn].is_large
                  and leads_per_family.get((app.track, b.family_of[app.brn]), 0) < 5)


# --- writing ----------------------------------------------------------------------------------


def render(demo_round, seed=SEED):
    """The demo files' contents: file name → text (see :func:`matcher.demo_files.render_files`)."""
    return render_files(demo_round, seed, ROUND_NAME, REFERENCE_DATE, OPEN_TRACKS)


def write_demo(out=DEMO_DIR, seed=SEED):
    """Generate and write the demo files into ``out``; returns the paths written."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, text in render(generate(seed), seed).items():
        path = out / name
        path.write_bytes(text.encode("utf-8"))
        paths.append(path)
    return paths


# --- loading ----------------------------------------------------------------------------------


DEMO_FILES = ("round.toml", "firms.csv", "applications.csv")


def files_digest(source=DEMO_DIR):
    """The SHA-256 of the demo files a load reads (hex): the same digest, the same demo data."""
    digest = hashlib.sha256()
    for name in DEMO_FILES:
        digest.update(name.encode("utf-8") + b"\0" + (Path(source) / name).read_bytes() + b"\0")
    return digest.hexdigest()


def loaded_unchanged(source=DEMO_DIR, url=None):
    """When the demo round was last loaded from these very files (naive UTC), or None: never, from other
    files, or its round is gone. ``make run`` then leaves the database as staff have changed it since."""
    spec = read_round(source)
    db.init_db(url)
    with db.transaction(url) as session:
        if session.query(db.RoundRow).filter_by(name=spec["name"]).first() is None:
            return None
        last = (session.query(db.AuditRow).filter_by(action="demo.load").order_by(db.AuditRow.id.desc()).first())
        if last is None or (last.detail or {}).get("digest") != files_digest(source):
            return None
        return last.at


def load_demo(source=DEMO_DIR, url=None, progress=None):
    """Create the demo round if missing and import its firms and applications, in one transaction.

    The files' digest goes into the audit log (:func:`loaded_unchanged` reads it).

    Returns
    -------
    list of ImportResult
        For firms and for applications; running it again reports 0 inserted, 0 updated.
    """
    from . import importer

    source = Path(source)
    spec = read_round(source)
    db.init_db(url)
    with db.transaction(url) as session:
        if session.query(db.RoundRow).filter_by(name=spec["name"]).first() is None:
            session.add(db.RoundRow(name=spec["name"], reference_date=spec["reference_date"],
                                    open_tracks=list(spec["open_tracks"])))
            db.audit(session, "demo", "round.create", round=spec["name"])
            session.flush()
        firms = importer.import_firms(source / "firms.csv", session, progress=progress)
        apps = importer.import_applications(source / "applications.csv", session, progress=progress)
        db.audit(session, "demo", "demo.load", round=spec["name"], digest=files_digest(source))
    return [firms, apps]


__all__ = ["generate", "render", "write_demo", "load_demo", "loaded_unchanged", "files_digest", "read_round", "load_families", "Family",
           "DemoRound", "SEED", "DEMO_DIR", "ROUND_NAME", "REFERENCE_DATE"]
