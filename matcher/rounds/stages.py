"""The selection after the match: candidate pairs through the stages, the quota, 상생협력제품 records.

A pair staff approve (or lock) is a *candidate*. It moves through the round's stages in order —
by default 대면평가 (interview) → 현장평가 (site visit) → 심의위원회 (committee), from ``data/program.toml``,
per round in ``rounds.stages`` — each with a score 0–100, a note, a date and who recorded it. Events
are only added (:class:`matcher.db.StageEventRow`): a stage is recorded once its previous stage is,
recording the current stage again corrects it (the newest event counts), and nothing goes back.
A candidate may be dropped (탈락) at any stage. After the last stage staff confirm the selection of a
track (:func:`confirm_selection`) within its quota; each selected pair gets a 상생협력제품 record
(세부품명번호, confirmation date, expiry three years later) that later rounds show.

Only staff call these (the web views are staff-only); ``actor`` is refused when it is a firm.
"""

from __future__ import annotations

import math
import tomllib
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from functools import lru_cache

from sqlalchemy import func, select
from sqlalchemy.orm import aliased

from .. import db
from ..errors import ConfigError, InvalidValueError, RefusedError
from ..firms import format_brn
from ..messages import N_, msg
from ..paths import DATA_DIR
from ..text import TextError, clean_text
from ..tracks import TRACKS
from .records import get_round

PROGRAM_PATH = DATA_DIR / "program.toml"
OUTCOMES = ("selected", "rejected")
STAGE_NAMES = (N_("stage.document"), N_("stage.interview"), N_("stage.presentation"), N_("stage.site_visit"),
               N_("stage.committee"), N_("stage.selected"), N_("stage.rejected"))
"""Every stage's and outcome's name (built from the key at run time: ``msg(N_("stage." + key))``)."""
NOTE_MAX = 2000


@lru_cache(maxsize=4)
def program_settings(path=None):
    """``data/program.toml`` as a dict (stages, known stages, quota, product years, mutual bonus)."""
    where = path or PROGRAM_PATH
    try:
        with open(where, "rb") as fh:
            data = tomllib.load(fh)
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"{where}: cannot read the program settings ({exc})") from exc
    unknown = [s for s in data.get("stages", []) if s not in data.get("known_stages", [])]
    if unknown or not data.get("stages"):
        raise ConfigError(f"{where}: stages {unknown or '[]'} are not among known_stages")
    return data


def round_stages(round_row):
    """The round's stage keys in order (its own, else the shipped default)."""
    return list(round_row.stages or program_settings()["stages"])


def quota_of(round_row, track):
    """Products the round may select in ``track``."""
    quotas = program_settings()["quota"]
    own = round_row.quotas or {}
    return int(own.get(track, own.get("default", quotas.get(track, quotas["default"]))))


def _now():
    return datetime.now(timezone.utc).replace(tzinfo=None)


def _staff(actor):
    if not actor or str(actor).startswith("firm:"):
        raise RefusedError(msg("stage.staff_only"))


def set_stages(session, round_id, stages, actor):
    """Set the round's stages (known keys, in order, each once); refused once any stage was recorded."""
    _staff(actor)
    round_row = get_round(session, round_id)
    known = program_settings()["known_stages"]
    keys = [str(s).strip() for s in stages if str(s).strip()]
    bad = [s for s in keys if s not in known]
    if bad or not keys or len(set(keys)) != len(keys):
        raise InvalidValueError(msg("stage.bad_list", stages=keys, known=known))
    if session.scalar(select(func.count()).select_from(db.StageEventRow)
                      .where(db.StageEventRow.round_id == round_row.id)):
        raise RefusedError(msg("stage.list_in_use", round=round_row.name))
    round_row.stages = keys
    db.audit(session, actor, "stage.list", round=round_row.name, stages=keys)
    return keys


def set_quota(session, round_id, track, quota, actor):
    """Set the number of products the round may select in ``track`` (a whole number ≥ 0)."""
    _staff(actor)
    round_row = get_round(session, round_id)
    if track not in TRACKS:
        raise InvalidValueError(msg("stage.unknown_track", track=str(track), known=list(TRACKS)))
    try:
        value = int(str(quota).strip())
    except ValueError:
        value = -1
    if value < 0:
        raise InvalidValueError(msg("stage.bad_quota", value=str(quota)))
    round_row.quotas = {**(round_row.quotas or {}), track: value}
    db.audit(session, actor, "stage.quota", round=round_row.name, track=track, quota=value)
    return value


@dataclass
class Candidate:
    """An approved pair in the selection: its stage events (newest of each stage counts) and outcome."""

    track: str
    lead_brn: str
    lead_name: str
    partner_brn: str
    partner_name: str
    match_score: float | None
    product_code: str = ""
    scores: dict = field(default_factory=dict)  # stage → score (the newest event)
    events: list = field(default_factory=list)  # every event, oldest first
    stage: str = ""  # the last stage recorded ('' before the first)
    outcome: str = ""  # selected / rejected / ''

    @property
    def key(self):
        return (self.lead_brn, self.partner_brn)

    def to_dict(self):
        return dict(track=self.track, lead=self.lead_brn, lead_name=self.lead_name, partner=self.partner_brn,
                    partner_name=self.partner_name, match_score=self.match_score, product_code=self.product_code,
                    scores=self.scores, stage=self.stage, outcome=self.outcome,
                    events=[dict(e, at=e["at"].isoformat(), held_on=e["held_on"].isoformat() if e["held_on"] else None)
                            for e in self.events])


def _latest_scores(session, round_id):
    """``{(lead_id, partner_id): score}`` from the round's newest run of each track."""
    runs = session.execute(select(db.MatchRunRow.id, db.MatchRunRow.track).where(db.MatchRunRow.round_id == round_id)
                           .order_by(db.MatchRunRow.id)).all()
    newest = {}
    for run_id, track in runs:
        newest[track] = run_id
    p = db.ProposalRow
    out = {}
    for run_id in sorted(newest.values()):
        for lead_id, partner_id, score in session.execute(select(p.lead_id, p.partner_id, p.score)
                                                          .where(p.run_id == run_id)):
            out[(lead_id, partner_id)] = score
    return out


def candidates(session, round_id, track=None):
    """The round's candidate pairs (approved or locked), with their stages; every pair ever in the
    selection stays listed (an approval withdrawn after a stage was recorded keeps its history)."""
    round_row = get_round(session, round_id)
    lead, partner = aliased(db.FirmRow), aliased(db.FirmRow)
    d, e = db.DecisionRow, db.StageEventRow
    pairs = {}
    stmt = (select(d.lead_id, d.partner_id, d.track, lead.brn, lead.name, partner.brn, partner.name)
            .join(lead, lead.id == d.lead_id).join(partner, partner.id == d.partner_id)
            .where(d.round_id == round_row.id, d.kind.in_(("approve", "lock"))).order_by(d.id))
    for lead_id, partner_id, t, *names in session.execute(stmt):
        pairs[(lead_id, partner_id)] = [t, *names]
    events = session.execute(select(e, lead.brn, lead.name, partner.brn, partner.name)
                             .join(lead, lead.id == e.lead_id).join(partner, partner.id == e.partner_id)
                             .where(e.round_id == round_row.id).order_by(e.id)).all()
    for row, *names in events:
        pairs.setdefault((row.lead_id, row.partner_id), [row.track, *names])
    scores = _latest_scores(session, round_row.id)
    products = _lead_products(session, round_row.id)
    tracks_of = _pair_tracks(session, round_row.id) if any(not v[0] for v in pairs.values()) else {}
    for key, value in pairs.items():
        if not value[0]:  # a decision taken without naming its track: the track both applied in
            value[0] = tracks_of.get(key, "")
    found = {}
    for (lead_id, partner_id), (t, lead_brn, lead_name, partner_brn, partner_name) in pairs.items():
        if track and t != track:
            continue
        found[(lead_id, partner_id)] = Candidate(t, lead_brn, lead_name, partner_brn, partner_name,
                                                 scores.get((lead_id, partner_id)),
                                                 products.get((lead_id, t), ""))
    order = {s: i for i, s in enumerate(round_stages(round_row))}
    for row, *_names in events:
        c = found.get((row.lead_id, row.partner_id))
        if c is None:
            continue
        c.events.append(dict(stage=row.stage, score=row.score, note=row.note or "", held_on=row.held_on,
                             by=row.recorded_by, at=row.recorded_at))
        if row.stage in OUTCOMES:
            c.outcome = row.stage
        elif row.stage in order:
            c.scores[row.stage] = row.score
            if order[row.stage] >= order.get(c.stage, -1):
                c.stage = row.stage
    return list(found.values())


def _pair_tracks(session, round_id):
    """``{(lead_id, partner_id): track}``: the first track (program order) where both applied, each on its side."""
    a = db.ApplicationRow
    sides = {}
    for firm_id, role, t in session.execute(select(a.firm_id, a.role, a.track).where(a.round_id == round_id)):
        sides.setdefault((role, t), set()).add(firm_id)
    out = {}
    for t in reversed(TRACKS):
        for lead_id in sides.get(("lead", t), ()):
            for partner_id in sides.get(("partner", t), ()):
                out[(lead_id, partner_id)] = t
    return out


def _lead_products(session, round_id):
    a = db.ApplicationRow
    return {(firm_id, t): code or "" for firm_id, t, code in session.execute(
        select(a.firm_id, a.track, a.product_code).where(a.round_id == round_id, a.role == "lead"))}


def _candidate(session, round_row, lead, partner):
    lead_row, partner_row = db.get_firm(session, lead), db.get_firm(session, partner)
    for c in candidates(session, round_row.id):
        if c.key == (lead_row.brn, partner_row.brn):
            return c, lead_row, partner_row
    raise RefusedError(msg("stage.not_candidate", lead=_named(lead_row), partner=_named(partner_row),
                           round=round_row.name))


def _named(row):
    return msg("firm.named", name=row.name, brn=format_brn(row.brn))


def _check_score(score):
    try:
        value = float(str(score).strip())
    except (TypeError, ValueError):
        value = math.nan
    if not (0 <= value <= 100):
        raise InvalidValueError(msg("stage.bad_score", value=str(score)))
    return value


def _check_note(note):
    try:
        text = clean_text(str(note or ""), NOTE_MAX).strip()
    except TextError as exc:
        raise InvalidValueError(msg("stage.bad_note", reason=exc.reason, reason_en=exc.reason)) from None
    return text


def _check_day(held_on):
    if held_on in (None, ""):
        return date.today()
    if isinstance(held_on, date):
        return held_on
    try:
        return date.fromisoformat(str(held_on).strip())
    except ValueError:
        raise InvalidValueError(msg("stage.bad_date", value=str(held_on))) from None


def record_stage(session, round_id, lead, partner, stage, score, note="", held_on=None, actor=""):
    """Record a candidate's score at ``stage`` (the next stage, or its current one to correct it).

    Raises
    ------
    RefusedError
        Not a staff actor; the pair is not a candidate; its outcome is final; ``stage`` skips a stage or
        goes back (naming the stage it is at and the one that comes next).
    InvalidValueError
        An unknown stage, a score outside 0–100, a bad date or note.
    """
    _staff(actor)
    round_row = get_round(session, round_id)
    stages = round_stages(round_row)
    if stage not in stages:
        raise InvalidValueError(msg("stage.unknown", stage=str(stage), known=[msg(N_("stage." + s)) for s in stages]))
    value, text, day = _check_score(score), _check_note(note), _check_day(held_on)
    c, lead_row, partner_row = _candidate(session, round_row, lead, partner)
    if c.outcome:
        raise RefusedError(msg("stage.final", lead=_named(lead_row), partner=_named(partner_row),
                               outcome=msg(N_("stage." + c.outcome))))
    at = stages.index(c.stage) if c.stage else -1
    wanted = stages.index(stage)
    if wanted < at:
        raise RefusedError(msg("stage.backwards", stage=msg(N_("stage." + stage)), current=msg(N_("stage." + c.stage))))
    if wanted > at + 1:
        raise RefusedError(msg("stage.skipped", stage=msg(N_("stage." + stage)), next=msg(N_("stage." + stages[at + 1]))))
    row = db.StageEventRow(round_id=round_row.id, lead_id=lead_row.id, partner_id=partner_row.id, track=c.track,
                           stage=stage, score=value, note=text, held_on=day, recorded_by=actor, recorded_at=_now())
    session.add(row)
    db.audit(session, actor, "stage.record", round=round_row.name, lead=lead_row.brn, partner=partner_row.brn,
             stage=stage, score=value, correction=wanted == at)
    session.flush()
    return row


def drop_candidate(session, round_id, lead, partner, note="", actor=""):
    """Record 탈락 (rejected) for a candidate at whatever stage it is; final."""
    _staff(actor)
    round_row = get_round(session, round_id)
    c, lead_row, partner_row = _candidate(session, round_row, lead, partner)
    if c.outcome:
        raise RefusedError(msg("stage.final", lead=_named(lead_row), partner=_named(partner_row),
                               outcome=msg(N_("stage." + c.outcome))))
    return _outcome(session, round_row, lead_row.id, partner_row.id, c.track, "rejected", _check_note(note), actor)


def _outcome(session, round_row, lead_id, partner_id, track, outcome, note, actor):
    row = db.StageEventRow(round_id=round_row.id, lead_id=lead_id, partner_id=partner_id, track=track, stage=outcome,
                           note=note, held_on=date.today(), recorded_by=actor, recorded_at=_now())
    session.add(row)
    db.audit(session, actor, f"stage.{outcome}", round=round_row.name, lead_id=lead_id, partner_id=partner_id)
    return row


def ranked(session, round_id, track):
    """The track's candidates best first: furthest stage, then its score, then the match score.

    Returns
    -------
    list of Candidate
        Selected ones first, then open ones by stage and score, rejected ones last.
    """
    round_row = get_round(session, round_id)
    stages = round_stages(round_row)

    def key(c):
        final = {"selected": 0, "": 1, "rejected": 2}[c.outcome]
        at = stages.index(c.stage) if c.stage else -1
        return (final, -at, -(c.scores.get(c.stage) or 0.0), -(c.match_score or 0.0), c.lead_brn)
    return sorted(candidates(session, round_row.id, track), key=key)


def add_years(day, years):
    """``day`` moved ``years`` on (29 February becomes 28 February).

    Examples
    --------
    >>> add_years(date(2024, 2, 29), 3)
    datetime.date(2027, 2, 28)
    """
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def detailed_code(product_code):
    """The 10-digit 세부품명번호 of an applied product (the first 10 digits of a 16-digit 물품목록번호)."""
    digits = "".join(ch for ch in str(product_code or "") if ch.isdigit())
    return digits[:10]


def confirm_selection(session, round_id, track, pairs, actor, confirmed_on=None):
    """Select ``pairs`` of the track (each past the last stage) within its quota; the rest that finished
    the last stage are 탈락. Each selected pair gets a 상생협력제품 record.

    Parameters
    ----------
    pairs : list of (lead_brn, partner_brn)

    Returns
    -------
    list of ProductRow

    Raises
    ------
    RefusedError
        More pairs than the quota allows (naming the quota, the track and how many), a pair that has not
        finished the last stage or is final already.
    """
    _staff(actor)
    round_row = get_round(session, round_id)
    stages = round_stages(round_row)
    day = _check_day(confirmed_on)
    found = {c.key: c for c in candidates(session, round_row.id, track)}
    wanted = []
    for lead, partner in pairs:
        lead_row, partner_row = db.get_firm(session, lead), db.get_firm(session, partner)
        c = found.get((lead_row.brn, partner_row.brn))
        if c is None:
            raise RefusedError(msg("stage.not_candidate", lead=_named(lead_row), partner=_named(partner_row),
                                   round=round_row.name))
        if c.outcome:
            raise RefusedError(msg("stage.final", lead=_named(lead_row), partner=_named(partner_row),
                                   outcome=msg(N_("stage." + c.outcome))))
        if c.stage != stages[-1]:
            raise RefusedError(msg("stage.not_finished", lead=_named(lead_row), partner=_named(partner_row),
                                   stage=msg(N_("stage." + stages[-1]))))
        wanted.append((c, lead_row, partner_row))
    already = sum(1 for c in found.values() if c.outcome == "selected")
    quota = quota_of(round_row, track)
    if already + len(wanted) > quota:
        raise RefusedError(msg("stage.quota_exceeded", track=msg(N_("track." + track)), quota=quota,
                               count=already + len(wanted), already=already))
    years = int(program_settings()["product_years"])
    products = []
    for c, lead_row, partner_row in wanted:
        _outcome(session, round_row, lead_row.id, partner_row.id, track, "selected", "", actor)
        product = db.ProductRow(round_id=round_row.id, lead_id=lead_row.id, partner_id=partner_row.id, track=track,
                                product_code=detailed_code(c.product_code), confirmed_on=day,
                                expires_on=add_years(day, years), created_by=actor)
        session.add(product)
        products.append(product)
    chosen = {c.key for c, _l, _p in wanted}
    for c in found.values():
        if c.key not in chosen and not c.outcome and c.stage == stages[-1]:
            _outcome(session, round_row, db.get_firm(session, c.lead_brn).id, db.get_firm(session, c.partner_brn).id,
                     track, "rejected", "", actor)
    db.audit(session, actor, "stage.confirm", round=round_row.name, track=track, selected=len(products), quota=quota)
    session.flush()
    return products


@dataclass(frozen=True)
class ProductView:
    """A 상생협력제품 as a firm's history shows it."""

    round_name: str
    track: str
    lead_brn: str
    lead_name: str
    partner_brn: str
    partner_name: str
    product_code: str
    confirmed_on: date
    expires_on: date
    expired: bool

    def to_dict(self):
        return dict(round=self.round_name, track=self.track, lead=self.lead_brn, lead_name=self.lead_name,
                    partner=self.partner_brn, partner_name=self.partner_name, product_code=self.product_code,
                    confirmed_on=self.confirmed_on.isoformat(), expires_on=self.expires_on.isoformat(),
                    expired=self.expired)


def products(session, firm=None, round_id=None, on=None):
    """상생협력제품 records (of a firm as lead or partner, of a round), newest first; ``expired`` on ``on``."""
    on = on or date.today()
    lead, partner = aliased(db.FirmRow), aliased(db.FirmRow)
    p = db.ProductRow
    stmt = (select(p, db.RoundRow.name, lead.brn, lead.name, partner.brn, partner.name)
            .join(db.RoundRow, db.RoundRow.id == p.round_id)
            .join(lead, lead.id == p.lead_id).join(partner, partner.id == p.partner_id).order_by(p.id.desc()))
    if firm is not None:
        row = db.get_firm(session, firm)
        stmt = stmt.where((p.lead_id == row.id) | (p.partner_id == row.id))
    if round_id is not None:
        stmt = stmt.where(p.round_id == round_id)
    return [ProductView(name, r.track, lb, ln, pb, pn, r.product_code, r.confirmed_on, r.expires_on,
                        r.expires_on < on) for r, name, lb, ln, pb, pn in session.execute(stmt)]
