"""Do coder's REFI-QDA exports validate against the REFI-QDA schemas?

    .venv/bin/python benchmarks/refi_schema.py SCHEMA_FOLDER [--project FILE.qdpx]

``SCHEMA_FOLDER`` holds ``Project.xsd`` and ``Codebook.xsd`` (the REFI-QDA standard's; they are not
part of this repository: the tests check the structure they need without them). Without
``--project`` a small project is built from the sample corpus with everything an export carries —
codings of two analysts, memos of every kind (segment, transcript, case, project, code), a sub-code,
case and transcript attributes — and its ``.qdpx`` and ``.qdc`` are validated; with ``--project`` a
``.qdpx`` made elsewhere is checked instead. Prints one line per file and exits 1 if one is invalid.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def validate(schema: Path, document: bytes) -> list[str]:
    """The schema's complaints about ``document`` (empty: valid)."""
    from lxml import etree

    xsd = etree.XMLSchema(etree.parse(str(schema)))
    return [] if xsd.validate(etree.fromstring(document)) else [str(e) for e in xsd.error_log]


def sample_project(folder: Path) -> tuple[Path, Path]:
    """Build the sample project in ``folder``; return its exported ``.qdpx`` and ``.qdc``."""
    from coder import attributes, coding, memos
    from coder import db as store
    from coder.codebook_edit import add_code, project_codebook
    from coder.demo import build_demo
    from coder.export.refi import export_qdc, export_qdpx

    print("building the demo project (GiNZA) …", file=sys.stderr)
    build_demo(folder / "schema.db", ROOT / "corpus", suggest=False)
    db = store.open_db(folder / "schema.db")
    project_codebook(db)
    book = add_code(db, "sato", "handover_job", "職場内の引き継ぎ", "handover", "担当者の交代")
    segments = store.segments_to_code(db)[:12]
    for k, seg in enumerate(segments):
        for who in ("hanako", "taro"):
            if k % 3 != 2 or who == "hanako":
                coding.apply(db, seg["id"], who, "confirm", book, book.ids[k % len(book.ids)])
            coding.apply(db, seg["id"], who, "review", book)
    first = store.list_transcripts(db)[0]["name"]
    memos.add(db, "hanako", "セグメントのメモ", segment_id=segments[0]["id"])
    memos.add(db, "taro", "トランスクリプトのメモ", transcript=first)
    case = store.find_transcript(db, first)["case_name"]
    if case:
        memos.add(db, "taro", "事例のメモ", case=case)
        attributes.set_value(db, "case", case, "地域", "関東", user="sato")
    memos.add(db, "sato", "プロジェクトのメモ", project=True)
    memos.add_memo(db, "handover", "sato", "コードのメモ", book)
    attributes.set_value(db, "transcript", first, "年代", "30代", user="sato")
    qdpx, qdc = folder / "sample.qdpx", folder / "sample.qdc"
    export_qdpx(db, qdpx, book)
    export_qdc(book, qdc)
    return qdpx, qdc


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("schemas", type=Path, help="folder with Project.xsd and Codebook.xsd")
    parser.add_argument("--project", type=Path, help="a .qdpx to check instead of the sample project")
    args = parser.parse_args()
    for name in ("Project.xsd", "Codebook.xsd"):
        if not (args.schemas / name).is_file():
            sys.exit(f"{args.schemas}: no {name} there")
    with tempfile.TemporaryDirectory(prefix="coder-refi-") as tmp:
        qdpx, qdc = (args.project, None) if args.project else sample_project(Path(tmp))
        checks = [(qdpx, args.schemas / "Project.xsd", zipfile.ZipFile(qdpx).read("project.qde"))]
        if qdc is not None:
            checks.append((qdc, args.schemas / "Codebook.xsd", qdc.read_bytes()))
        bad = 0
        for path, schema, document in checks:
            errors = validate(schema, document)
            bad += bool(errors)
            print(f"{path.name}: {'valid' if not errors else 'INVALID'} against {schema.name}")
            for e in errors[:10]:
                print(f"  {e}")
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
