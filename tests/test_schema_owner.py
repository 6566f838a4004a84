"""Who owns what: the schema lives in coder/db.py (the interviewee unit defined once, as a view), the
library owns every query, and web/ writes no SQL."""

import re
from dataclasses import replace
from pathlib import Path

from coder import coding, layers, search, summaries
from coder import db as store
from coder.codebook import core_ids
from coder.evaluate import evaluate
from coder.matrix import build

ROOT = Path(__file__).resolve().parent.parent


def test_web_modules_write_no_sql():
    found = [
        f"web/{p.name}:{n}: {line.strip()}"
        for p in sorted((ROOT / "web").glob("*.py"))
        for n, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1)
        if re.search(r"\.execute\(|\.query\(|\bdb\[", line)
    ]
    assert found == [], "a view calls the library, which owns the SQL:\n" + "\n".join(found)


def test_the_interviewee_unit_is_spelled_out_only_in_the_schema():
    spelled = [
        str(p.relative_to(ROOT))
        for p in sorted((ROOT / "coder").rglob("*.py"))
        if p.name != "db.py" and "!= 'interviewer'" in p.read_text(encoding="utf-8")
    ]
    assert spelled == [], "select from the view interviewee_segments instead"


def test_interviewee_segments_leave_out_the_interviewer_and_follow_a_remapped_speaker(project):
    db = store.open_db(project)
    everyone = [s["id"] for s in store.iter_segments(db)]
    interviewees = [s["id"] for s in store.iter_segments(db) if s["perspective"] != "interviewer"]
    assert len(interviewees) == 3 < len(everyone)
    assert [s["id"] for s in store.segments_to_code(db)] == interviewees
    assert [u["id"] for u in layers.segments(db)] == interviewees
    store.set_speaker(db, "聞き手", "supporter", user="sato")
    assert [s["id"] for s in store.segments_to_code(db)] == everyone


def test_quotes_hits_and_evidence_name_their_turn_counted_from_one(project, two_analysts, codebook):
    db = store.open_db(project)
    a, b, c = two_analysts
    assert [(s["id"], s["turn"]) for s in store.iter_segments(db) if s["id"] in (a, c)] == [(a, 1), (c, 3)]  # from 0
    assert {r["segment_id"]: r["turn"] for r in layers.coded_rows(db, "all")} == {a: 2, b: 2}
    assert [u["turn"] for u in layers.segments(db)] == [2, 2, 4]
    quotes = build(db, codebook, source="all")["cells"]["person"]["information_sharing"]["quotes"]
    assert {q["segment_id"]: q["turn"] for q in quotes} == {a: 2, b: 2}
    assert [(h["segment_id"], h["turn"]) for h in search.search(db, "特に")] == [(c, 4)]
    assert [e["turn"] for e in summaries.evidence(db, [c, a])] == [2, 4]


def test_long_id_lists_do_not_hit_sqlites_variable_limit(project):
    db = store.open_db(project)
    ids = [s["id"] for s in store.segments_to_code(db)]
    many = list(range(10**6, 10**6 + 40_000)) + ids  # more than the 32,766 variables SQLite binds in a statement
    assert [s["id"] for s in coding.states(db, "hanako", segment_ids=many)] == ids
    assert layers.confirmed_by(db, "hanako", many) == {}
    assert [len(part) for part in store.chunked(range(1201))] == [500, 500, 201]
    assert store.marks([]) == "null" and store.marks([1, 2]) == "?,?"


def test_the_confirmed_codes_of_one_coder_on_the_search_page(project, two_analysts):
    a, b, c = two_analysts
    assert layers.confirmed_by(store.open_db(project), "taro", [a, b, c]) == {
        a: ["information_sharing"],
        b: ["value_alignment"],
    }


def test_recoding_neither_accepts_nor_rejects_suggestions(project, codebook):
    db = store.open_db(project)
    seg = store.segments_to_code(db)[0]["id"]
    store.store_suggestions(
        db,
        [
            {
                "segment_id": seg,
                "code": "autonomy",
                "score": 0.9,
                "threshold": 0.5,
                "selected": 1,
                "reasons": "[]",
                "suggesters": "rules.v2",
                "codebook_version": codebook.version_tag,
                "created_at": store.now(),
            }
        ],
    )
    state = coding.apply(db, seg, "hanako:recode", "review", codebook, recode=True)
    assert (state["suggested"], state["mine"], state["reviewed"]) == ([], {}, True)
    assert coding.apply(db, seg, "hanako", "review", codebook)["mine"] == {"autonomy": "rejected"}


def test_core_codes_are_the_codebook_codes_of_group_core(codebook):
    from coder.codebook import CORE_IDS

    assert CORE_IDS == core_ids(codebook) == [c.id for c in codebook.codes if c.group == "core"]
    book = replace(codebook, codes=[replace(c, group="core") if c.id == "career" else c for c in codebook.codes])
    assert core_ids(book) == [*CORE_IDS, "career"]
    result = evaluate({"1": {"career"}}, {"1": {"career"}}, book.ids, core=core_ids(book))
    assert result["summary"]["core"]["codes"] == core_ids(book)
