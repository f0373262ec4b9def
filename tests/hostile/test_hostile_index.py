"""A public GET never writes (issue 22, item 7): the firm page on a database that takes no writes still
answers, the search index is built in memory; an import stores it."""

import pytest
from sqlalchemy import func, select

from helpers import make_brn, seed_round
from matcher import db
from test_hostile_server import _read_only

pytestmark = pytest.mark.slow


def stored_indexes(url):
    with db.transaction(url) as s:
        return s.scalar(select(func.count()).select_from(db.SearchIndexRow))


def test_the_firm_page_answers_on_a_read_only_database_without_storing_an_index(live_db, start_server):
    seed_round(live_db)
    db.dispose_engines()
    url, undo = _read_only(live_db)
    try:
        server = start_server(url=url)
        client = server.client()
        for path in (f"/firms/{make_brn(1)}", f"/firms/{make_brn(1)}?track=materials",
                     f"/api/v1/firms/{make_brn(1)}/recommendations?track=materials"):
            answer = client.get(path)
            assert answer.status == 200, (path, answer.text[:300])
        server.stop()
    finally:
        if undo:
            undo()
    assert stored_indexes(live_db) == 0


def test_an_import_stores_the_index_the_pages_read(live_db, start_server):
    with db.transaction(live_db) as s:
        s.query(db.SearchIndexChunkRow).delete()
        s.query(db.SearchIndexRow).delete()
    server = start_server()
    client = server.client()
    assert client.get(f"/firms/{make_brn(1)}?track=materials").status == 200
    csv = ("사업자등록번호,회사명,기업규모,설립일,지역\n" f"{make_brn(501)},새 기업,소기업,2021-03-02,서울특별시\n")
    answer = client.login().form("/staff/rounds/1/import/firms", {}, files={"file": ("f.csv", csv.encode())})
    assert answer.status == 302, answer.text[:300]
    with db.transaction(live_db) as s:
        info = s.scalars(select(db.SearchIndexRow)).first()
        from matcher import directory
        assert info is not None and info.version == directory.data_version(s)
