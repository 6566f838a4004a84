from pathlib import Path

import pytest

from coder.db import open_db

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def nlp():
    """The real GiNZA pipeline, loaded once for the whole test session."""
    from coder.segment import load_nlp

    return load_nlp()


@pytest.fixture
def db(tmp_path):
    database = open_db(tmp_path / "project.db")
    yield database
    database.close()


@pytest.fixture
def write(tmp_path):
    """Write ``text`` to ``tmp_path/name`` in ``encoding`` and return the path."""

    def _write(name, text, encoding="utf-8", newline="\n"):
        path = tmp_path / name
        path.write_bytes(text.replace("\n", newline).encode(encoding))
        return path

    return _write


@pytest.fixture
def corpus():
    return ROOT / "corpus"


@pytest.fixture
def dump():
    """Every row of every table: what a user could see change."""
    return lambda db: {t: list(db[t].rows) for t in db.table_names()}


@pytest.fixture(scope="session")
def codebook():
    from coder.codebook import load_codebook

    return load_codebook()


@pytest.fixture(scope="session")
def embedder(tmp_path_factory, nlp):
    """The default embedding model, built from ja-ginza's vectors into a temporary cache."""
    import os

    from coder.suggest.embedding import Embedder

    old = os.environ.get("CODER_CACHE")
    os.environ["CODER_CACHE"] = str(tmp_path_factory.mktemp("cache"))
    try:
        yield Embedder()
    finally:
        if old is None:
            os.environ.pop("CODER_CACHE")
        else:
            os.environ["CODER_CACHE"] = old
