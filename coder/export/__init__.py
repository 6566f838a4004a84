"""Exports: one pure function per format, picked from one table (``EXPORTERS``).

An exporter is registered with ``@exporter(name, suffix, kind, label)`` in a module of this package
and called as ``fn(data, out)`` where ``data`` is what its ``kind`` asks for — ``"quotes"``: the rows
of ``collect_quotes()``; ``"matrix"``: ``coder.matrix.build()``'s dict; ``"project"``: the project
database (REFI-QDA) — and ``out`` a path to write. The CLI (``coder export``) and the web export page
both read this table, so a new format appears in both.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import import_module
from typing import Callable

from ..errors import CoderError

MODULES = ("quotes", "tables", "refi")  # modules that register exporters


@dataclass(frozen=True)
class Exporter:
    name: str
    suffix: str
    kind: str  # "quotes" | "matrix" | "project" | "codebook"
    label: str  # Japanese, for the web page
    fn: Callable


EXPORTERS: dict[str, Exporter] = {}


def exporter(name: str, suffix: str, kind: str, label: str):
    def register(fn):
        EXPORTERS[name] = Exporter(name, suffix, kind, label, fn)
        return fn
    return register


def load() -> dict[str, Exporter]:
    """Every exporter (importing the modules that define them)."""
    for module in MODULES:
        try:
            import_module(f"{__name__}.{module}")
        except ModuleNotFoundError as exc:
            if exc.name != f"{__name__}.{module}":
                raise
    return EXPORTERS


def get(name: str) -> Exporter:
    table = load()
    if name not in table:
        raise CoderError(f"unknown export format {name!r} ({', '.join(sorted(table))})")
    return table[name]
