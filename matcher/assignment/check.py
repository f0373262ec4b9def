"""One feasibility check for every answer: the solver's, stable mode's, and the tests'.

Also the wording of a partner's load when 조합 (cooperative) leads stand for several
SMEs: ``3 leads standing for 7 SMEs`` / ``주관기업 3곳(중소기업 7개사)``.
"""

from __future__ import annotations

import math
from collections import Counter

import pandas as pd


def check_feasible(pairs, partners, edges, locks=(), forbid=(), members=None):
    """Every rule the chosen pairs break (an empty list when they are feasible).

    Linear in the input sizes (sets and counters; the chosen set is built once).

    Parameters
    ----------
    pairs : pandas.DataFrame or iterable of tuple
        Chosen pairs: ``lead_id, partner_id`` columns, or tuples ``(lead, partner, ...)``.
    partners : iterable of (partner_id, min_leads, max_leads)
        ``max_leads`` None, NaN or < 0 means no upper limit.
    edges : iterable of (lead_id, partner_id, score)
        The eligible pairs.
    locks, forbid : iterable of (lead_id, partner_id), optional
    members : mapping of lead_id -> int, optional
        SMEs a lead stands for (default 1); they count toward the minimum and maximum of
        a partner that takes several leads (``min_leads > 1`` or ``max_leads`` not 1).

    Returns
    -------
    list of str

    Examples
    --------
    >>> check_feasible([("a", "P")], [("P", 5, None)], [("a", "P", 1.0)])
    ['partner P has 1 lead, fewer than its minimum 5']
    >>> check_feasible([("a", "P")], [("P", 5, None)], [("a", "P", 1.0)], members={"a": 7})
    []
    """
    if isinstance(pairs, pd.DataFrame):
        pairs = zip(pairs["lead_id"], pairs["partner_id"])
    chosen = [tuple(p)[:2] for p in pairs]
    chosen_set = set(chosen)
    eligible = {tuple(e)[:2] for e in edges}
    forbidden = {tuple(p)[:2] for p in forbid}
    members = members or {}
    found = []
    per_lead = Counter(lead for lead, _ in chosen)
    found += [f"lead {lead} has {n} partners" for lead, n in sorted(per_lead.items(), key=lambda t: str(t[0]))
              if n > 1]
    found += [f"{pair} is not an eligible pair" for pair in chosen if pair not in eligible]
    found += [f"{pair} is forbidden but chosen" for pair in chosen if pair in forbidden]
    found += [f"{tuple(pair)[:2]} is locked but not chosen" for pair in locks if tuple(pair)[:2] not in chosen_set]
    count, weight = Counter(), Counter()
    for lead, p in chosen:
        count[p] += 1
        weight[p] += int(members.get(lead, 1))
    for p, lo, hi in partners:
        n = count.get(p, 0)
        unbounded = hi is None or (isinstance(hi, float) and math.isnan(hi)) or hi < 0
        w = weight.get(p, 0) if (unbounded or hi > 1 or (lo is not None and lo > 1)) else n
        load = load_text(n, w)
        if not unbounded and w > hi:
            found.append(f"partner {p} has {load}, more than its maximum {hi}")
        if lo is not None and lo > 1 and 0 < w < lo:
            found.append(f"partner {p} has {load}, fewer than its minimum {lo}")
    return found


def load_text(leads, smes=None, lang="en"):
    """``3 leads standing for 7 SMEs`` (``주관기업 3곳(중소기업 7개사)``), or ``3 leads`` when they are equal.

    Examples
    --------
    >>> load_text(3, 7), load_text(3, 7, "ko"), load_text(1)
    ('3 leads standing for 7 SMEs', '주관기업 3곳(중소기업 7개사)', '1 lead')
    """
    smes = leads if smes is None else smes
    if lang == "ko":
        return f"주관기업 {leads}곳" + (f"(중소기업 {smes}개사)" if smes != leads else "")
    text = f"{leads} lead" if leads == 1 else f"{leads} leads"
    return text + (f" standing for {smes} SMEs" if smes != leads else "")
