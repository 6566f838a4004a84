"""ZIP bombs (.docx, .qdpx) are refused from their central directory, before anything inflates them."""

import io
import re
import struct
import tracemalloc
import zipfile
from dataclasses import replace

import pytest
from click.testing import CliRunner

from coder import db as store
from coder import safezip
from coder.cli import cli
from coder.errors import CoderError, IngestError
from coder.formats.word import read_word
from coder.qda_import import import_qdpx
from coder.safezip import Limits

MB = 1_000_000
W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
HEAD = f'<?xml version="1.0" encoding="UTF-8"?><w:document xmlns:w="{W}"><w:body><w:p><w:r><w:t>'.encode()
TAIL = b"</w:t></w:r></w:p></w:body></w:document>"
QDE = (
    '<Project xmlns="urn:QDA-XML:project:1.0" name="p"><Sources><TextSource guid="{g}" name="a" '
    'plainTextPath="internal://a.txt"/></Sources></Project>'
).format(g="11111111-1111-1111-1111-111111111111")


def write_member(z, name, size):
    """A member of ``size`` bytes (document XML around spaces), written in 1 MiB chunks."""
    with z.open(name, "w") as f:
        f.write(HEAD)
        left, block = size - len(HEAD) - len(TAIL), b" " * 2**20
        while left > 0:
            f.write(block[:left])
            left -= len(block)
        f.write(TAIL)


def docx(path, document_size=None, document=None, extra=0):
    """A .docx: python-docx's blank document with a ``document_size``-byte document.xml (or ``document``),
    and ``extra`` more empty members."""
    import docx as python_docx

    blank = io.BytesIO()
    python_docx.Document().save(blank)
    with zipfile.ZipFile(blank) as src, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for item in src.infolist():
            if item.filename != "word/document.xml":
                z.writestr(item, src.read(item))
        if document is not None:
            z.writestr("word/document.xml", document)
        else:
            write_member(z, "word/document.xml", document_size)
        for i in range(extra):
            z.writestr(f"word/extra{i}.xml", b"")
    return path


def understate(path, member, declared):
    """Patch the central directory so ``member`` declares ``declared`` bytes; its data still inflates fully."""
    data = bytearray(path.read_bytes())
    end = data.rfind(b"PK\x05\x06")
    pos = struct.unpack_from("<I", data, end + 16)[0]
    while data[pos : pos + 4] == b"PK\x01\x02":
        n, e, c = struct.unpack_from("<HHH", data, pos + 28)
        if data[pos + 46 : pos + 46 + n] == member.encode():
            struct.pack_into("<I", data, pos + 24, declared)
        pos += 46 + n + e + c
    path.write_bytes(bytes(data))
    return path


@pytest.fixture(scope="module")
def bomb(tmp_path_factory):
    """bomb.docx: about 300 kB whose document.xml inflates to 300 MB."""
    return docx(tmp_path_factory.mktemp("bomb") / "bomb.docx", 300 * MB)


def test_docx_inflating_to_300_mb_is_refused_without_inflating_it(bomb):
    assert bomb.stat().st_size < 2 * MB
    tracemalloc.start()
    try:
        with pytest.raises(IngestError) as refused:
            read_word(bomb.read_bytes(), "bomb.docx")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert str(refused.value) == (
        "bomb.docx: member word/document.xml would inflate to 300 MB (limit 50 MB) — refused as a possible ZIP bomb"
    )
    assert peak < 20 * MB


def test_central_directory_understating_a_size_is_caught_while_reading(tmp_path):
    path = understate(docx(tmp_path / "liar.docx", 60 * MB), "word/document.xml", 20_000)
    with pytest.raises(IngestError, match=r"^liar\.docx: member word/document\.xml .*20 kB.*ZIP bomb"):
        read_word(path.read_bytes(), "liar.docx")


def test_docx_with_too_many_members_is_refused(tmp_path):
    path = docx(tmp_path / "many.docx", document=HEAD + "本人：はい。".encode() + TAIL, extra=safezip.WORD.members)
    with pytest.raises(IngestError, match=r"^many\.docx: [\d,]+ members \(limit 1,000\) — refused as a possible ZIP"):
        read_word(path.read_bytes(), "many.docx")


def test_docx_within_the_limits_is_read(tmp_path):
    path = docx(tmp_path / "ok.docx", document=HEAD + "本人：はい。".encode() + b" " * 900_000 + TAIL)
    assert read_word(path.read_bytes(), "ok.docx").text.startswith("本人：はい。")


SMALL = Limits(member=2 * MB, total=3 * MB, ratio=100, members=3)
ANY_RATIO = replace(SMALL, ratio=10**6)


@pytest.mark.parametrize(
    "sizes, limits, problem",
    [
        ({"a.xml": 2_500_000}, ANY_RATIO, r"member a\.xml would inflate to 2\.5 MB \(limit 2 MB\)"),
        (
            {"a.xml": 1_500_000, "b.xml": 1_000_000, "c.xml": 900_000},
            ANY_RATIO,
            r"members would inflate to 3\.4 MB in all \(limit 3 MB\)",
        ),
        (
            {"a.xml": 1_500_000},
            SMALL,
            r"member a\.xml would inflate [\d,]+ times its compressed size \(limit 100 times",
        ),
        ({"a": 1_000, "b": 1_000, "c": 1_000, "d": 1_000}, SMALL, r"4 members \(limit 3\)"),
    ],
)
def test_each_limit_refuses_from_the_central_directory(tmp_path, sizes, limits, problem):
    path = tmp_path / "x.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, size in sizes.items():
            write_member(z, name, size)
    with pytest.raises(IngestError, match=rf"^x\.zip: {problem}.* — refused as a possible ZIP bomb$"):
        safezip.open_zip(path, "x.zip", limits)


def test_small_members_may_compress_well(tmp_path):
    path = tmp_path / "styles.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        write_member(z, "word/styles.xml", 900_000)  # about 1,000 times: small XML is exempt from the ratio
    with safezip.open_zip(path, "styles.zip", SMALL) as z:
        assert len(safezip.read(z, "word/styles.xml", "styles.zip")) == 900_000


def test_a_file_that_is_no_zip_is_refused_as_unreadable():
    with pytest.raises(IngestError, match=r"^x\.docx: not a readable \.docx file"):
        read_word(b"PK\x03\x04 not a zip", "x.docx")


def qdpx(path, source_size=0, qde=QDE):
    """A .qdpx with one text source, sources/a.txt: ``source_size`` bytes, or one short line."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("project.qde", qde)
        if source_size:
            write_member(z, "sources/a.txt", source_size)
        else:
            z.writestr("sources/a.txt", "本人：はい。")
    return path


@pytest.mark.parametrize(
    "make, problem",
    [
        (lambda p: qdpx(p, 2 * MB), r"member sources/a\.txt would inflate [\d,]+ times its compressed size"),
        (lambda p: understate(qdpx(p, 5 * MB), "sources/a.txt", 1000), r"member sources/a\.txt .*1 kB"),
    ],
)
def test_qdpx_bomb_is_refused_and_nothing_is_written(db, codebook, tmp_path, dump, make, problem):
    path = make(tmp_path / "bomb.qdpx")
    before = dump(db)
    with pytest.raises(CoderError, match=rf"bomb\.qdpx: {problem}.*ZIP bomb"):
        import_qdpx(db, path, codebook)
    assert dump(db) == before


def laughs(depth):
    entities = '<!ENTITY l0 "lol">' + "".join(f'<!ENTITY l{i} "{f"&l{i - 1};" * 10}">' for i in range(1, depth + 1))
    return f"<!DOCTYPE w:document [{entities}]>", f"&l{depth};"


def test_entities_in_a_docx_are_never_expanded(tmp_path):
    doctype, ref = laughs(3)  # 3,000 characters if expanded: small enough that libxml2 would allow it
    xml = (
        f'<?xml version="1.0"?>{doctype}<w:document xmlns:w="{W}"><w:body><w:p><w:r><w:t>本人：はい。{ref}'
        f"</w:t></w:r></w:p></w:body></w:document>"
    )
    assert read_word(docx(tmp_path / "l.docx", document=xml.encode()).read_bytes(), "l.docx").text == "本人：はい。\n"


def test_billion_laughs_docx_and_qdpx_are_refused(db, codebook, tmp_path):
    doctype, ref = laughs(9)
    xml = (
        f'<?xml version="1.0"?>{doctype}<w:document xmlns:w="{W}"><w:body><w:p><w:r><w:t>{ref}'
        f"</w:t></w:r></w:p></w:body></w:document>"
    )
    with pytest.raises(IngestError, match=r"^laughs\.docx: not a readable \.docx"):
        read_word(docx(tmp_path / "laughs.docx", document=xml.encode()).read_bytes(), "laughs.docx")
    qde = doctype.replace("w:document", "Project") + QDE.replace('name="a"', f'name="{ref}"')
    with pytest.raises(CoderError, match=r"laughs\.qdpx:project\.qde: not well-formed XML"):
        import_qdpx(db, qdpx(tmp_path / "laughs.qdpx", qde=qde), codebook)


def test_cli_ingest_refuses_the_bomb_and_stores_nothing(bomb, tmp_path):
    db_path = tmp_path / "p.db"
    result = CliRunner().invoke(cli, ["ingest", str(bomb), "--db", str(db_path)])
    assert result.exit_code == 1
    assert "bomb.docx: member word/document.xml would inflate to 300 MB" in result.output
    assert "ZIP bomb" in result.output and "nothing was imported" in result.output
    assert store.list_transcripts(store.open_db(db_path)) == []


def test_cli_import_qdpx_refuses_the_bomb_and_stores_nothing(tmp_path):
    db_path = tmp_path / "p.db"
    result = CliRunner().invoke(cli, ["import-qdpx", str(qdpx(tmp_path / "bomb.qdpx", 2 * MB)), "--db", str(db_path)])
    assert result.exit_code == 1 and "bomb.qdpx: member sources/a.txt would inflate" in result.output
    assert "ZIP bomb" in result.output and store.list_transcripts(store.open_db(db_path)) == []


def test_web_upload_of_the_bomb_is_a_japanese_error_with_nothing_imported(bomb, login, project):
    client = login("hanako")
    data = {"files": [(io.BytesIO(bomb.read_bytes()), "bomb.docx")], "csrf_token": client.csrf}
    response = client.post("/import", data=data, content_type="multipart/form-data")
    page = response.get_data(as_text=True)
    assert response.status_code == 400 and "取り込めないファイル" in page
    assert re.search(r"bomb\.docx：[^<]*ZIP爆弾", page) and "/tmp/" not in page
    assert re.search(r'value="import"\s+disabled', page)
    assert [t["name"] for t in store.list_transcripts(store.open_db(project))] == ["kaede"]
