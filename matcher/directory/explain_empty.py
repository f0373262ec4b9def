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

_COUNTED = ("partner_size", "lead_size", "lead_condition", "debarred", "partner_licence", "lead_licence",
            "certificate_missing", "certificate_expired", "affiliate", "filtered", "not_applicant")
"""The reasons a firm is left out, each counted by ``empty.count.<code>`` ({n} the count)."""


def _sentence(q, counts, population, side):
    rule = q.rule
    certs = ", ".join(CERTIFICATE_KINDS[k][0] for k in rule.partner_certificates_any) or "-"
    product = q.product if rule.certificate_covers_product and q.product else ""
    fill = dict(track=_track(rule), certs=certs, on=q.on.isoformat(),
                product=msg("eligibility.for_product", product=product) if product else "",
                round=q.round_row.name if q.round_row else "-")
    parts = [msg(N_("empty.count." + code), n=n, **fill) if code in _COUNTED else msg("empty.count.other", n=n, code=code)
             for code, n in sorted(counts.items(), key=lambda item: -item[1])]
    return msg("empty.sentence", track=fill["track"], role=msg(N_("role." + side)), population=population,
               parts=parts)


def _track(rule):
    return msg(N_("track." + rule.key))


def _said(m, **more):
    return {"ko": m.ko, "en": m.en, **more}


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
    widen = nearest_products(q, fails) + other_tracks(q, q.asker)
    return {"code": "no_partner", **_said(_sentence(q, counts, population, "partner")), "population": population,
            "counts": counts, "widen": widen}


def leads(q, fails, app_of, eligible, shown, applicants_only, wanted):
    """Why no lead is shown to the partner of ``q``."""
    filtered = eligible & ~shown
    extra = {"not_applicant": int((filtered & (app_of < 0)).sum()) if applicants_only else 0,
             "filtered": int((filtered & (app_of >= 0)).sum()) if applicants_only else int(filtered.sum())}
    others = _others(q, fails)
    counts = _counts(fails[others], LEAD_CHECKS, extra)
    population = int(others.sum())
    return {"code": "no_lead", **_said(_sentence(q, counts, population, "lead")), "population": population,
            "counts": counts, "widen": []}


def self_reasons(q, reasons):
    """The firm itself may not take its role in the track: its reasons, and the tracks where it may."""
    said = msg("empty.self_not_eligible", firm=q.firm.name, track=_track(q.rule), role=msg(N_("role." + q.role)),
               reasons=list(reasons))
    widen = other_tracks(q, q.asker) if q.role == "lead" else []
    return {"code": "self_not_eligible", **_said(said), "population": 0,
            "counts": {r.code.removeprefix("eligibility."): 1 for r in reasons}, "widen": widen}


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
        said = msg("empty.nearby_product", code=code, name=f" {name}" if name else "", n=len(firms))
        out.append({"kind": "product", "code": code, "name": name or "", "partners": len(firms), **_said(said)})
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
                        **_said(msg("empty.may_lead", track=_track(rule)))})
            continue
        n = int((partner_failures(q.index, rule, q.on.toordinal(), "", asker) < 0).sum())
        if n:
            out.append({"kind": "track", "track": key, "partners": n,
                        **_said(msg("empty.may_lead_with", track=_track(rule), n=n))})
    return out
