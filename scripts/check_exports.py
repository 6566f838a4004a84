"""Write every export of a project and render the XLSX and DOCX files with LibreOffice, to look at.

    .venv/bin/python scripts/check_exports.py DB OUTDIR [--seed NAME] [--source consensus]

Writes each format of ``coder.export.EXPORTERS`` into OUTDIR (kinds "quotes" and "matrix" from
``--source``, plus the quote report from the model's suggestions, to show its warning), converts
every .xlsx and .docx with ``libreoffice --headless --convert-to pdf`` and the first page of each
PDF with ``pdftoppm -png -r 60``; prints the files made. ``--seed NAME`` first confirms the stored
selected suggestions as analyst NAME on segments NAME has not coded (a demo project has none).
Needs LibreOffice and poppler-utils (``apt-get install libreoffice-writer-nogui
libreoffice-calc-nogui fonts-noto-cjk poppler-utils``); the project itself needs neither.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from coder import coding, export  # noqa: E402
from coder import db as store
from coder.codebook import load_codebook  # noqa: E402


def seed(db, name: str, codebook) -> int:
    done = {r["segment_id"] for r in db.query("select segment_id from reviews where coder = ?", [name])}
    picks = [
        r
        for r in db.query("select segment_id, code from suggestions where selected = 1 order by segment_id")
        if r["segment_id"] not in done
    ]
    for r in picks:
        coding.apply(db, r["segment_id"], name, "confirm", codebook, r["code"])
    for segment in sorted({r["segment_id"] for r in picks}):
        coding.apply(db, segment, name, "review", codebook)
    return len(picks)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("db")
    parser.add_argument("outdir")
    parser.add_argument("--seed", metavar="NAME")
    parser.add_argument("--source", default="consensus")
    args = parser.parse_args()
    db, book, out = store.open_db(args.db, create=False), load_codebook(), Path(args.outdir)
    out.mkdir(parents=True, exist_ok=True)
    if args.seed:
        print(f"{seed(db, args.seed, book)} codings confirmed as {args.seed}")
    jobs = [
        (name, args.source if exp.kind in ("quotes", "matrix") else "consensus")
        for name, exp in sorted(export.load().items())
    ] + [("quotes-docx", "model")]
    failed = 0
    for name, source in jobs:
        try:
            path = export.run(db, name, out, book, source)
        except Exception as exc:  # report every format, not just the first that fails
            print(f"FAILED {name} ({source}): {type(exc).__name__}: {exc}")
            failed += 1
            continue
        print(f"{path} ({path.stat().st_size:,} bytes)")
        if path.suffix in (".xlsx", ".docx"):
            print(f"  → {render(path)}")
    sys.exit(1 if failed else 0)


def render(path: Path) -> Path:
    """The first page of ``path`` as ``<stem>-<suffix>.png`` next to it (and the PDF as ``.pdf``)."""
    subprocess.run(
        ["libreoffice", "--headless", "--convert-to", "pdf", "--outdir", str(path.parent), str(path)],
        check=True,
        capture_output=True,
    )
    stem = path.parent / f"{path.stem}-{path.suffix.lstrip('.')}"
    path.with_suffix(".pdf").rename(f"{stem}.pdf")
    subprocess.run(
        ["pdftoppm", "-png", "-r", "60", "-f", "1", "-l", "1", "-singlefile", f"{stem}.pdf", str(stem)], check=True
    )
    return Path(f"{stem}.png")


if __name__ == "__main__":
    main()
