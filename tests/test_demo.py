from collections import Counter

import pytest

from coder.db import iter_segments, list_transcripts
from coder.demo import build_demo
from coder.errors import CoderError


@pytest.fixture(scope="module")
def demo(tmp_path_factory, nlp):
    from coder.db import open_db

    path = tmp_path_factory.mktemp("demo") / "demo.db"
    from pathlib import Path

    build_demo(path, Path(__file__).resolve().parent.parent / "corpus", nlp=nlp)
    return open_db(path)


def test_demo_project_has_six_interviews_across_cases_formats_and_perspectives(demo):
    rows = list_transcripts(demo)
    assert len(rows) >= 6
    assert len({r["case_name"] for r in rows}) >= 2
    assert len({r["format"] for r in rows}) >= 3 and "cp932" in {r["encoding"] for r in rows}
    assert all(2000 <= r["chars"] <= 6000 for r in rows)
    perspectives = Counter(s["perspective"] for s in iter_segments(demo))
    assert set(perspectives) == {"person", "supporter", "employer", "interviewer"}


def test_demo_refuses_to_overwrite_without_force(tmp_path, corpus):
    (tmp_path / "demo.db").write_bytes(b"")
    with pytest.raises(CoderError, match="--force"):
        build_demo(tmp_path / "demo.db", corpus)
