"""The perspective × code matrix as a table: CSV and Markdown (``coder.matrix``'s own renderings)
and an XLSX workbook with a count sheet and a quote sheet."""

from __future__ import annotations

from ..db import hhmmss
from ..matrix import row_noun
from ..speakers import PERSPECTIVES
from . import UNCONFIRMED, exporter, sheets

ROWS = {"perspective": "立場", "case": "事例", "transcript": "トランスクリプト"}  # what a matrix row is
MEASURES = (("segments", "セグメント数", None), ("interviewees", "話者数", None), ("share", "割合", "0%"))


@exporter("matrix-csv", ".csv", "matrix", "立場 × コード マトリクス（CSV）")
def matrix_csv(matrix, out, codebook, meta):
    """Writes the matrix as CSV (``coder.matrix.to_csv``; UTF-8 with BOM)."""
    from ..matrix import to_csv

    out.write_bytes(to_csv(matrix, codebook).encode("utf-8-sig"))  # the BOM makes Excel read UTF-8


@exporter("matrix-md", ".md", "matrix", "立場 × コード マトリクス（Markdown）")
def matrix_md(matrix, out, codebook, meta):
    """Writes the matrix as Markdown (``coder.matrix.to_markdown``; UTF-8)."""
    from ..matrix import to_markdown

    out.write_bytes(to_markdown(matrix, codebook).encode("utf-8"))


@exporter("matrix-xlsx", ".xlsx", "matrix", "立場 × コード マトリクス（Excel）")
def matrix_xlsx(matrix, out, codebook, meta):
    """Writes the matrix as an XLSX workbook: sheets 集計 (counts, p values), 引用 (quotes), 要約 (cell
    summaries, when attached), 図 (charts) and 出典."""
    from openpyxl import Workbook

    label = (lambda k: PERSPECTIVES.get(k, k)) if matrix["by"] == "perspective" else str
    note = UNCONFIRMED if matrix["unconfirmed"] else None
    wb = Workbook()
    wb.active.title = "集計"
    header = ["コード"] + [f"{label(k)}\n{name}" for k in matrix["rows"] for _, name, _ in MEASURES] + ["p値（探索的）"]
    counts = [
        [codebook.code(code).name]
        + [matrix["cells"][k][code][m] for k in matrix["rows"] for m, _, _ in MEASURES]
        + [matrix["tests"].get(code, {}).get("p")]
        for code in matrix["codes"]
    ]
    counts.append(
        ["対象セグメント数"]
        + [matrix["totals"][k] if m == "segments" else None for k in matrix["rows"] for m, _, _ in MEASURES]
        + [None]
    )
    formats = {1 + i: fmt for i in range(len(matrix["rows"]) * len(MEASURES)) if (fmt := MEASURES[i % 3][2])}
    sheets.table(
        wb.active,
        header,
        counts,
        [40] + [11] * (len(header) - 2) + [12],
        formats=formats | {len(header) - 1: "0.000"},
        note=note,
    )
    quotes = wb.create_sheet("引用")
    rows = [
        [
            label(k),
            code,
            codebook.code(code).name,
            rank,
            q["text"],
            q["transcript"],
            q["speaker"],
            q["start"],
            q["end"],
            hhmmss(q["start_time"]),
            q["case"],
            q["segment_id"],
        ]
        for k in matrix["rows"]
        for code in matrix["codes"]
        for rank, q in enumerate(matrix["cells"][k][code]["quotes"], 1)
    ]
    sheets.table(
        quotes,
        [
            ROWS.get(matrix["by"], matrix["by"]),
            "コードID",
            "コード",
            "順位",
            "発言",
            "トランスクリプト",
            "話者",
            "開始（字）",
            "終了（字）",
            "開始時刻",
            "事例",
            "セグメントID",
        ],
        rows,
        [12, 20, 30, 6, 60, 18, 10, 10, 10, 13, 10, 13],
        wrap={"発言"},
        note=note,
    )
    if "summaries" in matrix:  # coder.summaries.for_matrix, attached by coder.export.run
        _summary_sheet(wb.create_sheet("要約"), matrix, codebook, label)
    _chart_sheet(wb.create_sheet("図"), matrix, codebook)
    sheets.info(wb, meta, f"{row_noun(matrix['by'])} × コード マトリクス")
    wb.save(out)


def _summary_sheet(ws, matrix, codebook, label) -> None:
    """One line per cell that has a summary: row, code, summary, linked segments (ids and where), author, date."""
    from ..summaries import refs_text

    rows = [
        [
            label(k),
            code,
            codebook.code(code).name,
            s["text"],
            ", ".join(map(str, s["segments"])),
            refs_text(s),
            s["author"],
            s["updated_at"],
        ]
        for k in matrix["rows"]
        for code in matrix["codes"]
        if (s := matrix["summaries"].get(k, {}).get(code))
    ]
    rows += [
        [
            label(s["row"]) + "（この出典では未コーディング）",
            s["code"],
            codebook.code(s["code"]).name,
            s["text"],
            ", ".join(map(str, s["segments"])),
            refs_text(s),
            s["author"],
            s["updated_at"],
        ]
        for s in matrix.get("off_summaries", [])
    ]
    sheets.table(
        ws,
        [
            row_noun(matrix["by"]),
            "コードID",
            "コード",
            "要約",
            "根拠のセグメントID",
            "根拠の発言",
            "作成者",
            "更新日時",
        ],
        rows,
        [12, 20, 30, 70, 16, 40, 12, 22],
        wrap={"要約", "根拠の発言"},
    )


def _chart_sheet(ws, matrix, codebook) -> None:
    """The heatmap and the per-code bars (``coder.charts``) as pictures, one under the other."""
    import io

    from openpyxl.drawing.image import Image

    from .. import charts

    row = 1
    for draw in (charts.heatmap, charts.bars):
        png = io.BytesIO()
        draw(matrix, codebook, png, "png")
        png.seek(0)
        image = Image(png)
        image.width, image.height = image.width * 0.6, image.height * 0.6  # 150 dpi drawn, shown at 90
        ws.add_image(image, f"A{row}")
        row += int(image.height / 20) + 2  # default rows are 20 px high
