"""Upload transcripts: same formats, encodings and errors as `coder ingest`; one transaction.

Uploading shows a preview first (what `coder ingest --dry-run` prints: layout, speakers, what is
left out, warnings); the files wait in a private folder until the user confirms, changes the
settings and previews again, or cancels. Nothing is written to the project before the confirmation.
"""

import json
import os
import secrets
import shutil
import tempfile
import time
import unicodedata
from pathlib import Path

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from coder import ingest as importing
from coder import safezip
from coder.errors import CoderError, japanese
from coder.formats import LAYOUTS
from coder.segment import load_nlp
from coder.speakers import PERSPECTIVES, SpeakerMapError, parse_pairs, perspective_id

from .database import get_db
from .tasks import schedule

bp = Blueprint("importer", __name__)
PENDING_HOURS = 24  # an upload never confirmed is deleted after this long

# The import report and warnings in Japanese, by Note.what (prefix); anything else is shown as written
NOTES_JA = {
    "left out (before the first turn)": "最初の発言より前の行（見出し・日付・出席者など）：取り込みません",
    "left out (outside any turn)": "どの発言にも属さない行：取り込みません",
    "left out (heading)": "見出し（Markdown の # や Word の見出しスタイル）：取り込みません",
    "NOTE block left out": "字幕ファイルの NOTE（注記）：取り込みません",
    "STYLE block left out": "字幕ファイルの STYLE：取り込みません",
    "REGION block left out": "字幕ファイルの REGION：取り込みません",
    "cue without text left out": "文字のない字幕キュー：取り込みません",
    "no WEBVTT header line": "WEBVTT の見出し行がありません（WebVTT として読みました）",
    "tracked changes read as accepted": "変更履歴は承諾した状態（最終版の表示）で読みました",
    "deleted text left out": "変更履歴で削除された文字：取り込みません",
    "moved text left out at its old place": "変更履歴で移動された文字の元の位置：取り込みません（移動先で読みます）",
    "two paragraphs read as one": "段落記号の削除（変更履歴）により、2つの段落を1つとして読みました",
    "ruby reading (furigana) left out": "ルビ（ふりがな）：取り込みません",
    "comment left out": "コメント：取り込みません",
    "header left out": "ヘッダー：取り込みません",
    "footer left out": "フッター：取り込みません",
    "footnote left out": "脚注：取り込みません",
    "endnote left out": "文末脚注：取り込みません",
    "text box left out": "テキストボックス：取り込みません",
    "no consistent speaker pattern": "話者の一貫したパターンがないため、話者のない文書として読みました（段落ごと）",
    "read as a document": "話者のない文書として読みました（段落ごと）",
    importing.SINGLE_TURN: "発言が1回だけの話者です（ラベルの誤記や「ポイント：」のような行を話者と読んでいませんか）",
    importing.LONG: f"{importing.LONG_TURN:,}字を超える発言です（話者ラベルが抜けていませんか）",
    importing.TIME_IN_WORDS: "発言の中にタイムコードがあります",
    importing.LABEL_IN_WORDS: "発言の中に「名前：」があります（2人の発言がつながっていませんか）",
    importing.OUTSIDE: "どの発言にも属さない行があります",
}
LAYOUTS_JA = {
    "labels": "各発言の先頭に話者ラベル（話者：発言）",
    "headers": "話者と時刻の行の下に発言",
    "names": "括弧付きの名前だけの行の下に発言",
    "questions": "「――」の質問と、ラベルのない回答",
    "document": "話者のない文書（段落ごと）",
    "cues": "字幕のキュー",
}


def note_ja(what: str) -> str:
    return next((ja for en, ja in NOTES_JA.items() if what.startswith(en)), what)


def safe_name(filename: str) -> str:
    """The last path part of an uploaded file name, without control characters: '../x.txt' → 'x.txt'.

    Unlike werkzeug's secure_filename this keeps Japanese names (楓_本人.txt), which become
    transcript names.
    """
    name = filename.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C").strip().lstrip(".")
    return name[:200] or "upload.txt"


def _pending_root() -> Path:
    """A folder only this OS user can read, for uploads waiting for confirmation."""
    root = Path(tempfile.gettempdir(), f"coder-uploads-{os.getuid() if hasattr(os, 'getuid') else 'user'}")
    root.mkdir(mode=0o700, exist_ok=True)
    for old in root.iterdir():
        if old.is_dir() and time.time() - old.stat().st_mtime > PENDING_HOURS * 3600:
            shutil.rmtree(old, ignore_errors=True)
    return root


def _pending(token: str) -> Path:
    """The folder of a pending upload of the current user; 404 for another user's or an unknown token."""
    if not token or not token.isalnum():
        abort(404)
    folder = _pending_root() / token
    try:
        meta = json.loads((folder / "upload.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        abort(404)
    if meta.get("user") != current_user.name:
        abort(404)
    return folder


def _options(form) -> dict:
    """The import settings of the form; SpeakerMapError for a bad speaker line or perspective."""
    speakers = form.get("speakers", "")
    perspective = form.get("perspective", "").strip()
    return {
        "case": form.get("case", "").strip() or None,
        "speakers": speakers,
        "mapping": parse_pairs([line.strip() for line in speakers.splitlines() if line.strip()]),
        "document": form.get("document") == "1",
        "perspective": perspective_id(perspective) if perspective else None,
    }


def _files(folder: Path) -> list[Path]:
    return sorted((p for p in folder.glob("*/*") if p.is_file()), key=lambda p: int(p.parent.name))


def _preview(folder: Path, options: dict, status: int = 200):
    """The preview page; 400 when a file cannot be imported (the page names it and why)."""
    report = importing.prepare(
        get_db(),
        _files(folder),
        case=options["case"],
        speaker_map=options["mapping"],
        document=options["document"],
        perspective=options["perspective"],
    )
    files = []
    for t in report.imported:
        files.append(
            {
                "t": t,
                "layout": LAYOUTS_JA.get(t.layout, LAYOUTS.get(t.layout, t.layout)),
                "speakers": importing.speaker_summary(t, 40),
                "notes": t.notes,
                "warnings": importing.warnings(t),
            }
        )
    errors = [error_ja(_unlink(e, folder)) for e in report.errors_ja]
    skipped = [(Path(path).name, name) for path, name in report.skipped]
    return render_template(
        "importer/preview.html",
        token=folder.name,
        files=files,
        errors=errors,
        skipped=skipped,
        options=options,
        perspectives=PERSPECTIVES,
        note_ja=note_ja,
    ), 400 if errors else status


def error_ja(message: str) -> str:
    """A refused file's ``"name: problem"`` in Japanese when it is a possible ZIP bomb (the figures
    stay as the library wrote them), else as written."""
    name, _, problem = message.partition(": ")
    if not problem.endswith(safezip.BOMB):
        return message
    detail = problem.removesuffix(safezip.BOMB).rstrip(" —")
    return (
        f"{name}：展開すると非常に大きくなるため、ZIP爆弾のおそれがあるファイルとして読み込みませんでした（{detail}）。"
    )


def _unlink(message: str, folder: Path) -> str:
    """An error message naming the uploaded file, not its waiting copy."""
    for path in _files(folder):
        message = message.replace(str(path), path.name)
    return message


@bp.route("/import", methods=["GET", "POST"])
def upload():
    if request.method == "GET":
        return render_template("importer/upload.html", perspectives=PERSPECTIVES, options={})
    files = [f for f in request.files.getlist("files") if f and f.filename]
    try:
        if not files:
            raise CoderError("no file chosen", ja="ファイルが選択されていません。")
        options = _options(request.form)
    except (CoderError, SpeakerMapError) as exc:
        flash(f"取り込めませんでした（何も変更していません）：{japanese(exc)}", "error")
        return render_template(
            "importer/upload.html",
            perspectives=PERSPECTIVES,
            options={"case": request.form.get("case"), "speakers": request.form.get("speakers")},
        ), 400
    folder = _pending_root() / secrets.token_hex(16)
    folder.mkdir(mode=0o700)
    for n, f in enumerate(files):
        path = folder / str(n) / safe_name(f.filename)
        path.parent.mkdir()
        f.save(path)
    (folder / "upload.json").write_text(json.dumps({"user": current_user.name}), encoding="utf-8")
    return _preview(folder, options)


@bp.route("/import/<token>", methods=["POST"])
def confirm(token):
    """The preview's buttons: import (``action=import``), preview again with new settings, or cancel."""
    folder = _pending(token)
    action = request.form.get("action", "import")
    if action == "cancel":
        shutil.rmtree(folder, ignore_errors=True)
        flash("取り込みを取り消しました。何も変更していません。")
        return redirect(url_for("importer.upload"))
    try:
        options = _options(request.form)
    except SpeakerMapError as exc:
        flash(f"設定を読めませんでした：{japanese(exc)}", "error")
        return _preview(
            folder,
            {
                "case": None,
                "speakers": request.form.get("speakers", ""),
                "mapping": {},
                "document": False,
                "perspective": None,
            },
            400,
        )
    if action != "import":
        return _preview(folder, options)
    try:
        report = importing.ingest(
            get_db(),
            _files(folder),
            nlp=load_nlp(),
            case=options["case"],
            speaker_map=options["mapping"],
            document=options["document"],
            perspective=options["perspective"],
        )
    except CoderError as exc:
        flash(f"取り込めませんでした（何も変更していません）：{_unlink(japanese(exc), folder)}", "error")
        return _preview(folder, options, 400)
    shutil.rmtree(folder, ignore_errors=True)
    for path, name in report.skipped:
        flash(f"{Path(path).name} は取り込み済みです（{name}）。変更はありません。")
    for t in report.imported:
        left = sum(1 for n in t.notes if "left out" in n.what)
        flash(
            f"{t.source_file} を「{t.name}」として取り込みました：{len(t.turns)} 発言、{len(t.segments)} セグメント"
            + (f"（取り込まなかった箇所 {left} 件は取り込み記録にあります）。" if left else "。")
        )
        schedule(t.id)
    unknown = report.unknown_speakers()
    if len(report.imported) == 1 and unknown:
        return redirect(url_for("transcripts.speakers", transcript_id=report.imported[0].id))
    for name, speakers in unknown.items():
        flash(f"{name}：立場が未設定の話者がいます（{'、'.join(speakers)}）。話者の設定から選んでください。", "error")
    return redirect(url_for("transcripts.index"))
