"""The demo project: the sample corpus in ``corpus/`` ingested into a fresh database."""

from __future__ import annotations

from pathlib import Path

from .db import open_db
from .errors import CoderError
from .ingest import IngestReport, ingest, load_manifest


def build_demo(db_path: str | Path, corpus: str | Path, force: bool = False, nlp=None,
               suggest: bool = False) -> IngestReport:
    """Create ``db_path`` from ``corpus/metadata.yaml`` and the files it lists; with ``suggest``,
    also store cold-start code suggestions for every segment (as `coder suggest --db` does)."""
    db_path, corpus = Path(db_path), Path(corpus)
    manifest = corpus / "metadata.yaml"
    if not manifest.exists():
        raise CoderError(f"{manifest}: the corpus has no metadata.yaml")
    if db_path.exists():
        if not force:
            raise CoderError(f"{db_path} exists; pass --force to replace it with a fresh demo project")
        for suffix in ("", "-wal", "-shm", ".secret"):  # a new project: sessions of the old one must not carry over
            Path(f"{db_path}{suffix}").unlink(missing_ok=True)
    files = [corpus / name for name in load_manifest(manifest)]
    db = open_db(db_path)
    report = ingest(db, [manifest, *files], nlp=nlp)
    if suggest:
        from .codebook import load_codebook
        from .suggest.service import suggest_project

        suggest_project(db, load_codebook())
    return report
