"""Commands that share the project: export, import-qdpx, and names (the name list of pseudonymised exports)."""

from __future__ import annotations

import json
import sys

import click

from .. import db as store
from . import Group, Grouping, _login_name, attributes_option, cli, codebook_option, db_option
from .terminal import echo_table


def _export_formats() -> list[str]:
    from ..export import load

    return sorted(load())


@cli.command()
@click.option(
    "--format", "fmt", required=True, type=click.Choice(_export_formats()), help="What to write (see README)."
)
@click.option("--out", "out_path", required=True, type=click.Path(), help="File to write, or a folder (default name).")
@click.option(
    "--source",
    help="consensus (final codes; default), all (every analyst; default for refi-qdpx), "
    "an analyst's name, or model (unconfirmed).",
)
@click.option(
    "--by",
    type=Grouping(["perspective", "case", "transcript"]),
    default="perspective",
    show_default=True,
    help="Matrix rows (matrix-* formats; attr:NAME: the values of an attribute).",
)
@click.option("--case", "case_name", help="Only this case.")
@click.option("--transcript", help="Only this transcript (id or name).")
@attributes_option
@click.option(
    "--pseudonymise",
    is_flag=True,
    help="Replace listed names by 人物A, 事業所B … (see `coder names`); the key goes to OUT.key.csv.",
)
@codebook_option
@db_option
def export(fmt, out_path, source, by, case_name, transcript, pairs, pseudonymise, codebook_path, db_path):
    """Write quotes by code, the matrix or the project (REFI-QDA) to a file (CSV, XLSX, DOCX, Markdown, …).

    Example: coder export --format quotes-docx --out quotes.docx --source consensus --db project.db

    Pseudonymised: coder export --format refi-qdpx --out shared.qdpx --pseudonymise --db project.db

    One group: coder export --format quotes-docx --out 精神.docx --attribute 障害種別=精神 --db project.db
    """
    from ..attributes import parse_filters
    from ..codebook_edit import resolve
    from ..export import get, run
    from ..layers import codings_for
    from ..pseudonymise import Pseudonymiser, write_key

    db = store.open_db(db_path, create=False)
    pz = Pseudonymiser.from_db(db) if pseudonymise else False
    book = resolve(db, codebook_path)
    path = run(db, fmt, out_path, book, source, by, case_name, transcript, pseudonymise=pz, where=parse_filters(pairs))
    click.echo(f"{fmt} → {path}")
    coded = source or "consensus"  # what run() reads for quotes and the matrix
    if get(fmt).kind in ("quotes", "matrix") and not codings_for(db, coded, book.ids):
        click.echo(
            f"{path} is empty: "
            + (
                "no suggestions are stored yet: run `coder suggest --db …` first"
                if coded == "model"
                else f"no segment is coded in source {coded!r} yet: code in the web UI, or see the unconfirmed "
                "suggestions with --source model (the file then says they are unconfirmed)"
            ),
            err=True,
        )
    if pz:
        for note in pz.notes():
            click.echo(f"warning: {note}", err=True)
        key = write_key(f"{path}.key.csv", pz.key(used_only=True))
        click.echo(
            f"key table (placeholder → real name): {key}, readable by you only. Keep it apart from the "
            "export: never store or send the two together.",
            err=True,
        )


def _name_kinds() -> list[str]:
    from ..pseudonymise import KINDS

    return list(KINDS)


reviewer_option = click.option(
    "--reviewer", default=_login_name, show_default="your login name", help="Who reviewed the name (recorded)."
)


@cli.group(cls=Group)
def names():
    """The name list of pseudonymised exports: people and organisations replaced by 人物A, 事業所B …

    Example: coder names scan --db project.db
    """


@names.command("list")
@click.option("--status", type=click.Choice(["candidate", "replace", "keep"]), help="Only names of this status.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON lines.")
@db_option
def names_list(status, as_json, db_path):
    """List the names with their placeholder, kind, origin (ner, speaker, manual) and status.

    Example: coder names list --status candidate --db project.db
    """
    from ..pseudonymise import list_names

    rows = list_names(store.open_db(db_path, create=False), status)
    if as_json:
        for r in rows:
            click.echo(json.dumps(r, ensure_ascii=False))
        return
    echo_table(
        "{:8} {:16} {:13} {:8} {}", ([r["placeholder"], r["name"], r["kind"], r["origin"], r["status"]] for r in rows)
    )


@names.command("scan")
@click.option("--again", is_flag=True, help="Read transcripts scanned before too.")
@click.option("--speakers-only", is_flag=True, help="Only speaker labels (fast; no GiNZA).")
@db_option
def names_scan(again, speakers_only, db_path):
    """Find candidate names: speaker labels that are names, and GiNZA's named entities (slow: ~2,000 chars/s).

    Example: coder names scan --db project.db
    """
    from tqdm import tqdm

    from ..pseudonymise import scan
    from ..segment import load_ner

    db = store.open_db(db_path, create=False)
    with tqdm(total=0, unit="字", file=sys.stderr, disable=None, desc="names") as bar:

        def step(done, total):
            bar.total, bar.n = total, done
            bar.refresh()

        found = scan(db, None if speakers_only else load_ner(), again, step)
    click.echo(
        f"new candidates: {found['speakers']} from speaker labels, {found['ner']} from the named entities of "
        f"{found['transcripts']} transcript(s); review them with `coder names list --status candidate`"
    )


@names.command("add")
@click.argument("name")
@click.option(
    "--kind",
    type=click.Choice(_name_kinds()),
    default="person",
    show_default=True,
    help="person → 人物A, organisation → 事業所A, place → 地域A.",
)
@reviewer_option
@db_option
def names_add(name, kind, reviewer, db_path):
    """Add a name to replace in pseudonymised exports (or set a listed name's kind).

    Example: coder names add 株式会社みなと物産 --kind organisation --db project.db
    """
    from ..pseudonymise import add_name

    r = add_name(store.open_db(db_path, create=False), name, kind, reviewer)
    click.echo(f"{r['name']} → {r['placeholder']}")


@names.command("replace")
@click.argument("name")
@reviewer_option
@db_option
def names_replace(name, reviewer, db_path):
    """Mark a listed name as one to replace (reviewed).

    Example: coder names replace 山田 --db project.db
    """
    from ..pseudonymise import review

    r = review(store.open_db(db_path, create=False), name, "replace", reviewer)
    click.echo(f"{r['name']} → {r['placeholder']}")


@names.command("keep")
@click.argument("name")
@reviewer_option
@db_option
def names_keep(name, reviewer, db_path):
    """Mark a listed name as one to leave as written (not a person's or organisation's name).

    Example: coder names keep ハローワーク --db project.db
    """
    from ..pseudonymise import review

    r = review(store.open_db(db_path, create=False), name, "keep", reviewer)
    click.echo(f"{r['name']} is kept as written")


@cli.command("import-qdpx")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--case", help="Case for sources the file gives none.")
@click.option(
    "--speaker",
    "pairs",
    multiple=True,
    metavar="SPEAKER=PERSPECTIVE",
    help="Map a speaker label to person|supporter|employer|interviewer (repeatable).",
)
@click.option(
    "--keep-consensus",
    is_flag=True,
    help="Keep the consensus layer of a coder export as this project's adjudicated codes.",
)
@codebook_option
@db_option
def import_qdpx(file, case, pairs, keep_consensus, codebook_path, db_path):
    """Import a REFI-QDA project (.qdpx) or codebook (.qdc) from NVivo, ATLAS.ti, MAXQDA, QualCoder or coder.

    Example: coder import-qdpx interviews.qdpx --case minato --speaker 支援員=supporter --db project.db
    """
    from .. import speakers
    from ..codebook_edit import resolve
    from ..qda_import import import_qdc
    from ..qda_import import import_qdpx as run

    try:
        mapping = speakers.parse_pairs(pairs)
    except speakers.SpeakerMapError as exc:
        raise click.BadParameter(str(exc)) from exc
    db = store.open_db(db_path)
    book = resolve(db, codebook_path)
    report = (
        import_qdc(db, file, book)
        if file.lower().endswith(".qdc")
        else run(db, file, book, case=case, speaker_map=mapping, keep_consensus=keep_consensus)
    )
    click.echo("\n".join(report.summary()))
