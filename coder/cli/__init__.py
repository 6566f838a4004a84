"""The `coder` command: a thin click layer over the library (parse, call, print).

One module per area, as the web app has one blueprint per area: ``project`` (the project and its
transcripts, speakers, attributes), ``coding`` (suggestions, codings, memos, search), ``codes`` (the
codebook), ``synthesis`` (matrix, charts, agreement, summaries, topics, report), ``exchange`` (exports,
REFI-QDA import, the name list of pseudonymised exports), ``serve`` (web server, accounts, demo).
This module holds the group, its error handling and the options several areas share; ``terminal``
the terminal helpers (tables, passwords, file patterns).
"""

from __future__ import annotations

import click

from .. import db as store
from ..errors import CoderError

db_option = click.option(
    "--db",
    "db_path",
    type=click.Path(dir_okay=False),
    default=store.default_path,
    show_default="./coder.db or $CODER_DB",
    help="Project database file.",
)


class Group(click.Group):
    """Show library errors as one clear message and exit 1, not a traceback."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except CoderError as exc:
            raise click.ClickException(str(exc)) from exc


@click.group(cls=Group)
@click.version_option(package_name="coder")
def cli():
    """Code and synthesise Japanese qualitative interviews, locally."""


class Grouping(click.ParamType):
    """One of fixed groupings, or ``attr:NAME`` (an attribute of cases and transcripts)."""

    name = "grouping"

    def __init__(self, choices):
        self.choices = choices

    def get_metavar(self, param, *args, **kwargs):
        return "[" + "|".join(self.choices) + "|attr:NAME]"

    def convert(self, value, param, ctx):
        if value in self.choices or (value.startswith("attr:") and value[5:].strip()):
            return value
        self.fail(f"{value!r} is not one of {', '.join(self.choices)} or attr:NAME", param, ctx)


codebook_option = click.option(
    "--codebook",
    "codebook_path",
    type=click.Path(exists=True, dir_okay=False),
    help="Codebook YAML (default: the project's own codebook, which this file seeds "
    "on first use; else codebook/renkei.yaml).",
)

# the coding source of a synthesis (matrix, chart, co-occurrence, report)
source_option = click.option(
    "--source",
    default="consensus",
    show_default=True,
    help="consensus (final codes), all (every analyst), an analyst's name, or model (unconfirmed).",
)

# a filter by attribute values, as NAME=VALUE pairs (coder.attributes.parse_filters)
attributes_option = click.option(
    "--attribute",
    "pairs",
    multiple=True,
    metavar="NAME=VALUE",
    help="Only transcripts (or cases) with this attribute value; repeat for several (see `coder attributes`).",
)


def _login_name() -> str:
    import getpass

    return getpass.getuser()


from . import codes, coding, exchange, project, serve, synthesis  # noqa: E402,F401 (registers the commands)
