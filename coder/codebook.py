"""Load, validate and describe a codebook (YAML).

The default codebook is ``codebook/renkei.yaml``; ``--codebook PATH`` takes any file
of the same shape. Validation uses JSON Schema; every error names the file, the
code and the field.
"""

from __future__ import annotations

from dataclasses import MISSING, fields
from functools import cache
from pathlib import Path

import yaml

from .errors import CoderError
from .types import Code, Codebook, Rule

DEFAULT = Path(__file__).resolve().parent.parent / "codebook" / "renkei.yaml"


def core_ids(codebook: Codebook | None = None) -> list[str]:
    """Ids of the core codes (``group: core``) of ``codebook`` — by default the default codebook's — in
    codebook order. ``CoderError`` if the default codebook cannot be read."""
    if codebook is None:
        return list(_default_core_ids())
    return [c.id for c in codebook.codes if c.group == "core"]


@cache
def _default_core_ids() -> tuple[str, ...]:
    return tuple(core_ids(load_codebook()))


def __getattr__(name: str):
    # CORE_IDS: the default codebook's core ids (a new list each time), read when first asked for, not at import
    if name == "CORE_IDS":
        return core_ids()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


_TEXTS = {"type": "array", "items": {"type": "string", "minLength": 1}}
_RULE = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "phrases": {"type": "array", "items": {"type": "string", "minLength": 1}, "minItems": 1},
        "pattern": {"type": "array", "items": {"type": "object"}, "minItems": 1},
        "near": {
            "type": "array",
            "minItems": 2,
            "maxItems": 2,
            "items": {"type": "array", "items": {"type": "string", "minLength": 1}, "minItems": 1},
        },
        "window": {"type": "integer", "minimum": 1, "maximum": 40},
        "unless": {"type": "array", "items": {"type": "string", "minLength": 1}},
        "negatable": {"type": "boolean"},
        "label": {"type": "string"},
        "weight": {"type": "number", "minimum": -5, "maximum": 5, "not": {"const": 0}},
    },
    "oneOf": [{"required": ["phrases"]}, {"required": ["pattern", "label"]}, {"required": ["near", "label"]}],
}
SCHEMA = {
    "type": "object",
    "required": ["id", "version", "title", "codes"],
    "properties": {
        "id": {"type": "string", "pattern": "^[a-z][a-z0-9_]*$"},
        "version": {"type": "string", "minLength": 1},
        "title": {"type": "string"},
        "title_en": {"type": "string"},
        "unit": {"type": "string"},
        "codes": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["id", "name", "group", "definition"],
                "properties": {
                    "id": {"type": "string", "pattern": "^[a-z][a-z0-9_]*$"},
                    "name": {"type": "string", "minLength": 1},
                    "name_en": {"type": "string", "minLength": 1},
                    "group": {"enum": ["core", "further"]},
                    "definition": {"type": "string", "minLength": 1},
                    "definition_en": {"type": "string"},
                    "use_when": _TEXTS,
                    "do_not_use_when": _TEXTS,
                    "examples": {**_TEXTS, "maxItems": 6},
                    "rules": {"type": "array", "items": _RULE},
                    # Optional, written by the project's codebook editor (coder/codebook_edit.py).
                    "parent": {"type": ["string", "null"], "pattern": "^[a-z][a-z0-9_]*$"},
                    "color": {"type": ["string", "null"], "pattern": "^#[0-9a-fA-F]{6}$"},
                    "status": {"enum": ["active", "retired"]},
                    "merged_into": {"type": ["string", "null"], "pattern": "^[a-z][a-z0-9_]*$"},
                    "origin": {"enum": ["project"]},
                },
                # A code written in the file carries full guidance; one added in the project (origin:
                # project) may start with a name and a definition only.
                "if": {"required": ["origin"]},
                "else": {
                    "required": ["name_en", "use_when", "examples", "rules"],
                    "properties": {"use_when": {"minItems": 1}, "examples": {"minItems": 3}},
                },
            },
        },
    },
}


def load_codebook(path: str | Path | None = None) -> Codebook:
    """Read and validate a codebook; CoderError names the file, the code and the field."""
    path = Path(path or DEFAULT)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise CoderError(f"{path}: cannot read codebook: {exc}") from exc
    return from_dict(data, str(path))


def from_dict(data, path: str = "") -> Codebook:
    """A validated ``Codebook`` from a document of ``SCHEMA`` (a parsed YAML file, or a stored
    version of the project's codebook); CoderError names ``path``, the code and the field."""
    import jsonschema

    errors = sorted(jsonschema.Draft202012Validator(SCHEMA).iter_errors(data), key=lambda e: list(e.absolute_path))
    if errors:
        raise CoderError(
            f"{path}: invalid codebook:\n" + "\n".join(f"  {_where(data, e)}: {e.message}" for e in errors[:20])
        )
    ids = [c["id"] for c in data["codes"]]
    dupes = sorted({i for i in ids if ids.count(i) > 1})
    if dupes:
        raise CoderError(f"{path}: invalid codebook: duplicate code id(s) {', '.join(dupes)}")
    codes = [Code(**{**c, "rules": [Rule(**r) for r in c.get("rules", [])]}) for c in data["codes"]]
    unknown = sorted(
        {c.parent for c in codes if c.parent} - set(ids) | {c.merged_into for c in codes if c.merged_into} - set(ids)
    )
    if unknown:
        raise CoderError(f"{path}: invalid codebook: parent or merged_into names no code: {', '.join(unknown)}")
    return Codebook(
        id=data["id"],
        version=str(data["version"]),
        title=data["title"],
        codes=codes,
        path=str(path),
        title_en=data.get("title_en", ""),
        unit=data.get("unit", ""),
    )


def to_dict(codebook: Codebook) -> dict:
    """The codebook as a document of ``SCHEMA`` (what ``from_dict`` reads back): optional fields
    left at their defaults are left out, so a file-based code stays as it was written."""
    top = {"id": codebook.id, "version": codebook.version, "title": codebook.title}
    top |= {k: v for k, v in (("title_en", codebook.title_en), ("unit", codebook.unit)) if v}
    return {**top, "codes": [_code_dict(c) for c in codebook.codes]}


def _code_dict(code: Code) -> dict:
    out = {}
    for f in fields(Code):
        value = getattr(code, f.name)
        if f.name == "rules":
            value = [_rule_dict(r) for r in value]
        keep = f.name in ("id", "name", "group", "definition") or (
            code.origin != "project" and f.name in ("name_en", "use_when", "examples", "rules")
        )
        if keep or value != _default(f):
            out[f.name] = value
    return out


def _rule_dict(rule: Rule) -> dict:
    return {
        f.name: getattr(rule, f.name)
        for f in fields(Rule)
        if f.name == "weight" or getattr(rule, f.name) != _default(f)
    }


def _default(f):
    return f.default_factory() if f.default_factory is not MISSING else f.default


def dump_yaml(codebook: Codebook) -> str:
    """The codebook as YAML in the file's schema (``load_codebook`` reads it back)."""
    return yaml.safe_dump(to_dict(codebook), allow_unicode=True, sort_keys=False, width=120)


def describe(codebook: Codebook, codes: list[Code] | None = None) -> str:
    """The codes as ``coder codebook show`` prints them (no final newline): the codebook's title,
    version and file, then per code its names, group, definition, when to use it and not, examples
    and how many phrases or patterns its rules have. ``codes``: a selection (default: every code)."""
    lines = [f"{codebook.title} ({codebook.version_tag}, {codebook.path})"]
    for c in codebook.codes if codes is None else codes:
        lines.append(f"\n[{c.id}] {c.name} / {c.name_en} ({c.group})\n  {c.definition}")
        for label, texts in (("use when", c.use_when), ("not when", c.do_not_use_when), ("example", c.examples)):
            lines += [f"  {label}: {line}" for line in texts]
        lines.append(f"  rules: {sum(len(r.phrases) or 1 for r in c.rules)} phrases/patterns")
    return "\n".join(lines)


def _where(data, error) -> str:
    path = list(error.absolute_path)
    if len(path) >= 2 and path[0] == "codes" and isinstance(path[1], int):
        code = data["codes"][path[1]]
        code_id = code.get("id", f"#{path[1] + 1}") if isinstance(code, dict) else f"#{path[1] + 1}"
        field = ".".join(str(p) for p in path[2:]) or "(code)"
        return f"code {code_id!r}, field {field!r}"
    return f"field {'.'.join(str(p) for p in path) or '(top level)'!r}"


def lint(codebook: Codebook, matcher=None) -> list[str]:
    """Warnings a codebook author should look at (the codebook is already schema-valid)."""
    warnings = []
    owners: dict[str, list[str]] = {}
    for code in codebook.codes:
        for rule in code.rules:
            if rule.weight < 0:  # a negative cue names another code's words on purpose
                continue
            for phrase in rule.phrases:
                owners.setdefault(phrase, []).append(code.id)
        if not code.rules:
            warnings.append(f"code {code.id!r}: no rules; suggestions rely on embeddings alone")
    for phrase, codes in sorted(owners.items()):
        if len(set(codes)) > 1:
            warnings.append(f"phrase {phrase!r} is a rule of several codes: {', '.join(sorted(set(codes)))}")
        elif len(codes) > 1:
            warnings.append(f"phrase {phrase!r} is listed {len(codes)} times in code {codes[0]!r}")
    if matcher is not None:
        for code in codebook.codes:
            hits = matcher.match_texts(code.examples)
            missed = [ex for ex, h in zip(code.examples, hits) if code.id not in h]
            for ex in missed:
                warnings.append(f"code {code.id!r}: example not matched by its own rules: {ex[:40]}")
    return warnings
