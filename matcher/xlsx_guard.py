"""An uploaded workbook checked before openpyxl reads it: no decompression bomb, no cell past Excel's size.

An XLSX file is a zip of XML. A 1 MB upload can hold a sheet of a gigabyte (one inline cell of 10⁹ copies
of a letter compresses a thousandfold), and openpyxl builds each cell's text whole: such a file raised the
server's memory by 2.7 GB. :func:`check_workbook` reads only the zip's directory and then streams each sheet's
XML through expat, counting: it refuses a workbook whose parts would unpack past :data:`MAX_UNPACKED`
bytes, a large part compressed more than :data:`MAX_RATIO` times, or a cell longer than :data:`MAX_CELL`
characters — while holding one chunk of :data:`CHUNK` bytes at a time.
"""

from __future__ import annotations

import io
import zipfile
from xml.parsers import expat

from .errors import Problem, ValidationError
from .messages import msg

MAX_UNPACKED = 512 * 1024 * 1024
"""The most bytes a workbook's parts may unpack to together."""
MAX_RATIO = 200
"""The most a part larger than :data:`RATIO_FROM` bytes may be compressed (real sheets: 5–30 times)."""
RATIO_FROM = 16 * 1024 * 1024
MAX_CELL = 32_767
"""Excel's own limit on the characters of one cell."""
CHUNK = 1024 * 1024


class _Refused(Exception):
    def __init__(self, message):
        self.message = message


def check_workbook(raw, name="workbook"):
    """Refuse the XLSX bytes ``raw`` when unpacking or parsing them could exhaust the server.

    Raises
    ------
    ValidationError
        Naming the part, its sizes, or the sheet and cell too long (Korean text in ``ko``).
    """
    try:
        with zipfile.ZipFile(io.BytesIO(raw)) as book:
            members = book.infolist()
            _check_sizes(members)
            for member in members:
                if member.filename.endswith(".xml") and (member.filename.startswith("xl/worksheets/")
                                                         or member.filename == "xl/sharedStrings.xml"):
                    _scan(book, member)
    except _Refused as refused:
        raise ValidationError([Problem(None, None, None, refused.message)], source=name) from None
    except zipfile.BadZipFile:
        return  # openpyxl says what is wrong with it


def _check_sizes(members):
    total = sum(m.file_size for m in members)
    if total > MAX_UNPACKED:
        raise _Refused(msg("upload.xlsx_too_big", size=total // 2**20, limit=MAX_UNPACKED // 2**20))
    for m in members:
        if m.file_size > RATIO_FROM and m.file_size > MAX_RATIO * max(m.compress_size, 1):
            raise _Refused(msg("upload.xlsx_ratio", part=m.filename, size=m.file_size // 2**20,
                               ratio=m.file_size // max(m.compress_size, 1), limit=MAX_RATIO))


def _scan(book, member):
    """Stream one part through expat, refusing a text longer than :data:`MAX_CELL` or more bytes than declared."""
    state = {"cell": "", "length": 0, "bytes": 0}
    sheet = member.filename.rsplit("/", 1)[-1].removesuffix(".xml")

    def start(tag, attrs):
        if tag in ("c", "si"):
            state["cell"] = attrs.get("r", state["cell"]) if tag == "c" else "sharedStrings"
        state["length"] = 0

    def text(data):
        state["length"] += len(data)
        if state["length"] > MAX_CELL:
            raise _Refused(msg("upload.cell_too_long", sheet=sheet, cell=state["cell"] or "?", limit=MAX_CELL))

    def end(_tag):
        state["length"] = 0

    parser = expat.ParserCreate()
    parser.StartElementHandler, parser.CharacterDataHandler, parser.EndElementHandler = start, text, end
    parser.buffer_text = False
    with book.open(member) as stream:
        while chunk := stream.read(CHUNK):
            state["bytes"] += len(chunk)
            if state["bytes"] > member.file_size or state["bytes"] > MAX_UNPACKED:  # a directory that lies
                raise _Refused(msg("upload.xlsx_too_big", size=state["bytes"] // 2**20,
                                   limit=MAX_UNPACKED // 2**20))
            try:
                parser.Parse(chunk, False)
            except expat.ExpatError:
                return  # not XML after all: openpyxl says what is wrong with it
