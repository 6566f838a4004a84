"""Speaker labels and the perspective each speaker stands for.

Perspective ids are an interface (matrix rows, exports, evaluation files):
add new ones, never rename.
"""

from __future__ import annotations

import json
import re
import unicodedata
from pathlib import Path

import yaml

PERSPECTIVES = {
    "person": "当事者",
    "supporter": "支援者",
    "employer": "雇用者",
    "interviewer": "インタビュアー",
    "unknown": "未設定",
    "document": "文書",
}
# Japanese names accepted wherever a perspective id is expected
ALIASES = {ja: pid for pid, ja in PERSPECTIVES.items()} | {
    "本人": "person",
    "支援機関": "supporter",
    "企業": "employer",
    "聞き手": "interviewer",
}
INTERVIEWER_LABELS = {
    "インタビュアー",
    "聞き手",
    "質問者",
    "司会",
    "Q",
    "I",
    "調査者",
    "インタビューア",
    "司会者",
    "進行役",
    "問",
    "インタビュワー",
    "Interviewer",
    "Moderator",
    "Facilitator",
    "ファシリテーター",
    "モデレーター",
}
# Chairs and moderators of councils and meetings (山田座長, 司会（佐藤）, 部会長): they run the conversation
CHAIR_ROLES = ("分科会長", "部会長", "委員長", "会長", "座長", "司会", "進行")


_WRAPPERS = {("[", "]"), ("【", "】"), ("(", ")")}


class SpeakerMapError(ValueError):
    """A bad speaker → perspective mapping: an unknown perspective, a malformed ``--speaker`` pair, or a map
    file that cannot be read or is not a mapping."""

    pass


def normalize_label(label: str) -> str:
    """Speaker labels compare after NFKC (Ｑ == Q, ｲﾝﾀﾋﾞｭｱｰ == インタビュアー), trimming and without
    brackets around the whole name (``[SPEAKER_00]`` == ``SPEAKER_00``, ``【岡田】`` == ``岡田``)."""
    name = unicodedata.normalize("NFKC", label).strip()
    if len(name) > 2 and (name[0], name[-1]) in _WRAPPERS and not any(ch in name[1:-1] for ch in "[]【】()"):
        name = name[1:-1].strip()
    return name


def perspective_id(value: str) -> str:
    """Return the perspective id for an id or its Japanese name, or raise with the choices."""
    value = normalize_label(value)
    pid = value if value in PERSPECTIVES else ALIASES.get(value)
    if pid is None:
        choices = ", ".join(f"{k} ({v})" for k, v in PERSPECTIVES.items())
        raise SpeakerMapError(f"unknown perspective {value!r}; use one of: {choices}")
    return pid


def parse_pairs(pairs: list[str] | tuple[str, ...]) -> dict[str, str]:
    """Parse repeated ``話者=perspective`` command-line values."""
    mapping = {}
    for pair in pairs:
        name, sep, pid = pair.rpartition("=")
        if not sep or not name.strip():
            raise SpeakerMapError(f"--speaker {pair!r}: expected SPEAKER=PERSPECTIVE, e.g. 支援員=supporter")
        mapping[normalize_label(name)] = perspective_id(pid)
    return mapping


def load_map(path: str | Path) -> dict[str, str]:
    """Read a YAML or JSON ``{speaker: perspective}`` file."""
    path = Path(path)
    try:
        data = (
            yaml.safe_load(path.read_text(encoding="utf-8"))
            if path.suffix != ".json"
            else json.loads(path.read_text(encoding="utf-8"))
        )
    except (OSError, ValueError, yaml.YAMLError) as exc:
        raise SpeakerMapError(f"{path}: cannot read speaker map: {exc}") from exc
    if not isinstance(data, dict):
        raise SpeakerMapError(f"{path}: a speaker map is a mapping of speaker: perspective")
    try:
        return {normalize_label(str(k)): perspective_id(str(v)) for k, v in data.items()}
    except SpeakerMapError as exc:
        raise SpeakerMapError(f"{path}: {exc}") from exc


def is_interviewer(name: str) -> bool:
    """Whether a speaker label names the interviewer by default: an interviewer label
    (聞き手, Q, インタビュアー …) or a chair's role, alone or with a name (山田座長, 司会・佐藤, 座長（山田）)."""
    name = normalize_label(name)
    if name in INTERVIEWER_LABELS:
        return True
    bare = re.sub(r"\(.*?\)|[・\s]", "", name)
    inner = re.findall(r"\((.*?)\)", name)
    if bare in INTERVIEWER_LABELS:  # 聞き手（山田）
        return True
    return any(bare.endswith(role) or bare.startswith(role) or role in inner for role in CHAIR_ROLES)


def resolve(name: str, explicit: dict[str, str], known: dict[str, str]) -> str:
    """Perspective for a speaker: explicit map, then the project's earlier choice, then defaults."""
    name = normalize_label(name)
    if name in explicit:
        return explicit[name]
    if name in known:
        return known[name]
    if is_interviewer(name):
        return "interviewer"
    return "unknown"


def is_unmapped(name: str, perspective: str, explicit: dict[str, str], known: dict[str, str]) -> bool:
    """Whether a speaker is one nobody mapped: its perspective (from ``resolve``) is ``unknown`` by
    default, not by a decision — ``unknown`` in the explicit map or the project's earlier choice
    (``db.known_speakers`` remembers an explicit ``coder speakers set NAME unknown``). Imports list
    these speakers to be mapped."""
    name = normalize_label(name)
    return perspective == "unknown" and name not in explicit and name not in known
