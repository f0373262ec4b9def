"""Eligibility of many pairs at once, on top of the rules in :mod:`matcher.tracks`.

The rule logic lives only in :mod:`matcher.tracks`. Here each firm's lead and
partner reasons are computed once (``tracks.lead_reasons`` / ``tracks.partner_reasons``),
and the few pair-level conditions (same firm, same affiliate group, the partner's
certificate covering the lead's product) are checked on integer arrays, so that
millions of candidate pairs can be filtered without a Python call per pair.
A test checks that :meth:`EligibilityTable.pair_ok` agrees with ``tracks.pair_reasons``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import sparse

from .errors import UnknownTrackError
from .messages import msg
from .tracks import lead_reasons, pair_reasons, partner_reasons


def why_not(lead, partner, track, rules, on, product_code=""):
    """Every reason the pair may not be proposed in ``track`` ([] when it may).

    Parameters
    ----------
    lead, partner : Firm
    track : str or TrackRule
        A track key (looked up in ``rules``) or the rule itself.
    rules : dict of str to TrackRule
    on : date
        The round's reference date.
    product_code : str
        The product the lead applied for ('' when none).

    Returns
    -------
    list of Reason
        What the UI shows as "not shown because …".
    """
    return pair_reasons(rule_for(track, rules), lead, partner, on, product_code)


def rule_for(track, rules):
    """The :class:`TrackRule` for ``track`` (a key or a rule)."""
    if hasattr(track, "partner_sizes"):
        return track
    try:
        return rules[track]
    except KeyError:
        raise UnknownTrackError(msg("track.not_found", track=str(track), known=list(rules))) from None


def product_of(application):
    return application.product_code if application is not None else ""


@dataclass
class EligibilityTable:
    """Per-firm eligibility of a lead pool and a partner pool in one track.

    Attributes
    ----------
    lead_reasons, partner_reasons : list of list of Reason
        Why each lead may not lead / each partner may not partner (empty = may).
    lead_ok, partner_ok : ndarray of bool, shapes (n_leads,) and (n_partners,)
    allowed : scipy.sparse.csr_matrix or None, shape (n_leads, n_partners)
        For tracks whose partner certificate must cover the product: which partners'
        valid certificates cover each lead's product (rows of leads without a product are empty).
    needs_cover : ndarray of bool, shape (n_leads,)
        Leads whose pairs are limited to ``allowed``.
    """

    lead_reasons: list
    partner_reasons: list
    lead_ok: np.ndarray
    partner_ok: np.ndarray
    lead_firm: np.ndarray
    partner_firm: np.ndarray
    lead_group: np.ndarray
    partner_group: np.ndarray
    allowed: sparse.csr_matrix | None
    needs_cover: np.ndarray

    def pair_ok(self, li, pi):
        """Whether each pair (``li[j]``, ``pi[j]``) is eligible; ndarray of bool, shape (n_pairs,)."""
        li, pi = np.asarray(li, dtype=np.int64), np.asarray(pi, dtype=np.int64)
        ok = self.lead_ok[li] & self.partner_ok[pi]
        ok &= self.lead_firm[li] != self.partner_firm[pi]
        ok &= self.lead_group[li] != self.partner_group[pi]
        if self.allowed is not None:
            covered = np.asarray(self.allowed[li, pi]).ravel() > 0
            ok &= covered | ~self.needs_cover[li]
        return ok


def eligibility_table(leads, partners, rule, on):
    """Build the :class:`EligibilityTable` of ``leads`` × ``partners`` in ``rule``'s track.

    Parameters
    ----------
    leads, partners : list of (Firm, Application or None)
    rule : TrackRule
    on : date

    Returns
    -------
    EligibilityTable
    """
    l_reasons = [lead_reasons(rule, firm, on) for firm, _ in leads]
    p_reasons = [partner_reasons(rule, firm, on, "") for firm, _ in partners]
    firm_ids, group_ids = {}, {}
    lead_firm = np.array([firm_ids.setdefault(f.brn, len(firm_ids)) for f, _ in leads], dtype=np.int64)
    partner_firm = np.array([firm_ids.setdefault(f.brn, len(firm_ids)) for f, _ in partners], dtype=np.int64)
    lead_group = np.array([group_ids.setdefault(f.affiliate_group, len(group_ids)) if f.affiliate_group else -1
                           for f, _ in leads], dtype=np.int64)
    partner_group = np.array([group_ids.setdefault(f.affiliate_group, len(group_ids)) if f.affiliate_group else -2
                              for f, _ in partners], dtype=np.int64)
    needs_cover = np.array([bool(rule.certificate_covers_product and product_of(a)) for _, a in leads], dtype=bool)
    allowed = _cover_matrix(leads, partners, rule, on) if needs_cover.any() else None
    return EligibilityTable(l_reasons, p_reasons,
                            np.array([not r for r in l_reasons], dtype=bool),
                            np.array([not r for r in p_reasons], dtype=bool),
                            lead_firm, partner_firm, lead_group, partner_group, allowed, needs_cover)


def _cover_matrix(leads, partners, rule, on):
    """Sparse (lead, partner) pattern: the partner holds a valid certificate covering the lead's product."""
    exact, by_class8, by_class_any = {}, {}, {}
    for j, (firm, _) in enumerate(partners):
        for cert in firm.certificates:
            if cert.kind not in rule.partner_certificates_any or not cert.code or not cert.valid_on(on):
                continue
            by_class_any.setdefault(cert.code[:8], set()).add(j)
            if len(cert.code) == 8:
                by_class8.setdefault(cert.code, set()).add(j)
            else:
                exact.setdefault(cert.code, set()).add(j)
    rows, cols = [], []
    for i, (_, app) in enumerate(leads):
        product = product_of(app) if rule.certificate_covers_product else ""
        if not product:
            continue
        if len(product) == 16:
            found = by_class_any.get(product[:8], set())
        else:
            found = exact.get(product, set()) | by_class8.get(product[:8], set())
        rows.extend([i] * len(found))
        cols.extend(sorted(found))
    data = np.ones(len(rows), dtype=np.int8)
    return sparse.csr_matrix((data, (rows, cols)), shape=(len(leads), len(partners)))


