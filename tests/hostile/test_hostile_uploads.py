"""Decompression bombs uploaded to the real server (issue 22, item 2): refused before openpyxl reads them,
with the server's memory peak kept within a small bound."""

import io
import time
import zipfile
from pathlib import Path

import pytest
from openpyxl import Workbook

from helpers import make_brn, seed_round

pytestmark = pytest.mark.slow
MARK = "BOMBMARK"


@pytest.fixture(scope="module")
def server(live_db, live):
    seed_round(live_db)
    return live


def workbook(name):
    book = Workbook()
    sheet = book.active
    sheet.append(["사업자등록번호", "회사명", "기업규모", "설립일", "지역"])
    sheet.append([make_brn(401), name, "소기업", "2021-03-02", "서울특별시"])
    plain = io.BytesIO()
    book.save(plain)
    return plain


def bomb(characters):
    """A firms workbook whose second row's name is ``characters`` letters, streamed into the zip (~1 KB per MB)."""
    plain = workbook(MARK)
    out = io.BytesIO()
    with zipfile.ZipFile(plain) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            data = source.read(item)
            if MARK.encode() not in data:
                target.writestr(item.filename, data)
                continue
            before, after = data.split(MARK.encode())
            with target.open(item.filename, "w", force_zip64=True) as part:
                part.write(before)
                block = b"a" * 2**20
                for _ in range(characters // 2**20):
                    part.write(block)
                part.write(after)
    return out.getvalue()


def peak_rss_mb(pid):
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmHWM")


@pytest.mark.parametrize("characters", [10**9, 3 * 10**8, 40 * 2**20])
def test_a_decompression_bomb_is_refused_and_the_memory_peak_stays_small(server, characters):
    data = bomb(characters)
    assert len(data) < 1.1 * 2**20
    client = server.client().login()
    client.get("/?lang=en")
    before = peak_rss_mb(server.process.pid)
    started = time.monotonic()
    answer = client.form("/staff/rounds/1/import/firms", {}, files={"file": ("firms.xlsx", data)})
    assert answer.status == 400, answer.text[:500]
    assert "unpacks to" in answer.text or "compressed" in answer.text or "characters an Excel cell" in answer.text
    assert peak_rss_mb(server.process.pid) - before < 60
    assert time.monotonic() - started < 30
    assert server.client().get("/api/v1/rounds", timeout=5).status == 200


def test_an_ordinary_workbook_still_imports(server):
    data = workbook("보통 기업").getvalue()
    client = server.client().login()
    answer = client.form("/staff/rounds/1/import/firms", {}, files={"file": ("firms.xlsx", data)})
    assert answer.status == 302, answer.text[:500]
