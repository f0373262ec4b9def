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
from .korean import with_particle
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

    def text(self, lang="ko"):
        """The conflict and its fix, in ``lang``."""
        return _TEXTS[self.code][lang == "en"](self.firms, self.params)


def _firm(firms, i):
    brn, name = firms[i]
    return f"{name} ({format_brn(brn)})"


def _firm_ko(firms, i):
    brn, name = firms[i]
    return f"{name}({format_brn(brn)})"


_TEXTS = {
    "not_in_round": (
        lambda f, p: f"{with_particle(_firm_ko(f, 0), '과')} {_firm_ko(f, 1)}의 확정은 이 회차에 함께 신청한 과제가 "
                     "없어 지킬 수 없습니다. 확정을 해제하세요.",
        lambda f, p: f"the lock of {_firm(f, 0)} with {_firm(f, 1)} cannot hold: they did not apply in a common "
                     "track of this round (lead and partner). Clear the lock."),
    "ineligible": (
        lambda f, p: f"{with_particle(_firm_ko(f, 0), '과')} {_firm_ko(f, 1)}의 확정은 {p['track_ko']} 과제 규칙에 "
                     f"맞지 않습니다: {p['reasons_ko']}. 확정을 해제하세요.",
        lambda f, p: f"the lock of {_firm(f, 0)} with {_firm(f, 1)} breaks the rules of {p['track_en']}: "
                     f"{p['reasons_en']}. Clear the lock."),
    "lead_locked_twice": (
        lambda f, p: f"주관기업 {with_particle(_firm_ko(f, 0), '은')} 협력기업 {p['count']}곳"
                     f"({p['partners']})과 확정되었지만 한 곳과만 짝지을 수 있습니다. 하나만 남기고 해제하세요.",
        lambda f, p: f"lead {_firm(f, 0)} is locked with {p['count']} partners ({p['partners']}) but signs with "
                     "one. Clear all but one."),
    "over_max": (
        lambda f, p: f"협력기업 {with_particle(_firm_ko(f, 0), '은')} {p['track_ko']} 과제에서 주관기업 "
                     f"{p['locked']}곳과 확정되었지만 최대 {p['max']}곳까지입니다. {p['locked'] - p['max']}곳의 확정을 "
                     "해제하세요.",
        lambda f, p: f"partner {_firm(f, 0)} in {p['track_en']} is locked with {p['locked']} leads but takes at "
                     f"most {p['max']}. Clear {p['locked'] - p['max']} of the locks."),
    "below_min": (
        lambda f, p: f"협력기업 {with_particle(_firm_ko(f, 0), '은')} {p['track_ko']} 과제에서 주관기업 "
                     f"{p['locked']}곳과 확정되었지만 최소 {p['min']}곳이 필요하고, 함께할 수 있는 적격 주관기업은 "
                     f"{p['available']}곳뿐입니다. 확정을 해제하거나 적격 주관기업의 신청을 더 받으세요.",
        lambda f, p: f"partner {_firm(f, 0)} in {p['track_en']} is locked with {p['locked']} lead(s) but needs at "
                     f"least {p['min']}, and only {p['available']} eligible leads are available to it. Clear the "
                     "lock(s), or take more eligible lead applications."),
}


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
    rule = inp.rules[t]
    params = dict(track=t, track_ko=rule.name_ko, track_en=rule.name_en,
                  reasons_ko="; ".join(r.ko for r in reasons), reasons_en="; ".join(r.en for r in reasons))
    return Conflict("ineligible", _names(inp, d.lead, d.partner), (d,), params), None


def _lead_twice(inp, placed):
    by_lead = {}
    for d, track in placed:
        by_lead.setdefault(d.lead, []).append(d)
    out = []
    for lead, ds in by_lead.items():
        partners = sorted({d.partner for d in ds})
        if len(partners) > 1:
            names = ", ".join(n for _b, n in _names(inp, *partners))
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
        params = dict(track=track, track_ko=rule.name_ko, track_en=rule.name_en, locked=len(ds),
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
