"""A run's proposals as the workbench shows them: loads, graph pairs, diagnostics sections.

Plain functions over the row dicts of :func:`matcher.rounds.proposal_rows`; the views in
:mod:`web.runs` and :mod:`web.api` render them. The pictures use only what the run stored, so
they never change after later decisions.
"""

from __future__ import annotations

from collections import Counter


def as_json(row):
    """A proposal row for the API: the stored proposal, and the decision that counts now under ``current``."""
    out = {k: row[k] for k in ("id", "track", "score", "status", "lead_brn", "lead_name", "partner_brn",
                               "partner_name", "partner_size", "components", "reasons", "decision", "note")}
    out["current"] = dict(decision=row["decision"], note=row["note"], decided_by=row["decided_by"],
                          decided_at=row["decided_at"].isoformat() if row.get("decided_at") else None)
    return out


def partner_loads(rows, rules):
    """Leads per (partner, track) among the run's stored pairs, with the track's min and max for it."""
    counts = Counter((r["partner_id"], r["track"]) for r in rows if r["status"] != "rejected")
    names = {(r["partner_id"], r["track"]): (r["partner_name"], r["partner_size"]) for r in rows}
    loads = []
    for key, (name, size) in sorted(names.items(), key=lambda kv: kv[1][0]):
        cap = rules[key[1]].capacity_for(size) if key[1] in rules else None
        loads.append(dict(key=key, name=name, size=size, track=key[1], count=counts.get(key, 0),
                          min=cap.min if cap else 0, max=cap.max if cap else None))
    return loads


def unused_loads(diagnostics, sizes, rules):
    """Zero-load entries for the large partners a run left unused, with their track's minimum.

    ``sizes`` maps 사업자등록번호 to size class (:func:`matcher.rounds.firm_sizes`).
    """
    loads = []
    for item in (diagnostics or {}).get("unused_partners", []):
        size = sizes.get(item.get("brn"), "")
        rule = rules.get(item.get("track"))
        cap = rule.capacity_for(size) if size and rule is not None else None
        loads.append(dict(key=("unused", item.get("brn"), item.get("track")), name=item.get("name", ""),
                          size=size, track=item.get("track", ""), count=0,
                          min=cap.min if cap else 0, max=cap.max if cap else None))
    return loads


def graph_pairs(rows, loads):
    """The pairs for :func:`web.charts.bipartite_svg`, flagging partners below their minimum."""
    below = {l["key"] for l in loads if l["count"] < l["min"]}
    return [dict(partner=r["partner_name"], lead=r["lead_name"], partner_key=(r["partner_id"], r["track"]),
                 lead_key=r["lead_brn"], track=r["track"], below_min=(r["partner_id"], r["track"]) in below)
            for r in sorted(rows, key=lambda r: (r["partner_name"], r["track"], r["lead_name"]))]


def for_track(diagnostics, track):
    """The diagnostics limited to one track (all of them when ``track`` is empty)."""
    if not track:
        return diagnostics or {}
    return {key: [i for i in items if isinstance(i, dict) and i.get("track") == track]
            for key, items in (diagnostics or {}).items() if isinstance(items, list)}


def unused_partner_names(diagnostics):
    """Names of the large partners a run left unused (from its diagnostics)."""
    return [item.get("name") or item.get("brn", "") for item in (diagnostics or {}).get("unused_partners", [])
            if isinstance(item, dict)]


def diagnostics_sections(diagnostics):
    """The run's diagnostics as ``[(title_key, items)]``; each item ``{"name", "brn", "track", "reasons"}``."""
    diagnostics = diagnostics or {}
    sections = []
    for key in ("unused_partners", "unmatched_leads"):
        items = diagnostics.get(key) or []
        sections.append((key, [_diagnostic_item(i) for i in items]))
    return sections


def _diagnostic_item(item):
    if not isinstance(item, dict):
        return dict(name=str(item), brn="", track="", reasons=[])
    reasons = item.get("reasons", [])
    if isinstance(reasons, (str, dict)):
        reasons = [reasons]
    return dict(name=item.get("name", ""), brn=item.get("brn", ""), track=item.get("track", ""),
                reasons=reasons)
