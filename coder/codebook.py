"""Load, validate and describe a codebook (YAML).

The default codebook is ``codebook/renkei.yaml``; ``--codebook PATH`` takes any file
of the same shape. Validation uses JSON Schema; every error names the file, the
code and the field.
"""

from __future__ import annotations

from pathlib import Path

import yaml

from .errors import CoderError
from .types import Code, Codebook, Rule

DEFAULT = Path(__file__).resolve().parent.parent / "codebook" / "renkei.yaml"
CORE_IDS = ["needs_assessment", "autonomy", "information_sharing", "value_alignment", "handover"]

_TEXTS = {"type": "array", "items": {"type": "string", "minLength": 1}}
_RULE = {
    "type": "object", "additionalProperties": False,
    "properties": {
        "phrases": {"type": "array", "items": {"type": "string", "minLength": 1}, "minItems": 1},
        "pattern": {"type": "array", "items": {"type": "object"}, "minItems": 1},
        "near": {"type": "array", "minItems": 2, "maxItems": 2,
                 "items": {"type": "array", "items": {"type": "string", "minLength": 1}, "minItems": 1}},
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
        "title": {"type": "string"}, "title_en": {"type": "string"}, "unit": {"type": "string"},
        "codes": {"type": "array", "minItems": 1, "items": {
            "type": "object", "additionalProperties": False,
            "required": ["id", "name", "name_en", "group", "definition", "use_when", "examples", "rules"],
            "properties": {
                "id": {"type": "string", "pattern": "^[a-z][a-z0-9_]*$"},
                "name": {"type": "string", "minLength": 1}, "name_en": {"type": "string", "minLength": 1},
                "group": {"enum": ["core", "further"]},
                "definition": {"type": "string", "minLength": 1}, "definition_en": {"type": "string"},
                "use_when": {**_TEXTS, "minItems": 1}, "do_not_use_when": _TEXTS,
                "examples": {**_TEXTS, "minItems": 3, "maxItems": 6},
                "rules": {"type": "array", "items": _RULE},
            }}},
    },
}


def load_codebook(path: str | Path | None = None) -> Codebook:
    """Read and validate a codebook; CoderError names the file, the code and the field."""
    import jsonschema

    path = Path(path or DEFAULT)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise CoderError(f"{path}: cannot read codebook: {exc}") from exc
    errors = sorted(jsonschema.Draft202012Validator(SCHEMA).iter_errors(data), key=lambda e: list(e.absolute_path))
    if errors:
        raise CoderError(f"{path}: invalid codebook:\n" + "\n".join(f"  {_where(data, e)}: {e.message}"
                                                                   for e in errors[:20]))
    ids = [c["id"] for c in data["codes"]]
    dupes = sorted({i for i in ids if ids.count(i) > 1})
    if dupes:
        raise CoderError(f"{path}: invalid codebook: duplicate code id(s) {', '.join(dupes)}")
    codes = [Code(**{**c, "rules": [Rule(**r) for r in c["rules"]]}) for c in data["codes"]]
    return Codebook(id=data["id"], version=str(data["version"]), title=data["title"], codes=codes,
                    path=str(path), title_en=data.get("title_en", ""))


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
