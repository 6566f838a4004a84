"""Attributes of cases and transcripts (障害種別, 利用サービス, 年代, 地域, 企業規模 …).

One value per (scope, target, name) in the ``attributes`` table: ``scope`` is ``case`` or
``transcript``, ``target`` the case name or the transcript id as text. A transcript's effective
attributes are its case's, overridden by its own (``effective``); the matrix and agreement group
segments by them with ``by="attr:NAME"``.

A table of values comes from a CSV (UTF-8 with or without BOM, CP932 …: ``coder.decode``) or an XLSX
file whose first column is headed ``transcript`` (a transcript's name or id) or ``case`` (a case
name), then one column per attribute. ``import_table`` writes all of it in one transaction or
nothing: an unknown transcript or case is refused with the file, row and value. An empty cell is
left out (an existing value stays); ``set_value`` with an empty value removes one. Every change is
an ``events`` row (action ``attribute``) in the same transaction.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

from . import db as store
from .errors import CoderError, NotFound

SCOPES = ("case", "transcript")
SCOPES_JA = {"case": "事例", "transcript": "トランスクリプト"}
HEADERS = {"transcript": "transcript", "トランスクリプト": "transcript", "case": "case", "事例": "case"}
EVENT = "attribute"  # events.action of an attribute change
PREFIX = "attr:"  # a matrix/agreement grouping by an attribute: ``attr:障害種別``
NONE = "―"  # the row of segments whose transcript has no value


@dataclass
class AttributeImport:
    """What ``import_table`` did: (scope, target label, name, value) per set/changed/unchanged value;
    ``left_out``: (row, name) of empty cells."""

    file: str
    scope: str
    set: list[tuple] = field(default_factory=list)
    changed: list[tuple] = field(default_factory=list)
    unchanged: list[tuple] = field(default_factory=list)
    left_out: list[tuple[int, str]] = field(default_factory=list)

    def summary(self) -> list[str]:
        """The report as lines for the CLI (and the web's flash message)."""
        lines = [
            f"{self.file}: {len(self.set)} value(s) set, {len(self.changed)} changed, "
            f"{len(self.unchanged)} unchanged, {len(self.left_out)} empty cell(s) left out"
        ]
        lines += [f"  set {label} {name} = {value}" for _, label, name, value in self.set]
        lines += [f"  changed {label} {name}: {old} → {value}" for _, label, name, value, old in self.changed]
        return lines


def _text(value) -> str:
    """A cell as text: numbers without a spurious ``.0``, dates as ISO dates, text stripped."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == datetime.min.time() else value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return str(value).strip()


def read_table(path: str | Path, name: str | None = None) -> list[list[str]]:
    """The rows of a CSV or XLSX file as text (the header first); ``CoderError`` names the file
    (as ``name``, e.g. an uploaded file's own name, if given)."""
    path, label = Path(path), name or str(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise CoderError(
            f"{label}: cannot read file: {exc.strerror or exc}",
            ja=f"{label}：ファイルを読めません（{exc.strerror or exc}）",
        ) from exc
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        from openpyxl import load_workbook

        try:
            sheet = load_workbook(io.BytesIO(data), read_only=True, data_only=True).worksheets[0]
        except Exception as exc:  # openpyxl raises zipfile, KeyError, InvalidFileException …
            raise CoderError(
                f"{label}: not a readable .xlsx workbook ({exc})",
                ja=f"{label}：Excel のブック（.xlsx）として読めません（壊れているか、別の形式のファイルです）",
            ) from exc
        rows = [[_text(v) for v in row] for row in sheet.iter_rows(values_only=True)]
    else:
        from .decode import decode

        text, _ = decode(data, label)
        rows = [[_text(v) for v in row] for row in csv.reader(io.StringIO(text))]
    return [row for row in rows if any(row)]


def _transcript_ids(db) -> dict[str, int]:
    """Transcript name → id, and id as text → id (a name wins over another transcript's id)."""
    rows = list(db.query("select id, name from transcripts"))
    return {**{str(r["id"]): r["id"] for r in rows}, **{r["name"]: r["id"] for r in rows}}


def cases(db) -> list[str]:
    """The project's case names, sorted."""
    return sorted(r["case_name"] for r in db.query("select distinct case_name from transcripts") if r["case_name"])


def _target(db, scope: str, ref) -> str:
    """The stored ``target`` of a case name or a transcript (name or id); ``NotFound`` if unknown."""
    if scope not in SCOPES:
        raise CoderError(
            f"scope must be case or transcript, not {scope!r}",
            ja=f"属性の対象は事例（case）かトランスクリプト（transcript）です（「{scope}」は使えません）",
        )
    if scope == "transcript":
        return str(store.find_transcript(db, ref)["id"])
    if ref not in cases(db):
        raise NotFound(
            f"no case {ref!r} in this project (have: {', '.join(cases(db)) or 'none'})",
            ja=f"事例「{ref}」はこのプロジェクトにありません（あるもの：{'、'.join(cases(db)) or 'なし'}）",
        )
    return str(ref)


def _write(db, scope: str, target: str, name: str, value: str | None, user: str, at: str, source: str | None = None):
    """Set (or with ``value`` None remove) one value and log it; return the old value. Call inside a transaction."""
    row = db.execute(
        "select id, value from attributes where scope = ? and target = ? and name = ?", [scope, target, name]
    ).fetchone()
    old = row[1] if row else None
    if old == value:
        return old
    if value is None:
        db.execute("delete from attributes where id = ?", [row[0]])
    elif row:
        db.execute("update attributes set value = ?, updated_at = ? where id = ?", [value, at, row[0]])
    else:
        db["attributes"].insert({"scope": scope, "target": target, "name": name, "value": value, "updated_at": at})
    detail = {"scope": scope, "target": target, "name": name, "old": old, "new": value}
    if source:
        detail["file"] = source
    store.log_event(db, at, user, EVENT, detail)
    return old


def set_value(db, scope: str, ref, name: str, value: str | None, *, user: str) -> str | None:
    """Set attribute ``name`` of a case (name) or transcript (name or id) to ``value``; an empty
    ``value`` (or None) removes it. Returns the old value (None if there was none)."""
    name, value = (name or "").strip(), (value or "").strip() or None
    if not name:
        raise CoderError("an attribute needs a name", ja="属性の名前を入力してください")
    target = _target(db, scope, ref)
    with store.immediate(db):
        return _write(db, scope, target, name, value, user, store.now())


def put_values(db, values: list[tuple[str, str, str, str]], *, user: str, source: str | None = None) -> int:
    """Write ``(scope, target, name, value)`` rows (targets as stored: case name, transcript id as
    text) in the caller's transaction, as the REFI-QDA import does; return how many changed."""
    at, changed = store.now(), 0
    for scope, target, name, value in values:
        value = _text(value) or None
        if name.strip() and value and _write(db, scope, target, name.strip(), value, user, at, source) != value:
            changed += 1
    return changed


def import_table(db, path: str | Path, *, user: str, name: str | None = None) -> AttributeImport:
    """Import a CSV/XLSX table of attributes (see the module docstring) in one transaction.

    Raises ``CoderError`` naming the file (``name``, else ``path``) — with the row number and value
    of every unknown transcript or case — and writes nothing when the table cannot be taken whole."""
    rows = read_table(path, name)
    path = Path(name or path)
    if not rows:
        raise CoderError(f"{path}: the file is empty", ja=f"{path}：ファイルが空です")
    header = rows[0]
    scope = HEADERS.get(header[0].strip().lstrip("\ufeff").lower())
    if scope is None:
        raise CoderError(
            f"{path}: the first column must be headed 'transcript' (a transcript's name or id) or "
            f"'case' (a case name), not {header[0]!r}",
            ja=f"{path}：1列目の見出しは transcript（トランスクリプトの名前か ID）"
            f"または case（事例の名前）にしてください（いまは「{header[0]}」です）",
        )
    columns = [h.strip() for h in header[1:]]
    problems = [
        f"column {i + 2} has values but no name"
        for i, c in enumerate(columns)
        if not c and any(len(r) > i + 1 and r[i + 1] for r in rows[1:])
    ]
    problems += [f"column {c!r} appears twice" for c in sorted({c for c in columns if c and columns.count(c) > 1})]
    problems_ja = [
        f"{i + 2}列目に値がありますが、見出し（属性の名前）がありません"
        for i, c in enumerate(columns)
        if not c and any(len(r) > i + 1 and r[i + 1] for r in rows[1:])
    ]
    problems_ja += [f"見出し「{c}」が2回あります" for c in sorted({c for c in columns if c and columns.count(c) > 1})]
    known = _transcript_ids(db) if scope == "transcript" else {c: c for c in cases(db)}
    for number, row in enumerate(rows[1:], 2):
        if row[0] not in known:
            problems.append(f"row {number}: no {scope} {row[0]!r} in this project")
            problems_ja.append(f"{number}行目：{SCOPES_JA[scope]}「{row[0]}」はこのプロジェクトにありません")
    if problems:
        raise CoderError(
            f"{path}: nothing was imported: " + "; ".join(problems), ja=f"{path}：" + "。".join(problems_ja) + "。"
        )
    report, at = AttributeImport(file=str(path), scope=scope), store.now()
    with store.immediate(db):
        for number, row in enumerate(rows[1:], 2):
            target = str(known[row[0]])
            for column, value in zip(columns, row[1:]):
                if not column:
                    continue
                if not value:
                    report.left_out.append((number, column))
                    continue
                old = _write(db, scope, target, column, value, user, at, str(path.name))
                if old is None:
                    report.set.append((scope, row[0], column, value))
                elif old != value:
                    report.changed.append((scope, row[0], column, value, old))
                else:
                    report.unchanged.append((scope, row[0], column, value))
    return report


def list_attributes(db) -> list[dict]:
    """Every stored value: scope, target, label (case name or transcript name), name, value, updated_at."""
    return list(
        db.query("""
        select a.scope, a.target, coalesce(t.name, a.target) as label, a.name, a.value, a.updated_at
        from attributes a left join transcripts t on a.scope = 'transcript' and cast(t.id as text) = a.target
        order by a.scope, label, a.name""")
    )


def names(db) -> list[str]:
    """Attribute names in use, sorted."""
    return [r["name"] for r in db.query("select distinct name from attributes order by name")]


def effective(db) -> dict[int, dict[str, str]]:
    """Transcript id → its attributes: its case's values, overridden by its own."""
    by_case: dict[str, dict[str, str]] = {}
    own: dict[str, dict[str, str]] = {}
    for r in db.query("select scope, target, name, value from attributes"):
        (by_case if r["scope"] == "case" else own).setdefault(r["target"], {})[r["name"]] = r["value"]
    return {
        r["id"]: {**by_case.get(r["case_name"] or "", {}), **own.get(str(r["id"]), {})}
        for r in db.query("select id, case_name from transcripts")
    }


def grouping(db, by: str) -> str | None:
    """The attribute name of a grouping ``attr:NAME`` (None for any other grouping)."""
    if not by.startswith(PREFIX):
        return None
    name = by[len(PREFIX) :].strip()
    if not name:
        raise CoderError(
            "--by attr:NAME needs an attribute name (see `coder attributes`)",
            ja="属性で比べるには属性の名前が必要です（attr:名前）",
        )
    return name


def check_name(db, by: str) -> str:
    """The attribute name of ``attr:NAME``; ``NotFound`` listing the names in use if no value has it."""
    name = grouping(db, by)
    if name not in names(db):
        raise NotFound(
            f"no attribute {name!r} in this project (have: {', '.join(names(db)) or 'none'}; see `coder attributes`)",
            ja=f"属性「{name}」はこのプロジェクトにありません（あるもの：{'、'.join(names(db)) or 'なし'}）",
        )
    return name


def label_units(db, units: list[dict], by: str) -> None:
    """Give each unit (a dict with ``transcript_id``) the value of attribute ``attr:NAME`` under key
    ``by``: its transcript's own value, else its case's, else None (the ``―`` row)."""
    name = grouping(db, by)
    values = effective(db)
    for u in units:
        u[by] = values.get(u["transcript_id"], {}).get(name)


def filter_units(db, units: list[dict], where: dict[str, str]) -> list[dict]:
    """The units (dicts with ``transcript_id``) whose transcript has every attribute value in
    ``where`` ({name: value}; a case's value counts for its transcripts)."""
    keep = transcripts_where(db, where)
    return [u for u in units if u["transcript_id"] in keep]


def parse_attribute(text: str) -> tuple[str, str]:
    """``NAME=VALUE`` → (NAME, VALUE); ``CoderError`` without a ``=`` or a name."""
    name, sep, value = text.partition("=")
    if not sep or not name.strip():
        raise CoderError(
            f"attribute filter {text!r} is not NAME=VALUE (e.g. 年代=30代)",
            ja=f"属性での絞り込み「{text}」は「名前=値」の形になっていません（例：年代=30代）",
        )
    return name.strip(), value.strip()


def parse_filters(pairs) -> dict[str, str]:
    """``["NAME=VALUE", …]`` (or one such string) → ``{NAME: VALUE}``; ``CoderError`` for an item
    without ``=`` or a name. Empty items are skipped, so an unset form field filters nothing."""
    pairs = [pairs] if isinstance(pairs, str) else list(pairs or ())
    return dict(parse_attribute(p) for p in pairs if p and p.strip())


def transcripts_where(db, where: dict[str, str]) -> set[int]:
    """Ids of the transcripts that have every attribute value in ``where`` (a case's value counts for
    its transcripts); ``NotFound`` for an attribute name no value has."""
    for name in where:
        check_name(db, PREFIX + name)
    return {tid for tid, values in effective(db).items() if all(values.get(k) == v for k, v in where.items())}


def pairs(db) -> list[str]:
    """Every ``NAME=VALUE`` in use, sorted: the choices of an attribute filter."""
    return [
        f"{r['name']}={r['value']}"
        for r in db.query(
            "select distinct name, value from attributes where value is not null and value != '' order by name, value"
        )
    ]


def table(db) -> dict:
    """The attributes page: ``names`` and ``rows`` (scope, ref, label, values {name: value}), cases first."""
    stored: dict[tuple[str, str], dict[str, str]] = {}
    for r in db.query("select scope, target, name, value from attributes"):
        stored.setdefault((r["scope"], r["target"]), {})[r["name"]] = r["value"]
    rows = [{"scope": "case", "ref": c, "label": c, "values": stored.get(("case", c), {})} for c in cases(db)]
    rows += [
        {
            "scope": "transcript",
            "ref": str(r["id"]),
            "label": r["name"],
            "case": r["case_name"],
            "values": stored.get(("transcript", str(r["id"])), {}),
        }
        for r in db.query("select id, name, case_name from transcripts order by id")
    ]
    return {"names": names(db), "rows": rows}
