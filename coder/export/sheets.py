"""Shared layout for the XLSX exports (openpyxl): a filterable table sheet and a source sheet."""

from __future__ import annotations

import unicodedata

from . import UNCONFIRMED, xml_text
from .cells import spreadsheet_cell

HEADER_FILL = "DDE4EE"
WARNING_COLOR = "C00000"


def table(
    ws,
    header: list[str],
    rows,
    widths: list[int],
    wrap: set[str] = frozenset(),
    formats: dict[int, str] | None = None,
    note: str | None = None,
) -> None:
    """``header`` in bold (frozen, with an autofilter) above ``rows``; ``wrap`` names the columns whose
    text wraps; ``formats`` maps a column number (0-based) to an Excel number format; ``note``, if
    given, goes in red on a row of its own above the header."""
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    if note:
        append(ws, [note])
        ws.cell(row=1, column=1).font = Font(bold=True, color=WARNING_COLOR)
    append(ws, header)
    top = ws.max_row
    ws.row_dimensions[top].height = 15 * max(str(h).count("\n") + 1 for h in header) + 4
    for cell in ws[top]:
        cell.font = Font(bold=True)
        cell.fill = PatternFill("solid", fgColor=HEADER_FILL)
        cell.alignment = Alignment(wrap_text=True, vertical="center")
    for row in rows:
        append(ws, row)
    wrapped = {i for i, name in enumerate(header) if name in wrap}
    for i, width in enumerate(widths):
        ws.column_dimensions[get_column_letter(i + 1)].width = width
    for row in ws.iter_rows(min_row=top + 1):
        lines = 1
        for i, cell in enumerate(row):
            cell.alignment = Alignment(wrap_text=i in wrapped, vertical="top")
            if i in wrapped:
                lines = max(lines, -(-_width(cell.value) // max(widths[i] - 1, 1)))
            if formats and i in formats:
                cell.number_format = formats[i]
        if lines > 1:  # spreadsheet programs do not all fit row heights to wrapped text on opening
            ws.row_dimensions[row[0].row].height = 17 * lines + 3
    ws.freeze_panes = ws.cell(row=top + 1, column=1)
    ws.auto_filter.ref = f"A{top}:{get_column_letter(len(header))}{ws.max_row}"
    ws.print_title_rows = f"{top}:{top}"
    landscape(ws)


def append(ws, values) -> None:
    """Append ``values`` as a row of text and numbers, never formulas: strings pass through ``xml_text``
    and ``cells.spreadsheet_cell`` (a quote ``'`` before a leading ``=``, ``+``, ``-``, ``@``, tab or
    carriage return), and every cell is stored as a value, whatever openpyxl guessed."""
    ws.append([spreadsheet_cell(xml_text(v)) for v in values])
    for cell in ws[ws.max_row]:
        if cell.data_type == "f":
            cell.data_type = "s"


def _width(value) -> int:
    """Display width in spreadsheet column units: full-width (Japanese) characters count twice."""
    return sum(2 if unicodedata.east_asian_width(ch) in "FW" else 1 for ch in str(value or ""))


def landscape(ws) -> None:
    """Print across the page width (landscape, as many pages down as needed)."""
    ws.page_setup.orientation = "landscape"
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.page_setup.fitToWidth, ws.page_setup.fitToHeight = 1, 0


def info(wb, meta: dict, title: str) -> None:
    """A last sheet 出典 naming what was exported, from which source and project, and when."""
    from openpyxl.styles import Font

    ws = wb.create_sheet("出典")
    rows = [
        ("内容", title),
        ("出典", meta["source_label"]),
        ("事例", meta.get("case") or "すべて"),
        ("トランスクリプト", str(meta["transcript"]) if meta.get("transcript") is not None else "すべて"),
        *((("属性", "、".join(f"{k}={v}" for k, v in meta["where"].items())),) if meta.get("where") else ()),
        ("プロジェクト", meta.get("project", "")),
        ("コードブック", meta.get("codebook", "")),
        ("作成日", meta.get("generated", "")),
    ]
    if meta.get("unconfirmed"):
        rows.append(("注意", UNCONFIRMED))
    for row in rows:
        append(ws, row)
    for cell in ws["A"]:
        cell.font = Font(bold=True)
    if meta.get("unconfirmed"):
        ws.cell(row=ws.max_row, column=2).font = Font(bold=True, color=WARNING_COLOR)
    ws.column_dimensions["A"].width = 18
    ws.column_dimensions["B"].width = 80
