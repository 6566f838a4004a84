from pathlib import Path

import click
import pytest

from coder.cli import cli

README = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")


def commands(group, prefix="coder"):
    for name, cmd in group.commands.items():
        yield f"{prefix} {name}", cmd
        if isinstance(cmd, click.Group):
            yield from commands(cmd, f"{prefix} {name}")


@pytest.mark.parametrize("name, cmd", list(commands(cli)))
def test_every_command_is_documented_with_an_example(name, cmd):
    assert f"`{name}" in README, f"README does not document {name}"
    assert "Example:" in (cmd.help or ""), f"{name} --help has no example"


def test_readme_starts_with_the_two_setup_commands():
    assert README.index("make demo") < README.index("## Commands")
    assert "make test" in README.split("## Commands")[0]


def test_every_suggester_is_documented():
    from coder.codebook import load_codebook
    from coder.suggest import REGISTRY, create

    create("rules.v1", load_codebook())  # fills the registry
    assert REGISTRY and all(f"`{name}`" in README for name in REGISTRY)


def test_every_export_format_is_documented():
    from coder.export import load

    missing = [name for name in load() if f"`{name}`" not in README]
    assert load() and not missing, f"README does not document export format(s) {', '.join(missing)}"
