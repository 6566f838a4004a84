"""Commands on the project: init, backup, ingest, transcripts, speakers, attributes, segments, blind."""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path

import click

from .. import db as store
from . import Group, _login_name, cli, db_option
from .terminal import echo_table, expand_files


@cli.command()
@db_option
def init(db_path):
    """Create (or migrate) a project database.

    Example: coder init --db project.db
    """
    store.open_db(db_path)
    click.echo(f"project ready: {db_path}")


@cli.command()
@click.argument("out_path", metavar="OUT", type=click.Path())
@click.option("--force", is_flag=True, help="Replace OUT if it exists.")
@db_option
def backup(out_path, force, db_path):
    """Copy the project database to OUT (a file, or a folder for <name>-YYYYmmddTHHMMSS.db), checked.

    Safe while `coder serve` runs: SQLite's online backup, then PRAGMA integrity_check on the copy.

    Example: coder backup --db project.db backups/
    """
    from ..backup import backup as run

    r = run(db_path, out_path, force=force)
    click.echo(
        f"backed up {db_path} to {r['path']}: {r['pages']} pages, {r['bytes']:,} bytes, "
        f"{r['seconds']:.2f} s, integrity {r['integrity']}"
    )


@cli.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option("--case", help="Case (e.g. organisation) the interviews belong to.")
@click.option(
    "--speaker",
    "pairs",
    multiple=True,
    metavar="SPEAKER=PERSPECTIVE",
    help="Map a speaker label to person|supporter|employer|interviewer|document (repeatable).",
)
@click.option("--speaker-map", type=click.Path(exists=True, dir_okay=False), help="YAML/JSON {speaker: perspective}.")
@click.option("--document", is_flag=True, help="Read the files as documents without speakers (one turn per paragraph).")
@click.option("--perspective", help="Perspective of document turns (default: document).")
@click.option("--dry-run", is_flag=True, help="Show how each file would be read; import nothing.")
@click.option("--n-process", default=1, show_default=True, help="GiNZA worker processes (~0.9 GB RAM each).")
@db_option
def ingest(files, case, pairs, speaker_map, document, perspective, dry_run, n_process, db_path):
    """Import transcripts (.txt .md .docx .vtt .srt; UTF-8/16, CP932, EUC-JP) and segment them.

    Example: coder ingest interviews/*.txt --case minato --speaker 支援員=supporter --speaker 本人=person

    See first: coder ingest --dry-run interview.docx
    """
    from tqdm import tqdm

    from .. import speakers
    from ..ingest import ingest as run
    from ..ingest import prepare, warnings

    files = expand_files(files)  # interviews/*.vtt when no .vtt is there: skipped with a warning
    if not files:
        raise click.ClickException("no file to import")
    try:
        mapping = (speakers.load_map(speaker_map) if speaker_map else {}) | speakers.parse_pairs(pairs)
        perspective = speakers.perspective_id(perspective) if perspective else None
    except speakers.SpeakerMapError as exc:
        raise click.BadParameter(str(exc)) from exc
    if dry_run:
        db = store.open_db(db_path) if Path(db_path).exists() else store.open_db(":memory:")
        report = prepare(db, files, case=case, speaker_map=mapping, document=document, perspective=perspective)
        for line in _preview_lines(report):
            click.echo(line)
        click.echo("dry run: nothing was imported" + (" (and these files would be refused)" if report.errors else ""))
        if report.errors:
            sys.exit(1)
        return
    db = store.open_db(db_path)
    with tqdm(desc="segmenting", unit="char", unit_scale=True, file=sys.stderr, disable=None) as bar:
        report = run(
            db,
            files,
            case=case,
            speaker_map=mapping,
            n_process=n_process,
            progress=bar.update,
            document=document,
            perspective=perspective,
        )
    for path, name in report.skipped:
        click.echo(f"already imported: {path} (as {name}); nothing changed")
    for t in report.imported:
        click.echo(
            f"imported {t.source_file} as {t.name!r} (id {t.id}): {len(t.turns)} turns, "
            f"{len(t.segments)} segments, {t.encoding}, {t.format}, layout {t.layout}"
        )
        for note in t.notes:
            click.echo(f"  {note}")
        for note in warnings(t):
            click.echo(f"  warning: {note}")
    for name, unknown in report.unknown_speakers().items():
        click.echo(
            f"  {name}: speakers without a perspective: {', '.join(unknown)}\n"
            f"    fix with: coder speakers set SPEAKER person|supporter|employer|interviewer --db {db_path}"
        )


def _preview_lines(report) -> list[str]:
    """The dry run's text: per file its format, encoding, layout, speakers, what is left out, warnings."""
    from ..columns import table
    from ..formats import LAYOUTS
    from ..ingest import speaker_summary, warnings

    out = [f"refused: {e}" for e in report.errors]
    out += [f"already imported: {path} (as {name})" for path, name in report.skipped]
    for t in report.imported:
        out.append(
            f"{t.source_file}: {t.format}, {t.encoding}, layout {t.layout} — {LAYOUTS.get(t.layout, '')}; "
            f"{len(t.turns)} turns"
        )
        out += table(
            "  {:1}  {:11} {:>4} {}  「{}」",
            (
                [name, perspective, n, "turns" if n != 1 else "turn ", first]
                for name, perspective, n, first in speaker_summary(t)
            ),
        )
        out += [f"  {note}" for note in t.notes]
        out += [f"  warning: {w}" for w in warnings(t)]
    return out


@cli.group(cls=Group, invoke_without_command=True)
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@db_option
@click.pass_context
def transcripts(ctx, as_json, db_path):
    """List the project's transcripts (`coder transcripts rename|remove|replace` manage one).

    Example: coder transcripts --db project.db
    """
    if ctx.invoked_subcommand:
        return
    rows = store.list_transcripts(store.open_db(db_path, create=False))
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    echo_table(
        "{:>3}  {:24} {:10} {:6} {:10} {:>6} {:>5} {:>5}",
        (
            [
                r["id"],
                r["name"],
                r["case_name"] or "-",
                r["format"],
                r["encoding"],
                r["chars"],
                r["turns"],
                r["segments"],
            ]
            for r in rows
        ),
        header=["id", "name", "case", "format", "encoding", "chars", "turns", "segs"],
    )


by_option = click.option(
    "--by", "by", metavar="NAME", help="Who makes the change, for the event log (default: cli:<login>)."
)


def _by(by: str | None) -> str:
    import getpass

    return by or f"cli:{getpass.getuser()}"


@transcripts.command("rename")
@click.argument("name")
@click.argument("new_name", metavar="NEW")
@by_option
@db_option
def transcripts_rename(name, new_name, by, db_path):
    """Rename transcript NAME (a name or id) to NEW, an unused name; logged.

    Example: coder transcripts rename kaede_person kaede_本人 --db project.db
    """
    from ..transcripts import rename

    t = rename(store.open_db(db_path, create=False), name, new_name, user=_by(by))
    click.echo(f"renamed transcript {t['id']} to {t['name']!r}")


@transcripts.command("remove")
@click.argument("name")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@by_option
@db_option
def transcripts_remove(name, yes, by, db_path):
    """Remove transcript NAME with its segments, codings, reviews, memos and attributes (backup first).

    The project is backed up into backups/ beside it first; the removal is logged with its counts.

    Example: coder transcripts remove kaede_person --yes --db project.db
    """
    from ..transcripts import counts, remove

    db = store.open_db(db_path, create=False)
    t = store.find_transcript(db, name)
    n = counts(db, t["id"])
    if not yes:
        click.confirm(f"remove {t['name']!r} with {n['segments']} segments and {n['codings']} codings?", abort=True)
    r = remove(db, t["id"], user=_by(by))
    click.echo(f"removed {t['name']!r}: " + ", ".join(f"{v} {k}" for k, v in r["counts"].items() if v))
    click.echo(f"backup: {r['backup']}")


@transcripts.command("replace")
@click.argument("name")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@by_option
@db_option
def transcripts_replace(name, file, by, db_path):
    """Replace transcript NAME's text by a corrected FILE; unchanged segments keep their codings.

    Segments whose text changed lose their codings (logged with the codes) and are listed for
    re-coding. The project is backed up into backups/ first. The name and id stay.

    Example: coder transcripts replace kaede_person kaede_person_corrected.txt --db project.db
    """
    from ..transcripts import replace

    r = replace(store.open_db(db_path, create=False), name, file, user=_by(by))
    kept = sum(len(k["codings"]) for k in r.kept_coded)
    click.echo(
        f"replaced {r.transcript['name']!r} by {file}: {len(r.kept)} segments unchanged "
        f"({len(r.kept_coded)} of them coded: {kept} confirmed coding(s) kept), "
        f"{len(r.dropped)} removed, {len(r.added)} new"
    )
    for k in r.kept_coded:
        click.echo(f"  kept: 「{k['text']}」 ({', '.join(c['coder'] + ':' + c['code'] for c in k['codings'])})")
    for d in r.to_recode:
        codes = ", ".join(f"{c['coder']}:{c['code']}" for c in d["codings"] if c["status"] == "confirmed")
        click.echo(f"  re-code: 「{d['text']}」 (had {codes or 'no codes'})")
    if r.memos_moved:
        click.echo(f"{r.memos_moved} memo(s) on removed segments are now memos on the transcript")
    click.echo(f"backup: {r.backup}")


@cli.group(cls=Group, invoke_without_command=True)
@click.option("--transcript", help="Only this transcript (id or name).")
@db_option
@click.pass_context
def speakers(ctx, transcript, db_path):
    """List speakers and their perspectives (`coder speakers set` changes one).

    Example: coder speakers --db project.db
    """
    if ctx.invoked_subcommand:
        return
    rows = store.list_speakers(store.open_db(db_path, create=False), transcript)
    echo_table(
        "{:>3} {:24} {:16} {:12} {} turns",
        ([r["transcript_id"], r["transcript"], r["speaker"], r["perspective"], r["turns"]] for r in rows),
    )


@speakers.command("set")
@click.argument("speaker")
@click.argument("perspective")
@click.option("--transcript", help="Only in this transcript (id or name); default: every transcript.")
@click.option("--by", "by", metavar="NAME", help="Who makes the change, for the event log (default: cli:<login>).")
@db_option
def speakers_set(speaker, perspective, transcript, by, db_path):
    """Map SPEAKER to PERSPECTIVE (person, supporter, employer, interviewer, document, unknown).

    SPEAKER may be written as in the file: 聞き手（山田）, 山本　理恵 and [SPEAKER_00] find the stored names.
    Each change is logged (who, when, old → new) and shown on the web speakers page.

    Example: coder speakers set 支援員 supporter --by sato --db project.db
    """
    import getpass

    from ..speakers import SpeakerMapError, normalize_label, perspective_id

    try:
        pid = perspective_id(perspective)
    except SpeakerMapError as exc:
        raise click.BadParameter(str(exc), param_hint="PERSPECTIVE") from exc
    speaker = normalize_label(speaker)  # speakers are stored as labels are compared: NFKC, no outer brackets
    n = store.set_speaker(
        store.open_db(db_path, create=False), speaker, pid, transcript, user=by or f"cli:{getpass.getuser()}"
    )
    click.echo(f"{speaker} → {pid} in {n} transcript(s)")


@cli.group(cls=Group, invoke_without_command=True)
@click.option("--format", "fmt", type=click.Choice(["csv", "jsonl", "md"]), default="md", show_default=True)
@click.option("-o", "--output", type=click.File("w", encoding="utf-8"), default="-", help="File (default: stdout).")
@db_option
@click.pass_context
def attributes(ctx, fmt, output, db_path):
    """List the attributes of cases and transcripts (障害種別, 年代 …); group the matrix by one with --by attr:NAME.

    Example: coder attributes --format csv --db project.db -o attributes.csv
    """
    if ctx.invoked_subcommand:
        return
    from ..attributes import list_attributes
    from ..columns import markdown_table

    rows = list_attributes(store.open_db(db_path, create=False))
    columns = ["scope", "target", "label", "name", "value", "updated_at"]
    if fmt == "jsonl":
        output.writelines(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)
    elif fmt == "csv":
        from ..export.cells import spreadsheet_row

        writer = csv.writer(output)
        writer.writerows([columns, *(spreadsheet_row([r[c] for c in columns]) for r in rows)])
    else:
        output.write(
            markdown_table(
                ["scope", "target", "name", "value"], ([r["scope"], r["label"], r["name"], r["value"]] for r in rows)
            )
        )


@attributes.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--by", "by", metavar="NAME", help="Who makes the change, for the event log (default: cli:<login>).")
@db_option
def attributes_import(file, by, db_path):
    """Import a CSV or XLSX table: first column `transcript` (name or id) or `case`, one column per attribute.

    All rows or none: an unknown transcript or case is reported with its row. Empty cells are left out.

    Example: coder attributes import attributes.xlsx --db project.db
    """
    from ..attributes import import_table

    report = import_table(store.open_db(db_path, create=False), file, user=by or f"cli:{_login_name()}")
    click.echo("\n".join(report.summary()))


@attributes.command("set")
@click.argument("name")
@click.argument("value")
@click.option("--transcript", help="The transcript (id or name).")
@click.option("--case", "case_name", help="The case.")
@click.option("--by", "by", metavar="NAME", help="Who makes the change, for the event log (default: cli:<login>).")
@db_option
def attributes_set(name, value, transcript, case_name, by, db_path):
    """Set attribute NAME of one transcript or case to VALUE ("" removes it).

    Example: coder attributes set --case minato 企業規模 中小企業 --db project.db
    """
    from ..attributes import set_value

    if (transcript is None) == (case_name is None):
        raise click.UsageError("give exactly one of --transcript or --case")
    scope, ref = ("transcript", transcript) if transcript is not None else ("case", case_name)
    old = set_value(store.open_db(db_path, create=False), scope, ref, name, value, user=by or f"cli:{_login_name()}")
    click.echo(f"{scope} {ref}: {name} = {value or '(none)'}" + (f" (was {old})" if old else ""))


@cli.command()
@click.option("--transcript", help="Only this transcript (id or name); default: all.")
@click.option("--format", "fmt", type=click.Choice(["jsonl", "csv"]), default="jsonl", show_default=True)
@click.option("-o", "--output", type=click.File("w", encoding="utf-8"), default="-", help="File (default: stdout).")
@db_option
def segments(transcript, fmt, output, db_path):
    """Print coding units with speaker, perspective, offsets and times.

    Example: coder segments --transcript kaede_person --format csv -o segments.csv
    """
    rows = store.iter_segments(store.open_db(db_path, create=False), transcript)
    if fmt == "jsonl":
        for row in rows:
            output.write(json.dumps(row, ensure_ascii=False) + "\n")
        return
    from ..export.cells import spreadsheet_row

    writer = None
    for row in rows:
        if writer is None:
            writer = csv.DictWriter(output, fieldnames=list(row))
            writer.writeheader()
        writer.writerow(spreadsheet_row(row))


@cli.command()
@click.argument("state", required=False, type=click.Choice(["on", "off"]))
@db_option
def blind(state, db_path):
    """Show or set blind mode: while on (a new project's default), analysts see only their own codes
    and the model's suggestions.

    Example: coder blind off --db project.db
    """
    from .. import access

    db = store.open_db(db_path, create=False)
    if state:
        access.set_blind(db, state == "on")
    click.echo(f"blind mode is {'on' if access.blind(db) else 'off'} in {db_path}")
