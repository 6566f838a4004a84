"""Quotes by code: a table (CSV, XLSX) with one row per coded segment, and a report in Japanese
(DOCX, Markdown) with a section per code and, within it, the quotes of each perspective."""

from __future__ import annotations

import csv
import re
from collections import defaultdict

from ..db import hhmmss
from ..speakers import PERSPECTIVES
from . import PERSPECTIVE_ORDER, UNCONFIRMED, exporter, scope_text, sheets, xml_text
from .cells import spreadsheet_row

COLUMNS = (  # (CSV header, XLSX header, XLSX column width)
    ("code", "コードID", 20),
    ("code_name", "コード", 30),
    ("perspective", "立場", 8),
    ("case", "事例", 10),
    ("transcript", "トランスクリプト", 18),
    ("speaker", "話者", 10),
    ("text", "発言", 60),
    ("start", "開始（字）", 10),
    ("end", "終了（字）", 10),
    ("start_time", "開始時刻", 13),
    ("end_time", "終了時刻", 13),
    ("coder", "コーダー", 18),
    ("score", "提案スコア", 9),
    ("segment_id", "セグメントID", 13),
    ("memo", "メモ", 40),
)


def records(rows, codebook):
    """The table's rows: one list of values per coded segment × code × coder, as in ``COLUMNS``."""
    for r in rows:
        yield [
            r["code"],
            codebook.code(r["code"]).name,
            PERSPECTIVES.get(r["perspective"], r["perspective"]),
            r["case_name"],
            r["transcript"],
            r["speaker"],
            r["text"],
            r["start"],
            r["end"],
            hhmmss(r["start_time"]),
            hhmmss(r["end_time"]),
            r["coder"],
            None if r["score"] is None else round(r["score"], 3),
            r["segment_id"],
            memo_text(r.get("memos", [])),
        ]


def memo_text(memos: list[dict]) -> str:
    """A segment's memos in one cell: ``author：text``, one memo after another on new lines."""
    return "\n".join(f"{m['author']}：{m['text']}" for m in memos)


@exporter("quotes-csv", ".csv", "quotes", "コード別の引用一覧（CSV）")
def quotes_csv(rows, out, codebook, meta):
    """Writes the quote table as CSV (UTF-8 with BOM): one row per coded segment × code × coder, as in ``COLUMNS``."""
    with open(out, "w", encoding="utf-8-sig", newline="") as f:  # the BOM makes Excel read UTF-8
        writer = csv.writer(f)
        writer.writerow([c[0] for c in COLUMNS])
        writer.writerows(spreadsheet_row(r) for r in records(rows, codebook))


@exporter("quotes-xlsx", ".xlsx", "quotes", "コード別の引用一覧（Excel）")
def quotes_xlsx(rows, out, codebook, meta):
    """Writes the quote table as an XLSX workbook: sheet 引用 (one row per coded segment × code × coder) and 出典."""
    from openpyxl import Workbook

    wb = Workbook()
    wb.active.title = "引用"
    sheets.table(
        wb.active,
        [c[1] for c in COLUMNS],
        records(rows, codebook),
        [c[2] for c in COLUMNS],
        wrap={"発言", "メモ"},
        formats={12: "0.000"},
        note=UNCONFIRMED if meta["unconfirmed"] else None,
    )
    sheets.info(wb, meta, "コード別の引用一覧")
    wb.save(out)


def report(rows, codebook, meta) -> list[tuple[str, str, str]]:
    """The quote report as blocks (kind, text, reference): title, p, warning, code, definition,
    perspective, quote, memo (under its quote; reference = its author). A section per code in
    codebook order, a sub-section per perspective."""
    scope = scope_text(meta)
    blocks = [
        ("title", "コード別引用集", ""),
        (
            "p",
            f"出典：{meta['source_label']}。対象：{scope or 'すべてのインタビュー'}。"
            f"プロジェクト {meta.get('project') or '―'}、コードブック {meta.get('codebook')}、"
            f"{meta.get('generated')} 作成。",
            "",
        ),
    ]
    if meta["unconfirmed"]:
        blocks.append(("warning", UNCONFIRMED, ""))
    quotes = defaultdict(dict)  # code -> segment id -> row, with every coder who applied it there
    for r in rows:
        quotes[r["code"]].setdefault(r["segment_id"], {**r, "coders": []})["coders"].append(r["coder"])
    for code in codebook.codes:
        found = quotes.get(code.id, {}).values()
        if code.status != "active" and not found:  # a retired or merged code nobody's quotes carry
            continue
        title = f"{code.name}（{code.name_en}）" if code.name_en else code.name
        if code.status != "active":
            title += "（廃止" + (f"：{codebook.code(code.merged_into).name} に統合" if code.merged_into else "") + "）"
        blocks += [("code", title, ""), ("definition", _joined(code.definition), "")]
        if not found:
            blocks.append(("p", "このコードが付いた発言はありません。", ""))
        perspectives = [*PERSPECTIVE_ORDER, *sorted({q["perspective"] for q in found} - set(PERSPECTIVE_ORDER))]
        for perspective in perspectives:
            mine = sorted(
                (q for q in found if q["perspective"] == perspective), key=lambda q: (q["transcript"], q["start"])
            )
            if mine:
                blocks.append(("perspective", f"{PERSPECTIVES.get(perspective, perspective)}（{len(mine)} 件）", ""))
                for q in mine:
                    blocks.append(("quote", f"「{q['text']}」", _reference(q, meta)))
                    blocks += [("memo", m["text"], m["author"]) for m in q.get("memos", [])]
    return blocks


def _joined(text: str) -> str:
    """Text folded over lines in the codebook YAML, without the spaces folding left between sentences."""
    return re.sub(r"(?<=[。、」）])\s+", "", text.strip())


def location(q: dict) -> str:
    """Where a quote is, as a reader finds it in the transcript or the recording:
    ``kaede_person・本人・第12発言・00:01:34`` — transcript, speaker, its turn (``q["turn"]``: the turn's
    position among the transcript's turns, from 1) and its start time (hh:mm:ss, when the source has times).
    A row without ``turn`` names its character offsets instead (``468–531字``, code points)."""
    parts = [q["transcript"], q["speaker"]]
    parts.append(f"第{q['turn']}発言" if q.get("turn") else f"{q['start']}–{q['end']}字")
    if q.get("start_time") is not None:
        parts.append(hhmmss(q["start_time"])[:8])  # to the second: where to start listening
    return "・".join(parts)


def _reference(q: dict, meta: dict) -> str:
    """A quote's reference in the DOCX/MD report: its ``location``, then its coders (source ``all``) and,
    for unconfirmed suggestions, the score. (The exact offsets are columns of the CSV/XLSX table.)"""
    parts = [location(q)]
    if meta["source"] == "all":
        parts.append("コーダー " + "、".join(q["coders"]))
    if meta["unconfirmed"] and q["score"] is not None:
        parts.append(f"提案スコア {q['score']:.2f}")
    return "・".join(parts)


MARKDOWN = {
    "title": "# {}",
    "p": "{}",
    "warning": "> **{}**",
    "code": "## {}",
    "definition": "**定義**：{}",
    "perspective": "### {}",
    "quote": "- {}（{}）",
    "memo": "  - メモ（{1}）：{0}",
}


@exporter("quotes-md", ".md", "quotes", "コード別の引用集（Markdown）")
def quotes_md(rows, out, codebook, meta):
    """Writes the quote report (``report``) as Markdown (UTF-8): a section per code, a sub-section per perspective."""
    lines, previous = [], None
    for kind, text, ref in report(rows, codebook, meta):
        if lines and not {kind, previous} <= {"quote", "memo"}:
            lines.append("")  # a blank line between blocks; quotes of one perspective (and their memos) form one list
        if kind == "memo":
            text = text.replace("\n", "\n    ")  # a memo's further lines stay in its list item
        lines.append(MARKDOWN[kind].format(text, ref))
        previous = kind
    out.write_bytes(("\n".join(lines) + "\n").encode("utf-8"))


@exporter("quotes-docx", ".docx", "quotes", "コード別の引用集（Word）")
def quotes_docx(rows, out, codebook, meta):
    """Writes the quote report (``report``) as a Word document (.docx) in Japanese fonts, a heading per code and
    perspective."""
    from docx import Document
    from docx.shared import Pt, RGBColor

    doc = Document()
    _japanese_fonts(doc)
    for kind, text, ref in report(rows, codebook, meta):
        text, ref = xml_text(text), xml_text(ref)  # Word's XML cannot hold stray control characters
        if kind in ("title", "code", "perspective"):
            doc.add_heading(text, {"title": 0, "code": 1, "perspective": 2}[kind])
        elif kind == "quote":
            para = doc.add_paragraph(text)
            para.paragraph_format.left_indent = Pt(12)
            note = para.add_run("\n" + ref)
            note.font.size, note.font.color.rgb = Pt(8.5), RGBColor(0x59, 0x59, 0x59)
        elif kind == "memo":
            para = doc.add_paragraph()
            para.paragraph_format.left_indent = Pt(24)
            para.add_run(f"メモ（{ref}）：").bold = True
            para.add_run(text).font.color.rgb = RGBColor(0x1F, 0x4E, 0x79)
        else:
            para = doc.add_paragraph()
            if kind == "definition":
                para.add_run("定義：").bold = True
            run = para.add_run(text)
            if kind == "warning":
                run.bold, run.font.color.rgb = True, RGBColor(0xC0, 0x00, 0x00)
    doc.save(out)


def _japanese_fonts(doc) -> None:
    """Japanese text in Mincho (body) and Gothic (headings), marked as Japanese for line breaking."""
    from docx.oxml.ns import qn

    for style in doc.styles:
        if style.type != 1 or style.name not in ("Normal", "Title", *(f"Heading {i}" for i in range(1, 4))):
            continue  # type 1: paragraph styles
        rpr = style.element.get_or_add_rPr()
        fonts = rpr.get_or_add_rFonts()
        fonts.set(qn("w:eastAsia"), "游明朝" if style.name == "Normal" else "游ゴシック")
        fonts.attrib.pop(qn("w:eastAsiaTheme"), None)
        lang = rpr.find(qn("w:lang"))
        if lang is None:
            lang = rpr.makeelement(qn("w:lang"), {})
            rpr.append(lang)
        lang.set(qn("w:eastAsia"), "ja-JP")
