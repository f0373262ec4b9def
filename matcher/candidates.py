"""The scored candidate graph: for each lead, its best eligible partners with scores.

Never a dense leads × partners matrix. For a chunk of leads at a time:

1. a sparse TF-IDF product (cosine of the texts), united with the pairs that share a
   G2B 물품분류 (a sparse product of class-incidence matrices), so that good code
   matches with little shared text are not lost (candidate recall);
2. pairs the rules forbid are dropped (same firm, same affiliate group, and in tracks
   whose certificate must cover the product, partners whose certificate does not);
3. each stored pair gets a cheap partial score (text, shared 물품분류, region, with the
   track's weights) and the best ``pre_k`` pairs per lead are kept (``np.argpartition``).

Then every score component is computed on the candidates only (vectorised) and the
top ``k`` partners per lead by the full score are returned. Small instances
(``n_leads × n_partners ≤ exhaustive_limit``) score every eligible pair, which makes
the result exact.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import sparse

from .eligibility import eligibility_table, product_of
from .features import (G2B_LEVELS, KSIC_LEVELS, capability_arrays, char_tfidf, firm_text,
                       lead_capability_keys, lead_product_codes, level_keys, pairs_capability_value,
                       pairs_level_value, pairs_region_value, partner_keys, partner_product_codes,
                       region_index)
from .scoring import COMPONENTS, check_weights, combine, default_text_method, explain, rule_weights
from .tracks import pair_reasons

EXHAUSTIVE_LIMIT = 1_000_000
# One sparse product gives, per stored pair, text cosine + 2·(number of shared 물품분류), the class
# incidence being appended to the TF-IDF columns; pairs forced in (exhaustive run, or a certificate
# covering the product) get + _MARK on top. _decode splits the three apart again.
_SHARE, _MARK = 2.0, 4096.0
COLUMNS = ["lead_brn", "partner_brn", "score", *COMPONENTS, "lead_index", "partner_index"]


def candidate_edges(leads, partners, rule, on, k=50, weights=None, *, text_method=None, pre_k=None,
                    chunk_size=2000, exhaustive_limit=EXHAUSTIVE_LIMIT, table=None, lead_subset=None,
                    partner_subset=None, vectors=None, on_chunk=None):
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
        Candidates per lead chosen by the partial score before full scoring (default ``k + 50``).
    chunk_size : int
        Leads per sparse product.
    exhaustive_limit : int
        Score every eligible pair when ``n_leads × n_partners`` is at most this.
    table : EligibilityTable, optional
        Reuse a table already built for these pools.
    lead_subset, partner_subset : sequence of int, optional
        Score only these leads / partners (indices into ``leads`` / ``partners``). The text
        model is still fitted on every eligible firm of both pools, so a pair scores exactly
        as in a run over the whole pools (one firm's recommendations agree with round matching).
    vectors : TextModel, optional
        The text vectors of these pools from :func:`fitted_text_model` (with the same ``table``),
        to score several passes over one pool without fitting the text model again.
    on_chunk : callable, optional
        ``on_chunk(done, total)`` after each chunk of leads (progress; it may raise to stop the work).

    Returns
    -------
    pandas.DataFrame
        Columns ``lead_brn, partner_brn, score, text, product_code, industry, region,
        capability, lead_index, partner_index`` (indices into ``leads`` / ``partners``);
        only eligible pairs; sorted by lead then score descending.
    """
    weights = check_weights(weights) if weights is not None else rule_weights(rule)
    table = table or eligibility_table(leads, partners, rule, on)
    lead_ids, partner_ids = np.flatnonzero(table.lead_ok), np.flatnonzero(table.partner_ok)
    if not len(lead_ids) or not len(partner_ids) or k <= 0:
        return pd.DataFrame({c: [] for c in COLUMNS})
    model = vectors if vectors is not None else fitted_text_model(leads, partners, table, text_method)
    x_lead, x_partner = model.x_lead, model.x_partner
    if lead_subset is not None:
        lead_ids, x_lead = _subset(lead_ids, x_lead, lead_subset)
    if partner_subset is not None:
        partner_ids, x_partner = _subset(partner_ids, x_partner, partner_subset)
    if not len(lead_ids) or not len(partner_ids):
        return pd.DataFrame({c: [] for c in COLUMNS})
    exhaustive = len(lead_ids) * len(partner_ids) <= exhaustive_limit
    pre_k = len(partner_ids) if exhaustive else (pre_k or k + 50)
    regions = (region_index([leads[i][0].region for i in lead_ids]),
               region_index([partners[j][0].region for j in partner_ids]))
    li, pi, text = _candidates(table, lead_ids, partner_ids, (x_lead, x_partner),
                               _class_incidence(leads, partners, lead_ids, partner_ids), regions, weights,
                               pre_k, chunk_size, exhaustive, on_chunk)
    values = _components(leads, partners, rule, on, lead_ids, partner_ids, li, pi, regions)
    values["text"] = text
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


@dataclass(frozen=True)
class TextModel:
    """TF-IDF rows of a pool's eligible leads and eligible partners (in ``flatnonzero(table.*_ok)`` order)."""

    x_lead: sparse.csr_matrix
    x_partner: sparse.csr_matrix


def fitted_text_model(leads, partners, table, text_method=None):
    """The text model fitted on every eligible firm of both pools, and their vectors (:class:`TextModel`)."""
    lead_ids, partner_ids = np.flatnonzero(table.lead_ok), np.flatnonzero(table.partner_ok)
    method = text_method or default_text_method()
    lead_texts = [firm_text(*leads[i]) for i in lead_ids]
    partner_texts = [firm_text(*partners[j]) for j in partner_ids]
    if method == "char":  # TextVectorizer's matrix to the bit, its analyser vectorised
        x_all = char_tfidf(lead_texts + partner_texts)
    else:
        from .vectorizer import TextVectorizer
        x_all = TextVectorizer(method=method).fit_transform(lead_texts + partner_texts)
    return TextModel(x_all[:len(lead_texts)].tocsr(), x_all[len(lead_texts):].tocsr())


def _subset(ids, vectors, subset):
    """The eligible ``ids`` that are in ``subset``, with their rows of ``vectors``."""
    keep = np.isin(ids, np.asarray(list(subset), dtype=np.int64))
    return ids[keep], vectors[np.flatnonzero(keep)]


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


def _candidates(table, lead_ids, partner_ids, vectors, incidence, regions, weights, pre_k, chunk_size,
                exhaustive, on_chunk=None):
    """(lead position, partner position, text cosine) of the candidates; positions index the *_ids arrays."""
    x_lead = sparse.hstack([vectors[0], _SHARE * incidence[0]], format="csr", dtype=np.float32)
    x_partner_t = sparse.hstack([vectors[1], incidence[1]], format="csr", dtype=np.float32).T.tocsc()
    allowed = table.allowed[lead_ids][:, partner_ids].tocsr() if table.allowed is not None else None
    total = sum(weights.values())
    w_text, w_code, w_region = (weights[n] / total for n in ("text", "product_code", "region"))
    lead_firm, lead_group = table.lead_firm[lead_ids], table.lead_group[lead_ids]
    partner_firm, partner_group = table.partner_firm[partner_ids], table.partner_group[partner_ids]
    out = []
    for start in range(0, len(lead_ids), chunk_size):
        rows = slice(start, min(start + chunk_size, len(lead_ids)))
        entries = (x_lead[rows] @ x_partner_t).tocsr()
        if exhaustive:
            entries = entries.astype(np.float64) + _MARK * sparse.csr_matrix(np.ones(entries.shape))
        if allowed is not None:
            entries = _restrict(entries.astype(np.float64), allowed[rows], table.needs_cover[lead_ids[rows]])
        entries = entries.tocsr()
        r = start + np.repeat(np.arange(entries.shape[0]), np.diff(entries.indptr))
        c = entries.indices
        text, shares = _decode(entries.data)
        partial = w_text * text + w_code * shares + w_region * pairs_region_value(regions[0][r], regions[1][c])
        partial[(lead_firm[r] == partner_firm[c]) | (lead_group[r] == partner_group[c])] = -1.0
        keep = _top_k_segments(entries.indptr, partial, pre_k) & (partial >= 0)
        out.append((r[keep], c[keep], text[keep]))
        if on_chunk is not None:
            on_chunk(rows.stop, len(lead_ids))
    return tuple(np.concatenate([o[i] for o in out]) for i in range(3))


def _decode(data):
    """Split stored entries into (text cosine, shares a 물품분류); see ``_SHARE`` and ``_MARK``."""
    data = data.astype(np.float64)
    rest = data - _MARK * np.floor(data / _MARK)
    shared = np.floor(rest / _SHARE + 1e-4)  # text ≤ 1 (+ float32 rounding) never reaches one _SHARE
    return np.clip(rest - _SHARE * shared, 0.0, 1.0), shared > 0


def _binary(matrix):
    matrix = matrix.tocsr()
    matrix.data[:] = 1.0
    return matrix


def _restrict(entries, allowed, needs_cover):
    """Rows that need cover keep only allowed partners, each marked as forced in."""
    need = sparse.diags(needs_cover.astype(np.float64))
    free = sparse.diags((~needs_cover).astype(np.float64))
    allowed = _binary(allowed.astype(np.float64))
    return free @ entries + need @ (entries.multiply(allowed) + _MARK * allowed)


def _top_k_segments(indptr, values, k):
    """Mask of the ``k`` largest ``values`` within each CSR row segment ``indptr[r]:indptr[r + 1]``."""
    counts = np.diff(indptr)
    keep = np.ones(len(values), dtype=bool)
    for r in np.flatnonzero(counts > k):
        lo, hi = indptr[r], indptr[r + 1]
        keep[lo + np.argpartition(-values[lo:hi], k)[k:]] = False
    return keep


def _top_k_per_group(groups, score, k):
    """Indices of the ``k`` best scores in each group, ordered by group then score descending.

    With ``score`` in [0, 1], one float sort on ``group - score / 2`` orders by both at once.
    """
    order = np.argsort(groups - 0.5 * score, kind="stable")
    g = groups[order]
    first = np.r_[0, np.flatnonzero(g[1:] != g[:-1]) + 1]
    starts = np.repeat(first, np.diff(np.r_[first, len(g)]))
    return order[(np.arange(len(g)) - starts) < k]


def _components(leads, partners, rule, on, lead_ids, partner_ids, li, pi, regions):
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
        "region": pairs_region_value(regions[0][li], regions[1][pi]),
        "capability": pairs_capability_value(
            lead_capability_keys(lead_codes, [f.licences for f in lead_firms], work_ids),
            capability_arrays(partner_firms, on, work_ids), li, pi, rule),
    }


def pair_components(leads, partners, rule, on, li, pi):
    """Every non-text score component of the pairs (``leads[li[j]]``, ``partners[pi[j]]``), vectorised.

    Parameters
    ----------
    leads, partners : list of (Firm, Application or None)
    rule : TrackRule
    on : date
    li, pi : ndarray of int, shape (n_pairs,)

    Returns
    -------
    dict of str to ndarray, shape (n_pairs,)
        ``product_code``, ``industry``, ``region``, ``capability``.
    """
    lead_ids, partner_ids = np.arange(len(leads)), np.arange(len(partners))
    regions = (region_index([f.region for f, _ in leads]), region_index([f.region for f, _ in partners]))
    return _components(leads, partners, rule, on, lead_ids, partner_ids, np.asarray(li, np.int64),
                       np.asarray(pi, np.int64), regions)


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


__all__ = ["TextModel", "candidate_edges", "explain_pair", "fitted_text_model", "pair_components"]
