"""Staff decisions that make a re-solve impossible, found before the solver starts.

A lock or approval says "this pair must be chosen". That cannot hold when the pair is not
in the round or not eligible, when a lead is locked with two partners, when a partner is
locked with more leads than its maximum, or when a locked large partner cannot reach its
minimum with the eligible leads still free. Each :class:`Conflict` names the firms, the
decisions that cause it and what would fix it (clearing them), in Korean and English.

Pure functions over a :class:`matcher.matching.RoundInput`; no database.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .eligibility import eligibility_table, why_not
from .firms import format_brn
from .messages import Msg, N_, msg
from .matching import DROP_KINDS, KEEP_KINDS

CODES = ("not_in_round", "ineligible", "lead_locked_twice", "over_max", "below_min")


@dataclass(frozen=True)
class Conflict:
    """One reason the decisions cannot all hold.

    ``firms`` are ``(brn, name)`` of the firms concerned (the lead or partner first);
    ``decisions`` the :class:`~matcher.matching.Decision` items that cause it (clearing any of
    them fixes it, or all of them for ``below_min``/``over_max``); ``params`` the numbers.
    """

    code: str
    firms: tuple
    decisions: tuple
    params: dict = field(default_factory=dict)

    @property
    def msg(self):
        """The conflict and its fix as a :class:`~matcher.messages.Msg` (``conflict.<code>``)."""
        firms = [msg("firm.named", name=name, brn=format_brn(brn)) for brn, name in self.firms]
        p = dict(self.params)
        if "track" in p:
            p["track"] = msg(N_("track." + p["track"]))
        if "reasons" in p:
            p["reasons"] = [Msg.from_json(r) for r in p["reasons"]]
        if "max" in p and "locked" in p and p["max"] is not None:
            p["extra"] = p["locked"] - p["max"]
        return msg(N_("conflict." + self.code), firm=firms[0], other=firms[1] if len(firms) > 1 else "", **p)

    def text(self, lang="ko"):
        """The conflict and its fix, in ``lang``."""
        return self.msg.text(lang)


def find_conflicts(inp, tracks=None):
    """Every :class:`Conflict` among ``inp.decisions`` for a run of ``tracks`` (default: every pool).

    Parameters
    ----------
    inp : matcher.matching.RoundInput
    tracks : list of str, optional

    Returns
    -------
    list of Conflict
        Empty when the locks and approvals can all hold as far as these checks see (the solver
        may still find a combination of minimums it cannot meet, and says so).
    """
    tracks = [t for t in (tracks or list(inp.pools)) if t in inp.pools and t in inp.rules]
    found, placed = [], []
    for d in inp.decisions:
        if d.kind not in KEEP_KINDS:
            continue
        conflict, track = _place(inp, d, tracks)
        if conflict is not None:
            found.append(conflict)
        elif track is not None:
            placed.append((d, track))
    found += _lead_twice(inp, placed)
    found += _capacity(inp, placed)
    return found


def _names(inp, *brns):
    return tuple((brn, inp.firm(brn).name if inp.firm(brn) else brn) for brn in brns)


def _place(inp, d, tracks):
    """The track a kept decision falls in for this run, or the conflict that stops it."""
    if d.track and d.track not in tracks:
        return None, None  # a decision of a track this run leaves alone
    common = [t for t in ([d.track] if d.track else tracks)
              if inp.application(t, "lead", d.lead) and inp.application(t, "partner", d.partner)]
    if not common:
        if not d.track and not any(inp.application(t, "lead", d.lead) for t in tracks):
            return None, None  # the lead is not in this run at all
        return Conflict("not_in_round", _names(inp, d.lead, d.partner), (d,)), None
    first = None
    for t in common:
        lead, lead_app = inp.application(t, "lead", d.lead)
        partner = inp.application(t, "partner", d.partner)[0]
        reasons = why_not(lead, partner, t, inp.rules, inp.reference_date, lead_app.product_code)
        if not reasons:
            return None, t
        first = first or (t, reasons)
    t, reasons = first
    params = dict(track=t, reasons=[r.to_json() for r in reasons])
    return Conflict("ineligible", _names(inp, d.lead, d.partner), (d,), params), None


def _lead_twice(inp, placed):
    by_lead = {}
    for d, track in placed:
        by_lead.setdefault(d.lead, []).append(d)
    out = []
    for lead, ds in by_lead.items():
        partners = sorted({d.partner for d in ds})
        if len(partners) > 1:
            names = [n for _b, n in _names(inp, *partners)]
            out.append(Conflict("lead_locked_twice", _names(inp, lead), tuple(ds),
                                dict(count=len(partners), partners=names)))
    return out


def _capacity(inp, placed):
    by_partner = {}
    for d, track in placed:
        by_partner.setdefault((track, d.partner), []).append(d)
    locked_leads = {d.lead: (track, d.partner) for d, track in placed}
    out = []
    for (track, brn), ds in sorted(by_partner.items()):
        rule = inp.rules[track]
        firm = inp.application(track, "partner", brn)[0]
        cap = rule.capacity_for(firm.size_class)
        if cap is None:
            continue
        params = dict(track=track, locked=len(ds),
                      min=cap.min or 0, max=cap.max)
        if cap.max is not None and len(ds) > cap.max:
            out.append(Conflict("over_max", _names(inp, brn), tuple(ds), params))
        elif (cap.min or 0) > len(ds):
            params["available"] = _available(inp, track, brn, locked_leads)
            if params["available"] < cap.min:
                out.append(Conflict("below_min", _names(inp, brn), tuple(ds), params))
    return out


def _available(inp, track, brn, locked_leads):
    """Leads of ``track`` that may pair with partner ``brn``: eligible, not dropped, not locked elsewhere."""
    pool = inp.pools[track]
    partner = [fa for fa in pool.partners if fa[0].brn == brn]
    table = eligibility_table(pool.leads, partner, inp.rules[track], inp.reference_date)
    ok = table.pair_ok(range(len(pool.leads)), [0] * len(pool.leads))
    dropped = {d.lead for d in inp.decisions if d.kind in DROP_KINDS and d.partner == brn
               and d.track in ("", track)}
    return sum(1 for (firm, _a), yes in zip(pool.leads, ok)
               if yes and firm.brn not in dropped and locked_leads.get(firm.brn, (track, brn)) == (track, brn))
