"""Why a directory search came back empty, with numbers, and what would widen it.

``{"code", "ko", "en", "population", "counts": {reason code: n}, "widen": [...]}``: of the firms
of the directory (the asking firm left out), how many each rule excluded (each firm counted once,
by the first rule it fails, so the counts add up), how many the filters or the applicants-only
choice removed; then the nearest products with certified partners and other open tracks where
the firm could apply and finds partners.
"""

from __future__ import annotations

import numpy as np

from .. import codes
from ..firms import CERTIFICATE_KINDS
from ..messages import N_, msg
from ..tracks import lead_reasons
from .index import LEAD_CHECKS, PARTNER_CHECKS, partner_failures, valid_certs

_TEXTS = {  # code: (Korean, English), {n} the count
    "partner_size": ("{n}곳은 규모상 {track_ko} 과제의 협력기업이 될 수 없음", "{n} are of a size that may not partner in {track_en}"),
    "lead_size": ("{n}곳은 규모상 {track_ko} 과제의 주관기업이 될 수 없음", "{n} are of a size that may not lead in {track_en}"),
    "lead_condition": ("{n}곳은 주관기업 요건(창업·소기업 등)에 맞지 않음", "{n} do not meet the lead condition (startup, small firm …)"),
    "debarred": ("{n}곳은 부정당업자 제재 중", "{n} are debarred"),
    "partner_licence": ("{n}곳은 건설업 면허가 없음", "{n} hold no construction licence"),
    "lead_licence": ("{n}곳은 건설업 면허가 없음", "{n} hold no construction licence"),
    "certificate_missing": ("{n}곳은 {certs}{product_ko}이 없음", "{n} hold no {certs}{product_en}"),
    "certificate_expired": ("{n}곳은 {certs}의 유효기간이 {on}에 맞지 않음", "{n} hold {certs} not valid on {on}"),
    "affiliate": ("{n}곳은 같은 계열", "{n} are in your affiliate group"),
    "filtered": ("{n}곳은 선택한 조건(지역·규모·인증) 밖", "{n} are outside the filters (region, size, certificate)"),
    "not_applicant": ("{n}곳은 {round} 회차에 신청하지 않음 ('신청 기업만' 선택)",
                      "{n} did not apply in {round} (applicants only)"),
}


def _sentence(q, counts, population, side_ko, side_en):
    rule = q.rule
    certs = ", ".join(CERTIFICATE_KINDS[k][0] for k in rule.partner_certificates_any) or "-"
    product = q.product if rule.certificate_covers_product and q.product else ""
    fill = dict(track_ko=rule.name_ko, track_en=rule.name_en, certs=certs, on=q.on.isoformat(),
                product_ko=f" ({product})" if product else "", product_en=f" for {product}" if product else "",
                round=q.round_row.name if q.round_row else "-")
    parts_ko, parts_en = [], []
    for code, n in sorted(counts.items(), key=lambda item: -item[1]):
        ko, en = _TEXTS.get(code, (f"{{n}}곳: {code}", f"{{n}}: {code}"))
        parts_ko.append(ko.format(n=f"{n:,}", **fill))
        parts_en.append(en.format(n=f"{n:,}", **fill))
    ko = f"{rule.name_ko} 과제 {side_ko} 찾기 — 디렉터리의 기업 {population:,}곳 중 " + ", ".join(parts_ko) + "."
    en = (f"looking for a {side_en} in {rule.name_en} — of the {population:,} firms in the directory, "
          + ", ".join(parts_en) + ".")
    return ko, en


def _others(q, fails):
    """The asking firm left out of the counts."""
    others = np.ones(len(fails), dtype=bool)
    if q.asker is not None and q.asker.pos >= 0:
        others[q.asker.pos] = False
    return others


def _counts(fails, checks, extra):
    counts = {}
    for code, name in enumerate(checks):
        n = int((fails == code).sum())
        if n:
            counts[name] = n
    counts.update({k: v for k, v in extra.items() if v})
    return counts


def partners(q, fails, app_of, eligible, shown, applicants_only, wanted):
    """Why no partner is shown to the lead of ``q``."""
    filtered = eligible & ~shown
    extra = {}
    if applicants_only:
        extra["not_applicant"] = int((filtered & (app_of < 0)).sum())
        extra["filtered"] = int((filtered & (app_of >= 0)).sum())
    else:
        extra["filtered"] = int(filtered.sum())
    others = _others(q, fails)
    counts = _counts(fails[others], PARTNER_CHECKS, extra)
    population = int(others.sum())
    ko, en = _sentence(q, counts, population, "협력기업", "partner")
    widen = nearest_products(q, fails) + other_tracks(q, q.asker)
    return {"code": "no_partner", "ko": ko, "en": en, "population": population, "counts": counts, "widen": widen}


def leads(q, fails, app_of, eligible, shown, applicants_only, wanted):
    """Why no lead is shown to the partner of ``q``."""
    filtered = eligible & ~shown
    extra = {"not_applicant": int((filtered & (app_of < 0)).sum()) if applicants_only else 0,
             "filtered": int((filtered & (app_of >= 0)).sum()) if applicants_only else int(filtered.sum())}
    others = _others(q, fails)
    counts = _counts(fails[others], LEAD_CHECKS, extra)
    population = int(others.sum())
    ko, en = _sentence(q, counts, population, "주관기업", "lead")
    return {"code": "no_lead", "ko": ko, "en": en, "population": population, "counts": counts, "widen": []}


def self_reasons(q, reasons):
    """The firm itself may not take its role in the track: its reasons, and the tracks where it may."""
    said = msg("directory.self_not_eligible", firm=q.firm.name, track=msg(N_("track." + q.rule.key)),
               role=msg(N_("role." + q.role)))
    ko = said.text("ko") + " " + "; ".join(r.ko for r in reasons)
    en = said.text("en") + " " + "; ".join(r.en for r in reasons)
    widen = other_tracks(q, q.asker) if q.role == "lead" else []
    return {"code": "self_not_eligible", "ko": ko, "en": en, "population": 0,
            "counts": {r.code: 1 for r in reasons}, "widen": widen}


def nearest_products(q, fails, limit=5):
    """Products near the lead's with partners certified for them (those the certificate rule alone excluded)."""
    rule = q.rule
    if not (rule.certificate_covers_product and q.product and rule.partner_certificates_any):
        return []
    index = q.index
    cert_rule = np.isin(fails, [PARTNER_CHECKS.index("certificate_missing"), PARTNER_CHECKS.index("certificate_expired")])
    could = (fails < 0) | cert_rule
    certs = valid_certs(index, q.on.toordinal(), rule.partner_certificates_any) & could[index.cert_firm]
    certs &= index.cert_len >= 8
    by_code = {}
    for c in np.flatnonzero(certs):
        by_code.setdefault(index.cert_code[c], set()).add(int(index.cert_firm[c]))
    by_code.pop(q.product, None)

    def closeness(code):
        return next((n for n in range(min(len(code), len(q.product)), 0, -1) if code[:n] == q.product[:n]), 0)

    ranked = sorted(by_code.items(), key=lambda item: (-closeness(item[0]), -len(item[1]), item[0]))[:limit]
    out = []
    for code, firms in ranked:
        name = codes.sme_competition_products().get(code) or _g2b(code)
        out.append({"kind": "product", "code": code, "name": name or "", "partners": len(firms),
                    "ko": f"물품 {code} {name or ''}: 인증 보유 협력 후보 {len(firms)}곳".replace("  ", " "),
                    "en": f"product {code} {name or ''}: {len(firms)} certified partners".replace("  ", " ")})
    return out


def _g2b(code):
    try:
        return codes.g2b_name(code)
    except (KeyError, ValueError, LookupError):
        return None


def other_tracks(q, asker):
    """Other open tracks where the firm may lead, with how many partners it would find there."""
    if q.role != "lead":
        return []
    out = []
    for key, rule in q.rules.items():
        if key == q.rule.key or not rule.open or lead_reasons(rule, q.firm, q.on):
            continue
        if q.index is None:
            out.append({"kind": "track", "track": key, "partners": None,
                        "ko": f"{rule.name_ko} 과제에 주관기업으로 신청 가능", "en": f"may lead in {rule.name_en}"})
            continue
        n = int((partner_failures(q.index, rule, q.on.toordinal(), "", asker) < 0).sum())
        if n:
            out.append({"kind": "track", "track": key, "partners": n,
                        "ko": f"{rule.name_ko} 과제: 주관기업으로 신청 가능, 협력 후보 {n:,}곳",
                        "en": f"{rule.name_en}: you may lead there, {n:,} possible partners"})
    return out
