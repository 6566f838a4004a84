import socket

import numpy as np
import pytest

from coder import db as store
from coder.ingest import ingest
from coder.suggest import Batch, create
from coder.suggest.combine import COLD_THRESHOLD, tune_thresholds
from coder.suggest.service import score_texts, suggest_items, suggest_project

HANDOVER = "店長が異動するので、後任の方と三人で顔合わせをして引継ぎをしました。"
SHARING = "体調の変化は、連絡ノートと電話で職場と主治医に共有しています。"
CHAT = "休みの日は釣りに行くのが楽しみです。"


def test_rules_match_spelling_variants_and_name_the_words(codebook):
    rules = create("rules.v1", codebook)
    scores, reasons = rules.score(Batch([HANDOVER, CHAT]))
    h = codebook.ids.index("handover")
    assert scores[0, h] > 0.6 and scores[1].max() == 0
    assert "「引継ぎ」" in reasons[0]["handover"][0]  # as written, matched through its normalised form


def test_embedding_prefers_the_code_a_segment_is_about(codebook, embedder):
    emb = create("embedding.v1", codebook, embedder=embedder)
    scores, reasons = emb.score(Batch([SHARING], embedder))
    ids = codebook.ids
    assert scores[0, ids.index("information_sharing")] > scores[0, ids.index("career")]
    assert reasons[0]["information_sharing"][0].startswith("類似")


def labelled():
    texts = [f"{who}と{how}で様子を共有した。" for who in ("主治医", "家族", "職場", "相談支援専門員")
             for how in ("電話", "メール", "面談")]
    texts += [f"{what}のときに{feel}と感じた。" for what in ("昼休み", "通勤", "週末", "朝礼")
              for feel in ("楽しい", "眠い", "寒い")]
    Y = np.zeros((len(texts), 8), dtype=int)
    Y[:12, 2] = 1  # information_sharing
    return texts, Y


def test_learner_scores_a_new_segment_like_its_confirmed_ones(codebook, embedder):
    texts, Y = labelled()
    learned = create("learned.v1", codebook).fit(Batch(texts, embedder), Y)
    scores, reasons = learned.score(Batch(["支援員と面談で様子を共有した。", "通勤のときに眠いと感じた。"], embedder))
    assert scores[0, 2] > 0.5 > scores[1, 2]
    assert np.isnan(scores[0, 0])  # no confirmed examples of needs_assessment: no model, no score
    assert reasons[0]["information_sharing"][0].startswith("学習（確定 12 件）")


def test_every_suggestion_has_scores_for_all_codes_and_reasons_for_its_labels(codebook, embedder):
    rows = suggest_items([{"id": "a", "text": HANDOVER}, {"id": "b", "text": CHAT}], codebook)
    assert [set(r["scores"]) for r in rows] == [set(codebook.ids)] * 2
    assert "handover" in rows[0]["labels"] and rows[1]["labels"] == []
    assert all(r["reasons"].get(c) for r in rows for c in r["labels"])


def test_training_items_are_never_scored_by_a_model_that_saw_them(codebook, embedder, monkeypatch):
    from coder.suggest import combine

    fit, score, seen = combine.Combiner.fit, combine.Combiner.score, []

    def spy_fit(self, batch, Y, folds=combine.FOLDS):
        self.trained_on = set(batch.texts)
        return fit(self, batch, Y, folds)

    def spy_score(self, batch):
        seen.append(set(batch.texts) & getattr(self, "trained_on", set()))
        return score(self, batch)

    monkeypatch.setattr(combine.Combiner, "fit", spy_fit)
    monkeypatch.setattr(combine.Combiner, "score", spy_score)
    texts, Y = labelled()
    new = ["支援員と面談で様子を共有した。"]
    scores, _, _ = score_texts(texts + new, codebook, embedder, texts, Y)
    assert len(seen) > 1 and all(not overlap for overlap in seen)
    assert scores.shape == (len(texts) + 1, 8)


def test_thresholds_shrink_towards_the_cold_default_with_few_examples():
    scores = np.array([[0.9], [0.2], [0.1], [0.15]])
    few = tune_thresholds(scores, np.array([[1], [0], [0], [0]]))
    many = tune_thresholds(np.repeat(scores, 10, axis=0), np.repeat(np.array([[1], [0], [0], [0]]), 10, axis=0))
    assert abs(many[0] - COLD_THRESHOLD) > abs(few[0] - COLD_THRESHOLD)
    towards_half = tune_thresholds(scores, np.array([[1], [0], [0], [0]]), targets=np.array([0.5]))
    assert abs(towards_half[0] - 0.5) < abs(few[0] - 0.5)


def test_suggest_runs_with_the_network_blocked(codebook, embedder, monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("network access attempted")

    monkeypatch.setattr(socket, "socket", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    assert suggest_items([{"id": 1, "text": SHARING}], codebook)[0]["labels"]


def test_project_suggestions_are_stored_and_embeddings_reused(db, nlp, write, codebook, embedder, monkeypatch):
    ingest(db, [write("a.txt", f"聞き手：伺います。\n支援員：{HANDOVER}{SHARING}\n本人：{CHAT}\n")], nlp=nlp)
    summary = suggest_project(db, codebook)
    assert summary["segments"] == 3 and summary["suggested"]["handover"] == 1
    row = next(db.query("select * from suggestions where code = 'handover' order by score desc"))
    assert row["selected"] == 1 and "引継ぎ" in row["reasons"]
    assert row["codebook_version"] == codebook.version_tag and row["suggesters"].startswith("rules.v1+embedding.v1")
    cached = db["embeddings"].count
    monkeypatch.setattr(type(embedder.model), "encode", lambda *a, **k: pytest.fail("re-encoded unchanged text"))
    suggest_project(db, codebook)
    assert db["embeddings"].count == cached


def test_confirmed_codings_train_the_project_learner(db, nlp, write, codebook, embedder):
    from coder.coding import apply

    texts, _ = labelled()
    ingest(db, [write("b.txt", "".join(f"支援員：{t}\n" for t in texts))], nlp=nlp)
    for seg in store.segments_to_code(db):
        code = "information_sharing" if "共有" in seg["text"] else "effects"
        apply(db, seg["id"], "tanaka", "confirm", codebook, code)
    assert db["events"].count == len(texts)
    summary = suggest_project(db, codebook)
    assert summary["trained_on"] == len(texts)
    assert next(db.query("select suggesters from suggestions limit 1"))["suggesters"].count("learned.v1") == 1


def test_a_local_model_directory_can_replace_the_default_embedding(codebook, embedder):
    items = [{"id": "a", "text": HANDOVER}, {"id": "b", "text": SHARING}]
    default = suggest_items(items, codebook)
    local = suggest_items(items, codebook, embedding_model=str(embedder.path))
    assert [r["scores"] for r in local] == [r["scores"] for r in default]


def test_review_order_puts_the_least_certain_segment_first():
    from coder.suggest.service import review_order

    thresholds = np.full((3, 2), 0.6)
    scores = np.array([[0.95, 0.05], [0.58, 0.1], [0.9, 0.3]])
    assert list(review_order(scores, thresholds)) == [1, 2, 0]


def test_rule_patterns_can_use_lemma_and_sudachi_tags(codebook, tmp_path):
    import yaml

    from coder.codebook import DEFAULT, load_codebook

    data = yaml.safe_load(DEFAULT.read_text(encoding="utf-8"))
    data["codes"][1]["rules"] = [{"label": "自分で＋動詞", "weight": 1.0,
                                  "pattern": [{"ORTH": "自分"}, {"ORTH": "で"}, {"TAG": {"REGEX": "^動詞"}}]}]
    path = tmp_path / "book.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    rules = create("rules.v1", load_codebook(path))
    scores, reasons = rules.score(Batch(["最後は自分で決めました。", "自分での判断です。"]))
    assert scores[0, 1] > 0.6 and scores[1, 1] == 0 and "「自分で決め」" in reasons[0]["autonomy"][0]


def test_an_invalid_pattern_names_the_codebook_code_and_rule(codebook, tmp_path):
    import yaml

    from coder.codebook import DEFAULT, load_codebook
    from coder.errors import CoderError

    data = yaml.safe_load(DEFAULT.read_text(encoding="utf-8"))
    data["codes"][0]["rules"].append({"label": "壊れた", "pattern": [{"NORM": {"WRONG": 1}}]})
    path = tmp_path / "book.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    with pytest.raises(CoderError, match="book.yaml: code 'needs_assessment', rule '壊れた': invalid Matcher pattern"):
        create("rules.v1", load_codebook(path))


def test_names_of_people_and_places_are_not_learning_features():
    from coder.suggest.text import content_norms

    words = content_norms("青葉市の田中さんとかえでワークスの職員に相談した。")
    assert "相談" in words and not {"青葉", "田中"} & set(words)
