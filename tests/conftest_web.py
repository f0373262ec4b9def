"""Fixtures for the web tests: an app on a temporary database, clients, and a tiny literal round.

Imported by ``tests/test_web*.py`` (``from conftest_web import *``) so the shared ``conftest.py`` stays small.
"""

from datetime import date

import pytest
from sqlalchemy import func, select

from matcher import db
from matcher.firms import brn_check_digit
from matcher.users import ensure_user
from web import create_app

ROUND = "테스트 1차"
REF = date(2026, 3, 19)
STAFF_PASSWORD = "correct horse"
FAST_HASH = "pbkdf2:sha256:1000"  # tests only: the real default (scrypt) costs ~0.2 s per hash


def make_brn(n):
    """A valid 사업자등록번호 from a small integer (corporation head office, entity type 81)."""
    first = f"{100 + n % 800:03d}81{n:04d}"
    return first + str(brn_check_digit(first))


def count(session, model):
    return session.scalar(select(func.count()).select_from(model))


def add_firm(session, n, name, size, region="대전", certificates=(), **extra):
    row = db.FirmRow(brn=make_brn(n), name=name, size_class=size, region=region,
                     founded=extra.pop("founded", date(2015, 1, 1)), ksic_codes=extra.pop("ksic", ["26421"]),
                     g2b_codes=extra.pop("g2b", ["46171610"]), description=extra.pop("description", ""),
                     licences=extra.pop("licences", []), **extra)
    for kind, code in certificates:
        row.certificates.append(db.CertificateRow(kind=kind, code=code, valid_from=date(2024, 1, 1),
                                                  valid_to=date(2027, 12, 31)))
    session.add(row)
    return row


def seed_round(url):
    """A round in the 소재부품 (materials) track: 6 leads, 2 SME partners, 1 large partner.

    Leads 1..6 describe CCTV cameras; SME partners hold a 소재부품 certificate; the large partner
    (대기업) can take 5 or more leads. Firm 99 is named ``<script>`` to check escaping.
    """
    with db.transaction(url) as s:
        rnd = db.RoundRow(name=ROUND, reference_date=REF, open_tracks=["materials", "innovation"])
        s.add(rnd)
        leads = [add_firm(s, i, f"주관{i} 영상", "소기업", description="AI CCTV 영상 분석 카메라 부품")
                 for i in range(1, 7)]
        partners = [add_firm(s, 10 + i, f"협력{i} 소재", "중기업", certificates=[("materials_parts", "")],
                             description="CCTV 카메라 렌즈 소재 부품 생산") for i in range(1, 3)]
        partners.append(add_firm(s, 20, "대기업 테크윈", "대기업", region="경기",
                                 certificates=[("patent", "46171610")], description="영상 보안 CCTV 카메라"))
        add_firm(s, 99, "<script>alert(1)</script>", "소기업")
        s.flush()
        for lead in leads:
            s.add(db.ApplicationRow(round_id=rnd.id, firm_id=lead.id, role="lead", track="materials",
                                    product_code="4617161001234567", text="AI CCTV 카메라 부품 협력"))
        for partner in partners:
            s.add(db.ApplicationRow(round_id=rnd.id, firm_id=partner.id, role="partner", track="materials",
                                    text="CCTV 소재 부품"))
        return rnd.id


@pytest.fixture
def app(db_url, tmp_path):
    app = create_app({"TESTING": True, "DATABASE_URL": db_url, "SECRET_KEY": "test", "WTF_CSRF_ENABLED": False,
                      "RUN_TIME_LIMIT": 5.0, "UPLOAD_FOLDER": str(tmp_path / "uploads")})
    with db.transaction(db_url) as s:
        ensure_user(s, "staff", STAFF_PASSWORD, method=FAST_HASH)
        ensure_user(s, "viewer", "viewer password", role="viewer", method=FAST_HASH)
    return app


@pytest.fixture
def round_id(app):
    return seed_round(app.config["DATABASE_URL"])


@pytest.fixture
def client(app):
    return app.test_client()


def login(client, username="staff", password=STAFF_PASSWORD, **extra):
    return client.post("/login", data=dict(username=username, password=password, **extra))


@pytest.fixture
def staff(client):
    response = login(client)
    assert response.status_code == 302
    return client


__all__ = ["ROUND", "REF", "STAFF_PASSWORD", "make_brn", "count", "add_firm", "seed_round", "app", "round_id",
           "client", "login", "staff", "db"]
