"""Emergent themes page: run ``coder.topics`` in a background thread, poll its progress, show the last
result per source (kept in the project's ``settings``), and draft a new user code from a topic.

One job per app at a time (a ``coder.jobs.Job``); the worker has its own database connection, so pages
stay responsive.
"""

from __future__ import annotations

from flask import Blueprint, current_app, flash, jsonify, redirect, render_template, request, url_for

from coder import db as store
from coder import topics
from coder.errors import CoderError, japanese
from coder.jobs import Job
from coder.speakers import PERSPECTIVES

from .database import get_codebook, get_db
from .policy import policy

bp = Blueprint("topics", __name__)
STAGE_LABELS = {"embed": "埋め込みの準備", "cluster": "クラスタリング", "words": "トピック語の抽出"}
SOURCE_LABELS = {"all": "すべての発言", "uncoded": "未コードの発言のみ"}


class TopicJob(Job):
    """The app's topics job (``coder.jobs.Job``): one ``coder.topics`` run at a time, its stage in
    the status."""

    def __init__(self, db_path, embedding_model=None):
        super().__init__(
            db_path,
            "coder-topics",
            {"source": None, "stage": None, "step": 0, "steps": len(topics.STAGES), "error": None, "finished_at": None},
        )
        self.embedding_model = embedding_model

    def start(self, source: str, n_topics: int | None = None) -> bool:
        """Start a run unless one is going; False if one is."""
        return self.launch({"source": source, "stage": None, "step": 0, "error": None}, source, n_topics)

    def snapshot(self) -> dict:
        return {**self.state, "label": STAGE_LABELS.get(self.state["stage"])}

    def _progress(self, stage: str) -> None:
        self.progress(stage=stage, step=topics.STAGES.index(stage))

    def run(self, source, n_topics) -> dict:
        with self.connect() as db:
            topics.save_result(db, topics.find_topics(db, source, n_topics, self.embedding_model, self._progress))
        return {"error": None, "finished_at": store.now(), "step": len(topics.STAGES)}


def _init(state):
    state.app.extensions["coder_topics"] = TopicJob(state.app.config["DATABASE"], state.app.config["EMBEDDING_MODEL"])


bp.record_once(_init)  # one job per app, made when the app registers the blueprint


def job() -> TopicJob:
    return current_app.extensions["coder_topics"]


def _sources() -> dict[str, str]:
    """Topic sources this user may see: "uncoded" depends on everyone's codes, closed in blind mode."""
    return SOURCE_LABELS if policy().sees_others else {"all": SOURCE_LABELS["all"]}


def _source(value) -> str:
    return value if value in _sources() else "all"


@bp.route("/topics/")
def index():
    db, source = get_db(), _source(request.args.get("source"))
    if not request.args.get("source"):  # open on a source that has themes already, if any
        source = next((s for s in _sources() if topics.last_result(db, s)), source)
    result = topics.as_seen_by(db, topics.last_result(db, source), policy())
    biggest = max((t["size"] for t in result["topics"]), default=1) if result else 1
    return render_template(
        "topics/index.html",
        result=result,
        source=source,
        sources=_sources(),
        job=job().status(),
        names=topics.code_names(db, get_codebook()),
        drafts=topics.draft_codes(db),
        perspectives=PERSPECTIVES,
        biggest=biggest,
        draft=topics.draft,
        threshold=topics.UNCODED_THEME,
    )


@bp.route("/topics/run", methods=["POST"])
def run():
    source = _source(request.form.get("source"))
    n = request.form.get("n_topics", "")
    # a number of topics from 2 to 999, else (empty, "²", a thousand digits …) one from the project's size
    n_topics = int(n) if n.isascii() and n.isdigit() and len(n) <= 3 and int(n) >= 2 else None
    if not job().start(source, n_topics):
        flash("トピックの計算はすでに実行中です。", "error")
    return redirect(url_for("topics.index", source=source))


@bp.route("/topics/propose", methods=["POST"])
def propose():
    db, source = get_db(), _source(request.form.get("source"))
    result = topics.last_result(db, source)
    try:
        if not result or result["created_at"] != request.form.get("created_at"):
            raise CoderError("トピックが再計算されました。新しい結果を確認してから提案してください。")
        topic = topics.find_topic(result, int(request.form.get("topic", "0") or 0))
        code = topics.propose_code(db, topic, request.form.get("name"), request.form.get("description"))
        flash(f"新しいコードの下書き「{code['name']}」を追加しました。")
    except (CoderError, ValueError) as exc:
        flash(f"コードを追加できませんでした：{japanese(exc)}", "error")
    return redirect(url_for("topics.index", source=source) + "#drafts")


@bp.route("/api/topics/status")
def status():
    return jsonify(job().status())
