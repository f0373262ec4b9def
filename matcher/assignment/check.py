"""One feasibility check for every answer: the solver's, stable mode's, and the tests'."""

from __future__ import annotations

import math

import pandas as pd


def check_feasible(pairs, partners, edges, locks=(), forbid=()):
    """Every rule the chosen pairs break (an empty list when they are feasible).

    Parameters
    ----------
    pairs : pandas.DataFrame or iterable of tuple
        Chosen pairs: ``lead_id, partner_id`` columns, or tuples ``(lead, partner, ...)``.
    partners : iterable of (partner_id, min_leads, max_leads)
        ``max_leads`` None, NaN or < 0 means no upper limit.
    edges : iterable of (lead_id, partner_id, score)
        The eligible pairs.
    locks, forbid : iterable of (lead_id, partner_id), optional

    Returns
    -------
    list of str

    Examples
    --------
    >>> check_feasible([("a", "P")], [("P", 5, None)], [("a", "P", 1.0)])
    ['partner P has 1 leads, fewer than its minimum 5']
    """
    if isinstance(pairs, pd.DataFrame):
        pairs = zip(pairs["lead_id"], pairs["partner_id"])
    chosen = [tuple(p)[:2] for p in pairs]
    eligible = {tuple(e)[:2] for e in edges}
    forbidden = {tuple(p)[:2] for p in forbid}
    found = []
    leads = [lead for lead, _ in chosen]
    found += [f"lead {lead} has {leads.count(lead)} partners" for lead in sorted(set(leads), key=str)
              if leads.count(lead) > 1]
    found += [f"{pair} is not an eligible pair" for pair in chosen if pair not in eligible]
    found += [f"{pair} is forbidden but chosen" for pair in chosen if pair in forbidden]
    found += [f"{tuple(pair)[:2]} is locked but not chosen" for pair in locks if tuple(pair)[:2] not in set(chosen)]
    load = {}
    for _, p in chosen:
        load[p] = load.get(p, 0) + 1
    for p, lo, hi in partners:
        n = load.get(p, 0)
        if hi is not None and not (isinstance(hi, float) and math.isnan(hi)) and hi >= 0 and n > hi:
            found.append(f"partner {p} has {n} leads, more than its maximum {hi}")
        if lo is not None and lo > 1 and 0 < n < lo:
            found.append(f"partner {p} has {n} leads, fewer than its minimum {lo}")
    return found
