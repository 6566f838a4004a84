"""Commands on the codebook: codebook (show, lint, export) and code (the project's living codebook)."""

from __future__ import annotations

import json
from pathlib import Path

import click

from .. import db as store
from . import Group, cli, codebook_option, db_option


@cli.group(cls=Group)
def codebook():
    """Show or check the codebook.

    Example: coder codebook lint
    """


@codebook.command("show")
@click.option("--code", "code_id", help="Only this code.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@codebook_option
@click.option(
    "--db",
    "db_path",
    type=click.Path(exists=True, dir_okay=False),
    help="Show this project's own codebook (with the codes added while coding) instead of a file.",
)
def codebook_show(code_id, as_json, codebook_path, db_path):
    """Print the codes: names, group, definition, when to use and not, examples, rules.

    Example: coder codebook show --code handover

    A project's living codebook: coder codebook show --db project.db
    """
    from dataclasses import asdict

    from ..codebook import describe, load_codebook
    from ..codebook_edit import resolve

    book = resolve(store.open_db(db_path, create=False), codebook_path) if db_path else load_codebook(codebook_path)
    codes = [book.code(code_id)] if code_id else book.codes
    click.echo(
        json.dumps([asdict(c) for c in codes], ensure_ascii=False, indent=2) if as_json else describe(book, codes)
    )


@codebook.command("lint")
@codebook_option
def codebook_lint(codebook_path):
    """Validate the codebook and list rule problems (exit 1 on an invalid file).

    Example: coder codebook lint --codebook my_codebook.yaml
    """
    from ..codebook import lint, load_codebook
    from ..suggest import create

    book = load_codebook(codebook_path)
    warnings = lint(book, create("rules.v2", book))
    for w in warnings:
        click.echo(f"warning: {w}")
    click.echo(f"{book.path}: valid, {len(book.codes)} codes, {len(warnings)} warning(s)")


@codebook.command("export")
@click.option("--format", "fmt", type=click.Choice(["yaml", "qdc"]), default="yaml", show_default=True)
@click.option("-o", "--output", "out_path", type=click.Path(dir_okay=False), help="File (default: stdout).")
@codebook_option
@db_option
def codebook_export(fmt, out_path, codebook_path, db_path):
    """Write the project's current codebook as YAML (the codebook file's schema) or REFI-QDA .qdc.

    Example: coder codebook export --format yaml -o codebook.yaml --db project.db
    """
    from ..codebook import dump_yaml
    from ..codebook_edit import resolve
    from ..export.refi import codebook_xml

    db = store.open_db(db_path, create=False)
    book = resolve(db, codebook_path)
    data = dump_yaml(book).encode("utf-8") if fmt == "yaml" else codebook_xml(book, store.user_codes(db))
    if out_path:
        Path(out_path).write_bytes(data)
        click.echo(f"{book.version_tag} → {out_path}", err=True)
    else:
        click.echo(data.decode("utf-8"), nl=False)


def _cli_user() -> str:
    import getpass

    return f"cli:{getpass.getuser()}"


by_option = click.option(
    "--by",
    "user",
    default=_cli_user,
    show_default="cli:<your login name>",
    help="Who made the change (recorded in the event log).",
)


@cli.group(cls=Group)
def code():
    """Change the project's codebook: add, rename, describe, recolour, nest, merge, retire, promote codes.

    Each change makes a new codebook version (e.g. renkei@p3) and is logged. Code ids never change.

    Example: coder code add job_coach --name ジョブコーチ支援 --parent handover --db project.db
    """


def _changed(book, code_id: str) -> None:
    c = next(c for c in book.codes if c.id == code_id)
    state = "retired" + (f", merged into {c.merged_into}" if c.merged_into else "") if c.status == "retired" else ""
    click.echo(
        f"{book.version_tag}: [{c.id}] {c.name}"
        + (f" (under {c.parent})" if c.parent else "")
        + (f" ({state})" if state else "")
    )


@code.command("add")
@click.argument("code_id", metavar="ID")
@click.option("--name", required=True, help="Display name (Japanese).")
@click.option("--parent", help="Nest under this code id.")
@click.option("--description", default="", help="Definition: when the code applies.")
@by_option
@db_option
def code_add(code_id, name, parent, description, user, db_path):
    """Add a code to the project's codebook (ids: lower-case letters, digits, _).

    Example: coder code add job_coach --name ジョブコーチ支援 --parent handover --db project.db
    """
    from ..codebook_edit import add_code

    _changed(add_code(store.open_db(db_path, create=False), user, code_id, name, parent, description), code_id)


@code.command("rename")
@click.argument("code_id", metavar="ID")
@click.argument("name")
@by_option
@db_option
def code_rename(code_id, name, user, db_path):
    """Rename a code (the id and every coding of it stay).

    Example: coder code rename handover 支援の引き継ぎ --db project.db
    """
    from ..codebook_edit import rename_code

    _changed(rename_code(store.open_db(db_path, create=False), user, code_id, name), code_id)


@code.command("describe")
@click.argument("code_id", metavar="ID")
@click.argument("description")
@by_option
@db_option
def code_describe(code_id, description, user, db_path):
    """Replace a code's definition.

    Example: coder code describe job_coach "ジョブコーチによる職場での支援" --db project.db
    """
    from ..codebook_edit import describe_code

    _changed(describe_code(store.open_db(db_path, create=False), user, code_id, description), code_id)


@code.command("color")
@click.argument("code_id", metavar="ID")
@click.argument("color", required=False)
@by_option
@db_option
def code_color(code_id, color, user, db_path):
    """Set a code's colour (#rrggbb); without COLOR, clear it.

    Example: coder code color job_coach "#3366cc" --db project.db
    """
    from ..codebook_edit import recolour_code

    _changed(recolour_code(store.open_db(db_path, create=False), user, code_id, color), code_id)


@code.command("nest")
@click.argument("code_id", metavar="ID")
@click.argument("parent", required=False)
@by_option
@db_option
def code_nest(code_id, parent, user, db_path):
    """Nest a code under PARENT; without PARENT, move it back to the top level.

    Example: coder code nest job_coach handover --db project.db
    """
    from ..codebook_edit import nest_code

    _changed(nest_code(store.open_db(db_path, create=False), user, code_id, parent), code_id)


@code.command("merge")
@click.argument("source", metavar="FROM")
@click.argument("into", metavar="INTO")
@by_option
@db_option
def code_merge(source, into, user, db_path):
    """Merge code FROM into INTO: FROM's codings move to INTO (each logged); FROM is retired.

    Example: coder code merge job_coach handover --db project.db
    """
    from ..codebook_edit import last_change, merge_codes

    db = store.open_db(db_path, create=False)
    _changed(merge_codes(db, user, source, into), source)
    click.echo(f"{last_change(db)['detail']['codings']} coding(s) moved to {into}")


@code.command("retire")
@click.argument("code_id", metavar="ID")
@by_option
@db_option
def code_retire(code_id, user, db_path):
    """Retire a code: it stays on past codings but is no longer offered for coding or suggested.

    Example: coder code retire job_coach --db project.db
    """
    from ..codebook_edit import retire_code

    _changed(retire_code(store.open_db(db_path, create=False), user, code_id), code_id)


@code.command("promote")
@click.argument("user_code", metavar="user:GUID")
@click.option("--id", "code_id", required=True, help="The new codebook code's id.")
@click.option("--name", help="A new name (default: the user code's).")
@by_option
@db_option
def code_promote(user_code, code_id, name, user, db_path):
    """Make a user code (a topic draft, or a code imported from REFI-QDA) a codebook code usable for coding.

    Its codings move to the new id (each logged). List user codes with `coder topics drafts` or the web
    codebook page.

    Example: coder code promote user:1b4e28ba-2fa1-11d2-883f-0016d3cca427 --id job_coach --db project.db
    """
    from ..codebook_edit import last_change, promote_user_code

    db = store.open_db(db_path, create=False)
    _changed(promote_user_code(db, user, user_code, code_id, name), code_id)
    click.echo(f"{last_change(db)['detail']['codings']} coding(s) moved from {user_code}")


@code.command("list")
@click.option(
    "--codebook",
    "codebook_path",
    type=click.Path(exists=True, dir_okay=False),
    help="Codebook YAML that seeds the project's codebook on first use.",
)
@db_option
def code_list(codebook_path, db_path):
    """List the project's codes (nested, with retired ones marked) and the user codes that can be promoted.

    Example: coder code list --db project.db
    """
    from ..codebook_edit import project_codebook, tree

    db = store.open_db(db_path, create=False)
    book = project_codebook(db, codebook_path)
    click.echo(f"{book.title} ({book.version_tag})")
    for depth, c in tree(book.codes):
        merged = f", merged into {c.merged_into}" if c.merged_into else ""
        click.echo(f"{'  ' * depth}[{c.id}] {c.name}" + (f" (retired{merged})" if c.status == "retired" else ""))
    for u in store.user_codes(db):
        click.echo(f"user:{u['guid']} {u['name']} (user code; promote with `coder code promote`)")
