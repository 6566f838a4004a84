"""The synthesis report (``coder report``): the findings chapter of an evaluation, generated from the project.

``build()`` gathers everything the report says as data (so figures can be compared): per code its
counts per matrix row (``coder.matrix.build``), the analysts' cell summaries (``coder.summaries``)
and quotes, the exploratory test; the emergent themes of the last ``coder topics`` run; the methods
(interviews, analysts, codebook versions, agreement as ``coder agreement`` computes it, adjudicated
segments, codes that rest only on unconfirmed suggestions). ``blocks()`` turns that into one flat
list of headings, paragraphs, tables, charts and quotes, which ``write()`` renders as DOCX
(python-docx), Markdown (charts as PNG files in ``NAME_files/``) or one self-contained HTML file.

Quote references: transcript, speaker, turn (``第N発言``, from 1) and the start time (``hh:mm:ss``,
timed sources only); the offsets in code points stay in the data (``start``, ``end``).
The prose is Japanese in である調.
"""

from __future__ import annotations

import base64
import html
import io
import os
import re
import secrets
import shutil
import zipfile
from datetime import date
from pathlib import Path
from typing import Callable
from urllib.parse import quote as url_quote

from . import agreement, attributes, layers, matrix, summaries, topics
from .access import Policy
from .codebook_edit import versions
from .errors import CoderError
from .export import UNCONFIRMED, scope_text, xml_text
from .export.quotes import location
from .speakers import PERSPECTIVES

FORMATS = ("docx", "md", "html")
QUOTES = 3  # per row of a code: the summary's linked segments first, then the matrix's ranked quotes
THEME_QUOTES = 2
THEME_WORDS = 8
PLACEHOLDER = "（分析者による要約は未記入）"
SUGGESTED_ONLY = "提案のみ・未確認"
VERDICTS = {"reliable": "十分", "tentative": "暫定的", "unreliable": "不十分", "undefined": "算出不可"}


_HISTORY = (
    (r"seeded from (.+)", "{0} をもとに作成"),
    (r"added (\S+)", "コード「{n0}」を追加"),
    (r"renamed (\S+)", "コード「{n0}」の名前を変更"),
    (r"described (\S+)", "コード「{n0}」の定義を変更"),
    (r"recoloured (\S+)", "コード「{n0}」の色を変更"),
    (r"nested (\S+)", "コード「{n0}」の上位コードを変更"),
    (r"retired (\S+)", "コード「{n0}」を廃止"),
    (r"merged (\S+) into (\S+)", "コード「{n0}」を「{n1}」に統合"),
    (r"promoted (.+) to (\S+)", "候補「{0}」をコード「{n1}」として採用"),
)


def history_note(note: str | None, codebook) -> str | None:
    """A codebook version's note (``coder.codebook_edit`` writes them in English, e.g. ``merged a into
    b``) in Japanese, with code names for ids; an unknown note as it is."""
    import re

    names = {c.id: c.name for c in codebook.codes}
    for pattern, text in _HISTORY:
        found = re.fullmatch(pattern, note or "")
        if found:
            groups = tuple(g.rsplit("/", 1)[-1] for g in found.groups())  # a seed file's name, not its path
            return text.format(*groups, **{f"n{i}": names.get(g, g) for i, g in enumerate(groups)})
    return note


def build(
    db,
    codebook,
    source: str = "consensus",
    by: str = "perspective",
    policy: Policy | None = None,
    where: dict[str, str] | None = None,
    progress: Callable[[str], None] | None = None,
) -> dict:
    """Everything the report says, as data:

    - ``meta``: title, source, source_label, unconfirmed, by, row_noun, where, scope, project, codebook
      (version tag), generated (ISO date), warning (``coder.export.UNCONFIRMED`` for ``model``, else None);
    - ``codes``: core codes first, then further ones, in codebook order (a retired code only if the source
      has codings of it): id, name, name_en, definition, group, parent, segments, suggested (segments with
      a selected suggestion), unconfirmed_only (suggestions but no coding in the source: 提案のみ・未確認),
      test {test, p, residuals, text}, and ``rows`` per matrix row: key, label, segments, interviewees,
      share, summary ({text, author, updated_at, segments, byline} or None), quotes (up to QUOTES, see
      ``quote``; ``linked`` when the summary rests on it);
    - ``methods``: interviews (per perspective, per case, total: interviews, interviewees, segments),
      analysts (name, segments seen, confirmed codings), source, codebook {tag, title, history [{date,
      author, note, tag}]}, agreement ({coders, reps, overall, rows [{code, name, alpha, alpha_ci, n,
      percent, verdict}]} or None with ``agreement_note``), adjudicated (segments, or None in blind
      mode), unconfirmed_only [{code, name, suggested}];
    - ``themes``: source (uncoded|all|None), created_at, n_topics, n_segments, topics [{id, words, size,
      uncoded_share, perspectives, quotes}];
    - ``coded`` (whether any shown code has a coding in scope) and ``matrix`` (what the charts draw).

    Counts are ``coder.matrix.build(db, codebook, by, source, matrix.QUOTES, policy=policy,
    where=where)``'s; agreement is ``coder.agreement.project_agreement(db, codebook)`` (the defaults of
    ``coder agreement``: every analyst, per code). ``policy`` (default the project owner) decides the
    source as for the matrix: ``NotFound``/``Forbidden`` for a source it does not allow, ``CoderError``
    for a bad ``by`` or attribute filter. ``progress(message)`` is called before each long step."""
    step = progress or (lambda message: None)
    policy = policy or Policy.owner()
    step("building the matrix")
    m = matrix.build(db, codebook, by, source, matrix.QUOTES, policy=policy, where=where)
    units = layers.segments(db, text=False)
    if where:
        units = attributes.filter_units(db, units, where)
    scope = {u["id"] for u in units}
    suggested = _suggested(db, scope)
    notes = summaries.for_matrix(db, m)
    off = summaries.off_matrix(db, m)  # summaries on rows this source coded nothing in: shown, not lost
    codes = []
    for code in sorted(codebook.codes, key=lambda c: c.group != "core"):  # stable: codebook order within a group
        total = sum(m["cells"][k][code.id]["segments"] for k in m["rows"])
        if code.status == "retired" and not total:
            continue
        codes.append(
            _code(m, code, codebook, total, suggested.get(code.id, 0), notes, [s for s in off if s["code"] == code.id])
        )
    m = {**m, "codes": [c["id"] for c in codes]}  # the charts draw the codes the report shows
    step("computing agreement")
    methods = _methods(db, codebook, policy, units, scope, m, codes)
    step("reading the emergent themes")
    meta = {
        "title": "インタビュー調査の所見",
        "subtitle": codebook.title,
        "source": m["source"],
        "source_label": m["source_label"],
        "unconfirmed": m["unconfirmed"],
        "by": by,
        "row_noun": matrix.row_noun(by),
        "where": dict(where or {}),
        "scope": scope_text({"where": where}),
        "project": _project_name(db),
        "codebook": codebook.version_tag,
        "generated": date.today().isoformat(),
        "warning": UNCONFIRMED if m["unconfirmed"] else None,
    }
    return {
        "meta": meta,
        "codes": codes,
        "themes": _themes(db, policy),
        "methods": methods,
        "matrix": m,
        "coded": any(c["segments"] for c in codes),
    }


def _suggested(db, scope: set[int]) -> dict[str, int]:
    """Per code: segments in scope with a selected (above-threshold) suggestion."""
    out: dict[str, int] = {}
    for sid, code in db.execute("select segment_id, code from suggestions where selected = 1").fetchall():
        if sid in scope:
            out[code] = out.get(code, 0) + 1
    return out


def _code(m: dict, code, codebook, total: int, suggested: int, notes: dict, off: list[dict] = ()) -> dict:
    unconfirmed_only = suggested > 0 and (m["unconfirmed"] or not total)
    parent = codebook.code(code.parent).name if code.parent in codebook.ids else None
    test = m["tests"].get(code.id) or {}
    rows = []
    for key in m["rows"]:
        cell, note = m["cells"][key][code.id], notes.get(key, {}).get(code.id)
        rows.append(
            {
                "key": key,
                "label": row_label(m["by"], key),
                "segments": cell["segments"],
                "interviewees": cell["interviewees"],
                "share": cell["share"],
                "summary": None
                if note is None
                else {
                    "text": note["text"],
                    "author": note["author"],
                    "updated_at": note["updated_at"],
                    "segments": note["segments"],
                    "byline": summaries.byline(note),
                },
                "quotes": _quotes((note or {}).get("refs", []), cell["quotes"]),
            }
        )
    for note in off:  # a row the matrix does not show (nothing coded there in this source), with its summary
        rows.append(
            {
                "key": note["row"],
                "label": row_label(m["by"], note["row"]),
                "segments": 0,
                "interviewees": 0,
                "share": 0.0,
                "off_matrix": True,
                "summary": {
                    "text": note["text"],
                    "author": note["author"],
                    "updated_at": note["updated_at"],
                    "segments": note["segments"],
                    "byline": summaries.byline(note),
                },
                "quotes": _quotes(note["refs"], []),
            }
        )
    return {
        "id": code.id,
        "name": code.name,
        "name_en": code.name_en,
        "group": code.group,
        "parent": parent,
        "definition": _joined(code.definition),
        "retired": code.status == "retired",
        "segments": total,
        "suggested": suggested,
        "unconfirmed_only": unconfirmed_only,
        "rows": rows,
        "test": {
            "test": test.get("test"),
            "p": test.get("p"),
            "residuals": test.get("residuals", {}),
            "text": _test_text(m, test),
        },
    }


def _quotes(linked: list[dict], ranked: list[dict]) -> list[dict]:
    """Up to QUOTES quotes: the summary's linked segments (``linked``: True), then the ranked ones."""
    out, seen = [], set()
    for q, is_linked in [*((q, True) for q in linked), *((q, False) for q in ranked)]:
        if q["segment_id"] not in seen and len(out) < QUOTES:
            seen.add(q["segment_id"])
            out.append({**quote(q), "linked": is_linked})
    return out


def quote(q: dict) -> dict:
    """A quote as the report shows it: text, segment id, transcript, speaker, start/end (code
    points), start_time (seconds or None) and ``reference`` (``kaede・本人・第3発言・00:00:05``: where a
    reader finds it, ``coder.export.quotes.location``)."""
    return {
        "segment_id": q["segment_id"],
        "text": q["text"],
        "transcript": q["transcript"],
        "speaker": q["speaker"],
        "start": q["start"],
        "end": q["end"],
        "start_time": q.get("start_time"),
        "reference": location(q),
    }


def row_label(by: str, key: str) -> str:
    """A matrix row's name in Japanese (a perspective's label, else the key itself)."""
    return PERSPECTIVES.get(key, key) if by == "perspective" else key


def _joined(text: str) -> str:
    """A definition folded over lines in YAML, without the spaces folding left between sentences."""
    return re.sub(r"(?<=[。、」）])\s+", "", (text or "").strip())


def _test_text(m: dict, test: dict) -> str:
    noun = matrix.row_noun(m["by"])
    if test.get("p") is None:
        return (
            f"{noun}による差の検定は行っていない（該当する発言がない、またはすべて該当する、あるいは{noun}が"
            "一つのみのため）。"
        )
    name = "χ²検定" if test["test"] == "chi2" else "Fisher の正確確率検定"
    residuals = "、".join(f"{row_label(m['by'], k)} {r:+.2f}" for k, r in test["residuals"].items())
    return f"{noun}による偏りの探索的な検定：{name}、p = {test['p']:.3f}（調整済み標準化残差：{residuals}）。"


def _project_name(db) -> str:
    files = [r[2] for r in db.execute("pragma database_list").fetchall() if r[1] == "main"]
    return Path(files[0]).name if files and files[0] else ""


# --- methods ---------------------------------------------------------------------------------------


def _methods(db, codebook, policy: Policy, units: list[dict], scope: set[int], m: dict, codes: list[dict]) -> dict:
    people = policy.analysts(db)
    seen = {name: set() for name in people}
    confirmed = dict.fromkeys(people, 0)
    marks = ",".join("?" * len(people)) or "null"
    for sid, who in db.execute(
        f"select segment_id, coder from reviews where coder in ({marks}) union "
        f"select segment_id, coder from codings where coder in ({marks})",
        [*people, *people],
    ).fetchall():
        if sid in scope:
            seen[who].add(sid)
    for sid, who in db.execute(
        f"select segment_id, coder from codings where status = 'confirmed' and coder in ({marks})", people
    ).fetchall():
        confirmed[who] += sid in scope
    looked = matrix.looked_at(db, m["source"], policy) & scope  # what the counts of section 2 rest on
    out = {
        "interviews": {
            "perspective": _spread(units, "perspective", looked),
            "case": _spread(units, "case_name", looked),
            "total": _spread(units, None, looked)[0],
        },
        "blind": not policy.sees_others,
        "analysts": [{"name": n, "segments": len(seen[n]), "codings": confirmed[n]} for n in people],
        "source": m["source"],
        "source_label": m["source_label"],
        "codebook": {
            "tag": codebook.version_tag,
            "title": codebook.title,
            "history": [
                {
                    "date": (v["created_at"] or "")[:10],
                    "author": v["author"],
                    "note": history_note(v["note"], codebook),
                    "tag": v["tag"],
                }
                for v in reversed(versions(db))
            ],
        },
        "agreement": None,
        "agreement_note": None,
        "adjudicated": None,
        "unconfirmed_only": [
            {"code": c["id"], "name": c["name"], "suggested": c["suggested"]} for c in codes if c["unconfirmed_only"]
        ],
    }
    if not policy.sees_others:
        out["agreement_note"] = (
            "ブラインドモードのため、ほかの分析者のコーディングを含む一致の指標と裁定の件数は示さない。"
        )
        return out
    if len(layers.analysts(db)) < 2:
        out["agreement_note"] = "コーディングした分析者が2人未満のため、コーダー間の一致は算出していない。"
    else:
        result = agreement.project_agreement(db, codebook)  # exactly what `coder agreement` prints
        names = {c.id: c.name for c in codebook.codes}
        out["agreement"] = {
            "coders": result["coders"],
            "reps": agreement.BOOTSTRAP,
            "overall": _figures(result["overall"]),
            "rows": [{"code": r["key"], "name": names.get(r["key"], r["key"]), **_figures(r)} for r in result["rows"]],
        }
    adjudicated = {
        sid
        for (sid,) in db.execute(
            "select distinct segment_id from events where action = 'adjudicated' and segment_id is not null"
        ).fetchall()
    }
    out["adjudicated"] = len(adjudicated & scope)
    return out


def _figures(row: dict) -> dict:
    return {
        "alpha": row["alpha"],
        "alpha_ci": row["alpha_ci"],
        "n": row["n_segments"],
        "percent": row["percent"],
        "verdict": row["verdict"],
    }


def _spread(units: list[dict], field: str | None, looked: set[int] = frozenset()) -> list[dict]:
    """Interviews, interviewees and segments per value of ``field`` (one line overall for None), and
    of them the segments (and interviews) the report's source has looked at (``looked``: segment ids)."""
    groups: dict = {}
    for u in units:
        key = u[field] if field else None
        g = groups.setdefault(
            key, {"interviews": set(), "interviewees": set(), "segments": 0, "coded_interviews": set(), "coded": 0}
        )
        g["interviews"].add(u["transcript_id"])
        g["interviewees"].add((u["transcript_id"], u["speaker"]))
        g["segments"] += 1
        if u["id"] in looked:
            g["coded"] += 1
            g["coded_interviews"].add(u["transcript_id"])
    order = sorted(
        groups, key=lambda k: (k not in matrix.ROWS, matrix.ROWS.index(k) if k in matrix.ROWS else 0, str(k or ""))
    )
    rows = [
        {
            "key": k,
            "label": (PERSPECTIVES.get(k, k) if field == "perspective" else k or "―"),
            "interviews": len(groups[k]["interviews"]),
            "interviewees": len(groups[k]["interviewees"]),
            "segments": groups[k]["segments"],
            "coded": groups[k]["coded"],
            "coded_interviews": len(groups[k]["coded_interviews"]),
        }
        for k in order
    ]
    return rows or [
        {
            "key": None,
            "label": "―",
            "interviews": 0,
            "interviewees": 0,
            "segments": 0,
            "coded": 0,
            "coded_interviews": 0,
        }
    ]


# --- emergent themes -------------------------------------------------------------------------------


def _themes(db, policy: Policy) -> dict:
    """Topics of the last ``coder topics`` run the codebook does not cover: every topic of a run over
    uncoded segments, else the topics of a run over all segments flagged as uncoded themes (counts
    as ``policy`` may see them)."""
    for source in ("uncoded", "all"):
        if source == "uncoded" and not policy.sees_others:
            continue  # uncoded depends on everyone's codes: closed in blind mode
        result = topics.as_seen_by(db, topics.last_result(db, source), policy)
        if result is None:
            continue
        chosen = result["topics"] if source == "uncoded" else [t for t in result["topics"] if t["uncoded_theme"]]
        found = _segments(db, [e["id"] for t in chosen for e in t["examples"][:THEME_QUOTES]])
        return {
            "source": source,
            "created_at": (result.get("created_at") or "")[:10],
            "n_topics": result["n_topics"],
            "n_segments": result["n_segments"],
            "topics": [
                {
                    "id": t["id"],
                    "words": t["words"][:THEME_WORDS],
                    "size": t["size"],
                    "uncoded_share": t["uncoded_share"],
                    "perspectives": {PERSPECTIVES.get(k, k): v for k, v in t["perspectives"].items()},
                    "quotes": [quote(found[e["id"]]) for e in t["examples"][:THEME_QUOTES] if e["id"] in found],
                }
                for t in chosen
            ],
        }
    return {"source": None, "created_at": None, "n_topics": 0, "n_segments": 0, "topics": []}


def _segments(db, ids: list[int]) -> dict[int, dict]:
    return {r["segment_id"]: r for r in summaries.evidence(db, ids)}


# --- the report as blocks --------------------------------------------------------------------------


def blocks(report: dict) -> list[tuple]:
    """The report as a flat list of blocks, in reading order: ("title", text), ("h1"|"h2"|"h3", text),
    ("p"|"note"|"warning"|"placeholder"|"summary", text), ("definition", text), ("table", header,
    rows), ("chart", kind "heatmap"|"bars", code or None, caption), ("quote", text, reference)."""
    meta, methods, noun = report["meta"], report["methods"], report["meta"]["row_noun"]
    out = [
        ("title", meta["title"]),
        ("p", meta["subtitle"]),
        (
            "note",
            f"本章は、プロジェクト {meta['project'] or '―'} のコーディング結果から自動で作成した。"
            f"集計の出典は「{meta['source_label']}」、対象は{meta['scope'] or 'すべてのインタビュー'}、"
            f"コードブックは {meta['codebook']}、作成日は {meta['generated']} である。",
        ),
    ]
    if meta["warning"]:
        out.append(("warning", meta["warning"]))
    if not report["coded"]:
        out.append(("warning", "この出典にはまだコーディングがないため、各コードの件数はすべて 0 である。"))
    out += _method_blocks(methods, meta)
    out += [
        ("h1", "2. 連携の要素ごとの結果"),
        (
            "p",
            f"コードごとに、{noun}別の該当セグメント数・話者数・割合、分析者による要約、代表的な発言を示す。"
            f"割合の分母は、その{noun}のセグメントのうち出典のコーディングが及んだものである。各コードの末尾には"
            f"{noun}による偏りの検定を添えるが、同じインタビューの発言は互いに独立ではないため、差の証拠ではなく"
            "読み解く際の手がかりとして扱う。",
        ),
        ("chart", "heatmap", None, f"図　{noun} × コードの該当セグメント数（括弧内は話者数）"),
    ]
    further = False
    for n, code in enumerate(report["codes"], 1):
        if code["group"] != "core" and not further:
            further = True
            out.append(("p", "以下は、中核の要素に加えて検討した観点である。"))
        out += _code_blocks(n, code, noun, meta["unconfirmed"])
    out += _theme_blocks(report["themes"], meta)
    return out


def _method_blocks(methods: dict, meta: dict) -> list[tuple]:
    total, people = methods["interviews"]["total"], methods["analysts"]
    out = [
        ("h1", "1. 調査の概要と方法"),
        ("h2", "1.1 対象としたインタビュー"),
        (
            "p",
            f"プロジェクトには、インタビュー {total['interviews']} 件に含まれる話者 {total['interviewees']} 人"
            f"の発言 {total['segments']} セグメントがある（聞き手の発言は含まない）。このうち、本章の出典で"
            f"確認済みのものはインタビュー {total['coded_interviews']} 件の {total['coded']} セグメントで、"
            "第2節の集計はこれに基づく"
            + ("。" if total["coded"] == total["segments"] else "（確認されていない発言は集計に含まれない）。")
            + "立場別と事例別の内訳は次のとおりである。",
        ),
        (
            "table",
            ["立場", "インタビュー", "話者", "セグメント", "うち確認済み"],
            [
                [r["label"], r["interviews"], r["interviewees"], r["segments"], r["coded"]]
                for r in methods["interviews"]["perspective"]
            ],
        ),
        (
            "table",
            ["事例", "インタビュー", "話者", "セグメント", "うち確認済み"],
            [
                [r["label"], r["interviews"], r["interviewees"], r["segments"], r["coded"]]
                for r in methods["interviews"]["case"]
            ],
        ),
        ("h2", "1.2 コーディングの手順"),
    ]
    if people:
        out += [
            (
                "p",
                f"発言は一文を単位（セグメント）とし、{len(people)} 人の分析者がそれぞれ独立にコードを付けた。"
                "分析者ごとの作業量は次のとおりである。",
            ),
            (
                "table",
                ["分析者", "確認したセグメント", "付けたコード（確認済み）"],
                [[p["name"], p["segments"], p["codings"]] for p in people],
            ),
        ]
    elif methods.get("blind"):
        out.append(
            (
                "p",
                "ブラインドモードのため、ほかの分析者のコーディングの状況は示さない（この報告書を作成した"
                "分析者自身は、まだコーディングしていない）。",
            )
        )
    else:
        out.append(("p", "分析者によるコーディングはまだ行われていない。"))
    basis = {
        "consensus": "スーパーバイザーが裁定したセグメントではその裁定を、それ以外のセグメントでは確認した分析者"
        "全員が一致して付けたコードを採る。",
        "all": "いずれかの分析者が付けたコードをすべて採る。",
        "model": "モデルの提案のみを採り、分析者による確認を経ていない。",
    }.get(methods["source"], "")
    out.append(("p", f"本章の集計は「{methods['source_label']}」に基づく。{basis}"))
    book = methods["codebook"]
    out.append(
        (
            "p",
            f"コードブックは「{book['title']}」（{book['tag']}）を用いた。プロジェクト内での版の履歴は"
            "次のとおりである。",
        )
    )
    if book["history"]:
        out.append(
            (
                "table",
                ["日付", "担当", "内容", "版"],
                [
                    [
                        h["date"],
                        "（自動）" if h["author"] == "system" else h["author"] or "―",
                        h["note"] or "―",
                        h["tag"],
                    ]
                    for h in book["history"]
                ],
            )
        )
    else:
        out.append(("p", "（版の履歴はない）"))
    if methods["unconfirmed_only"] and methods["source"] != layers.MODEL:  # else the whole report says so
        names = "、".join(f"{c['name']}（提案 {c['suggested']} セグメント）" for c in methods["unconfirmed_only"])
        out.append(
            (
                "warning",
                f"次のコードには確認済みのコーディングがなく、モデルの提案のみに基づく（{SUGGESTED_ONLY}）：{names}。",
            )
        )
    out.append(("h2", "1.3 コーダー間の一致と裁定"))
    figures = methods["agreement"]
    if figures is None:
        out.append(("p", methods["agreement_note"]))
    else:
        out += [
            (
                "p",
                f"分析者 {'、'.join(figures['coders'])} のコーディングについて、コードごとにクリッペンドルフの α"
                "（名義尺度）を求めた。95% 信頼区間はセグメントを単位とするブートストラップ"
                f"（{figures['reps']:,} 回）による。n は2人以上が確認したセグメントの数である。α が "
                f"{agreement.RELIABLE:.3f} 以上を十分、{agreement.TENTATIVE:.3f} 以上を暫定的な一致とみなす。",
            ),
            (
                "table",
                ["コード", "n", "α", "95% 信頼区間", "判定"],
                [_agreement_row(r["name"], r) for r in figures["rows"]]
                + [_agreement_row("全体（すべてのコード）", figures["overall"])],
            ),
        ]
        if meta["where"]:
            out.append(("note", "一致の指標は、対象の絞り込みによらずプロジェクト全体について算出した。"))
    if methods["adjudicated"] is not None:
        out.append(
            (
                "p",
                f"分析者の判断が分かれたセグメントのうち {methods['adjudicated']} 件を、スーパーバイザーが裁定した。"
                if methods["adjudicated"]
                else "スーパーバイザーが裁定したセグメントはまだない。",
            )
        )
    return out


def _agreement_row(name: str, r: dict) -> list:
    ci = r["alpha_ci"]
    return [
        name,
        r["n"],
        _num(r["alpha"]),
        f"{_num(ci[0])}–{_num(ci[1])}" if ci else "―",
        VERDICTS.get(r["verdict"], r["verdict"]),
    ]


def _num(value) -> str:
    return "―" if value is None else f"{value:.3f}"


def _code_blocks(n: int, code: dict, noun: str, unconfirmed: bool) -> list[tuple]:
    title = f"2.{n} {code['name']}"
    if code["unconfirmed_only"]:
        title += f"（{SUGGESTED_ONLY}）"
    out = [("h2", title)]
    if code["name_en"] or code["parent"] or code["retired"]:
        extra = [
            code["name_en"],
            code["parent"] and f"上位コード：{code['parent']}",
            code["retired"] and "廃止されたコード",
        ]
        out.append(("note", "　".join(e for e in extra if e)))
    out.append(("definition", code["definition"]))
    if code["unconfirmed_only"] and not unconfirmed:
        out.append(
            (
                "warning",
                "このコードには確認済みのコーディングがなく、モデルの提案が "
                f"{code['suggested']} セグメントにあるのみである（{SUGGESTED_ONLY}）。"
                "分析者が確認するまで所見としては扱わない。",
            )
        )
    out += [
        (
            "table",
            [noun, "セグメント", "話者", "割合"],
            [
                [r["label"], r["segments"], r["interviewees"], f"{r['share']:.0%}"]
                for r in code["rows"]
                if not r.get("off_matrix")
            ],
        ),
        ("chart", "bars", code["id"], f"図　{code['name']}：{noun}ごとのセグメント数と話者数"),
    ]
    for r in code["rows"]:
        if r.get("off_matrix"):
            out += [
                ("h3", f"{r['label']}（この出典ではコーディングされていない）"),
                ("note", "この出典の集計には含まれないが、分析者の要約があるため示す。"),
            ]
        else:
            out.append(("h3", f"{r['label']}（{r['segments']} セグメント、{r['interviewees']} 人）"))
        if r["summary"]:
            out.append(("summary", r["summary"]["text"], r["summary"]["byline"]))
        else:
            out.append(("placeholder", PLACEHOLDER))
        out += [("quote", f"「{q['text']}」", q["reference"]) for q in r["quotes"]]
        if not r["quotes"]:
            out.append(("note", "（該当する発言はない）"))
    out.append(("note", code["test"]["text"]))
    return out


def _theme_blocks(themes: dict, meta: dict) -> list[tuple]:
    out = [("h1", "3. コードブックにない新たなテーマ")]
    if themes["source"] is None:
        return out + [
            (
                "p",
                "トピック抽出はまだ実行されていない。コマンドラインで「coder topics --source uncoded --db "
                f"{meta['project'] or 'PROJECT.db'}」（または Web の「トピック」ページ）を実行してから"
                "報告書を作り直すと、コードの付いていない発言から現れたテーマがここに示される。",
            )
        ]
    which = "コードの付いていない発言" if themes["source"] == "uncoded" else "すべての発言"
    if not themes["topics"]:
        return out + [
            (
                "p",
                f"{themes['created_at']} に{which}を対象としてトピック抽出を行った（{themes['n_topics']} "
                "トピック）が、コードブックのコードで捉えられていないテーマは見つからなかった。",
            )
        ]
    out.append(
        (
            "p",
            f"{themes['created_at']} に{which}（{themes['n_segments']} セグメント）を対象として"
            f"トピック抽出を行った。{themes['n_topics']} トピックのうち、コードブックのコードがほとんど付いて"
            f"いない {len(themes['topics'])} 件を新しいコードの候補として示す。トピックの名前は主な語を"
            "並べたもので、解釈は分析者に委ねる。",
        )
    )
    if meta["where"]:
        out.append(("note", "トピック抽出は、対象の絞り込みによらずプロジェクト全体について行ったものである。"))
    for n, t in enumerate(themes["topics"], 1):
        spread = "、".join(f"{k} {v}" for k, v in t["perspectives"].items())
        name = "・".join(t["words"][:3]) or f"トピック {t['id']}"
        out += [
            ("h2", f"3.{n} {name}"),
            (
                "p",
                f"{t['size']} セグメント（うちコードの付いていないもの {t['uncoded_share']:.0%}）。"
                f"主な語：{'、'.join(t['words'])}。立場別：{spread or '―'}。",
            ),
        ]
        out += [("quote", f"「{q['text']}」", q["reference"]) for q in t["quotes"]]
    return out


# --- writers ---------------------------------------------------------------------------------------


def file_name(fmt: str, source: str = "consensus") -> str:
    """A default file name such as ``coder-report-consensus.docx``."""
    safe = re.sub(r"[^\w-]+", "_", source).strip("_") or "report"
    return f"coder-report-{safe}.{fmt}"


def write(report: dict, out, fmt: str, codebook, progress: Callable[[str], None] | None = None) -> Path:
    """Write ``report`` (``build()``'s dict) to ``out`` (a file, or a folder to put ``file_name()`` in)
    as ``fmt`` (docx, md or html); return the path. Markdown puts its charts (PNG) in the folder
    ``NAME_files`` beside it. Written to a temporary file and renamed, so a failure leaves no half
    file. ``CoderError`` for an unknown format or a folder that does not exist."""
    if fmt not in FORMATS:
        raise CoderError(f"report format must be one of {', '.join(FORMATS)}, not {fmt!r}")
    step = progress or (lambda message: None)
    out = Path(out)
    if out.is_dir():
        out = out / file_name(fmt, report["meta"]["source"])
    if not out.parent.is_dir():
        raise CoderError(f"cannot write {out}: there is no folder {out.parent}")
    token = secrets.token_hex(4)
    tmp = out.with_name(f".{out.name}.{token}.tmp")
    charts = _Charts(report, codebook, step)
    files = None
    try:
        if fmt == "md":
            files = out.with_name(f".{out.stem}_files.{token}.tmp")
            files.mkdir()
            _markdown(report, tmp, charts, files, f"{out.stem}_files")
        else:
            (_docx if fmt == "docx" else _html)(report, tmp, charts)
        if files is not None:
            _replace_folder(files, out.with_name(f"{out.stem}_files"))
            files = None
        os.replace(tmp, out)
    except OSError as exc:
        raise CoderError(f"cannot write {out}: {exc.strerror or exc}") from exc
    finally:
        tmp.unlink(missing_ok=True)
        if files is not None:
            shutil.rmtree(files, ignore_errors=True)
    return out


def _replace_folder(new: Path, target: Path) -> None:
    old = None
    if target.exists():
        old = target.with_name(f".{target.name}.{secrets.token_hex(4)}.old")
        target.rename(old)
    new.rename(target)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def markdown_zip(md: Path) -> bytes:
    """A Markdown report (``write(..., "md")``) and its chart folder as one zip archive."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.write(md, md.name)
        folder = md.with_name(f"{md.stem}_files")
        for path in sorted(folder.glob("*")) if folder.is_dir() else []:
            archive.write(path, f"{folder.name}/{path.name}")
    return buffer.getvalue()


class _Charts:
    """PNG charts of the report's matrix, drawn once each (``coder.charts``)."""

    def __init__(self, report: dict, codebook, step):
        self.matrix, self.codebook, self.step = report["matrix"], codebook, step
        self.total, self.done, self.cache = 1 + len(self.matrix["codes"]), 0, {}

    def png(self, kind: str, code: str | None) -> bytes:
        from . import charts

        if (kind, code) not in self.cache:
            self.done += 1
            self.step(f"drawing chart {self.done}/{self.total}")
            buffer = io.BytesIO()
            if kind == "heatmap":
                charts.heatmap(self.matrix, self.codebook, buffer, "png")
            else:
                charts.bars(self.matrix, self.codebook, buffer, "png", code=code)
            self.cache[(kind, code)] = buffer.getvalue()
        return self.cache[(kind, code)]


def _markdown(report: dict, out: Path, charts: _Charts, files: Path, folder: str) -> None:
    lines = []
    heads = {"title": "#", "h1": "##", "h2": "###", "h3": "####"}
    for block in blocks(report):
        kind, text = block[0], block[1]
        if kind in heads:
            lines.append(f"{heads[kind]} {_md(text)}")
        elif kind == "table":
            lines += ["| " + " | ".join(_md(str(h)) for h in block[1]) + " |", "|" + "---|" * len(block[1])]
            lines += ["| " + " | ".join(_md(str(v)) for v in row) + " |" for row in block[2]]
        elif kind == "chart":
            name = "heatmap.png" if block[1] == "heatmap" else f"{block[2]}.png"
            (files / name).write_bytes(charts.png(block[1], block[2]))
            lines.append(f"![{_md(block[3])}]({url_quote(folder)}/{name})")
        elif kind == "quote":
            lines.append(f"> {_md(text)}  \n> —— {_md(block[2])}")
        elif kind == "summary":
            lines.append(f"**要約**：{_md(text)}（{_md(block[2])}）")
        elif kind == "definition":
            lines.append(f"**定義**：{_md(text)}")
        elif kind == "warning":
            lines.append(f"> **{_md(text)}**")
        elif kind in ("note", "placeholder"):
            lines.append(f"*{_md(text)}*")
        else:
            lines.append(_md(text))
        lines.append("")
    out.write_bytes("\n".join(lines).encode("utf-8"))


def _md(text: str) -> str:
    """Text as Markdown shows it literally: characters that could start markup (HTML tags, emphasis,
    links, table cells; ``_`` only at a word's edge) backslash-escaped, line breaks kept in the block."""
    return re.sub(r"([\\`*<>|\[\]]|^#|(?<!\w)_|_(?!\w))", r"\\\1", str(text)).replace("\n", "  \n")


CSS = """body{font-family:"Hiragino Mincho ProN","Yu Mincho","游明朝","Noto Serif CJK JP",serif;max-width:48em;
margin:2em auto;padding:0 1em;line-height:1.8;color:#222}h1,h2,h3,h4{font-family:"Hiragino Sans","Yu Gothic",
"游ゴシック","Noto Sans CJK JP",sans-serif}table{border-collapse:collapse;margin:1em 0}th,td{border:1px solid #999;
padding:.2em .6em}td.n{text-align:right}blockquote{margin:.8em 0 .8em 1.5em;padding-left:.8em;border-left:3px solid
#bbb}blockquote footer{font-size:.85em;color:#555}.warning{color:#b00000;font-weight:bold}.note,.placeholder{color:
#555;font-size:.92em}.placeholder{font-style:italic}figure{margin:1em 0}figure img{max-width:100%}figcaption{font-size:
.9em;color:#444}"""


def _html(report: dict, out: Path, charts: _Charts) -> None:
    e = html.escape
    body = []
    tags = {"title": "h1", "h1": "h2", "h2": "h3", "h3": "h4"}
    for block in blocks(report):
        kind, text = block[0], block[1]
        if kind in tags:
            body.append(f"<{tags[kind]}>{e(text)}</{tags[kind]}>")
        elif kind == "table":
            head = "".join(f"<th>{e(str(h))}</th>" for h in block[1])
            rows = "".join(
                "<tr>"
                + "".join(f'<td class="n">{v}</td>' if isinstance(v, int) else f"<td>{e(str(v))}</td>" for v in row)
                + "</tr>"
                for row in block[2]
            )
            body.append(f"<table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>")
        elif kind == "chart":
            data = base64.b64encode(charts.png(block[1], block[2])).decode("ascii")
            body.append(
                f'<figure><img src="data:image/png;base64,{data}" alt="{e(block[3])}">'
                f"<figcaption>{e(block[3])}</figcaption></figure>"
            )
        elif kind == "quote":
            body.append(f"<blockquote><p>{e(text)}</p><footer>{e(block[2])}</footer></blockquote>")
        elif kind == "summary":
            body.append(
                f'<p class="summary"><strong>要約</strong>：{e(text)}<span class="note">（{e(block[2])}）</span></p>'
            )
        elif kind == "definition":
            body.append(f"<p><strong>定義</strong>：{e(text)}</p>")
        else:
            body.append(f'<p class="{kind}">{e(text)}</p>')
    page = (
        f'<!DOCTYPE html>\n<html lang="ja">\n<head>\n<meta charset="utf-8">\n<title>{e(report["meta"]["title"])}'
        f"</title>\n<style>{CSS}</style>\n</head>\n<body>\n" + "\n".join(body) + "\n</body>\n</html>\n"
    )
    out.write_bytes(page.encode("utf-8"))


BODY_FONT, HEADING_FONT = "游明朝", "游ゴシック"  # Yu Mincho / Yu Gothic; Word and LibreOffice substitute if absent


def _docx(report: dict, out: Path, charts: _Charts) -> None:
    from docx import Document
    from docx.enum.table import WD_TABLE_ALIGNMENT
    from docx.shared import Cm, Mm, Pt, RGBColor

    doc = Document()
    section = doc.sections[0]  # A4, as Japanese reports are printed (python-docx's template is US Letter)
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.left_margin = section.right_margin = Mm(25)
    section.top_margin = section.bottom_margin = Mm(25)
    _styles(doc)
    grey = RGBColor(0x59, 0x59, 0x59)
    levels = {"title": 0, "h1": 1, "h2": 2, "h3": 3}
    for block in blocks(report):
        kind, text = block[0], block[1]
        if kind in levels:
            _east_asian(doc.add_heading(xml_text(text), levels[kind]), HEADING_FONT)
        elif kind == "table":
            table = doc.add_table(rows=1 + len(block[2]), cols=len(block[1]))
            table.style, table.alignment = "Table Grid", WD_TABLE_ALIGNMENT.CENTER
            n = len(block[1])  # a wide first column (names), the figures narrow: 16 cm in all
            widths = [Cm(5.2)] + [Cm(10.8 / (n - 1))] * (n - 1) if n > 2 else [Cm(16 / n)] * n
            for i, (row, values) in enumerate(zip(table.rows, [block[1], *block[2]])):
                for cell, value, width in zip(row.cells, values, widths):  # row by row: table.cell(i, j) is slow
                    cell.text, cell.width = xml_text(str(value)), width
                    _east_asian(cell.paragraphs[0], BODY_FONT, bold=i == 0, size=Pt(9.5))
            doc.add_paragraph()
        elif kind == "chart":
            # a code's bars small enough to share a page with its definition and counts
            doc.add_picture(io.BytesIO(charts.png(block[1], block[2])), width=Cm(15.5 if block[2] is None else 11))
            _east_asian(doc.add_paragraph(xml_text(block[3]), style="Caption"), BODY_FONT)
        elif kind == "quote":
            para = doc.add_paragraph(xml_text(text), style="Quote")
            para.paragraph_format.left_indent = Cm(1)
            para.add_run().add_break()
            ref = para.add_run(xml_text(block[2]))
            ref.font.size, ref.font.color.rgb = Pt(8.5), grey
            _east_asian(para, BODY_FONT, italic=False)  # no slanted kana: Japanese fonts have no italics
        else:
            para = doc.add_paragraph()
            if kind in ("definition", "summary"):
                para.add_run({"definition": "定義：", "summary": "要約："}[kind]).bold = True
            run = para.add_run(xml_text(text))
            if kind == "summary":
                para.add_run(f"（{xml_text(block[2])}）").font.color.rgb = grey
            elif kind == "warning":
                run.bold, run.font.color.rgb = True, RGBColor(0xC0, 0x00, 0x00)
            elif kind in ("note", "placeholder"):
                run.font.size, run.font.color.rgb = Pt(9.5), grey
            _east_asian(para, BODY_FONT)
    doc.core_properties.title = report["meta"]["title"]
    doc.core_properties.language = "ja-JP"
    doc.save(out)


def _styles(doc) -> None:
    """East Asian fonts and the Japanese language on the styles the report uses."""
    from docx.oxml.ns import qn

    names = ("Normal", "Title", "Heading 1", "Heading 2", "Heading 3", "Quote", "Caption")
    for style in (s for s in doc.styles if s.type == 1 and s.name in names):  # type 1: paragraph styles
        rpr = style.element.get_or_add_rPr()
        fonts = rpr.get_or_add_rFonts()
        fonts.set(qn("w:eastAsia"), BODY_FONT if style.name in ("Normal", "Quote", "Caption") else HEADING_FONT)
        fonts.attrib.pop(qn("w:eastAsiaTheme"), None)
        lang = rpr.find(qn("w:lang"))
        if lang is None:
            lang = rpr.makeelement(qn("w:lang"), {})
            rpr.append(lang)
        lang.set(qn("w:eastAsia"), "ja-JP")


def _east_asian(para, font: str, bold: bool | None = None, size=None, italic: bool | None = None) -> None:
    """Set the East Asian font (``w:eastAsia``) on every run of ``para``, so Word and LibreOffice draw
    its Japanese in ``font`` whatever the theme says."""
    from docx.oxml.ns import qn

    for run in para.runs:
        fonts = run._element.get_or_add_rPr().get_or_add_rFonts()
        fonts.set(qn("w:eastAsia"), font)
        if bold is not None:
            run.bold = bold
        if italic is not None:
            run.italic = italic
        if size is not None:
            run.font.size = size
