"""What the commands share at the terminal: aligned tables, password input, file patterns."""

from __future__ import annotations

import glob
import os
import sys
from collections.abc import Iterable, Sequence

import click

from ..columns import table

GLOB_CHARACTERS = "*?["


def echo_table(spec: str, rows: Iterable[Sequence], header: Sequence[str] | None = None) -> None:
    """Print ``rows`` as ``coder.columns.table`` lines them up: padded by display width, so columns with
    Japanese names stay aligned (``spec`` as ``"{:>3}  {:24} {} turns"``; nothing printed for no rows
    and no header)."""
    for line in table(spec, rows, header):
        click.echo(line)


def read_password(password_file, prompt: str) -> str:
    """A password for ``coder user add`` and ``coder user passwd``: the first line of ``password_file``
    (an open text file, ``-`` for standard input) if given; else typed twice, hidden, at a terminal;
    else the first line of standard input (``… | coder user add NAME``). Its length is checked by
    ``coder.users``."""
    if password_file:
        return password_file.readline().rstrip("\r\n")
    if sys.stdin.isatty():
        return click.prompt(prompt, hide_input=True, confirmation_prompt=True)
    return sys.stdin.readline().rstrip("\r\n")


def expand_files(paths: Iterable[str]) -> list[str]:
    """File arguments with the patterns the shell left unexpanded expanded: a path that does not exist
    and contains ``*``, ``?`` or ``[`` is read as a pattern (``glob``, sorted); one that matches no file
    is skipped with a warning on standard error, as the shell passes ``interviews/*.vtt`` literally
    when no ``.vtt`` file is there. Any other path is kept as given (a missing file stays an error
    of the command)."""
    out = []
    for path in paths:
        if os.path.exists(path) or not any(ch in path for ch in GLOB_CHARACTERS):
            out.append(path)
            continue
        found = sorted(p for p in glob.glob(path) if os.path.isfile(p))
        if not found:
            click.echo(f"warning: {path} matches no file; skipped", err=True)
        out += found
    return out
