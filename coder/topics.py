"""Emergent themes: BERTopic over a project's interviewee segments — what the codebook does not yet cover.

Pipeline (deterministic for a given project state):

1. **Embeddings** come from the project's ``Embedder`` (the model ``coder suggest`` uses): vectors
   cached in the project (``embeddings`` table, by model and text hash) are reused, missing ones are
   computed once and stored. BERTopic gets them as ``embeddings=`` and no embedding model of its own,
   so nothing is re-embedded or downloaded.
2. **Segments without content words** (fillers such as 「はい」「そうですね」「ありがとうございました」)
   are left out: they carry no theme and would form a filler topic (BERTopic #972).
3. **Clustering**: PCA to at most 10 dimensions, then k-means with a fixed seed, given to BERTopic as
   ``umap_model`` and ``hdbscan_model``. BERTopic's default HDBSCAN labels a large share of 100–2,000
   short segments as outliers, and its UMAP changes from run to run (#818, #1018); seeded UMAP is
   deterministic but slow to start (numba) and no better here. PCA + k-means assigns every segment, gives
   identical topics on every rerun and takes well under a second on 2,000 segments. k defaults to
   round(sqrt(n / 4)) clamped to [2, 25] — 5 topics for 100 segments, 10 for 400, 22 for 2,000 — and
   can be set. ``min_topic_size`` (an HDBSCAN setting) plays no part.
4. **Topic words** are BERTopic's class-based TF-IDF (frequent words reduced) over a Japanese-aware
   ``CountVectorizer``: Sudachi content-word normalised forms (``suggest.text.content_norms``: no
   particles, auxiliaries or proper nouns) minus ``STOP_WORDS``, numbers and single kana. BERTopic joins
   a topic's segments with spaces before tokenising, which can exceed Sudachi's input limit; the
   analyzer splits at whitespace (and long pieces by length) first. ``language="multilingual"``.
5. **Per topic**: its words, its segments (most representative first: cosine to the topic's mean
   embedding), a few quotes, the distribution over perspectives and cases, the codes its segments carry
   (confirmed by anyone, or suggested) and the share of *uncoded* segments (no confirmed coding by
   anyone and no selected suggestion). A topic with ``uncoded_share >= 0.5`` is flagged as an uncoded
   theme (未コードのテーマ): a candidate for a new code, which ``propose_code`` drafts as a user code.
"""

from __future__ import annotations

import json
import re
import uuid
from collections import Counter
from functools import lru_cache
from math import sqrt
from typing import Callable

import numpy as np

from . import db as store
from . import layers
from .errors import CoderError

SOURCES = ("all", "uncoded")
STAGES = ("embed", "cluster", "words")  # progress(stage) is called as each begins
UNCODED_THEME = 0.5
MIN_SEGMENTS = 10
SEED = 0
PCA_DIMENSIONS = 10
TOP_WORDS = 10
EXAMPLES = 3
MIN_EXAMPLE_CHARS = 12
CHUNK_CHARS = 10_000  # ≤ 40,000 UTF-8 bytes: under Sudachi's 49,149-byte limit

# Sudachi normalised forms that carry no theme in interview speech: light and auxiliary verbs, formal
# nouns, honorific suffixes, counters, generic adjectives and adverbs, fillers.
STOP_WORDS = frozenset(
    """
為る 居る 有る 成る 出来る 呉れる 貰う 頂く 下さる 遣る 仕舞う 来る 行く 見る 置く 思う 言う 行う 御座る 致す 参る 申す
こと 事 もの 物 よう 様 ため 為 ところ 所 わけ 訳 とき 時 方 的 感じ 辺 他 外 前 後 中 上 今 一度 一緒 皆
良い 無い 易い 難い 欲しい 同じ 少し 直ぐ 先ず 矢張り 一寸 結構 本当 大分 然う そう 其れ 余り 又 全然 凄い 笑い
もう 未だ 丁度 半 面 側
さん 君 ちゃん 達 等 目 つ 回 箇月 年 月 日 分 週 歳 人 人間 何 何か
""".split()
)
_NOISE = re.compile(r"[\d０-９.,，．%％]+|[ぁ-んァ-ンーa-zA-Zａ-ｚＡ-Ｚ]")


def topic_words(text: str) -> list[str]:
    """Content words of a text as topic words: Sudachi normalised forms without stop words."""
    from .suggest.text import content_norms

    return [w for w in content_norms(text) if w not in STOP_WORDS and not _NOISE.fullmatch(w)]


@lru_cache(maxsize=50_000)
def _piece_words(piece: str) -> tuple[str, ...]:
    return tuple(topic_words(piece))


def analyzer(doc: str) -> list[str]:
    """``CountVectorizer(analyzer=...)`` for Japanese: topic words of each whitespace-separated piece."""
    out = []
    for piece in doc.split():
        for i in range(0, len(piece), CHUNK_CHARS):
            out.extend(_piece_words(piece[i : i + CHUNK_CHARS]))
    return out


def default_topics(n: int) -> int:
    """How many topics for ``n`` segments: round(sqrt(n / 4)) clamped to [2, 25] and to at most n // 2
    (but never below 2)."""
    return max(2, min(25, round(sqrt(n / 4)), n // 2))


def segment_codes(db, coders: list[str] | None = None) -> dict[int, set[str]]:
    """Codes each segment carries: confirmed in any layer (or only the layers in ``coders``), or a
    selected suggestion."""
    where, params = "", []
    if coders is not None:
        where, params = f"and coder in ({','.join('?' * len(coders)) or 'null'})", list(coders)
    out: dict[int, set[str]] = {}
    for sid, code in db.execute(
        f"select segment_id, code from codings where status = 'confirmed' {where} union "
        "select segment_id, code from suggestions where selected = 1",
        params,
    ).fetchall():
        out.setdefault(sid, set()).add(code)
    return out


def as_seen_by(db, result: dict | None, policy) -> dict | None:
    """A stored topic result with each topic's carried codes and uncoded share recounted from the
    layers ``policy`` (``coder.access.Policy``) lets its user see — in blind mode an analyst's own
    codes and the suggestions, never other analysts'. None stays None."""
    if result is None or policy.sees_others:
        return result
    carried = segment_codes(db, policy.visible_layers(db))
    topics = []
    for t in result["topics"]:
        codes = Counter(code for sid in t["segments"] for code in carried.get(sid, ()))
        uncoded = sum(not carried.get(sid) for sid in t["segments"]) / max(len(t["segments"]), 1)
        topics.append(
            {
                **t,
                "codes": dict(sorted(codes.items(), key=lambda kv: (-kv[1], kv[0]))),
                "uncoded_share": round(uncoded, 3),
                "uncoded_theme": uncoded >= UNCODED_THEME,
            }
        )
    return {**result, "topics": topics}


def embed(db, texts: list[str], model_path=None) -> tuple[np.ndarray, str]:
    """Vectors of ``texts`` from the project's embedding cache (missing ones computed once and stored)."""
    from types import SimpleNamespace

    from .suggest.embedding import Embedder
    from .suggest.text import content_norms

    embedder = Embedder(model_path, db=db)
    # The Embedder needs the texts and their content words only (not a suggester Batch's rule docs).
    return embedder.encode(SimpleNamespace(texts=texts, content=[content_norms(t) for t in texts])), embedder.name


def fit(texts: list[str], embeddings: np.ndarray, n_topics: int, on_words: Callable[[], None] | None = None):
    """BERTopic with PCA + seeded k-means; returns (labels, {label: [(word, score), …]})."""
    from bertopic import BERTopic
    from bertopic.vectorizers import ClassTfidfTransformer
    from sklearn.cluster import KMeans
    from sklearn.decomposition import PCA
    from sklearn.feature_extraction.text import CountVectorizer

    started = []

    def words(doc):  # BERTopic tokenises once clustering is done: the third stage begins
        if on_words and not started:
            started.append(True)
            on_words()
        return analyzer(doc)

    model = BERTopic(
        embedding_model=None,
        language="multilingual",
        top_n_words=TOP_WORDS,
        umap_model=PCA(n_components=min(PCA_DIMENSIONS, len(texts) - 1, embeddings.shape[1]), svd_solver="full"),
        hdbscan_model=KMeans(n_clusters=n_topics, random_state=SEED, n_init=10),
        vectorizer_model=CountVectorizer(analyzer=words),
        ctfidf_model=ClassTfidfTransformer(reduce_frequent_words=True),
    )
    labels, _ = model.fit_transform(texts, embeddings=embeddings)
    return np.asarray(labels), {t: model.get_topic(t) or [] for t in set(labels)}


def find_topics(
    db, source: str = "all", n_topics: int | None = None, model_path=None, progress: Callable[[str], None] | None = None
) -> dict:
    """Topics over the project's interviewee segments (``all``) or only the uncoded ones (``uncoded``)."""
    if source not in SOURCES:
        raise CoderError(f"--source must be one of {', '.join(SOURCES)}, not {source!r}")
    step = progress or (lambda stage: None)
    step("embed")
    carried = segment_codes(db)
    units = [u for u in layers.segments(db) if source == "all" or not carried.get(u["id"])]
    units = [u for u in units if analyzer(u["text"])]
    if len(units) < MIN_SEGMENTS:
        raise CoderError(f"too few segments with content words for topics ({len(units)}; need {MIN_SEGMENTS})")
    k = min(n_topics or default_topics(len(units)), len(units) // 2)
    if k < 2:
        raise CoderError("at least 2 topics are needed")
    vectors, model_name = embed(db, [u["text"] for u in units], model_path)
    step("cluster")
    labels, words = fit([u["text"] for u in units], vectors, k, on_words=lambda: step("words"))
    topics = [_summary(units, vectors, np.flatnonzero(labels == t), words[t], carried) for t in sorted(words)]
    for i, topic in enumerate(topics, 1):
        topic["id"] = i
    return {
        "source": source,
        "n_segments": len(units),
        "n_topics": len(topics),
        "params": {
            "clustering": f"PCA({PCA_DIMENSIONS}) + KMeans(k={k}, seed={SEED})",
            "embedding_model": model_name,
            "vectorizer": "Sudachi content words, STOP_WORDS",
        },
        "topics": topics,
    }


def _summary(units, vectors, members, words, carried) -> dict:
    centre = vectors[members].mean(axis=0)
    order = members[np.argsort(-(vectors[members] @ centre), kind="stable")]
    chosen = [units[i] for i in order]
    quotes = [u for u in chosen if len(u["text"].strip()) >= MIN_EXAMPLE_CHARS] or chosen
    codes = Counter(code for u in chosen for code in carried.get(u["id"], ()))
    uncoded = sum(not carried.get(u["id"]) for u in chosen) / len(chosen)
    return {
        "id": None,
        "size": len(chosen),
        "words": [w for w, _ in words],
        "segments": [u["id"] for u in chosen],
        "examples": [
            {
                "id": u["id"],
                "text": u["text"],
                "perspective": u["perspective"],
                "case": u["case_name"],
                "transcript": u["transcript"],
                "transcript_id": u["transcript_id"],
                "index": u["idx"],
                "speaker": u["speaker"],
            }
            for u in quotes[:EXAMPLES]
        ],
        "perspectives": dict(Counter(u["perspective"] for u in chosen).most_common()),
        "cases": dict(Counter(u["case_name"] or "-" for u in chosen).most_common()),
        "codes": dict(sorted(codes.items(), key=lambda kv: (-kv[1], kv[0]))),
        "uncoded_share": round(uncoded, 3),
        "uncoded_theme": uncoded >= UNCODED_THEME,
    }


def save_result(db, result: dict) -> dict:
    """Keep the last run per source in the project (``settings``), stamped, for the web page."""
    stored = {**result, "created_at": store.now()}
    store.put_setting(db, f"topics:{result['source']}", json.dumps(stored, ensure_ascii=False))
    return stored


def last_result(db, source: str = "all") -> dict | None:
    """The last stored topic run of ``source`` (as ``save_result`` stored it, with ``created_at``), or None."""
    value = store.get_setting(db, f"topics:{source}")
    return json.loads(value) if value else None


def code_names(db, codebook) -> dict[str, str]:
    """Display names of codebook codes and user codes (``user:<guid>``)."""
    names = {c.id: c.name for c in codebook.codes} if codebook else {}
    return names | {f"user:{u['guid']}": u["name"] for u in store.user_codes(db)}


def draft(topic: dict) -> dict:
    """The name and description a topic suggests for a new code (both editable before proposing)."""
    return {
        "name": "・".join(topic["words"][:3]) or f"トピック{topic['id']}",
        "description": f"出現したテーマ（トピック {topic['id']}、{topic['size']} セグメント）。"
        f"トピック語：{'、'.join(topic['words'])}",
    }


def propose_code(db, topic: dict, name: str | None = None, description: str | None = None) -> dict:
    """Add a draft user code from a topic: name, description and the topic's example segments."""
    suggested = draft(topic)
    name = (name or suggested["name"]).strip()
    if not name:
        raise CoderError("a code needs a name")
    if any(u["name"] == name for u in store.user_codes(db)):
        raise CoderError(f"a user code named {name!r} already exists")
    examples = [{"segment_id": e["id"], "text": e["text"]} for e in topic["examples"]]
    row = {
        "name": name,
        "guid": str(uuid.uuid4()),
        "description": (description or suggested["description"]).strip(),
        "parent": None,
        "codable": 1,
        "created_at": store.now(),
        "examples": json.dumps(examples, ensure_ascii=False),
    }
    with store.immediate(db):
        db["user_codes"].insert(row)
    return {**row, "code": f"user:{row['guid']}", "examples": examples}


def draft_codes(db) -> list[dict]:
    """User codes proposed from topics (those with examples), newest first."""
    rows = db.query(
        "select name, guid, description, examples, created_at from user_codes "
        "where examples is not null order by id desc"
    )
    return [{**r, "code": f"user:{r['guid']}", "examples": json.loads(r["examples"])} for r in rows]


def find_topic(result: dict | None, topic_id: int) -> dict:
    """The topic with id ``topic_id`` in ``result`` (a topic run); ``CoderError`` if it has none."""
    for topic in (result or {}).get("topics", []):
        if topic["id"] == topic_id:
            return topic
    raise CoderError(f"no topic {topic_id} in the last run (run `coder topics` first)")


def to_text(result: dict, names: dict[str, str] | None = None) -> str:
    """A plain-text report: one block per topic with its words, spread, codes and quotes."""
    names = names or {}
    lines = [
        f"{result['n_topics']} topics over {result['n_segments']} segments (source: {result['source']}; "
        f"{result['params']['clustering']})"
    ]
    for t in result["topics"]:
        flag = "  ← 未コードのテーマ (uncoded theme)" if t["uncoded_theme"] and result["source"] == "all" else ""
        lines.append(f"\ntopic {t['id']}: {t['size']} segments, uncoded {t['uncoded_share']:.0%}{flag}")
        lines.append(f"  words: {' '.join(t['words'])}")
        lines.append("  perspectives: " + ", ".join(f"{k} {v}" for k, v in t["perspectives"].items()))
        lines.append("  cases: " + ", ".join(f"{k} {v}" for k, v in t["cases"].items()))
        lines.append("  codes: " + (", ".join(f"{names.get(k, k)} {v}" for k, v in t["codes"].items()) or "-"))
        lines.extend(f"  「{e['text']}」（{e['transcript']}, {e['speaker']}）" for e in t["examples"])
    return "\n".join(lines)
