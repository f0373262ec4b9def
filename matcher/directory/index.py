"""The search index of the directory: every firm (and every application) as arrays, built once.

Pure: :func:`build_index` takes plain frames (firms, certificates, applications) and returns a
:class:`SearchIndex`; nothing here talks to the database (``store.py`` does). The fitted text
model and the TF-IDF vectors of every firm and application are kept, so a query only
transforms the asking firm's own text and never re-fits anything.

One query scores every firm of the directory at once, vectorised: the partner (or lead) rules
of the track on the reference date, the pair rules (same firm, affiliate group, a certificate
covering the lead's product), and the five score components — the same values as
:func:`matcher.scoring.explain` gives for one pair (tests check the two agree).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import numpy as np
import pandas as pd
from scipy import sparse

from ..features import (CAPABILITY_LEVELS, EVIDENCE_KINDS, G2B_LEVELS, KSIC_LEVELS, MATERIALS_KINDS,
                        TextVectorizer, level_keys, pad_rows, pairs_region_value, partner_keys,
                        region_index)
from ..firms import CERTIFICATE_KINDS, LARGE_SIZES, SIZE_CLASSES, STARTUP_YEARS
from ..scoring import COMPONENTS, combine
from ..tracks import meets_lead_condition, size_codes

FORMAT = 4  # 4: the char text model gained its syllable block (docs/learning.md)
"""Bump when the layout of :class:`SearchIndex` changes (a stored index of another format is rebuilt)."""
NO_DAY_LOW, NO_DAY_HIGH = -(2 ** 30), 2 ** 30
_PAD_LEAD, _PAD_PARTNER = -1, -2
G2B_LENGTHS = [lvl[0] for lvl in G2B_LEVELS]
G2B_VALUES = [lvl[1] for lvl in G2B_LEVELS]
KSIC_LENGTHS = [lvl[0] for lvl in KSIC_LEVELS]
KSIC_VALUES = [lvl[1] for lvl in KSIC_LEVELS]
ROLES = ("lead", "partner")
KIND_IDS = {kind: i for i, kind in enumerate(CERTIFICATE_KINDS)}

FIRM_COLUMNS = ["id", "brn", "name", "size_class", "region", "founded", "ksic_codes", "g2b_codes",
                "description", "licences", "debarred_from", "debarred_to", "affiliate_group"]
CERT_COLUMNS = ["firm_id", "kind", "code", "valid_from", "valid_to"]
APP_COLUMNS = ["id", "round_id", "firm_id", "role", "track", "product_code", "text"]


def _is_day(value):
    return isinstance(value, date) and not pd.isna(value)


def _str(value):
    return value if isinstance(value, str) else ""


def _ordinal(values, missing):
    return np.array([v.toordinal() if _is_day(v) else missing for v in values], dtype=np.int64)


def _startup_until(founded):
    """Ordinal of the day a firm stops being a 창업기업 (see :meth:`matcher.firms.Firm.is_startup`)."""
    out = []
    for day in founded:
        if not _is_day(day):
            out.append(NO_DAY_LOW)
            continue
        try:
            out.append(day.replace(year=day.year + STARTUP_YEARS).toordinal())
        except ValueError:
            out.append(date(day.year + STARTUP_YEARS, 3, 1).toordinal())
    return np.array(out, dtype=np.int64)


def _code_int(code, digits):
    code = code or ""
    return int(code[:digits]) if len(code) >= digits and code[:digits].isdigit() else -9


@dataclass
class Side:
    """Per-document arrays a query compares: text vectors, G2B keys, capability keys.

    One row per firm (``firm_docs``) or per application (``app_docs``). ``lead_g2b`` keys the
    codes a lead is scored on (its applied product, else its G2B codes); ``partner_g2b`` the codes
    a partner offers (applied product and G2B codes); ``p10`` / ``p8`` the lead's product codes as
    10-digit and 8-digit integers (capability).
    """

    x: sparse.csr_matrix
    xt: sparse.csr_matrix
    lead_g2b: np.ndarray
    partner_g2b: np.ndarray
    p10: np.ndarray
    p8: np.ndarray
    product: np.ndarray


def _side(vectors, lead_codes, partner_codes):
    lead_codes = [list(c) for c in lead_codes]
    p10 = [[int(c) for c in codes if len(c) == 10 and c.isdigit()] for codes in lead_codes]
    p8 = [[int(c[:8]) for c in codes if len(c) >= 8 and c[:8].isdigit()] for codes in lead_codes]
    return dict(x=vectors, xt=vectors.T.tocsr(), lead_g2b=level_keys(lead_codes, G2B_LENGTHS),
                partner_g2b=partner_keys(level_keys(partner_codes, G2B_LENGTHS)),
                p10=pad_rows(p10, _PAD_LEAD), p8=pad_rows(p8, _PAD_LEAD))


@dataclass
class SearchIndex:
    """Every firm and application of the database, ready to be searched (see :func:`build_index`).

    Firm arrays have shape (n_firms,) in firm-id order; application arrays (n_apps,);
    certificate arrays (n_certificates,). ``version`` is the data version it was built from
    (``store.data_version``); ``model`` the fitted :class:`~matcher.features.TextVectorizer`.
    """

    version: str
    method: str
    model: TextVectorizer
    firm_id: np.ndarray
    brn: np.ndarray
    name: np.ndarray
    size: np.ndarray
    region: np.ndarray
    region_idx: np.ndarray
    startup_until: np.ndarray
    debar_from: np.ndarray
    debar_to: np.ndarray
    group: np.ndarray
    licensed: np.ndarray
    work: np.ndarray
    ksic: np.ndarray
    cert_firm: np.ndarray
    cert_kind: np.ndarray
    cert_kind_id: np.ndarray
    cert_code: np.ndarray
    cert_code10: np.ndarray
    cert_code8: np.ndarray
    cert_len: np.ndarray
    cert_from: np.ndarray
    cert_to: np.ndarray
    firm_docs: Side
    app_id: np.ndarray
    app_round: np.ndarray
    app_firm: np.ndarray
    app_role: np.ndarray
    app_track: np.ndarray
    app_text: np.ndarray
    app_docs: Side
    work_ids: dict = field(default_factory=dict)
    group_ids: dict = field(default_factory=dict)
    format: int = FORMAT

    @property
    def n_firms(self):
        return len(self.firm_id)

    def __getstate__(self):
        # what queries derive and keep on the index in memory (``_name_keys`` …) is not stored
        return {k: v for k, v in self.__dict__.items() if not k.startswith("_")}

    def derived(self, name, make):
        """``make()`` computed once per index in memory and kept under ``name`` (never pickled)."""
        found = self.__dict__.get("_" + name)
        if found is None:
            found = self.__dict__["_" + name] = make()
        return found

    def forget(self, name):
        """Drop what :meth:`derived` kept under ``name`` (made again on the next use)."""
        self.__dict__.pop("_" + name, None)

    def position(self, firm_id):
        """Position of a firm id in the arrays, or -1."""
        pos = int(np.searchsorted(self.firm_id, firm_id))
        return pos if pos < len(self.firm_id) and self.firm_id[pos] == firm_id else -1

    def positions(self, firm_ids):
        pos = np.searchsorted(self.firm_id, np.asarray(firm_ids, dtype=np.int64))
        return np.clip(pos, 0, max(len(self.firm_id) - 1, 0))

    def applications(self, round_id, track, role):
        """(firm positions, application rows) of a round's ``role`` applications in ``track``."""
        rows = np.flatnonzero((self.app_round == round_id) & (self.app_track == track)
                              & (self.app_role == ROLES.index(role)))
        return self.app_firm[rows], rows

    def firm_vector(self, pos, app_row=None):
        docs, row = (self.app_docs, app_row) if app_row is not None else (self.firm_docs, pos)
        return docs.x[row]


def build_index(firms, certificates, applications, version="", method="char", model=None):
    """Build the :class:`SearchIndex` of plain frames.

    Parameters
    ----------
    firms : pandas.DataFrame
        Columns :data:`FIRM_COLUMNS` (codes and licences as lists, dates as ``date`` or None).
    certificates : pandas.DataFrame
        Columns :data:`CERT_COLUMNS`.
    applications : pandas.DataFrame
        Columns :data:`APP_COLUMNS`.
    version : str
        The data version these frames are (stored with the index).
    method : {"char", "kiwi"}
        Text vectoriser, fitted on every firm's description and every application's text.
    model : TextVectorizer, optional
        An already fitted model to reuse (an update after an import: nothing is re-fitted).

    Returns
    -------
    SearchIndex
    """
    firms = firms.sort_values("id").reset_index(drop=True)
    ids = firms["id"].to_numpy(dtype=np.int64)
    pos_of = {int(i): p for p, i in enumerate(ids)}
    descriptions = [_str(d) for d in firms["description"]]
    apps = applications[applications["firm_id"].isin(pos_of)].sort_values("id").reset_index(drop=True)
    app_firm = np.array([pos_of[int(i)] for i in apps["firm_id"]], dtype=np.int64)
    app_texts = [" ".join(p for p in (descriptions[f], _str(t)) if p).strip() for f, t in zip(app_firm, apps["text"])]
    if model is None:
        model = TextVectorizer(method=method)
        x_all = model.fit_transform(descriptions + app_texts)
    else:
        x_all = model.transform(descriptions + app_texts)
    x_all = x_all.astype(np.float32).tocsr()
    g2b = [list(c or []) for c in firms["g2b_codes"]]
    products = [_str(p) for p in apps["product_code"]]
    firm_side = _side(x_all[:len(ids)], g2b, g2b)
    app_side = _side(x_all[len(ids):], [[p] if p else g2b[f] for p, f in zip(products, app_firm)],
                     [([p] if p else []) + g2b[f] for p, f in zip(products, app_firm)])
    work_ids = {}
    works = [[work_ids.setdefault(l.get("work_type"), len(work_ids)) for l in (lics or []) if l.get("work_type")]
             for lics in firms["licences"]]
    groups = {}
    certs = certificates[certificates["firm_id"].isin(pos_of)]
    codes = [_str(c) for c in certs["code"]]
    return SearchIndex(
        version=version, method=model.method, model=model, firm_id=ids,
        brn=firms["brn"].to_numpy(dtype=object), name=firms["name"].to_numpy(dtype=object),
        size=size_codes(firms["size_class"]).astype(np.int8),
        region=firms["region"].fillna("").to_numpy(dtype=object),
        region_idx=region_index(list(firms["region"].fillna(""))),
        startup_until=_startup_until(firms["founded"]),
        debar_from=_ordinal(firms["debarred_from"], NO_DAY_LOW), debar_to=_ordinal(firms["debarred_to"], NO_DAY_HIGH),
        group=np.array([groups.setdefault(g, len(groups)) if _str(g) else -1 for g in firms["affiliate_group"]],
                       dtype=np.int64),
        licensed=np.array([bool(l) for l in firms["licences"]], dtype=bool),
        work=pad_rows(works, -3),
        ksic=level_keys([list(c or []) for c in firms["ksic_codes"]], KSIC_LENGTHS, section=True),
        cert_firm=np.array([pos_of[int(i)] for i in certs["firm_id"]], dtype=np.int64),
        cert_kind=certs["kind"].to_numpy(dtype=object), cert_code=np.array(codes, dtype=object),
        cert_kind_id=np.array([KIND_IDS.get(k, len(KIND_IDS)) for k in certs["kind"]], dtype=np.int64),
        cert_code10=np.array([_code_int(c, 10) if len(c) == 10 else -9 for c in codes], dtype=np.int64),
        cert_code8=np.array([_code_int(c, 8) for c in codes], dtype=np.int64),
        cert_len=np.array([len(c) for c in codes], dtype=np.int64),
        cert_from=_ordinal(certs["valid_from"], NO_DAY_LOW), cert_to=_ordinal(certs["valid_to"], NO_DAY_HIGH),
        firm_docs=Side(product=np.array([""] * len(ids), dtype=object), **firm_side),
        app_id=apps["id"].to_numpy(dtype=np.int64), app_round=apps["round_id"].to_numpy(dtype=np.int64),
        app_firm=app_firm, app_role=np.array([ROLES.index(r) if r in ROLES else -1 for r in apps["role"]],
                                             dtype=np.int8),
        app_track=apps["track"].to_numpy(dtype=object),
        app_text=np.array([_str(t) for t in apps["text"]], dtype=object),
        app_docs=Side(product=np.array(products, dtype=object), **app_side),
        work_ids=work_ids, group_ids=groups,
    )


# --- one query ------------------------------------------------------------------------------------


@dataclass
class Asker:
    """The firm that asks, as the index sees it: its position and the document it is scored on.

    ``pos`` is -1 for a firm that is not stored (described on a form); then ``vector``, ``codes``,
    ``ksic``, ``region``, ``work`` and ``group`` are given directly.
    """

    pos: int
    vector: sparse.csr_matrix
    product: str
    lead_g2b: np.ndarray
    partner_g2b: np.ndarray
    p10: np.ndarray
    p8: np.ndarray
    ksic: np.ndarray
    region_idx: int
    work: np.ndarray
    group: int
    certs: tuple = ()


def asker_from_index(index, pos, app_row=None, product=""):
    """The :class:`Asker` for a stored firm (scored on its application ``app_row`` when given).

    ``product`` replaces the product the lead is scored on (one it means to apply for).
    """
    docs, row = (index.app_docs, app_row) if app_row is not None else (index.firm_docs, pos)
    certs = np.flatnonzero(index.cert_firm == pos)
    lead_g2b, partner_g2b = docs.lead_g2b[row:row + 1], docs.partner_g2b[row:row + 1]
    p10, p8, own_product = docs.p10[row:row + 1], docs.p8[row:row + 1], docs.product[row]
    if product and product != own_product:
        side = _side(docs.x[row], [[product]], [[product]])
        lead_g2b, p10, p8, own_product = side["lead_g2b"], side["p10"], side["p8"], product
    return Asker(pos, docs.x[row], own_product, lead_g2b, partner_g2b, p10, p8, index.ksic[pos:pos + 1],
                 int(index.region_idx[pos]), index.work[pos:pos + 1], int(index.group[pos]),
                 tuple(int(c) for c in certs))


def asker_from_firm(index, firm, product_code=""):
    """The :class:`Asker` for a firm that is not stored (a described firm); certificates are ignored."""
    codes = [product_code] if product_code else list(firm.g2b_codes)
    offered = ([product_code] if product_code else []) + list(firm.g2b_codes)
    side = _side(index.model.transform([firm.description or ""]).astype(np.float32).tocsr(), [codes], [offered])
    work = [index.work_ids.get(l.work_type, -4) for l in firm.licences if l.work_type]
    return Asker(-1, side["x"], product_code, side["lead_g2b"], side["partner_g2b"], side["p10"], side["p8"],
                 level_keys([list(firm.ksic_codes)], KSIC_LENGTHS, section=True), int(region_index([firm.region])[0]),
                 pad_rows([work], -3), index.group_ids.get(firm.affiliate_group, -6) if firm.affiliate_group else -5)


def cosine(index, asker, docs):
    """Text cosine of ``asker`` with every row of ``docs`` (an index :class:`Side`); shape (n_rows,)."""
    q = asker.vector
    if q.nnz == 0 or docs.xt.shape[0] == 0:
        return np.zeros(docs.x.shape[0], dtype=np.float64)
    return np.asarray(docs.xt[q.indices].T @ q.data.astype(np.float64)).ravel()


def debarred(index, day):
    return (index.debar_from <= day) & (day <= index.debar_to) & (
        (index.debar_from != NO_DAY_LOW) | (index.debar_to != NO_DAY_HIGH))


def _size_ok(index, sizes):
    table = np.array([s in sizes for s in SIZE_CLASSES] + [False], dtype=bool)
    return table[index.size]


def kind_mask(index, kinds):
    """Certificates whose kind is one of ``kinds`` (a lookup on integer kind ids)."""
    table = np.zeros(len(KIND_IDS) + 1, dtype=bool)
    table[[KIND_IDS[k] for k in kinds if k in KIND_IDS]] = True
    return table[index.cert_kind_id]


def valid_certs(index, day, kinds=None):
    ok = (index.cert_from <= day) & (day <= index.cert_to)
    if kinds is not None:
        ok &= kind_mask(index, kinds)
    return ok


def covering(index, product, cert_mask):
    """Certificates in ``cert_mask`` covering ``product`` (:func:`matcher.tracks.covers`, vectorised)."""
    if len(product) == 16:
        hit = index.cert_code8 == _code_int(product, 8)
    else:
        hit = ((index.cert_len == 8) & (index.cert_code8 == _code_int(product, 8))) | (index.cert_code == product)
    return cert_mask & hit & (index.cert_len > 0)


def firms_with(index, cert_mask):
    out = np.zeros(index.n_firms, dtype=bool)
    out[index.cert_firm[cert_mask]] = True
    return out


PARTNER_CHECKS = ("partner_size", "debarred", "partner_licence", "certificate_missing", "certificate_expired",
                  "same_firm", "affiliate")
LEAD_CHECKS = ("lead_size", "lead_condition", "lead_licence", "debarred", "certificate_missing",
               "certificate_expired", "same_firm", "affiliate")


def partner_failures(index, rule, day, product="", asker=None):
    """For every firm, the first partner rule it fails in ``rule``'s track (-1: none).

    Returns
    -------
    ndarray of int8, shape (n_firms,)
        Index into :data:`PARTNER_CHECKS`, or -1 for an eligible partner (of ``asker``, the lead).
    """
    sizes = {s for s in rule.partner_sizes if rule.capacity_for(s) is not None}
    checks = [~_size_ok(index, sizes), debarred(index, day)]
    checks.append(~index.licensed if rule.partner_licence else None)
    missing = expired = None
    if rule.partner_certificates_any:
        held = kind_mask(index, rule.partner_certificates_any)
        if rule.certificate_covers_product and product:
            held = covering(index, product, held)
        valid = held & valid_certs(index, day)
        missing, expired = ~firms_with(index, held), ~firms_with(index, valid)
    checks += [missing, expired]
    checks += _pair_checks(index, asker)
    return _first(checks, index.n_firms)


def lead_failures(index, rule, day, products=None, asker=None, asker_certs=None, app_of=None):
    """For every firm, the first lead rule it fails (-1: none), see :data:`LEAD_CHECKS`.

    ``products`` (shape (n_firms,), '' for none) are the leads' applied products — or ``app_of``
    (shape (n_firms,)), each firm's application row (-1: none) whose product counts; with
    ``asker_certs`` (the partner's certificate rows) a lead whose product the partner's
    certificates do not cover fails ``certificate_missing`` / ``certificate_expired``.
    """
    meets = meets_lead_condition(rule.lead_any_of, day < index.startup_until, index.size)
    checks = [~_size_ok(index, rule.lead_sizes), ~meets, ~index.licensed if rule.lead_licence else None,
              debarred(index, day)]
    missing = expired = None
    if rule.certificate_covers_product and rule.partner_certificates_any and (products is not None
                                                                              or app_of is not None):
        missing, expired = _leads_not_covered(index, rule, day, products, asker_certs or (), app_of)
    checks += [missing, expired]
    checks += _pair_checks(index, asker)
    return _first(checks, index.n_firms)


def _leads_not_covered(index, rule, day, products, cert_rows, app_of=None):
    """Leads with a product that none (no valid one) of the partner's certificates covers.

    Only the firms with a product are looked at (the round's lead applications in the track,
    not the whole directory).
    """
    n = index.n_firms
    if app_of is not None:
        firms = np.flatnonzero(app_of >= 0)
        rows = app_of[firms]
        length, p8_all = _app_products(index)
        keep = length[rows] > 0
        firms, rows = firms[keep], rows[keep]
        codes = index.app_docs.product[rows]
        p8, is16 = p8_all[rows], length[rows] == 16
    else:
        firms = np.array([i for i, p in enumerate(products) if p], dtype=np.int64)
        codes = np.array([products[i] for i in firms], dtype=object)
        p8 = np.array([_code_int(p, 8) for p in codes], dtype=np.int64)
        is16 = np.array([len(p) == 16 for p in codes], dtype=bool)
    held_any = np.zeros(len(firms), dtype=bool)
    valid_any = np.zeros(len(firms), dtype=bool)
    for c in cert_rows:
        if index.cert_kind[c] not in rule.partner_certificates_any or not index.cert_len[c]:
            continue
        code = index.cert_code[c]
        hit = np.where(is16 | (index.cert_len[c] == 8), p8 == index.cert_code8[c], codes == code)
        held_any |= hit
        if index.cert_from[c] <= day <= index.cert_to[c]:
            valid_any |= hit
    missing, expired = np.zeros(n, dtype=bool), np.zeros(n, dtype=bool)
    missing[firms], expired[firms] = ~held_any, ~valid_any
    return missing, expired


def _app_products(index):
    """Each application's product code: its length and its first 8 digits as an integer (-9: none)."""
    def make():
        products = index.app_docs.product
        return (np.array([len(p or "") for p in products], dtype=np.int64),
                np.array([_code_int(p, 8) for p in products], dtype=np.int64))
    return index.derived("app_products", make)


def _pair_checks(index, asker):
    if asker is None:
        return [None, None]
    same = np.zeros(index.n_firms, dtype=bool)
    if asker.pos >= 0:
        same[asker.pos] = True
    group = (index.group == asker.group) & (asker.group >= 0)
    return [same, group]


_FIRST_BIT = np.array([-1] + [(v & -v).bit_length() - 1 for v in range(1, 256)], dtype=np.int8)


def _first(checks, n):
    """Index of the first failed check per firm (-1: none), from at most 8 boolean masks."""
    bits = np.zeros(n, dtype=np.uint8)
    for code, failed in enumerate(checks):
        if failed is not None:
            bits |= failed.view(np.uint8) << np.uint8(code)
    return _FIRST_BIT[bits]


def partner_scores(index, asker, rule, day, weights, rows, app_rows):
    """Score components of the pairs (asker as lead, firm ``rows[j]`` as partner).

    ``app_rows[j]`` is the partner's application row in the round (-1: scored on its firm
    profile). Returns dict name → ndarray (n,), plus ``score``.
    """
    text, g2b = _docs_values(index, asker, rows, app_rows, lead_side=False)
    values = {"text": text, "product_code": g2b,
              "industry": one_vs_many(asker.ksic[0], index.ksic[rows], KSIC_VALUES),
              "region": pairs_region_value(np.full(len(rows), asker.region_idx), index.region_idx[rows]),
              "capability": _partner_capability(index, asker, rule, day, rows)}
    values["score"] = combine(values, weights)
    return values


def lead_scores(index, asker, rule, day, weights, rows, app_rows):
    """Score components of the pairs (firm ``rows[j]`` as lead, asker as partner)."""
    text, g2b = _docs_values(index, asker, rows, app_rows, lead_side=True)
    values = {"text": text, "product_code": g2b,
              "industry": one_vs_many(asker.ksic[0], index.ksic[rows], KSIC_VALUES),
              "region": pairs_region_value(index.region_idx[rows], np.full(len(rows), asker.region_idx)),
              "capability": _lead_capability(index, asker, rule, day, rows, app_rows)}
    values["score"] = combine(values, weights)
    return values


def _docs_values(index, asker, rows, app_rows, lead_side):
    """Text cosine and G2B closeness of the asker with each firm (its application where it has one)."""
    text = np.zeros(len(rows), dtype=np.float64)
    g2b = np.zeros(len(rows), dtype=np.float32)
    for docs, mask, doc_rows in ((index.firm_docs, app_rows < 0, rows), (index.app_docs, app_rows >= 0, app_rows)):
        if not mask.any():
            continue
        sel = doc_rows[mask]
        text[mask] = np.clip(_cosine_rows(asker, docs, sel), 0.0, 1.0)
        if lead_side:
            g2b[mask] = one_vs_many(asker.partner_g2b[0], docs.lead_g2b[sel], G2B_VALUES)
        else:
            g2b[mask] = one_vs_many(asker.lead_g2b[0], docs.partner_g2b[sel], G2B_VALUES)
    return text, g2b


def one_vs_many(keys, many, values):
    """:func:`matcher.features.pairs_level_value` of one firm's level keys against many firms' at once.

    ``keys`` shape (n_levels, m1), ``many`` (n, n_levels, m2); padding never matches (negative keys).
    """
    out = np.zeros(len(many), dtype=np.float32)
    for level in range(len(values) - 1, -1, -1):  # shallow first; deeper levels overwrite
        wanted = keys[level][keys[level] >= 0]
        if len(wanted):
            out[_any_in(many[:, level, :], wanted)] = values[level]
    return out


def _any_in(block, wanted):
    """Rows of ``block`` (n, m) holding any of ``wanted`` (a few keys): ``np.isin(block, wanted).any(axis=1)``.

    A comparison per key: a lead has one to a few codes a level, where ``np.isin`` (which sorts) costs
    several times more on a directory of a few thousand firms.
    """
    if len(wanted) > 8:
        return np.isin(block, wanted).any(axis=1)
    hit = block == wanted[0]
    for key in wanted[1:]:
        hit |= block == key
    return hit.any(axis=1)


def _in(values, wanted):
    """``np.isin(values, wanted)`` for a 1-d ``values`` and a few ``wanted`` (see :func:`_any_in`)."""
    wanted = list(wanted)
    if len(wanted) > 8:
        return np.isin(values, wanted)
    hit = np.zeros(len(values), dtype=bool)
    for key in wanted:
        hit |= values == key
    return hit


def _cosine_rows(asker, docs, sel):
    q = asker.vector
    if q.nnz == 0 or not len(sel):
        return np.zeros(len(sel))
    if len(sel) * 50 < docs.x.shape[0]:
        return np.asarray(docs.x[sel] @ q.T.toarray().astype(np.float64)).ravel()
    return term_sums(docs.xt, q.indices, q.data.astype(np.float64), docs.x.shape[0])[sel]


GATHER_ENTRIES = 50_000


def term_sums(xt, terms, weights, n):
    """``xt[terms].T @ weights`` for a CSR ``xt`` (terms × documents): every document's weighted sum.

    Up to :data:`GATHER_ENTRIES` stored entries, gathered with plain NumPy (a page computes it twice:
    scipy's row selection and product cost twice as much on the demo's directory) and summed in the
    order scipy sums, term by term, so the values are the same to the last bit (``tests/test_directory.py``);
    above that (large directories) scipy's product, which is then the faster.
    """
    terms = np.asarray(terms, dtype=np.int64)
    starts = xt.indptr[terms].astype(np.int64)
    lengths = xt.indptr[terms + 1].astype(np.int64) - starts
    total = int(lengths.sum())
    if total == 0:
        return np.zeros(n, dtype=np.float64)
    if total > GATHER_ENTRIES:
        return np.asarray(xt[terms].T @ np.asarray(weights, dtype=np.float64)).ravel()
    ends = np.cumsum(lengths)
    entries = np.repeat(starts - (ends - lengths), lengths) + np.arange(total, dtype=np.int64)
    values = xt.data[entries].astype(np.float64) * np.repeat(np.asarray(weights, dtype=np.float64), lengths)
    return np.bincount(xt.indices[entries], weights=values, minlength=n)


def _partner_capability(index, asker, rule, day, rows):
    """:func:`matcher.features.capability_match` of each partner ``rows[j]`` for the asker's product codes."""
    p10 = set(asker.p10[0][asker.p10[0] >= 0].tolist())
    p8 = set(asker.p8[0][asker.p8[0] >= 0].tolist())
    valid = valid_certs(index, day)
    value = np.zeros(len(valid), dtype=np.float32)
    dp = kind_mask(index, ["direct_production"])
    evidence = kind_mask(index, EVIDENCE_KINDS)
    in8 = _in(index.cert_code8, p8) & (index.cert_code8 >= 0)
    value = np.where(evidence, np.where(kind_mask(index, MATERIALS_KINDS), CAPABILITY_LEVELS["materials_any"],
                                        CAPABILITY_LEVELS["evidence_any"]), value)
    value = np.where(evidence & in8, CAPABILITY_LEVELS["evidence_class"], value)
    value = np.where(dp & in8 & (index.cert_len > 0), CAPABILITY_LEVELS["dp_class"], value)
    value = np.where(dp & _in(index.cert_code10, p10) & (index.cert_code10 >= 0),
                     CAPABILITY_LEVELS["dp_exact"], value)
    best = np.zeros(index.n_firms, dtype=np.float32)
    np.maximum.at(best, index.cert_firm[valid], value[valid].astype(np.float32))
    out = best[rows]
    if rule.partner_licence:
        lead_work = asker.work[0][asker.work[0] >= 0]
        lic = np.where(index.licensed[rows], CAPABILITY_LEVELS["licence_any"], 0.0)
        shared = _any_in(index.work[rows], lead_work) if len(lead_work) else np.zeros(len(rows), bool)
        out = np.maximum(out, np.where(shared & index.licensed[rows], CAPABILITY_LEVELS["licence_work"], lic))
    return out.astype(np.float32)


def _lead_capability(index, asker, rule, day, rows, app_rows):
    """Capability of the asker (partner) for each lead ``rows[j]``'s product codes."""
    valid = [c for c in asker.certs if index.cert_from[c] <= day <= index.cert_to[c]]
    p10 = _rows(index.app_docs.p10, app_rows, index.firm_docs.p10, rows)
    p8 = _rows(index.app_docs.p8, app_rows, index.firm_docs.p8, rows)
    out = np.zeros(len(rows), dtype=np.float32)
    for c in valid:
        kind, c8, c10 = index.cert_kind[c], index.cert_code8[c], index.cert_code10[c]
        value = np.zeros(len(rows), dtype=np.float32)
        if kind in EVIDENCE_KINDS:
            value[:] = CAPABILITY_LEVELS["materials_any" if kind in MATERIALS_KINDS else "evidence_any"]
            if c8 >= 0:
                value = np.where((p8 == c8).any(axis=1), CAPABILITY_LEVELS["evidence_class"], value)
        elif kind == "direct_production" and index.cert_len[c]:
            if c8 >= 0:
                value = np.where((p8 == c8).any(axis=1), CAPABILITY_LEVELS["dp_class"], value)
            if c10 >= 0:
                value = np.where((p10 == c10).any(axis=1), CAPABILITY_LEVELS["dp_exact"], value)
        out = np.maximum(out, value)
    if rule.partner_licence and asker.pos >= 0 and index.licensed[asker.pos]:
        mine = asker.work[0][asker.work[0] >= 0]
        shared = _any_in(index.work[rows], mine) if len(mine) else np.zeros(len(rows), bool)
        out = np.maximum(out, np.where(shared, CAPABILITY_LEVELS["licence_work"], CAPABILITY_LEVELS["licence_any"]))
    return out


def _rows(app_array, app_rows, firm_array, rows):
    """Rows of ``app_array`` where ``app_rows >= 0``, else of ``firm_array`` (widths padded to match)."""
    width = max(app_array.shape[1], firm_array.shape[1])
    picked = np.full((len(rows), width), -1, dtype=np.int64)
    has = app_rows >= 0
    picked[has, :app_array.shape[1]] = app_array[app_rows[has]]
    picked[~has, :firm_array.shape[1]] = firm_array[rows[~has]]
    return picked


def top_k(scores, brns, k):
    """Positions of the ``k`` best scores, ties broken by 사업자등록번호 (best first)."""
    if len(scores) > 4 * k + 64:
        cut = np.argpartition(-scores, 4 * k + 63)[:4 * k + 64]
        threshold = scores[cut].min()
        cut = np.flatnonzero(scores >= threshold)
    else:
        cut = np.arange(len(scores))
    cut = cut.tolist()
    keys = [(-round(s, 12), b) for s, b in zip(scores[cut].tolist(), brns[cut].tolist())]
    order = sorted(range(len(cut)), key=keys.__getitem__)
    return np.array([cut[i] for i in order[:k]], dtype=np.int64)


__all__ = ["SearchIndex", "build_index", "Asker", "asker_from_index", "asker_from_firm", "partner_failures",
           "lead_failures", "partner_scores", "lead_scores", "PARTNER_CHECKS", "LEAD_CHECKS", "top_k",
           "COMPONENTS", "LARGE_SIZES", "pd"]
