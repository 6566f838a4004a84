"""Memo reports: every memo the exporting user may see (``coder.memos.visible``), as a Markdown
report grouped by kind or as a CSV table."""

from __future__ import annotations

import csv

from ..memos import as_markdown
from . import exporter, scope_text
from .cells import spreadsheet_row

COLUMNS = (
    ("id", "id"),
    ("kind", "kind"),
    ("author", "author"),
    ("created_at", "created_at"),
    ("updated_at", "updated_at"),
    ("transcript", "transcript"),
    ("case", "case_name"),
    ("segment_id", "segment_id"),
    ("segment_text", "segment_text"),
    ("code", "code"),
    ("text", "text"),
)


@exporter("memos-md", ".md", "memos", "メモの一覧（Markdown）")
def memos_md(memos, out, codebook, meta):
    """Writes the memos as a Markdown report (UTF-8; ``coder.memos.as_markdown``), titled with the export's scope."""
    scope = scope_text(meta)
    title = "メモ" + (f"（{scope}）" if scope else "")
    out.write_bytes(as_markdown(memos, title).encode("utf-8"))


@exporter("memos-csv", ".csv", "memos", "メモの一覧（CSV）")
def memos_csv(memos, out, codebook, meta):
    """Writes the memos as a CSV table (UTF-8 with BOM): one row per memo, columns as in ``COLUMNS``."""
    with open(out, "w", encoding="utf-8-sig", newline="") as f:  # the BOM makes Excel read UTF-8
        writer = csv.writer(f)
        writer.writerow([c[0] for c in COLUMNS])
        writer.writerows(spreadsheet_row([m[key] for _, key in COLUMNS]) for m in memos)
