import json
import shutil
from collections import Counter

import pytest
from click.testing import CliRunner

from coder import coding, topics
from coder import db as store
from coder.cli import cli

# Three themes a reader tells apart at once: commuting, pay, health routines.
THEMES = {
    "commute": (
        ("電車", "バス", "自転車", "地下鉄", "駅"),
        (
            "毎朝{}で職場に通っていて、乗り換えが一回あります。",
            "{}が遅れると遅刻しそうで、朝は早めに家を出ます。",
            "通勤の{}が混んでいる日は、会社に着く前に疲れてしまいます。",
            "帰りの{}では音楽を聞いて、気持ちを切り替えています。",
            "雨の日は{}の時間が読めないので、出発を早くします。",
            "{}の時刻表を確認してから、家を出る時間を決めています。",
        ),
    ),
    "pay": (
        ("時給", "給料", "賞与", "手当", "昇給"),
        (
            "{}が上がったので、貯金を少しずつ増やしています。",
            "{}の明細を見て、税金や保険料の引かれ方を確認しました。",
            "去年より{}が増えて、毎月の支払いに余裕ができました。",
            "{}の金額について、面談で人事の担当者に質問しました。",
            "{}の支給日には、家計簿をつけてお金の使い道を考えます。",
            "{}の仕組みは、採用のときに書面で説明を受けました。",
        ),
    ),
    "health": (
        ("睡眠", "食事", "服薬", "通院", "運動"),
        (
            "{}のリズムが崩れると、翌日の体調が悪くなります。",
            "主治医から{}について助言をもらい、生活を整えています。",
            "{}の記録をつけるようになって、疲れのサインに気づけました。",
            "体調の波があるときは、{}を見直して無理をしないようにします。",
            "{}が乱れた週は、頭痛やだるさが出やすいです。",
            "{}の習慣を続けたら、気分が安定してきました。",
        ),
    ),
}
SPEAKERS = {"本人": "person", "支援員": "supporter", "店長": "employer", "聞き手": "interviewer"}


def theme_lines():
    """(theme, sentence) for 90 sentences, interleaved so no theme sits in one stretch of the file."""
    per_theme = {name: [t.format(w) for t in templates for w in words] for name, (words, templates) in THEMES.items()}
    return [(name, per_theme[name][i]) for i in range(30) for name in THEMES]


@pytest.fixture(scope="module")
def themed(tmp_path_factory, nlp, embedder):
    """A project of 90 themed sentences by three interviewees (plus questions and fillers), with
    users and cached embeddings; tests get a copy."""
    from coder.ingest import ingest
    from coder.users import add_user

    folder = tmp_path_factory.mktemp("themes")
    lines = []
    for i, (_, sentence) in enumerate(theme_lines()):
        if i % 10 == 0:
            lines += ["聞き手：最近のことを教えてください。", "本人：はい。"]
        lines.append(f"{('本人', '支援員', '店長')[i // 3 % 3]}：{sentence}")
    (folder / "themes.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    db = store.open_db(folder / "themes.db")
    ingest(db, [folder / "themes.txt"], nlp=nlp, case="kaede", speaker_map=SPEAKERS)
    for name, role in (("hanako", "analyst"), ("sato", "supervisor")):
        add_user(db, name, role, f"{name}-password")
    topics.find_topics(db, n_topics=3)  # caches the embeddings
    db.close()
    return folder / "themes.db"


@pytest.fixture
def project(themed, tmp_path):
    """The themed project (overrides conftest's, so ``app`` and ``login`` use it)."""
    path = tmp_path / "project.db"
    shutil.copy(themed, path)
    return path


@pytest.fixture
def tdb(project):
    database = store.open_db(project)
    yield database
    database.close()


def theme_of(db) -> dict[int, str]:
    sentences = {sentence: name for name, sentence in theme_lines()}
    return {r["id"]: sentences[r["text"]] for r in db.query("select id, text from segments") if r["text"] in sentences}


def test_topics_group_the_three_themes_and_leave_fillers_out(tdb):
    result = topics.find_topics(tdb, n_topics=3)
    themes = theme_of(tdb)
    assert result["n_segments"] == 90 and [t["size"] for t in result["topics"]] == [30, 30, 30]
    found = set()
    for topic in result["topics"]:
        ((name, n),) = Counter(themes[s] for s in topic["segments"]).most_common(1)
        assert n == topic["size"], topic["words"]
        assert set(topic["words"]) & set(THEMES[name][0]), (name, topic["words"])
        found.add(name)
    assert found == set(THEMES)
    assert topic["perspectives"] == {"person": 10, "supporter": 10, "employer": 10}


def test_default_size_splits_no_theme_across_topics_badly(tdb):
    result = topics.find_topics(tdb)
    themes = theme_of(tdb)
    assert result["n_topics"] == topics.default_topics(90) == 5
    for topic in result["topics"]:
        assert Counter(themes[s] for s in topic["segments"]).most_common(1)[0][1] >= 0.8 * topic["size"]


@pytest.mark.parametrize("n, k", [(10, 2), (100, 5), (400, 10), (2000, 22), (50_000, 25)])
def test_default_topic_count_grows_with_the_corpus(n, k):
    assert topics.default_topics(n) == k


def test_rerun_gives_identical_topics(tdb):
    assert topics.find_topics(tdb) == topics.find_topics(tdb)


def test_uncoded_source_leaves_coded_and_suggested_segments_out(tdb, codebook):
    themes = theme_of(tdb)
    pay = [s for s, name in themes.items() if name == "pay"]
    for sid in pay[:20]:
        coding.apply(tdb, sid, "hanako", "confirm", codebook, "career")
    tdb["suggestions"].insert_all(
        {
            "segment_id": sid,
            "code": "career",
            "score": 0.9,
            "threshold": 0.6,
            "selected": 1,
            "reasons": "[]",
            "suggesters": "rules.v1",
            "codebook_version": "x",
            "created_at": "t",
        }
        for sid in pay[20:]
    )
    uncoded = topics.find_topics(tdb, "uncoded")
    assert uncoded["n_segments"] == 60 and not {s for t in uncoded["topics"] for s in t["segments"]} & set(pay)
    by_theme = {themes[t["segments"][0]]: t for t in topics.find_topics(tdb, n_topics=3)["topics"]}
    assert by_theme["pay"]["codes"] == {"career": 30} and by_theme["pay"]["uncoded_share"] == 0
    assert not by_theme["pay"]["uncoded_theme"] and by_theme["commute"]["uncoded_theme"]


def test_cli_prints_the_documented_json_and_keeps_the_run(project):
    result = CliRunner().invoke(cli, ["topics", "--db", str(project), "--topics", "3", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    topic = data["topics"][0]
    assert {"id", "size", "words", "segments", "perspectives", "codes", "uncoded_share"} <= set(topic)
    assert isinstance(topic["segments"][0], int) and isinstance(topic["uncoded_share"], float)
    db = store.open_db(project)
    assert topics.last_result(db, "all")["topics"] == data["topics"]
    text = CliRunner().invoke(cli, ["topics", "propose", "2", "--db", str(project)]).output
    assert "draft code" in text and len(topics.draft_codes(db)) == 1
    db.close()


def test_proposing_a_topic_drafts_a_user_code_with_examples(tdb):
    topic = topics.find_topics(tdb, n_topics=3)["topics"][0]
    code = topics.propose_code(tdb, topic, "通勤の負担")
    drafts = topics.draft_codes(tdb)
    assert [d["name"] for d in drafts] == ["通勤の負担"] and code["code"].startswith("user:")
    assert [e["text"] for e in drafts[0]["examples"]] == [e["text"] for e in topic["examples"]]
    assert "、".join(topic["words"]) in drafts[0]["description"]
    assert store.user_codes(tdb)[0]["codable"] == 1
    with pytest.raises(store.CoderError, match="already exists"):
        topics.propose_code(tdb, topic, "通勤の負担")


def test_analyzer_cuts_joined_topic_documents_under_sudachis_limit():
    joined = "".join(["睡眠のリズムが崩れると体調が悪くなります。"] * 3000)  # 66,000 chars, no spaces
    words = topics.analyzer(joined + " 通勤の電車")
    assert words.count("睡眠") == 3000 and words[-2:] == ["通勤", "電車"] and "為る" not in words


def test_topics_page_and_status_need_login(app):
    client = app.test_client()
    assert client.get("/topics/").status_code == 302
    assert client.get("/api/topics/status").status_code == 401


def test_topics_run_in_a_background_job_and_a_topic_becomes_a_draft_code(app, login):
    from web.topics import job

    client = login("hanako")
    assert client.post("/topics/run", data={"source": "all", "n_topics": "3"}).status_code == 400  # no CSRF token
    assert (
        client.post("/topics/run", data={"source": "all", "n_topics": "3", "csrf_token": client.csrf}).status_code
        == 302
    )
    with app.app_context():
        job().wait(timeout=60)
    status = client.get("/api/topics/status").get_json()
    assert status["running"] is False and status["error"] is None and status["step"] == status["steps"]
    page = client.get("/topics/").get_data(as_text=True)
    assert "トピック 3" in page and "<svg" in page and "睡眠" in page
    db = store.open_db(app.config["DATABASE"])
    created = topics.last_result(db, "all")["created_at"]
    response = client.post(
        "/topics/propose",
        data={
            "source": "all",
            "topic": "1",
            "name": "新しいテーマ",
            "description": "説明",
            "created_at": created,
            "csrf_token": client.csrf,
        },
        follow_redirects=True,
    )
    assert "新しいテーマ" in response.get_data(as_text=True) and topics.draft_codes(db)[0]["name"] == "新しいテーマ"
    db.close()
