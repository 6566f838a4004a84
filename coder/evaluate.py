"""Precision, recall and F1 of predicted code labels against gold labels."""

from __future__ import annotations

from .codebook import core_ids


def evaluate(
    gold: dict[str, set[str]], pred: dict[str, set[str]], codes: list[str], core: list[str] | None = None
) -> dict:
    """Per-code P/R/F1 and micro/macro F1 over the core codes and over all ``codes``.

    ``gold`` and ``pred`` map item id → set of code ids; items missing from ``pred`` count as
    predicted empty. ``core``: the ids of the codebook's core codes (``codebook.core_ids(book)``),
    by default the default codebook's.
    """
    core = core_ids() if core is None else core
    per_code = {}
    for code in codes:
        tp = sum(1 for i, g in gold.items() if code in g and code in pred.get(i, set()))
        fp = sum(1 for i, g in gold.items() if code not in g and code in pred.get(i, set()))
        fn = sum(1 for i, g in gold.items() if code in g and code not in pred.get(i, set()))
        p = tp / (tp + fp) if tp + fp else 0.0
        r = tp / (tp + fn) if tp + fn else 0.0
        per_code[code] = {
            "precision": p,
            "recall": r,
            "f1": 2 * p * r / (p + r) if p + r else 0.0,
            "support": tp + fn,
            "tp": tp,
            "fp": fp,
            "fn": fn,
        }
    summary = {}
    for name, group in (("core", [c for c in codes if c in core]), ("all", codes)):
        if not group:
            continue
        tp, fp, fn = (sum(per_code[c][k] for c in group) for k in ("tp", "fp", "fn"))
        micro = 2 * tp / (2 * tp + fp + fn) if tp else 0.0
        summary[name] = {
            "micro_f1": micro,
            "macro_f1": sum(per_code[c]["f1"] for c in group) / len(group),
            "codes": group,
        }
    return {"items": len(gold), "per_code": per_code, "summary": summary}


def to_text(result: dict) -> str:
    """``evaluate``'s result as the table ``coder evaluate`` prints (no final newline): per code P, R,
    F1 (two decimals) and support, then micro- and macro-F1 of each summary (core, all)."""
    lines = [f"{'code':20} {'P':>5} {'R':>5} {'F1':>5} {'n':>4}"]
    for code, m in result["per_code"].items():
        lines.append(f"{code:20} {m['precision']:5.2f} {m['recall']:5.2f} {m['f1']:5.2f} {m['support']:>4}")
    for name, s in result["summary"].items():
        lines.append(f"{name:20} micro-F1 {s['micro_f1']:.3f}  macro-F1 {s['macro_f1']:.3f}")
    return "\n".join(lines)


def read_labels(path, field: str) -> dict[str, set[str]]:
    """``{id: set(codes)}`` from a JSONL file's ``field`` ("codes" for gold, "labels" for predictions)."""
    import json

    from .errors import CoderError
    from .jsonl import read_lines

    out = {}
    try:
        numbered = list(read_lines(path))
    except (OSError, UnicodeDecodeError) as exc:
        raise CoderError(f"{path}: cannot read: {exc}") from exc
    for n, line in numbered:
        try:
            row = json.loads(line)
            out[str(row["id"])] = set(row[field])
        except (ValueError, KeyError, TypeError) as exc:
            raise CoderError(f'{path}, line {n}: expected {{"id": …, "{field}": [codes]}}: {exc}') from exc
    return out
