"""Deterministic instance generators for the solver benchmark (shapes of issue 9 and others).

Every generator takes a size and a seed and returns ``(leads, partners, edges, members)``:
lead ids, a ``partner_id, min_leads, max_leads`` frame (``max_leads`` None = unbounded),
a ``lead_id, partner_id, score`` frame without duplicate pairs, and the member count of
each lead (all 1 unless the shape has 조합 leads). Same arguments, same bytes.

- :func:`capped` — the issue's shape: 10 % large partners (unused or 5..15 leads), SME
  partners at most 1, each lead 1–8 eligible partners in its topic cluster plus a 30 %
  chance of one random partner elsewhere (one giant component).
- :func:`coop` — the same with 5 % of leads cooperatives standing for 2–8 SMEs.
- :func:`hubs` — a shape not designed for: few large hubs (3 %, minimum 5, maximum 40)
  that every cluster can reach, leads with 2–4 partners drawn by popularity (Zipf), scores
  that favour the hubs; many large partners compete for the same leads.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

LEADS_PER_CLUSTER = 60
"""Topic clusters hold about this many leads (and partners in proportion)."""


def capped(n_leads, seed=0, partner_ratio=0.33, large_share=0.10, coop_share=0.0):
    """The issue-9 shape (see the module docstring); ``n_partners = partner_ratio * n_leads``."""
    rng = np.random.default_rng(seed)
    n_partners = max(2, int(round(partner_ratio * n_leads)))
    n_clusters = max(1, n_leads // LEADS_PER_CLUSTER)
    large = rng.random(n_partners) < large_share
    large[0] = True
    p_cluster = rng.integers(0, n_clusters, n_partners)
    p_cluster[:n_clusters] = np.arange(min(n_clusters, n_partners))  # every cluster has a partner
    order = np.argsort(p_cluster, kind="stable")
    starts = np.searchsorted(p_cluster[order], np.arange(n_clusters + 1))
    size = np.diff(starts)
    l_cluster = rng.integers(0, n_clusters, n_leads)
    k = np.minimum(rng.integers(1, 9, n_leads), size[l_cluster])
    # k distinct partners of the lead's cluster: a random offset and step through the cluster's list
    e_lead = np.repeat(np.arange(n_leads), k)
    within = np.arange(e_lead.size) - np.repeat(np.cumsum(k) - k, k)
    offset = rng.integers(0, 1 << 30, n_leads)[e_lead]
    cl = l_cluster[e_lead]
    e_part = order[starts[cl] + (offset + within) % size[cl]]
    extra = np.flatnonzero(rng.random(n_leads) < 0.30)
    e_lead = np.concatenate([e_lead, extra])
    e_part = np.concatenate([e_part, rng.integers(0, n_partners, extra.size)])
    quality = rng.uniform(0, 40, n_partners)
    score = np.round(quality[e_part] + rng.uniform(0, 60, e_lead.size), 2)
    mins = np.where(large, 5, 0)
    maxs = np.where(large, 15, 1)
    return _frames(n_leads, n_partners, mins, maxs, e_lead, e_part, score, _members(rng, n_leads, coop_share))



def _members(rng, n_leads, coop_share):
    """SMEs each lead stands for: 1, or 2–8 for the ``coop_share`` of leads that are cooperatives (조합)."""
    members = np.ones(n_leads, dtype=np.int64)
    if coop_share:
        coop = rng.random(n_leads) < coop_share
        members[coop] = rng.integers(2, 9, int(coop.sum()))
    return members

def coop(n_leads, seed=0):
    """:func:`capped` with 5 % of the leads cooperatives (조합) standing for 2–8 SMEs each."""
    return capped(n_leads, seed=seed, coop_share=0.05)


def hubs(n_leads, seed=0, partner_ratio=0.2, hub_share=0.03):
    """Few popular large hubs (min 5, max 40) reachable from everywhere; see the module docstring."""
    rng = np.random.default_rng(seed)
    n_partners = max(2, int(round(partner_ratio * n_leads)))
    hub = rng.random(n_partners) < hub_share
    hub[0] = True
    popularity = 1.0 / np.arange(1, n_partners + 1) ** 0.8
    popularity = popularity[rng.permutation(n_partners)] * np.where(hub, 6.0, 1.0)
    popularity /= popularity.sum()
    k = rng.integers(2, 5, n_leads)
    e_lead = np.repeat(np.arange(n_leads), k)
    e_part = rng.choice(n_partners, size=e_lead.size, p=popularity)
    quality = rng.uniform(0, 40, n_partners) + np.where(hub, 20.0, 0.0)
    score = np.round(quality[e_part] + rng.uniform(0, 40, e_lead.size), 2)
    mins = np.where(hub, 5, 0)
    maxs = np.where(hub, 40, 1)
    return _frames(n_leads, n_partners, mins, maxs, e_lead, e_part, score, np.ones(n_leads, dtype=np.int64))


TRACKS = (("innovation", 0.40, 0.00, 1, 0), ("materials", 0.25, 0.06, 1, 5), ("convergence", 0.20, 0.06, 1, 5),
          ("construction", 0.15, 1.00, 5, 0))
"""The round's four tracks: (name, share of leads, share of partners that take several leads, their maximum
(large firms: none; construction: 5), their minimum); the other partners are SMEs taking one lead."""


def round_shape(n_leads, seed=0, partner_ratio=0.5, mean_degree=30, max_degree=50, coop_share=0.0):
    """What the round pipeline hands the solver: four tracks (separate components), each lead with up to
    ``max_degree`` candidate partners left by top-k pruning (log-normal, median ``mean_degree``), partners
    drawn by Zipf popularity (large ones four times as popular, so their degrees are heavy-tailed: thousands
    of candidate leads), scores of 0..100 with two decimals. Large partners of 소재부품/기술융합: unused or at
    least 5 leads, no upper limit; construction partners: at most 5. 100,000 leads: about 2.8 million edges.
    """
    rng = np.random.default_rng(seed)
    n_partners = max(8, int(round(partner_ratio * n_leads)))
    lead_track = rng.choice(len(TRACKS), size=n_leads, p=[t[1] for t in TRACKS])
    part_track = rng.choice(len(TRACKS), size=n_partners, p=[t[1] for t in TRACKS])
    part_track[:len(TRACKS)] = np.arange(len(TRACKS))  # every track has a partner
    multi_share = np.array([t[2] for t in TRACKS])
    multi = rng.random(n_partners) < multi_share[part_track]
    mins = np.where(multi, np.array([t[4] for t in TRACKS])[part_track], 0)
    maxs = np.where(multi, np.array([t[3] if t[3] > 1 else -1 for t in TRACKS])[part_track], 1)
    popularity = 1.0 / (1.0 + rng.permutation(n_partners)) ** 0.8 * np.where(multi, 4.0, 1.0)
    degree = np.clip(np.round(rng.lognormal(np.log(mean_degree), 0.5, n_leads)), 1, max_degree).astype(np.int64)
    e_lead, e_part = [], []
    for t in range(len(TRACKS)):
        leads_t = np.flatnonzero(lead_track == t)
        parts_t = np.flatnonzero(part_track == t)
        deg = np.minimum(degree[leads_t], len(parts_t))
        weight = popularity[parts_t] / popularity[parts_t].sum()
        e_lead.append(np.repeat(leads_t, deg))
        e_part.append(parts_t[rng.choice(len(parts_t), size=int(deg.sum()), p=weight)])
    e_lead, e_part = np.concatenate(e_lead), np.concatenate(e_part)
    quality = rng.uniform(0, 40, n_partners) + np.where(multi, 10.0, 0.0)
    score = np.round(quality[e_part] + rng.uniform(0, 50, e_lead.size), 2)
    return _frames(n_leads, n_partners, mins, maxs, e_lead, e_part, score, _members(rng, n_leads, coop_share))


def ties(n_leads, seed=0):
    """:func:`capped` with whole-number scores 1..10: most pairs tie with many others (a degenerate LP with
    many optimal solutions), as when scores are coarse grades rather than similarities."""
    leads, partners, edges, members = capped(n_leads, seed=seed)
    rng = np.random.default_rng(seed + 1)
    return leads, partners, edges.assign(score=rng.integers(1, 11, len(edges)).astype(float)), members


SHAPES = {"capped": capped, "coop": coop, "hubs": hubs, "round": round_shape, "ties": ties}


def _frames(n_leads, n_partners, mins, maxs, e_lead, e_part, score, members):
    key = e_lead.astype(np.int64) * n_partners + e_part
    _u, first = np.unique(key, return_index=True)
    first = np.sort(first)
    lead_ids = np.array([f"L{i:06d}" for i in range(n_leads)], dtype=object)
    part_ids = np.array([f"P{i:06d}" for i in range(n_partners)], dtype=object)
    partners = pd.DataFrame({"partner_id": part_ids, "min_leads": mins.astype(np.int64),
                             "max_leads": [None if m < 0 else int(m) for m in maxs]})
    edges = pd.DataFrame({"lead_id": lead_ids[e_lead[first]], "partner_id": part_ids[e_part[first]],
                          "score": score[first]})
    return list(lead_ids), partners, edges, members


def write_csv(folder, leads, partners, edges, members):
    """The instance as ``matcher solve`` files in ``folder`` (leads.csv gets ``members``)."""
    from pathlib import Path
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    pd.DataFrame({"lead_id": leads, "members": members}).to_csv(folder / "leads.csv", index=False)
    partners.assign(max_leads=partners["max_leads"].astype("Int64")).to_csv(folder / "partners.csv", index=False)
    edges.to_csv(folder / "edges.csv", index=False)
    return folder
