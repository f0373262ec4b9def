"""The scored candidate graph: for each lead, its best eligible partners with scores.

Never a dense leads × partners matrix. For a chunk of leads at a time:

1. sparse TF-IDF product (cosine of the texts), plus a bonus on pairs that share a
   G2B 물품분류 (a sparse product of class-incidence matrices), so that good code
   matches with little shared text are not lost (candidate recall);
2. pairs that the rules forbid are dropped (same firm, same affiliate group, and in
   tracks whose certificate must cover the product only partners whose certificate does);
3. the best ``pre_k`` pairs per lead by that cheap proxy are kept (``np.argpartition``).

Then every score component is computed on the candidates only (vectorised) and the
top ``k`` partners per lead by the full score are returned. Small instances
(``n_leads × n_partners ≤ exhaustive_limit``) score every eligible pair, which makes
the result exact.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import sparse

from .eligibility import EligibilityTable, eligibility_table, product_of
from .features import (G2B_LEVELS, KSIC_LEVELS, TextVectorizer, capability_arrays, firm_text,
                       lead_capability_keys, lead_product_codes, level_keys, pairs_capability_value,
                       pairs_level_value, pairs_region_value, partner_keys, partner_product_codes,
                       region_index)
from .scoring import COMPONENTS, check_weights, combine, default_text_method, explain, load_weights
from .tracks import pair_reasons

CODE_BONUS = 0.5
"""Added to the text cosine of pairs sharing a G2B 물품분류 when choosing candidates."""
EXHAUSTIVE_LIMIT = 1_000_000
_EPS = 1e-6
COLUMNS = ["lead_brn", "partner_brn", "score", *COMPONENTS, "lead_index", "partner_index"]


def candidate_edges(leads, partners, rule, on, k=50, weights=None, *, text_method=None, pre_k=None,
                    chunk_size=2000, exhaustive_limit=EXHAUSTIVE_LIMIT, table=None):
    """Top-``k`` eligible partners per lead, scored component by component.

    Parameters
    ----------
    leads, partners : list of (Firm, Application or None)
        A lead without an application is scored on its description and G2B codes.
    rule : TrackRule
    on : date
        The round's reference date.
    k : int
        Partners kept per lead.
    weights : dict, optional
        Component weights (default: ``data/weights.toml`` for the track).
    text_method : {"char", "kiwi"}, optional
        Text vectoriser (default: the configured one).
    pre_k : int, optional
        Candidates per lead chosen by the cheap proxy before full scoring (default ``k + 25``).
    chunk_size : int
        Leads per sparse product.
    exhaustive_limit : int
        Score every eligible pair when ``n_leads × n_partners`` is at most this.
    table : EligibilityTable, optional
        Reuse a table already built for these pools.

    Returns
    -------
    pandas.DataFrame
        Columns ``lead_brn, partner_brn, score, text, product_code, industry, region,
        capability, lead_index, partner_index`` (indices into ``leads`` / ``partners``);
        only eligible pairs; sorted by lead then score descending.
    """
    weights = check_weights(weights) if weights is not None else load_weights(rule.key)
    table = table or eligibility_table(leads, partners, rule, on)
    lead_ids, partner_ids = np.flatnonzero(table.lead_ok), np.flatnonzero(table.partner_ok)
    if not len(lead_ids) or not len(partner_ids) or k <= 0:
        return pd.DataFrame({c: [] for c in COLUMNS})
    exhaustive = len(lead_ids) * len(partner_ids) <= exhaustive_limit
    pre_k = len(partner_ids) if exhaustive else (pre_k or k + 25)
    vec = TextVectorizer(method=text_method or default_text_method())
    lead_texts = [firm_text(*leads[i]) for i in lead_ids]
    partner_texts = [firm_text(*partners[j]) for j in partner_ids]
    x_all = vec.fit_transform(lead_texts + partner_texts)
    x_lead, x_partner = x_all[:len(lead_texts)], x_all[len(lead_texts):]
    li, pi, proxy = _candidates(table, lead_ids, partner_ids, x_lead, x_partner,
                                _class_incidence(leads, partners, lead_ids, partner_ids),
                                pre_k, chunk_size, exhaustive)
    values = _components(leads, partners, rule, on, lead_ids, partner_ids, li, pi)
    # the proxy is text + bonus·(shares a 물품분류, i.e. product_code == 1) + ε terms: undo them
    shares_class = values["product_code"] >= G2B_LEVELS[0][1]
    eps = _EPS * (exhaustive + table.needs_cover[lead_ids[li]])
    values["text"] = np.clip(proxy - CODE_BONUS * shares_class - eps, 0.0, 1.0)
    score = combine(values, weights)
    keep = _top_k_per_group(li, score, k)
    lead_brns = np.array([leads[i][0].brn for i in lead_ids], dtype=object)
    partner_brns = np.array([partners[j][0].brn for j in partner_ids], dtype=object)
    frame = pd.DataFrame({
        "lead_brn": lead_brns[li[keep]],
        "partner_brn": partner_brns[pi[keep]],
        "score": score[keep],
        **{name: values[name][keep].astype(np.float64) for name in COMPONENTS},
        "lead_index": lead_ids[li[keep]], "partner_index": partner_ids[pi[keep]],
    })
    return frame.reset_index(drop=True)


def _class_incidence(leads, partners, lead_ids, partner_ids):
    """Sparse 0/1 matrices lead × 물품분류 and partner × 물품분류 (8-digit classes)."""
    classes = {}

    def incidence(code_lists):
        rows, cols = [], []
        for r, code_list in enumerate(code_lists):
            for c in {code[:8] for code in code_list if len(code) >= 8}:
                rows.append(r)
                cols.append(classes.setdefault(c, len(classes)))
        return rows, cols

    lr, lc = incidence([lead_product_codes(*leads[i]) for i in lead_ids])
    pr, pc = incidence([partner_product_codes(*partners[j]) for j in partner_ids])
    n = max(1, len(classes))
    a = sparse.csr_matrix((np.ones(len(lr), np.float32), (lr, lc)), shape=(len(lead_ids), n))
    b = sparse.csr_matrix((np.ones(len(pr), np.float32), (pr, pc)), shape=(len(partner_ids), n))
    return a, b


def _candidates(table, lead_ids, partner_ids, x_lead, x_partner, incidence, pre_k, chunk_size, exhaustive):
    """(lead position, partner position, proxy value) of the candidates, positions into the *_ids arrays."""
    x_partner_t = x_partner.T.tocsc()
    class_partner_t = incidence[1].T.tocsc()
    allowed = table.allowed[lead_ids][:, partner_ids].tocsr() if table.allowed is not None else None
    out_l, out_p, out_v = [], [], []
    for start in range(0, len(lead_ids), chunk_size):
        rows = slice(start, min(start + chunk_size, len(lead_ids)))
        text = (x_lead[rows] @ x_partner_t).tocsr()
        proxy = text + CODE_BONUS * _binary(incidence[0][rows] @ class_partner_t)
        if exhaustive:
            proxy = proxy + _EPS * sparse.csr_matrix(np.ones(proxy.shape, dtype=np.float32))
        if allowed is not None:
            proxy = _restrict(proxy.tocsr(), allowed[rows], table.needs_cover[lead_ids[rows]])
        r, c, v = _top_k_rows(proxy.tocsr(), pre_k)
        ok = table.lead_firm[lead_ids[start + r]] != table.partner_firm[partner_ids[c]]
        ok &= table.lead_group[lead_ids[start + r]] != table.partner_group[partner_ids[c]]
        out_l.append(start + r[ok])
        out_p.append(c[ok])
        out_v.append(v[ok])
    return (np.concatenate(out_l).astype(np.int64), np.concatenate(out_p).astype(np.int64),
            np.concatenate(out_v).astype(np.float64))


def _binary(matrix):
    matrix = matrix.tocsr()
    matrix.data[:] = 1.0
    return matrix


def _restrict(proxy, allowed, needs_cover):
    """Rows that need cover keep only allowed partners (every allowed partner at least at ε)."""
    need = sparse.diags(needs_cover.astype(np.float32))
    free = sparse.diags((~needs_cover).astype(np.float32))
    allowed = _binary(allowed.astype(np.float32))
    return free @ proxy + need @ (proxy.multiply(allowed) + _EPS * allowed)


def _top_k_rows(matrix, k):
    """Row, column and value of the ``k`` largest stored entries of each CSR row."""
    counts = np.diff(matrix.indptr)
    rows = np.repeat(np.arange(matrix.shape[0]), counts)
    keep = np.ones(len(matrix.data), dtype=bool)
    for r in np.flatnonzero(counts > k):
        lo, hi = matrix.indptr[r], matrix.indptr[r + 1]
        drop = np.argpartition(-matrix.data[lo:hi], k)[k:]
        keep[lo + drop] = False
    return rows[keep], matrix.indices[keep], matrix.data[keep]


def _top_k_per_group(groups, score, k):
    """Indices of the ``k`` best scores in each group, ordered by group then score descending.

    With ``score`` in [0, 1], one float sort on ``group - score / 2`` orders by both at once.
    """
    order = np.argsort(groups - 0.5 * score, kind="stable")
    g = groups[order]
    first = np.r_[0, np.flatnonzero(g[1:] != g[:-1]) + 1]
    starts = np.repeat(first, np.diff(np.r_[first, len(g)]))
    return order[(np.arange(len(g)) - starts) < k]


def _components(leads, partners, rule, on, lead_ids, partner_ids, li, pi):
    """Every non-text component for the candidate pairs; dict name → ndarray (n_pairs,)."""
    lead_firms = [leads[i][0] for i in lead_ids]
    partner_firms = [partners[j][0] for j in partner_ids]
    lead_codes = [lead_product_codes(*leads[i]) for i in lead_ids]
    partner_codes = [partner_product_codes(*partners[j]) for j in partner_ids]
    g2b_lengths = [lvl[0] for lvl in G2B_LEVELS]
    ksic_lengths = [lvl[0] for lvl in KSIC_LEVELS]
    work_ids = {}
    return {
        "product_code": pairs_level_value(level_keys(lead_codes, g2b_lengths),
                                          partner_keys(level_keys(partner_codes, g2b_lengths)),
                                          li, pi, [lvl[1] for lvl in G2B_LEVELS]),
        "industry": pairs_level_value(level_keys([f.ksic_codes for f in lead_firms], ksic_lengths, True),
                                      partner_keys(level_keys([f.ksic_codes for f in partner_firms],
                                                              ksic_lengths, True)),
                                      li, pi, [lvl[1] for lvl in KSIC_LEVELS]),
        "region": pairs_region_value(region_index([f.region for f in lead_firms])[li],
                                     region_index([f.region for f in partner_firms])[pi]),
        "capability": pairs_capability_value(
            lead_capability_keys(lead_codes, [f.licences for f in lead_firms], work_ids),
            capability_arrays(partner_firms, on, work_ids), li, pi, rule),
    }


def explain_pair(lead, lead_app, partner, partner_app, rule, on, weights=None, text_value=None):
    """The :class:`~matcher.scoring.Explanation` of one pair, or its eligibility reasons.

    Returns
    -------
    Explanation or list of Reason
        The reasons (non-empty list) when the rules forbid the pair.
    """
    reasons = pair_reasons(rule, lead, partner, on, product_of(lead_app))
    if reasons:
        return reasons
    return explain(lead, lead_app, partner, partner_app, rule, on, weights, text_value)


__all__ = ["candidate_edges", "explain_pair", "EligibilityTable"]
