import re
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


@pytest.fixture
def project(tmp_path, nlp):
    """A project with one interview (person + interviewer), two analysts and a supervisor."""
    from coder.access import set_blind
    from coder.ingest import ingest
    from coder.users import add_user

    path = tmp_path / "project.db"
    database = open_db(path)
    source = tmp_path / "kaede.txt"
    source.write_text(
        "聞き手：最近はいかがですか。\n本人：支援員さんと情報を共有しています。"
        "主治医の意見も職場に伝えてもらいました。\n聞き手：ほかには。\n本人：特にありません。\n",
        encoding="utf-8",
    )
    ingest(database, [source], nlp=nlp, case="kaede", speaker_map={"本人": "person"})
    for name, role in (("hanako", "analyst"), ("taro", "analyst"), ("sato", "supervisor")):
        add_user(database, name, role, f"{name}-password")
    # Most web tests are about a team that sees each other's codes; blind mode (a new project's
    # default) has tests of its own (tests/test_access.py).
    set_blind(database, False)
    database.close()
    return path


@pytest.fixture
def app(project):
    from web import create_app

    return create_app({"DATABASE": str(project), "TESTING": True, "RETRAIN": False, "SECRET_KEY": "test"})


@pytest.fixture
def login(app):
    """A logged-in test client for a user: ``login("hanako")``; CSRF stays on."""

    def _login(name):
        client = app.test_client()
        page = client.get("/login").get_data(as_text=True)
        token = re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)
        response = client.post("/login", data={"name": name, "password": f"{name}-password", "csrf_token": token})
        assert response.status_code == 302, response.get_data(as_text=True)
        client.csrf = token
        return client

    return _login


@pytest.fixture
def two_analysts(project, codebook):
    """hanako and taro coded the kaede interview: both confirm information_sharing on the first
    segment and finish the third without codes; on the second, hanako confirms information_sharing
    and taro value_alignment. Returns the three segment ids."""
    from coder import coding
    from coder.db import segments_to_code

    database = open_db(project)
    a, b, c = [s["id"] for s in segments_to_code(database)]
    for who in ("hanako", "taro"):
        coding.apply(database, a, who, "confirm", codebook, "information_sharing")
        coding.apply(database, c, who, "review", codebook)
    coding.apply(database, b, "hanako", "confirm", codebook, "information_sharing")
    coding.apply(database, b, "taro", "confirm", codebook, "value_alignment")
    database.close()
    return a, b, c
