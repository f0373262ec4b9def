"""Features of a (lead, partner) pair: text vectors and code/region/capability closeness.

Every closeness comes twice: a scalar function for one pair that also says *why*
(used by the score explanation), and a vectorised version over arrays of pair
indices (used by the candidate graph). Tests check that the two agree.

Closeness levels (each component is in [0, 1]):

* G2B product code (조달청 물품분류, UNSPSC levels): same commodity (8 digits) 1.0,
  class (6) 0.6, family (4) 0.3, segment (2) 0.1.
* KSIC (한국표준산업분류): same sub-class (5 digits) 1.0, class (4) 0.8, group (3) 0.6,
  division (2) 0.4, section (letter) 0.2.
* Region: same 시도 1.0, otherwise ``max(0, 1 - km / 400)`` between 시도 centroids.
* Capability: see :data:`CAPABILITY_LEVELS`.
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from scipy import sparse

from .tokens import CHAR_NGRAMS, SYLLABLE_WEIGHT, join_blocks, noun_tokens, text_max_df


G2B_LEVELS = ((8, 1.0, "commodity", "같은 물품분류", "same commodity"),
              (6, 0.6, "class", "같은 물품 클래스", "same product class"),
              (4, 0.3, "family", "같은 물품 패밀리", "same product family"),
              (2, 0.1, "segment", "같은 물품 세그먼트", "same product segment"))
KSIC_LEVELS = ((5, 1.0, "sub-class", "같은 세세분류", "same KSIC sub-class"),
               (4, 0.8, "class", "같은 세분류", "same KSIC class"),
               (3, 0.6, "group", "같은 소분류", "same KSIC group"),
               (2, 0.4, "division", "같은 중분류", "same KSIC division"),
               (0, 0.2, "section", "같은 대분류", "same KSIC section"))
REGION_SCALE_KM = 400.0

CAPABILITY_LEVELS = {
    "dp_exact": 1.0,      # valid 직접생산확인 for exactly the lead's 세부품명
    "evidence_class": 0.8,  # valid 소재부품/R&D/특허/성능인증 evidence in the lead's 물품분류
    "dp_class": 0.7,      # valid 직접생산확인 in the same 물품분류, another 세부품명
    "licence_work": 1.0,  # construction licence for the lead's work type
    "licence_any": 0.6,   # some construction licence (construction tracks only)
    "materials_any": 0.4,  # valid 소재부품/소부장 firm confirmation for other products
    "evidence_any": 0.3,  # valid R&D/patent/성능인증 evidence for other products
}
EVIDENCE_KINDS = ("materials_parts", "rnd_product", "patent", "performance", "sobujang")
MATERIALS_KINDS = ("materials_parts", "sobujang")
_NO_LEAD, _NO_PARTNER = -1, -2  # padding keys that never match each other


# --- text -----------------------------------------------------------------------------------


def __getattr__(name):
    """:class:`TextVectorizer` lives in :mod:`matcher.vectorizer` (scikit-learn is imported when it is used:
    a round's run needs only :func:`char_tfidf`); it is still ``matcher.features.TextVectorizer``."""
    if name == "TextVectorizer":
        from .vectorizer import TextVectorizer
        return TextVectorizer
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")



NOUNS_REMEMBERED = 65536
_NOUNS = OrderedDict()
_NOUNS_LOCK = threading.Lock()


def text_nouns(text):
    """:func:`noun_tokens` of one text, remembered (a partner's text is explained again and again)."""
    if not text:
        return ()
    found = _NOUNS.get(text)
    if found is None:
        remember_nouns([text])
        found = _NOUNS.get(text)
        if found is None:  # forgotten at once by a full cache in another thread
            found = tuple(noun_tokens([text])[0])
    return found


def forget_nouns():
    """Forget every text's remembered nouns (benchmarks time the first sight of a text)."""
    with _NOUNS_LOCK:
        _NOUNS.clear()


def remember_nouns(texts):
    """Tokenise the texts not remembered yet in one Kiwi call (cheaper per text than one by one).

    :func:`text_nouns` then answers them from memory; at most :data:`NOUNS_REMEMBERED` texts are
    kept, the least recently added forgotten first.
    """
    new = list(dict.fromkeys(t for t in texts if t and t not in _NOUNS))
    if not new:
        return
    found = [tuple(nouns) for nouns in noun_tokens(new)]
    with _NOUNS_LOCK:
        for text, nouns in zip(new, found):
            _NOUNS[text] = nouns
        while len(_NOUNS) > NOUNS_REMEMBERED:
            _NOUNS.popitem(last=False)


PARTICLES = ("으로", "에서", "에게", "하는", "하여", "을", "를", "이", "가", "은", "는", "의", "에", "와", "과", "로",
             "도", "만", "및", "한", "용")
_WORD = re.compile(r"[0-9a-z가-힣]+")
_PARTICLE = re.compile(r"(?<=[0-9a-z가-힣]{2})(?:" + "|".join(PARTICLES) + r")(?![0-9a-z가-힣])")


@lru_cache(maxsize=262144)
def text_words(text):
    """The words of a text for "shared keywords": letters and digits, a trailing particle cut off.

    Cheap (no morphological analysis), so that a run can explain every proposal: Kiwi nouns
    (:func:`text_nouns`) also split compounds, but cost milliseconds a text.

    Examples
    --------
    >>> text_words("영상감시카메라를 개발하는 센서 모듈")
    ('영상감시카메라', '개발', '센서', '모듈')
    """
    return tuple(_WORD.findall(_PARTICLE.sub("", (text or "").lower())))


def char_tfidf(texts, max_df=None):
    """``TextVectorizer("char").fit_transform(texts)``, the same matrix to the bit, without sklearn's analyser.

    Two blocks joined by :func:`matcher.tokens.join_blocks`: ``char_wb`` n-grams of
    :data:`~matcher.tokens.CHAR_NGRAMS` characters and single characters (no spaces) at
    :data:`~matcher.tokens.SYLLABLE_WEIGHT`, each a sublinear TF-IDF with the same ``max_df`` cut.

    scikit-learn's ``char_wb`` analyser builds every n-gram as a Python string and counts it in a dict
    (about 2 µs an n-gram: 0.9 s for a track of 5,000 firms). Here the n-grams are integer keys (the
    text's characters ranked by code point, four 16-bit ranks to a key, so that key order is string
    order) built with array operations over all texts at once, in the order sklearn's analyser makes
    them; term ids in order of first appearance (``pandas.factorize``, as sklearn's vocabulary grows),
    each row sorted by them, columns numbered in string order after the ``max_df`` cut. So the count
    matrix has sklearn's values *and* its order of entries within a row (which the float32 sums of the
    norm and of the sparse products follow); the TF-IDF weighting and norm are sklearn's
    ``TfidfTransformer``'s, operation by operation (:func:`_sublinear_tfidf_l2`). Tested equal, array by array,
    on arbitrary texts (Hypothesis) and on the demo round.

    Returns
    -------
    scipy.sparse.csr_matrix
        Shape (len(texts), n_terms), float32, rows of unit length (or zero); n_terms is 0 when there
        are no terms at all or none left after ``max_df`` (no text signal, as :class:`TextVectorizer`).
    """
    texts = [t or "" for t in texts]
    blocks = [_char_block(texts, max_df, CHAR_NGRAMS), _char_block(texts, max_df, (1, 1))]
    if any(b is _TOO_MANY_CHARACTERS for b in blocks):
        from .vectorizer import TextVectorizer
        return TextVectorizer("char", max_df).fit_transform(texts)
    return join_blocks(blocks, [1.0, SYLLABLE_WEIGHT])


def _char_block(texts, max_df, ngram_range):
    """One block of :func:`char_tfidf`: sklearn's ``char_wb`` TF-IDF of ``ngram_range``; 1-grams without
    the padding space (:func:`matcher.tokens.syllables`)."""
    n_docs = len(texts)
    high = text_max_df(n_docs, max_df) * n_docs
    counts = _char_wb_counts(texts, ngram_range)
    if counts is _TOO_MANY_CHARACTERS or counts is None:
        return counts if counts is not None else sparse.csr_matrix((n_docs, 0), dtype=np.float32)
    doc, term, count, keys = counts
    df = np.bincount(term, minlength=len(keys))
    kept = df <= high
    if ngram_range == (1, 1):
        kept &= keys != _space_key(texts)
    if not kept.any():
        return sparse.csr_matrix((n_docs, 0), dtype=np.float32)
    alphabetical = np.argsort(keys, kind="stable")
    column = np.empty(len(keys), dtype=np.int64)
    column[alphabetical] = np.cumsum(kept[alphabetical]) - 1
    entry = kept[term]
    indptr = np.zeros(n_docs + 1, dtype=np.int64)
    np.cumsum(np.bincount(doc[entry], minlength=n_docs), out=indptr[1:])
    x = sparse.csr_matrix((count[entry].astype(np.float32), column[term[entry]].astype(np.int32),
                           indptr.astype(np.int32)), shape=(n_docs, int(kept.sum())))
    return _sublinear_tfidf_l2(x)


def _sublinear_tfidf_l2(x):
    """sklearn's ``TfidfTransformer(sublinear_tf=True)`` (smooth idf, l2 rows) on float32 counts, in place.

    The same operations in the same float types and order (so the same bits, without importing
    scikit-learn for a run): idf = ln((n + 1) / (df + 1)) + 1 in float32; tf = 1 + ln(count) in
    float32, times idf; each row's squares (float32) summed in float64 one after another as
    ``sparsefuncs_fast.inplace_csr_row_normalize_l2`` does (a CSR product with a vector of ones
    sums each row in stored order), its square root, each entry divided in float64.
    """
    df = np.bincount(x.indices, minlength=x.shape[1]).astype(np.float32)
    df += np.float32(1.0)
    idf = np.full_like(df, fill_value=x.shape[0] + 1, dtype=np.float32)
    idf /= df
    np.log(idf, out=idf)
    idf += np.float32(1.0)
    np.log(x.data, x.data)
    x.data += np.float32(1.0)
    x.data *= idf[x.indices]
    squares = (x.data * x.data).astype(np.float64)
    norm = np.sqrt(sparse.csr_matrix((squares, x.indices, x.indptr), shape=x.shape) @ np.ones(x.shape[1]))
    norm[norm == 0.0] = 1.0  # sklearn leaves a zero row as it is
    x.data[:] = x.data.astype(np.float64) / np.repeat(norm, np.diff(x.indptr))
    return x


_TOO_MANY_CHARACTERS = "too many characters"


def _space_key(texts):
    """The key :func:`_char_wb_counts` gives the 1-gram ``' '`` (its rank among the texts' characters)."""
    alphabet = set(" ".join(" ".join(t.lower().split()) for t in texts))
    rank = sum(1 for c in alphabet if c < " ")
    return np.uint64(rank + 1) << np.uint64(48)


def _char_wb_counts(texts, ngram_range):
    """The ``char_wb`` n-gram counts of ``texts``: (doc, term, count, term keys), or None without any n-gram.

    ``ngram_range`` (low, high) with 1 <= low <= 3 and high <= 4 (a padded word has at least 3
    characters and a key holds 4). :data:`_TOO_MANY_CHARACTERS` when the texts use 65,535 distinct
    characters or more (their ranks no longer fit 16 bits).

    Entries are doc-major and, within a doc, in increasing term id; term ids number the distinct
    n-grams in order of first appearance (texts in order, each text's n-grams in the order
    ``sklearn``'s ``_char_wb_ngrams`` makes them: per word padded with a space each side, every
    2-gram, then every 3-gram, then every 4-gram, a word no longer than n stopping at n).
    ``keys[t]`` orders terms as their strings do.
    """
    import pandas as pd

    low, high = ngram_range
    words_per_doc, padded = [], []
    for text in texts:
        words = text.lower().split()
        words_per_doc.append(len(words))
        if words:
            padded.append(" " + "  ".join(words) + " ")
    if not padded:
        return None
    chars = np.frombuffer("".join(padded).encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
    alphabet, ranks = np.unique(chars, return_inverse=True)
    if len(alphabet) >= 0xFFFF:
        return _TOO_MANY_CHARACTERS
    ranks = ranks.astype(np.uint64) + np.uint64(1)  # 0 = no character: a shorter n-gram sorts first
    spaces = np.flatnonzero(chars == 32)  # each padded word: a space, the word (no whitespace), a space
    starts = spaces[0::2]
    length = spaces[1::2] - starts + 1
    per_n = [np.maximum(length - n + 1, 0) for n in range(low, high + 1)]  # a padded word has >= 3 characters
    word_total = sum(per_n)
    base = np.cumsum(word_total) - word_total
    keys = np.zeros(int(word_total.sum()), dtype=np.uint64)
    before = np.zeros_like(base)
    for n, c in zip(range(low, high + 1), per_n):
        total = int(c.sum())
        if total:
            word = np.repeat(np.arange(len(c)), c)
            offset = np.arange(total) - np.repeat(np.cumsum(c) - c, c)
            position = starts[word] + offset
            key = np.zeros(total, dtype=np.uint64)
            for i in range(n):
                key |= ranks[position + i] << np.uint64(48 - 16 * i)
            keys[(base + before)[word] + offset] = key
        before = before + c
    term, vocabulary = pd.factorize(keys)
    doc = np.repeat(np.repeat(np.arange(len(texts)), words_per_doc), word_total)
    pairs, count = np.unique(doc * len(vocabulary) + term, return_counts=True)
    return pairs // len(vocabulary), pairs % len(vocabulary), count, np.asarray(vocabulary)


def firm_text(firm, application=None):
    """What the text component reads: the firm's description plus its application text."""
    parts = [firm.description or ""]
    if application is not None and application.text:
        parts.append(application.text)
    return " ".join(p for p in parts if p).strip()


def text_similarity(text_a, text_b, method="char"):
    """Cosine similarity of two texts with a vectoriser fitted on just these two (for tests and one-offs)."""
    from .vectorizer import TextVectorizer
    vec = TextVectorizer(method=method).fit([text_a, text_b])
    a, b = vec.transform([text_a]), vec.transform([text_b])
    return float(a.multiply(b).sum())


# --- codes ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class CodeMatch:
    """The closest pair of codes between two firms: ``value`` in [0, 1], the level and the codes."""

    value: float
    level: str = ""
    lead_code: str = ""
    partner_code: str = ""
    ko: str = ""
    en: str = ""


def lead_product_codes(lead, application=None):
    """Product codes the lead is scored on: the applied-for product, else its G2B codes."""
    if application is not None and application.product_code:
        return [application.product_code]
    return list(lead.g2b_codes)


def partner_product_codes(partner, application=None):
    """Product codes a partner offers: its applied-for product and its G2B codes."""
    codes = list(partner.g2b_codes)
    if application is not None and application.product_code:
        codes.insert(0, application.product_code)
    return codes


def g2b_match(lead_codes, partner_codes):
    """Closest G2B level shared by any lead code and any partner code.

    Examples
    --------
    >>> g2b_match(["4617161001"], ["46171610"]).level
    'commodity'
    >>> g2b_match(["46171610"], ["46170000"]).value
    0.3
    """
    for digits, value, level, ko, en in G2B_LEVELS:
        for a in lead_codes:
            for b in partner_codes:
                if len(a) >= digits and len(b) >= digits and a[:digits] == b[:digits]:
                    return CodeMatch(value, level, a, b, ko, en)
    return CodeMatch(0.0)


def ksic_match(lead_codes, partner_codes):
    """Closest KSIC level shared by the two firms (section via :func:`matcher.codes.ksic_section`).

    Examples
    --------
    >>> ksic_match(["26421"], ["26429"]).level
    'class'
    """
    for digits, value, level, ko, en in KSIC_LEVELS:
        for a in lead_codes:
            for b in partner_codes:
                if digits and len(a) >= digits and len(b) >= digits and a[:digits] == b[:digits]:
                    return CodeMatch(value, level, a, b, ko, en)
                if not digits and _section(a) and _section(a) == _section(b):
                    return CodeMatch(value, level, a, b, ko, en)
    return CodeMatch(0.0)


def _section(code):
    from . import codes
    try:
        return codes.ksic_section(code[:2]) or ""
    except (KeyError, ValueError, LookupError):
        return ""


def level_keys(code_lists, lengths, section=False):
    """Integer keys of each firm's codes cut at each level, for vectorised comparison.

    Parameters
    ----------
    code_lists : list of list of str
        Codes per firm.
    lengths : sequence of int
        Prefix lengths; 0 means the KSIC section letter (when ``section``).

    Returns
    -------
    ndarray of int64, shape (n_firms, len(lengths), max codes per firm)
        Padded with -1; a code shorter than the level gets -1 there as well. Compare a
        lead array with ``partner_keys(...)`` (padded with -2) so padding never matches.
    """
    width = max([1] + [len(c) for c in code_lists])
    unique, firm_pos, code_pos, code_ids = {}, [], [], []
    for i, codes in enumerate(code_lists):
        for j, code in enumerate(codes):
            firm_pos.append(i)
            code_pos.append(j)
            code_ids.append(unique.setdefault(code, len(unique)))
    table = np.full((max(1, len(unique)), len(lengths)), _NO_LEAD, dtype=np.int64)
    for code, row in unique.items():  # each distinct code once
        table[row] = [_level_key(code, digits, section) for digits in lengths]
    out = np.full((len(code_lists), len(lengths), width), _NO_LEAD, dtype=np.int64)
    if code_ids:
        out[np.array(firm_pos), :, np.array(code_pos)] = table[np.array(code_ids)]
    return out


def _level_key(code, digits, section):
    if digits == 0 and section:
        sec = _section(code)
        return ord(sec[0]) if sec else _NO_LEAD
    if digits and len(code) >= digits and code[:digits].isdigit():
        return int(code[:digits])
    return _NO_LEAD


def partner_keys(keys):
    """Re-pad a :func:`level_keys` array with -2 so it never matches a lead's padding."""
    out = keys.copy()
    out[out == _NO_LEAD] = _NO_PARTNER
    return out


def pairs_level_value(lead_keys, part_keys, li, pi, values, chunk=400_000):
    """Vectorised closeness: for each pair, the value of the deepest level where any codes agree.

    Parameters
    ----------
    lead_keys, part_keys : ndarray, shape (n_leads, n_levels, m1) and (n_partners, n_levels, m2)
        From :func:`level_keys` (partners re-padded by :func:`partner_keys`).
    li, pi : ndarray of int, shape (n_pairs,)
        Lead and partner index of each pair.
    values : sequence of float, one per level, deepest first.

    Returns
    -------
    ndarray of float32, shape (n_pairs,)
    """
    out = np.zeros(len(li), dtype=np.float32)
    for start in range(0, len(li), chunk):
        a = lead_keys[li[start:start + chunk]]
        b = part_keys[pi[start:start + chunk]]
        res = np.zeros(len(a), dtype=np.float32)
        for level in range(len(values) - 1, -1, -1):  # shallow first; deeper levels overwrite
            hit = (a[:, level, :, None] == b[:, level, None, :]).any(axis=(1, 2))
            res[hit] = values[level]
        out[start:start + chunk] = res
    return out


# --- region ---------------------------------------------------------------------------------


def region_closeness(a, b):
    """Closeness of two 시도 in [0, 1]: 1 when the same, falling linearly to 0 at 400 km.

    A region that is not one of the 17 시도 gives 0 (as in the vectorised form).
    """
    from . import codes
    try:
        na, nb = codes.normalize_region(a), codes.normalize_region(b)
    except (KeyError, ValueError, LookupError):
        return 0.0
    if na == nb:
        return 1.0
    return max(0.0, 1.0 - codes.region_distance_km(na, nb) / REGION_SCALE_KM)


@lru_cache(maxsize=1)
def _region_table():
    from . import codes
    names = sorted(codes.regions())
    matrix = np.zeros((len(names) + 1, len(names) + 1), dtype=np.float32)  # last row/column: unknown (-1)
    matrix[:-1, :-1] = [[region_closeness(a, b) for b in names] for a in names]
    return {n: i for i, n in enumerate(names)}, matrix


def region_index(names):
    """Index of each region in the closeness table (-1 when unknown); shape (n,)."""
    from . import codes
    index, _ = _region_table()
    out = np.full(len(names), -1, dtype=np.int64)
    for i, name in enumerate(names):
        try:
            out[i] = index.get(codes.normalize_region(name), -1)
        except (KeyError, ValueError, LookupError):
            pass
    return out


def pairs_region_value(lead_idx, part_idx):
    """Vectorised :func:`region_closeness` from :func:`region_index` arrays; shape (n_pairs,)."""
    _, matrix = _region_table()
    return matrix[lead_idx, part_idx]  # index -1 reads the zero row/column of unknown regions


# --- capability -----------------------------------------------------------------------------


def capability_match(lead_codes, lead_licences, partner, rule, on):
    """How well ``partner`` can carry the lead's product: the best of :data:`CAPABILITY_LEVELS`.

    Parameters
    ----------
    lead_codes : list of str
        The lead's product codes (:func:`lead_product_codes`).
    lead_licences : list of Licence
        The lead's construction licences (their work types count in construction tracks).
    partner : Firm
    rule : TrackRule
        Licences count only where the track asks partners for one.
    on : date
        Certificates must be valid on this day.

    Returns
    -------
    tuple (float, str, str, str)
        Value, level key, Korean and English reason ('' when 0).
    """
    best = (0.0, "", "", "")
    for cert in partner.certificates:
        if cert.valid_on(on):
            best = max(best, _certificate_level(cert, lead_codes), key=lambda t: t[0])
    if rule.partner_licence and partner.licences:
        lead_work = {lic.work_type for lic in lead_licences if lic.work_type}
        shared = sorted(lead_work & {lic.work_type for lic in partner.licences})
        if shared:
            cand = (CAPABILITY_LEVELS["licence_work"], "licence_work",
                    f"같은 공종 면허 ({shared[0]})", f"licensed for the same work type ({shared[0]})")
        else:
            cand = (CAPABILITY_LEVELS["licence_any"], "licence_any", "건설업 면허 보유", "holds a construction licence")
        best = max(best, cand, key=lambda t: t[0])
    return best


def _certificate_level(cert, lead_codes):
    code = cert.code or ""
    name = cert.name_ko
    if cert.kind == "direct_production" and code:
        if any(len(p) == 10 and len(code) == 10 and p == code for p in lead_codes):
            return (CAPABILITY_LEVELS["dp_exact"], "dp_exact", f"{name} {code} 보유 (해당 세부품명)",
                    f"holds a direct-production certificate for {code}")
        if any(len(p) >= 8 and len(code) >= 8 and p[:8] == code[:8] for p in lead_codes):
            return (CAPABILITY_LEVELS["dp_class"], "dp_class", f"같은 물품분류의 {name} ({code})",
                    f"direct-production certificate in the same commodity ({code})")
    if cert.kind in EVIDENCE_KINDS:
        if code and any(len(p) >= 8 and len(code) >= 8 and p[:8] == code[:8] for p in lead_codes):
            return (CAPABILITY_LEVELS["evidence_class"], "evidence_class", f"{name} ({code}) 보유",
                    f"{cert.name_en} for the same commodity ({code})")
        if cert.kind in MATERIALS_KINDS:
            return (CAPABILITY_LEVELS["materials_any"], "materials_any", f"{name} 보유", f"holds {cert.name_en}")
        return (CAPABILITY_LEVELS["evidence_any"], "evidence_any", f"{name} 보유 (다른 제품)",
                f"holds {cert.name_en} (another product)")
    return (0.0, "", "", "")


@dataclass
class CapabilityArrays:
    """Per-firm arrays that :func:`pairs_capability_value` compares (built by :func:`capability_arrays`)."""

    dp10: np.ndarray      # (n_partners, m) valid 10-digit 직접생산 codes, -2 padded
    dp8: np.ndarray       # (n_partners, m) their 8-digit class
    ev8: np.ndarray       # (n_partners, m) 8-digit class of valid evidence certificates
    flat: np.ndarray      # (n_partners,) best code-independent value (materials_any / evidence_any)
    work: np.ndarray      # (n_partners, m) licence work-type ids, -2 padded
    licensed: np.ndarray  # (n_partners,) bool


def pad_rows(rows, pad):
    """Ragged integer ``rows`` as one (len(rows), longest) int64 array, the gaps filled with ``pad``."""
    width = max([1] + [len(r) for r in rows])
    out = np.full((len(rows), width), pad, dtype=np.int64)
    for i, r in enumerate(rows):
        out[i, :len(r)] = r
    return out


def capability_arrays(partners, on, work_ids):
    """Precompute each partner's valid evidence once; ``work_ids`` maps work type → int (grown here)."""
    dp10, dp8, ev8, flat, work, licensed = [], [], [], [], [], []
    for firm in partners:
        valid = [c for c in firm.certificates if c.valid_on(on)]
        dp = [c.code for c in valid if c.kind == "direct_production" and c.code]
        dp10.append([int(c) for c in dp if len(c) == 10 and c.isdigit()])
        dp8.append([int(c[:8]) for c in dp if len(c) >= 8 and c[:8].isdigit()])
        ev = [c for c in valid if c.kind in EVIDENCE_KINDS]
        ev8.append([int(c.code[:8]) for c in ev if len(c.code) >= 8 and c.code[:8].isdigit()])
        f = 0.0
        if any(c.kind in MATERIALS_KINDS for c in ev):
            f = CAPABILITY_LEVELS["materials_any"]
        elif ev:
            f = CAPABILITY_LEVELS["evidence_any"]
        flat.append(f)
        work.append([work_ids.setdefault(l.work_type, len(work_ids)) for l in firm.licences if l.work_type])
        licensed.append(bool(firm.licences))
    return CapabilityArrays(pad_rows(dp10, _NO_PARTNER), pad_rows(dp8, _NO_PARTNER), pad_rows(ev8, _NO_PARTNER),
                            np.array(flat, dtype=np.float32), pad_rows(work, _NO_PARTNER), np.array(licensed))


def lead_capability_keys(code_lists, licence_lists, work_ids):
    """Lead-side keys: 10-digit products, 8-digit classes and licence work types, each -1 padded."""
    p10 = [[int(c) for c in codes if len(c) == 10 and c.isdigit()] for codes in code_lists]
    p8 = [[int(c[:8]) for c in codes if len(c) >= 8 and c[:8].isdigit()] for codes in code_lists]
    work = [[work_ids.setdefault(l.work_type, len(work_ids)) for l in lics if l.work_type]
            for lics in licence_lists]
    return pad_rows(p10, _NO_LEAD), pad_rows(p8, _NO_LEAD), pad_rows(work, _NO_LEAD)


def _any_equal(a, b):
    return (a[:, :, None] == b[:, None, :]).any(axis=(1, 2))


def pairs_capability_value(lead_keys, cap, li, pi, rule, chunk=400_000):
    """Vectorised :func:`capability_match` values for pairs (``li``, ``pi``); shape (n_pairs,)."""
    p10, p8, work = lead_keys
    out = np.zeros(len(li), dtype=np.float32)
    for s in range(0, len(li), chunk):
        a, b = li[s:s + chunk], pi[s:s + chunk]
        res = cap.flat[b].copy()
        res = np.maximum(res, np.where(_any_equal(p8[a], cap.dp8[b]), CAPABILITY_LEVELS["dp_class"], 0))
        res = np.maximum(res, np.where(_any_equal(p8[a], cap.ev8[b]), CAPABILITY_LEVELS["evidence_class"], 0))
        res = np.maximum(res, np.where(_any_equal(p10[a], cap.dp10[b]), CAPABILITY_LEVELS["dp_exact"], 0))
        if rule.partner_licence:
            lic = np.where(cap.licensed[b], CAPABILITY_LEVELS["licence_any"], 0)
            lic = np.where(_any_equal(work[a], cap.work[b]), CAPABILITY_LEVELS["licence_work"], lic)
            res = np.maximum(res, lic)
        out[s:s + chunk] = res
    return out
