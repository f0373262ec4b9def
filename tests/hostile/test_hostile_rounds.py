"""Rounds and uploads under hostile input, through the real server (issue 22, items 3, 9, 10)."""

import threading

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from helpers import ROUND, make_brn, seed_round
from matcher import db
from matcher.cli import main


@pytest.fixture(scope="module")
def server(live_db, live):
    seed_round(live_db)
    return live


def round_names(url):
    with db.transaction(url) as s:
        return sorted(s.scalars(select(db.RoundRow.name)))


def create(client, name):
    return client.form("/staff/rounds", {"name": name, "reference_date": "2026-05-01", "track_materials": "1"})


def test_racing_creators_of_one_round_name_get_one_302_and_the_same_400(server, live_db):
    clients = [server.client().login() for _ in range(10)]
    statuses, barrier = [None] * 10, threading.Barrier(10)

    def race(i):
        barrier.wait()
        answer = create(clients[i], "경쟁 회차")
        statuses[i] = (answer.status, "이미 있습니다" in answer.text)

    threads = [threading.Thread(target=race, args=(i,)) for i in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [(302, False)] + [(400, True)] * 9, statuses
    assert round_names(live_db).count("경쟁 회차") == 1


@pytest.mark.parametrize("typed", ["\u200b", " \u00a0 ", "\ufeff", "\u202e", "\u200b\u200d\u2060"])
def test_a_round_name_of_only_invisible_characters_is_refused(server, typed):
    answer = create(server.client().login(), typed)
    assert answer.status == 400 and "비어 있습니다" in answer.text


@pytest.mark.parametrize("typed", ["모양 회차\u200b", "모양\u00a0회차", "모양  회차", "\ufeff모양 회차", "모양 회차\u202e",
                                   "모양\u3000회차", " 모양 회차 "])
def test_a_look_alike_of_an_existing_round_name_is_the_same_name(server, live_db, typed):
    client = server.client().login()
    if "모양 회차" not in round_names(live_db):
        assert create(client, "모양 회차").status == 302
    answer = create(client, typed)
    assert answer.status == 400 and "이미 있습니다" in answer.text, answer.text[:300]


def test_the_cli_and_the_web_store_the_same_name(server, live_db, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", live_db)
    result = CliRunner().invoke(main, ["round", "create", "\ufeffCLI\u00a0\u00a0회차\u200b", "--reference-date",
                                       "2026-05-01"])
    assert result.exit_code == 0, result.output
    assert "CLI 회차" in round_names(live_db)
    assert create(server.client().login(), "CLI 회차\u202e").status == 400


def test_an_imported_firm_name_loses_its_invisible_characters(server, live_db):
    csv = ("사업자등록번호,회사명,기업규모,설립일,지역\n"
           f"{make_brn(301)},\u202e보이지\u00a0않는\ufeff 기업\u200b,소기업,2021-03-02,서울특별시\n"
           f"{make_brn(302)},\u200b\u2060,소기업,2021-03-02,서울특별시\n")
    client = server.client().login()
    answer = client.form("/staff/rounds/1/import/firms", {}, files={"file": ("firms.csv", csv.encode())})
    assert answer.status == 400 and "3" in answer.text  # row 3 refused: a name of invisible characters only
    with db.transaction(live_db) as s:
        assert s.scalar(select(db.FirmRow.name).where(db.FirmRow.brn == make_brn(301))) is None
    answer = client.form("/staff/rounds/1/import/firms", {},
                         files={"file": ("firms.csv", "\n".join(csv.splitlines()[:2]).encode())})
    assert answer.status == 302, answer.text[:500]
    with db.transaction(live_db) as s:
        assert s.scalar(select(db.FirmRow.name).where(db.FirmRow.brn == make_brn(301))) == "보이지 않는 기업"


def test_an_applications_upload_naming_another_round_is_refused_with_row_and_column(server, live_db):
    client = server.client().login()
    assert create(client, "다른 회차").status == 302
    with db.transaction(live_db) as s:
        other = s.scalar(select(db.RoundRow.id).where(db.RoundRow.name == "다른 회차"))
        first = s.scalar(select(db.RoundRow.id).where(db.RoundRow.name == ROUND))
        before = s.scalars(select(db.ApplicationRow.text).where(db.ApplicationRow.round_id == first)).all()
    csv = ("회차,사업자등록번호,역할,과제,신청물품,내용\n"
           f"다른 회차,{make_brn(2)},주관,소재부품,4617161001234567,이 회차\n"
           f"{ROUND},{make_brn(1)},주관,소재부품,4617161001234567,바뀐 내용\n")
    answer = client.form(f"/staff/rounds/{other}/import/applications", {},
                         files={"file": ("apps.csv", csv.encode())})
    assert answer.status == 400, answer.text[:500]
    assert "3" in answer.text and ROUND in answer.text and "회차" in answer.text
    with db.transaction(live_db) as s:
        assert s.scalars(select(db.ApplicationRow.text).where(db.ApplicationRow.round_id == first)).all() == before
        assert s.scalars(select(db.ApplicationRow.id).where(db.ApplicationRow.round_id == other)).all() == []
