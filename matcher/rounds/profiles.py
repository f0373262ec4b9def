"""A firm edits its own profile: the contact person and the fields an import carries, checked the same way.

Every change is in the audit log (``firm.update``: who, which fields, from what to what), so staff see
who changed what. The 사업자등록번호, certificates, debarment and affiliate group are not the firm's to edit.
"""

from __future__ import annotations

import re

import pandas as pd

from .. import db
from ..errors import Problem, ValidationError
from ..messages import N_, msg
from ..text import TextError, clean_text
from ..validate import check_firms

EDITABLE = ("name", "size_class", "region", "founded", "ksic", "g2b", "description")
CONTACT = ("contact_name", "contact_role", "contact_phone", "contact_email")
FIELD_NAMES = (N_("profile.contact_name"), N_("profile.contact_role"), N_("profile.contact_phone"),
               N_("profile.contact_email"))
"""The contact fields' labels (the profile form builds them from the field name)."""
CONTACT_MAX = {"contact_name": 100, "contact_role": 100, "contact_phone": 30, "contact_email": 200}
_PHONE = re.compile(r"^\+?[0-9][0-9 ()\-]{6,28}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def profile_cells(row):
    """The firm's editable fields as the text an import cell (and the form) holds."""
    return {"name": row.name, "size_class": row.size_class, "region": row.region,
            "founded": row.founded.isoformat() if row.founded else "", "ksic": ", ".join(row.ksic_codes or []),
            "g2b": ", ".join(row.g2b_codes or []), "description": row.description or "",
            **{key: getattr(row, key) or "" for key in CONTACT}}


def _contact_problems(values):
    problems = []
    for key in CONTACT:
        text = values.get(key, "")
        try:
            values[key] = clean_text(str(text or ""), CONTACT_MAX[key], single_line=True).strip()
        except TextError as exc:
            problems.append(Problem(None, key, str(text)[:40], exc.reason))
    if values.get("contact_phone") and not _PHONE.match(values["contact_phone"]):
        problems.append(Problem(None, "contact_phone", values["contact_phone"], "is not a phone number"))
    if values.get("contact_email") and not _EMAIL.match(values["contact_email"]):
        problems.append(Problem(None, "contact_email", values["contact_email"], "is not an e-mail address"))
    return problems


def update_profile(session, brn, fields, actor):
    """Change the firm's profile fields given in ``fields`` (text as a form sends it); every problem at once.

    Parameters
    ----------
    fields : dict
        Any of :data:`EDITABLE` and :data:`CONTACT`; other keys are ignored.

    Returns
    -------
    dict
        ``{field: (before, after)}`` of what changed ({} when nothing did).

    Raises
    ------
    ValidationError
        Every field that fails the import's checks (or the contact checks); nothing is changed then.
    """
    row = db.get_firm(session, brn)
    before = profile_cells(row)
    cells = {**before, **{k: str(v) for k, v in fields.items() if k in EDITABLE or k in CONTACT}}
    problems = _contact_problems(cells)
    frame = pd.DataFrame([{"brn": row.brn, **{k: cells[k] for k in EDITABLE}}], index=[1], dtype=str)
    records, found = check_firms(frame)
    problems += [Problem(None, p.column, p.value, p.reason) for p in found]
    if problems:
        raise ValidationError(problems, source=msg("profile.source", brn=row.brn).text("en"),
                              message=msg("profile.refused", count=len(problems)))
    firm = records[0][1]
    row.name, row.size_class, row.region, row.founded = firm.name, firm.size_class, firm.region, firm.founded
    row.ksic_codes, row.g2b_codes, row.description = list(firm.ksic_codes), list(firm.g2b_codes), firm.description
    for key in CONTACT:
        setattr(row, key, cells[key])
    after = profile_cells(row)
    changes = {k: (before[k], after[k]) for k in after if before[k] != after[k]}
    if changes:
        db.audit(session, actor, "firm.update", firm=row.brn,
                 changes={k: {"from": a, "to": b} for k, (a, b) in changes.items()})
    return changes
