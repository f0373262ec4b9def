"""What a partner search is asked and what it tells: the filters of a recommendation (region, size
class, certificate; :func:`normalize_filters`) and a partner's pairing requirement in words
(:func:`capacity_note`). The search itself is :mod:`matcher.directory`; its slow reference (one firm over
a plain pool, the text model fitted on it) is ``tests/oracles.py``.
"""

from __future__ import annotations

from .codes import normalize_region
from .errors import MatcherError, as_msg
from .firms import CERTIFICATE_ALIASES, CERTIFICATE_KINDS, SIZE_CLASSES, SIZE_NAMES_EN
from .messages import N_, msg

FILTERS = ("region", "size_class", "certificate")


def normalize_filters(filters):
    """``filters`` with every value in its canonical form, as sets.

    Parameters
    ----------
    filters : dict, optional
        ``region``: 시도 in any spelling :func:`matcher.codes.normalize_region` accepts
        ('서울', '서울특별시', 'Seoul', '11'); ``size_class``: a size class (소기업) or its
        English name (small firm); ``certificate``: a certificate kind key (patent), its
        Korean or English name, or a usual alias (특허, 직접생산). Each a string or a list.

    Returns
    -------
    dict of str to set of str
        Only the filters given (empty values dropped): 시도 short names, size classes and
        certificate kind keys.

    Raises
    ------
    MatcherError
        For an unknown filter name or value, every one listed with the values allowed.

    Examples
    --------
    >>> normalize_filters({"region": "Seoul", "size_class": ["small firm"], "certificate": "특허"})
    {'region': {'서울'}, 'size_class': {'소기업'}, 'certificate': {'patent'}}
    """
    filters = {key: value for key, value in (filters or {}).items() if value}
    unknown = sorted(set(filters) - set(FILTERS))
    if unknown:
        raise MatcherError(msg("filter.unknown", filters=unknown, known=list(FILTERS)))
    wanted, problems = {}, []
    for key, values in filters.items():
        wanted[key] = set()
        for value in [values] if isinstance(values, str) else values:
            try:
                wanted[key].add(_NORMALIZERS[key](value))
            except ValueError as exc:
                problems.append(msg("filter.bad_value", filter=msg(N_("filter." + key)), value=repr(str(value)),
                                    why=as_msg(exc)))
    if problems:
        raise MatcherError(msg("filter.problems", problems=problems))
    return wanted


def _size_class(value):
    names = {name.lower(): size for size, name in SIZE_NAMES_EN.items()} | {size: size for size in SIZE_CLASSES}
    key = " ".join(str(value).split()).lower()
    if key not in names:
        allowed = ", ".join(f"{size} ({SIZE_NAMES_EN[size]})" for size in SIZE_CLASSES)
        raise ValueError(f"is not a size class ({allowed})")
    return names[key]


def _certificate(value):
    names = {key.lower(): key for key in CERTIFICATE_KINDS}
    names |= {en.replace(" ", "").lower(): key for key, (_ko, en) in CERTIFICATE_KINDS.items()}
    names |= {alias.lower(): key for alias, key in CERTIFICATE_ALIASES.items()}
    key = str(value).replace(" ", "").lower()
    if key not in names:
        allowed = ", ".join(f"{kind} ({ko})" for kind, (ko, _en) in CERTIFICATE_KINDS.items())
        raise ValueError(f"is not a certificate kind ({allowed})")
    return names[key]


_NORMALIZERS = {"region": normalize_region, "size_class": _size_class, "certificate": _certificate}


def capacity_note(rule, partner, cap, found):
    """The partner's pairing requirement in words (Korean, English)."""
    if cap is None:
        return (f"{partner.size_class}는 {rule.name_ko} 과제의 협력기업이 될 수 없음",
                f"a {partner.size_class} may not partner in {rule.name_ko}")
    low, high = max(cap.min, 1), cap.max
    if high is None:
        ko, en = f"주관기업 {low}곳 이상", f"{low} or more leads"
    elif low == high:
        ko, en = f"주관기업 {low}곳", f"{low} lead{'s' if low > 1 else ''}"
    elif low == 1:
        ko, en = f"주관기업 최대 {high}곳", f"up to {high} leads"
    else:
        ko, en = f"주관기업 {low}~{high}곳", f"{low} to {high} leads"
    ko = f"{rule.name_ko}: {partner.size_class} 협력기업은 {ko}과 협약"
    en = f"{rule.name_en}: a {partner.size_class} partner signs with {en}"
    if found < cap.min:
        ko += f" (최소 {cap.min}곳 필요; 적격 후보 {found}곳뿐이라 참여 불가)"
        en += f" (needs at least {cap.min}; only {found} eligible candidates, so it cannot take part)"
    return ko, en
