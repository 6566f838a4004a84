"""The `coder` command: a thin click layer over the library (parse, call, print)."""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path

import click

from . import db as store
from .errors import CoderError

CORPUS = Path(__file__).resolve().parent.parent / "corpus"
db_option = click.option("--db", "db_path", type=click.Path(dir_okay=False), default=store.default_path,
                         show_default="./coder.db or $CODER_DB", help="Project database file.")


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
    from .backup import backup as run

    r = run(db_path, out_path, force=force)
    click.echo(f"backed up {db_path} to {r['path']}: {r['pages']} pages, {r['bytes']:,} bytes, "
               f"{r['seconds']:.2f} s, integrity {r['integrity']}")


@cli.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option("--case", help="Case (e.g. organisation) the interviews belong to.")
@click.option("--speaker", "pairs", multiple=True, metavar="SPEAKER=PERSPECTIVE",
              help="Map a speaker label to person|supporter|employer|interviewer|document (repeatable).")
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

    from . import speakers
    from .ingest import ingest as run
    from .ingest import prepare, warnings

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
        report = run(db, files, case=case, speaker_map=mapping, n_process=n_process, progress=bar.update,
                     document=document, perspective=perspective)
    for path, name in report.skipped:
        click.echo(f"already imported: {path} (as {name}); nothing changed")
    for t in report.imported:
        click.echo(f"imported {t.source_file} as {t.name!r} (id {t.id}): {len(t.turns)} turns, "
                   f"{len(t.segments)} segments, {t.encoding}, {t.format}, layout {t.layout}")
        for note in t.notes:
            click.echo(f"  {note}")
        for note in warnings(t):
            click.echo(f"  warning: {note}")
    for name, unknown in report.unknown_speakers().items():
        click.echo(f"  {name}: speakers without a perspective: {', '.join(unknown)}\n"
                   f"    fix with: coder speakers set SPEAKER person|supporter|employer|interviewer --db {db_path}")


def _width(text: str) -> int:
    """Columns a terminal gives ``text``: East Asian wide and full-width characters take two."""
    import unicodedata

    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _preview_lines(report) -> list[str]:
    """The dry run's text: per file its format, encoding, layout, speakers, what is left out, warnings."""
    from .formats import LAYOUTS
    from .ingest import speaker_summary, warnings

    out = [f"refused: {e}" for e in report.errors]
    out += [f"already imported: {path} (as {name})" for path, name in report.skipped]
    for t in report.imported:
        out.append(f"{t.source_file}: {t.format}, {t.encoding}, layout {t.layout} — {LAYOUTS.get(t.layout, '')}; "
                   f"{len(t.turns)} turns")
        speakers = speaker_summary(t)
        width = max(_width(name) for name, *_ in speakers)
        for name, perspective, n, first in speakers:
            out.append(f"  {name}{' ' * (width - _width(name))}  {perspective:11} {n:>4} turn{'s' if n != 1 else ' '}  "
                       f"「{first}」")
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
    click.echo(f"{'id':>3}  {'name':24} {'case':10} {'format':6} {'encoding':10} {'chars':>6} {'turns':>5} {'segs':>5}")
    for r in rows:
        click.echo(f"{r['id']:>3}  {r['name']:24} {r['case_name'] or '-':10} {r['format']:6} {r['encoding']:10} "
                   f"{r['chars']:>6} {r['turns']:>5} {r['segments']:>5}")


by_option = click.option("--by", "by", metavar="NAME", help="Who makes the change, for the event log "
                                                             "(default: cli:<login>).")


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
    from .transcripts import rename

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
    from .transcripts import counts, remove

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
    from .transcripts import replace

    r = replace(store.open_db(db_path, create=False), name, file, user=_by(by))
    kept = sum(len(k["codings"]) for k in r.kept_coded)
    click.echo(f"replaced {r.transcript['name']!r} by {file}: {len(r.kept)} segments unchanged "
               f"({len(r.kept_coded)} of them coded: {kept} confirmed coding(s) kept), "
               f"{len(r.dropped)} removed, {len(r.added)} new")
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
    for r in store.list_speakers(store.open_db(db_path, create=False), transcript):
        click.echo(f"{r['transcript_id']:>3} {r['transcript']:24} {r['speaker']:16} {r['perspective']:12} "
                   f"{r['turns']} turns")


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

    from .speakers import SpeakerMapError, normalize_label, perspective_id

    try:
        pid = perspective_id(perspective)
    except SpeakerMapError as exc:
        raise click.BadParameter(str(exc), param_hint="PERSPECTIVE") from exc
    speaker = normalize_label(speaker)  # speakers are stored as labels are compared: NFKC, no outer brackets
    n = store.set_speaker(store.open_db(db_path, create=False), speaker, pid, transcript,
                          user=by or f"cli:{getpass.getuser()}")
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
    from .attributes import list_attributes

    rows = list_attributes(store.open_db(db_path, create=False))
    columns = ["scope", "target", "label", "name", "value", "updated_at"]
    if fmt == "jsonl":
        output.writelines(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)
    elif fmt == "csv":
        from .export.cells import spreadsheet_row

        writer = csv.writer(output)
        writer.writerows([columns, *(spreadsheet_row([r[c] for c in columns]) for r in rows)])
    else:
        output.write("| scope | target | name | value |\n|---|---|---|---|\n" + "".join(
            f"| {r['scope']} | {r['label']} | {r['name']} | {r['value']} |\n" for r in rows))


@attributes.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--by", "by", metavar="NAME", help="Who makes the change, for the event log (default: cli:<login>).")
@db_option
def attributes_import(file, by, db_path):
    """Import a CSV or XLSX table: first column `transcript` (name or id) or `case`, one column per attribute.

    All rows or none: an unknown transcript or case is reported with its row. Empty cells are left out.

    Example: coder attributes import attributes.xlsx --db project.db
    """
    from .attributes import import_table

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
    from .attributes import set_value

    if (transcript is None) == (case_name is None):
        raise click.UsageError("give exactly one of --transcript or --case")
    scope, ref = ("transcript", transcript) if transcript is not None else ("case", case_name)
    old = set_value(store.open_db(db_path, create=False), scope, ref, name, value, user=by or f"cli:{_login_name()}")
    click.echo(f"{scope} {ref}: {name} = {value or '(none)'}" + (f" (was {old})" if old else ""))


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
    from .export.cells import spreadsheet_row

    writer = None
    for row in rows:
        if writer is None:
            writer = csv.DictWriter(output, fieldnames=list(row))
            writer.writeheader()
        writer.writerow(spreadsheet_row(row))


@cli.command()
@click.argument("query")
@click.option("--lemma", is_flag=True, help="Match Sudachi normalised forms (引き継ぐ finds 引継ぎ, 引き継いだ).")
@click.option("--perspective", help="Only this perspective (person, supporter, …).")
@click.option("--case", "case_name", help="Only this case.")
@click.option("--speaker", help="Only this speaker label.")
@click.option("--transcript", help="Only this transcript (id or name).")
@click.option("--code", help="Only segments with this code confirmed (by --coder, else by anyone).")
@click.option("--coder", help="Whose codes --code/--uncoded read (an analyst, consensus or all).")
@click.option("--uncoded", is_flag=True, help="Only segments without a confirmed code.")
@click.option("--attribute", metavar="NAME=VALUE", help="Only transcripts (or cases) with this attribute value.")
@click.option("--all-turns", is_flag=True, help="Search the interviewer's turns too.")
@click.option("--format", "fmt", type=click.Choice(["jsonl", "csv", "md"]), default="jsonl", show_default=True)
@click.option("-o", "--output", type=click.File("w", encoding="utf-8"), default="-", help="File (default: stdout).")
@db_option
def search(query, lemma, perspective, case_name, speaker, transcript, code, coder, uncoded, attribute, all_turns,
           fmt, output, db_path):
    """Find QUERY in the segments and print each hit in context (KWIC) with its offsets.

    Example: coder search 引き継ぐ --lemma --perspective supporter --format md --db project.db
    """
    from .search import FIELDS, to_markdown
    from .search import search as run

    hits = run(store.open_db(db_path, create=False), query, lemma=lemma, perspective=perspective, case=case_name,
               speaker=speaker, transcript=transcript, code=code, coder=coder, uncoded=uncoded,
               attribute=attribute, all_turns=all_turns)
    if fmt == "jsonl":
        output.writelines(json.dumps(h, ensure_ascii=False) + "\n" for h in hits)
    elif fmt == "csv":
        from .export.cells import spreadsheet_row

        writer = csv.writer(output)
        writer.writerows([FIELDS, *(spreadsheet_row([h[f] for f in FIELDS]) for h in hits)])
    else:
        output.write(to_markdown(hits))


@cli.command()
@click.option("--corpus", type=click.Path(exists=True, file_okay=False), default=str(CORPUS), show_default=True)
@click.option("--force", is_flag=True, help="Replace the database if it exists.")
@click.option("--suggest/--no-suggest", default=True, show_default=True, help="Store code suggestions too.")
@click.option("--codings/--no-codings", default=True, show_default=True,
              help="Load the demo team's codings, adjudications and summaries (corpus/demo_codings.yaml).")
@click.option("--topics/--no-topics", default=True, show_default=True,
              help="Find the themes of the uncoded segments (coder topics --source uncoded) for the report.")
@click.option("--db", "db_path", type=click.Path(dir_okay=False), default="demo.db", show_default=True)
def demo(corpus, force, suggest, codings, topics, db_path):
    """Build a fresh demo project from the sample corpus.

    Example: coder demo --db demo.db --force
    """
    from .demo import build_demo

    click.echo("building the demo project: segmenting with GiNZA, suggesting codes, loading the demo team's "
               "work, finding themes …", err=True)
    report = build_demo(db_path, corpus, force=force, suggest=suggest, codings=codings, topics=topics)
    imported = report.ingest.imported
    click.echo(f"demo project {db_path}: {len(imported)} transcripts, {sum(len(t.segments) for t in imported)} "
               f"segments{', suggestions stored' if suggest else ''}")
    if c := report.codings:
        click.echo(f"{len(c['analysts'])} analysts ({', '.join(c['analysts'])}) coded {len(c['transcripts'])} "
                   f"interviews ({c['segments']} segments), {c['disagreements']} disagreements, "
                   f"{c['adjudicated']} adjudicated" + ("" if c["summaries"] is None else
                                                        f", {c['summaries']} cell summaries"))
    if report.topics is not None:
        click.echo(f"{report.topics} themes found among the uncoded segments (see `coder report`, the トピック page)")
    if report.topics_skipped:
        click.echo(f"no themes: {report.topics_skipped}", err=True)
    click.echo(f"next: coder user add NAME --role supervisor --db {db_path}  (then log in to `coder serve --db "
               f"{db_path}`; a supervisor sees every analyst's codes, the agreement page and the adjudications)")


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to bind (local only by default).")
@click.option("--port", default=5000, show_default=True)
@click.option("--threads", default=8, show_default=True, help="Worker threads of the server.")
@click.option("--certfile", type=click.Path(exists=True, dir_okay=False), help="PEM certificate: serve HTTPS.")
@click.option("--keyfile", type=click.Path(exists=True, dir_okay=False), help="PEM private key of --certfile.")
@click.option("--behind-proxy", metavar="ADDRESS",
              help="A reverse proxy at ADDRESS terminates HTTPS and forwards here (trust its X-Forwarded-* headers).")
@click.option("--debug", is_flag=True, help="Flask's development server with the debugger (never on a network).")
@click.option("--codebook", "codebook_path", type=click.Path(exists=True, dir_okay=False),
              help="Codebook YAML (default: codebook/renkei.yaml).")
@click.option("--embedding-model", type=click.Path(exists=True, file_okay=False),
              help="A local sentence-transformers model directory for suggestions.")
@db_option
def serve(host, port, threads, certfile, keyfile, behind_proxy, debug, codebook_path, embedding_model, db_path):
    """Serve the web UI for a project (log in with an account from `coder user add`) with a
    production server (waitress; cheroot for --certfile/--keyfile).

    Example: coder serve --db demo.db --port 5000
    """
    from web import create_app
    from web.server import is_loopback, secure_config
    from web.server import serve as run

    from .users import list_users

    db = store.open_db(db_path, create=False)
    if not list_users(db):
        click.echo(f"no accounts yet: create one with `coder user add NAME --role analyst --db {db_path}`", err=True)
    db.close()
    tls = bool(certfile or behind_proxy)
    if not tls and not is_loopback(host):
        click.echo(f"warning: {host} is reachable from the network but this is plain HTTP: passwords and interview "
                   "text travel unencrypted. Use --certfile/--keyfile or a reverse proxy (README: Serving).", err=True)
    click.echo(f"serving {db_path} on {'https' if certfile else 'http'}://{host}:{port}/ (Ctrl+C stops)", err=True)
    app = create_app({"DATABASE": str(Path(db_path).resolve()), "CODEBOOK": codebook_path,
                      "EMBEDDING_MODEL": embedding_model, **secure_config(tls)})
    run(app, host, port, threads, certfile, keyfile, behind_proxy, debug)


@cli.command()
@click.argument("state", required=False, type=click.Choice(["on", "off"]))
@db_option
def blind(state, db_path):
    """Show or set blind mode: while on (a new project's default), analysts see only their own codes
    and the model's suggestions.

    Example: coder blind off --db project.db
    """
    from . import access

    db = store.open_db(db_path, create=False)
    if state:
        access.set_blind(db, state == "on")
    click.echo(f"blind mode is {'on' if access.blind(db) else 'off'} in {db_path}")


@cli.group(cls=Group)
def user():
    """Manage the project's accounts (analysts and supervisors).

    Example: coder user add hanako --role analyst --db project.db
    """


@user.command("add")
@click.argument("name")
@click.option("--role", type=click.Choice(["analyst", "supervisor"]), default="analyst", show_default=True)
@click.option("--password-file", type=click.File("r", encoding="utf-8"),
              help="Read the password from the first line of this file ('-' = stdin); default: prompt.")
@db_option
def user_add(name, role, password_file, db_path):
    """Create an account; the password is prompted for (twice) unless --password-file is given.

    Example: coder user add hanako --role analyst --db project.db
    """
    from .users import add_user

    if password_file:
        password = password_file.readline().rstrip("\r\n")
    else:
        password = click.prompt("password", hide_input=True, confirmation_prompt=True)
    add_user(store.open_db(db_path, create=False), name, role, password)
    click.echo(f"user {name} ({role}) added to {db_path}")


@user.command("list")
@db_option
def user_list(db_path):
    """List the project's accounts, with disabled or locked ones marked.

    Example: coder user list --db project.db
    """
    from .users import list_users, status

    for u in list_users(store.open_db(db_path, create=False)):
        state = {"disabled": "  disabled", "locked": f"  locked until {u['locked_until']}"}.get(status(u), "")
        failed = f"  ({u['failed_logins']} failed logins)" if u["failed_logins"] else ""
        click.echo(f"{u['name']:20} {u['role']:11} since {u['created_at']}{state}{failed}")


@user.command("passwd")
@click.argument("name")
@click.option("--password-file", type=click.File("r", encoding="utf-8"),
              help="Read the new password from this file ('-' = stdin); default: prompt.")
@db_option
def user_passwd(name, password_file, db_path):
    """Set a new password for an account; its open web sessions end.

    Example: coder user passwd hanako --db project.db
    """
    from .users import set_password

    if password_file:
        password = password_file.readline().rstrip("\r\n")
    else:
        password = click.prompt("new password", hide_input=True, confirmation_prompt=True)
    set_password(store.open_db(db_path, create=False), name, password)
    click.echo(f"password of {name} changed")


@user.command("unlock")
@click.argument("name")
@db_option
def user_unlock(name, db_path):
    """Lift the lockout after too many wrong passwords (and forget the count).

    Example: coder user unlock hanako --db project.db
    """
    from .users import unlock

    unlock(store.open_db(db_path, create=False), name)
    click.echo(f"{name} unlocked")


@user.command("disable")
@click.argument("name")
@db_option
def user_disable(name, db_path):
    """Disable an account: it can no longer log in, and its open sessions end at once.

    Example: coder user disable hanako --db project.db
    """
    from .users import disable

    disable(store.open_db(db_path, create=False), name)
    click.echo(f"{name} disabled (undo with `coder user enable {name} --db {db_path}`)")


@user.command("enable")
@click.argument("name")
@db_option
def user_enable(name, db_path):
    """Let a disabled account log in again.

    Example: coder user enable hanako --db project.db
    """
    from .users import enable

    enable(store.open_db(db_path, create=False), name)
    click.echo(f"{name} enabled")


codebook_option = click.option("--codebook", "codebook_path", type=click.Path(exists=True, dir_okay=False),
                               help="Codebook YAML (default: the project's own codebook, which this file seeds "
                                    "on first use; else codebook/renkei.yaml).")


@cli.group(cls=Group)
def codebook():
    """Show or check the codebook.

    Example: coder codebook lint
    """


@codebook.command("show")
@click.option("--code", "code_id", help="Only this code.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@codebook_option
@click.option("--db", "db_path", type=click.Path(exists=True, dir_okay=False),
              help="Show this project's own codebook (with the codes added while coding) instead of a file.")
def codebook_show(code_id, as_json, codebook_path, db_path):
    """Print the codes: names, group, definition, when to use and not, examples, rules.

    Example: coder codebook show --code handover

    A project's living codebook: coder codebook show --db project.db
    """
    from dataclasses import asdict

    from .codebook import load_codebook
    from .codebook_edit import resolve

    book = resolve(store.open_db(db_path, create=False), codebook_path) if db_path else load_codebook(codebook_path)
    codes = [book.code(code_id)] if code_id else book.codes
    if as_json:
        click.echo(json.dumps([asdict(c) for c in codes], ensure_ascii=False, indent=2))
        return
    click.echo(f"{book.title} ({book.version_tag}, {book.path})")
    for c in codes:
        click.echo(f"\n[{c.id}] {c.name} / {c.name_en} ({c.group})\n  {c.definition}")
        for label, lines in (("use when", c.use_when), ("not when", c.do_not_use_when), ("example", c.examples)):
            for line in lines:
                click.echo(f"  {label}: {line}")
        click.echo(f"  rules: {sum(len(r.phrases) or 1 for r in c.rules)} phrases/patterns")


@codebook.command("lint")
@codebook_option
def codebook_lint(codebook_path):
    """Validate the codebook and list rule problems (exit 1 on an invalid file).

    Example: coder codebook lint --codebook my_codebook.yaml
    """
    from .codebook import lint, load_codebook
    from .suggest import create

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
    from .codebook import dump_yaml
    from .codebook_edit import resolve
    from .export.refi import codebook_xml

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


by_option = click.option("--by", "user", default=_cli_user, show_default="cli:<your login name>",
                         help="Who made the change (recorded in the event log).")


@cli.group(cls=Group)
def code():
    """Change the project's codebook: add, rename, describe, recolour, nest, merge, retire, promote codes.

    Each change makes a new codebook version (e.g. renkei@p3) and is logged. Code ids never change.

    Example: coder code add job_coach --name ジョブコーチ支援 --parent handover --db project.db
    """


def _changed(book, code_id: str) -> None:
    c = next(c for c in book.codes if c.id == code_id)
    state = "retired" + (f", merged into {c.merged_into}" if c.merged_into else "") if c.status == "retired" else ""
    click.echo(f"{book.version_tag}: [{c.id}] {c.name}" + (f" (under {c.parent})" if c.parent else "")
               + (f" ({state})" if state else ""))


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
    from .codebook_edit import add_code

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
    from .codebook_edit import rename_code

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
    from .codebook_edit import describe_code

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
    from .codebook_edit import recolour_code

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
    from .codebook_edit import nest_code

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
    from .codebook_edit import last_change, merge_codes

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
    from .codebook_edit import retire_code

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
    from .codebook_edit import last_change, promote_user_code

    db = store.open_db(db_path, create=False)
    _changed(promote_user_code(db, user, user_code, code_id, name), code_id)
    click.echo(f"{last_change(db)['detail']['codings']} coding(s) moved from {user_code}")


@code.command("list")
@click.option("--codebook", "codebook_path", type=click.Path(exists=True, dir_okay=False),
              help="Codebook YAML that seeds the project's codebook on first use.")
@db_option
def code_list(codebook_path, db_path):
    """List the project's codes (nested, with retired ones marked) and the user codes that can be promoted.

    Example: coder code list --db project.db
    """
    from .codebook_edit import project_codebook, tree

    db = store.open_db(db_path, create=False)
    book = project_codebook(db, codebook_path)
    click.echo(f"{book.title} ({book.version_tag})")
    for depth, c in tree(book.codes):
        merged = f", merged into {c.merged_into}" if c.merged_into else ""
        click.echo(f"{'  ' * depth}[{c.id}] {c.name}" + (f" (retired{merged})" if c.status == "retired" else ""))
    for u in store.user_codes(db):
        click.echo(f"user:{u['guid']} {u['name']} (user code; promote with `coder code promote`)")


@cli.command()
@click.option("--in", "in_path", type=click.Path(exists=True, dir_okay=False),
              help='JSONL of {"id", "text", "perspective"?} to suggest for (no project needed).')
@click.option("--out", "out_path", type=click.Path(dir_okay=False), help="Where to write the JSONL suggestions.")
@click.option("--train", "train_path", type=click.Path(exists=True, dir_okay=False),
              help='Labelled JSONL (adds "codes": [ids]) to learn from.')
@click.option("--transcript", help="With --db: only this transcript (id or name).")
@click.option("--embedding-model", type=click.Path(exists=True, file_okay=False),
              help="A local sentence-transformers model directory (default: built from ja-ginza's vectors).")
@codebook_option
@click.option("--db", "db_path", type=click.Path(dir_okay=False), help="Suggest for a project's segments.")
def suggest(in_path, out_path, train_path, transcript, embedding_model, codebook_path, db_path):
    """Suggest codes with reasons, for a JSONL file or for a project.

    Example: coder suggest --in segments.jsonl --out suggestions.jsonl --train labelled.jsonl
    """
    from .codebook import load_codebook
    from .suggest import service

    book = load_codebook(codebook_path)
    if not embedding_model:
        from .suggest.embedding import default_model_dir

        if not default_model_dir().exists():
            click.echo(f"building the embedding model from ja-ginza's vectors (once) in {default_model_dir()} …",
                       err=True)
    if db_path and not in_path:
        from .codebook_edit import resolve

        db = store.open_db(db_path, create=False)
        summary = service.suggest_project(db, resolve(db, codebook_path).offered(), transcript, embedding_model)
        click.echo(f"{summary['segments']} segments scored (learned from {summary['trained_on']} coded segments)")
        for code, n in summary["suggested"].items():
            click.echo(f"  {code:20} {n:>5} suggested")
        if summary["least_certain"]:
            click.echo(f"review first (least certain): segment ids {', '.join(map(str, summary['least_certain']))}")
        return
    if not (in_path and out_path):
        raise click.UsageError("give --in IN.jsonl --out OUT.jsonl, or --db PROJECT.db")
    items = service.read_jsonl(in_path)
    train = service.read_jsonl(train_path, need_codes=True) if train_path else None
    rows = service.suggest_items(items, book, train, embedding_model, source=train_path or "")
    with open(out_path, "w", encoding="utf-8") as out:
        out.writelines(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)
    click.echo(f"{len(rows)} items → {out_path} ({sum(len(r['labels']) for r in rows)} labels)")


@cli.command()
@click.option("--gold", type=click.Path(exists=True, dir_okay=False), required=True, help='JSONL with "codes".')
@click.option("--pred", type=click.Path(exists=True, dir_okay=False), required=True, help='JSONL with "labels".')
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@codebook_option
def evaluate(gold, pred, as_json, codebook_path):
    """Per-code precision/recall/F1 and micro/macro F1 (five core codes, and all codes).

    Example: coder evaluate --gold dev.jsonl --pred suggestions.jsonl
    """
    from .codebook import load_codebook
    from .evaluate import evaluate as run
    from .evaluate import read_labels

    result = run(read_labels(gold, "codes"), read_labels(pred, "labels"), load_codebook(codebook_path).ids)
    if as_json:
        click.echo(json.dumps(result, ensure_ascii=False, indent=2))
        return
    click.echo(f"{'code':20} {'P':>5} {'R':>5} {'F1':>5} {'n':>4}")
    for code, m in result["per_code"].items():
        click.echo(f"{code:20} {m['precision']:5.2f} {m['recall']:5.2f} {m['f1']:5.2f} {m['support']:>4}")
    for name, s in result["summary"].items():
        click.echo(f"{name:20} micro-F1 {s['micro_f1']:.3f}  macro-F1 {s['macro_f1']:.3f}")


@cli.command()
@click.option("--ratings", type=click.Path(exists=True, dir_okay=False),
              help="Generic mode: a CSV with columns unit,coder,value (one row per rating).")
@click.option("--metric", type=click.Choice(["alpha-nominal", "alpha-ordinal", "alpha-interval", "alpha-ratio",
                                             "cohen", "fleiss", "percent"]), default="alpha-nominal",
              show_default=True, help="With --ratings: the statistic.")
@click.option("--coders", help="Project mode: comma-separated coders (default: every analyst; 'model', "
                               "'consensus' and NAME:recode are allowed).")
@click.option("--by", type=Grouping(["code", "perspective", "transcript"]), default="code", show_default=True,
              help="Rows: per code, perspective, transcript, or value of an attribute (attr:障害種別).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@codebook_option
@db_option
def agreement(ratings, metric, coders, by, as_json, codebook_path, db_path):
    """Inter-rater agreement: Krippendorff's alpha (95% bootstrap CI), Cohen's and Fleiss' kappa, % agreement.

    Example: coder agreement --db project.db --by perspective
    """
    from . import agreement as stats

    if ratings:
        _, _, matrix = stats.read_ratings(ratings)
        result = stats.compute(metric, matrix)
        click.echo(json.dumps(result) if as_json else
                   f"{metric}: {_fmt(result['value'])} ({result['n_units']} units, {result['n_coders']} coders)")
        return
    from .codebook_edit import resolve

    names = [c.strip() for c in coders.split(",") if c.strip()] if coders else None
    db = store.open_db(db_path, create=False)
    result = stats.project_agreement(db, resolve(db, codebook_path), names, by)
    if as_json:
        click.echo(json.dumps(result, ensure_ascii=False, indent=2))
        return
    click.echo(f"coders: {', '.join(result['coders'])}")
    click.echo(f"{by:22} {'n':>6} {'alpha':>6} {'95% CI':>15} {'%agree':>7} {'fleiss':>7}  cohen per pair")
    for row in [*result["rows"], {"key": "overall", **result["overall"]}]:
        ci = row["alpha_ci"]
        pairs = "  ".join(f"{k} {_fmt(v)}" for k, v in row["cohen"].items())
        click.echo(f"{row['key']:22} {row['n_segments']:>6} {_fmt(row['alpha']):>6} "
                   f"{('[' + _fmt(ci[0]) + ', ' + _fmt(ci[1]) + ']') if ci else '-':>15} "
                   f"{_fmt(row['percent']):>7} {_fmt(row['fleiss']):>7}  {pairs}")


def _fmt(value):
    return "-" if value is None else f"{value:.3f}"


@cli.command()
@click.option("--source", default="consensus", show_default=True,
              help="consensus, all (every analyst), an analyst's name, or model.")
@click.option("--format", "fmt", type=click.Choice(["jsonl", "csv"]), default="jsonl", show_default=True)
@click.option("-o", "--output", type=click.File("w", encoding="utf-8"), default="-", help="File (default: stdout).")
@db_option
def codings(source, fmt, output, db_path):
    """Print confirmed codings from one source (consensus, all analysts, one analyst, or the model).

    Example: coder codings --source consensus --format csv -o consensus.csv
    """
    from .access import Policy
    from .layers import codings_for

    db = store.open_db(db_path, create=False)
    rows = codings_for(db, Policy.owner().check_source(db, source))  # an unknown source is an error
    if fmt == "jsonl":
        output.writelines(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)
        return
    from .export.cells import spreadsheet_row

    writer = csv.DictWriter(output, fieldnames=["segment_id", "code", "coder"])
    writer.writeheader()
    writer.writerows(spreadsheet_row(r) for r in rows)


@cli.command()
@click.argument("coder_name", metavar="CODER")
@click.option("--size", default=20, show_default=True, help="Segments to draw.")
@click.option("--min-age-days", default=14.0, show_default=True, help="Only segments finished this long ago.")
@click.option("--seed", type=int, help="Random seed (for a reproducible sample).")
@db_option
def recode(coder_name, size, min_age_days, seed, db_path):
    """Draw a sample of CODER's finished segments to re-code blind (intra-coder agreement).

    Example: coder recode hanako --size 20 --min-age-days 14 --db project.db
    """
    from .agreement import draw_recode_sample

    n = draw_recode_sample(store.open_db(db_path, create=False), coder_name, size, min_age_days, seed)
    click.echo(f"{coder_name} has {n} segment(s) to re-code blind (web UI: 再コーディング)")


@cli.command()
@click.option("--by", type=Grouping(["perspective", "case", "transcript"]), default="perspective",
              show_default=True, help="Rows of the matrix (attr:NAME: the values of an attribute).")
@click.option("--source", default="consensus", show_default=True,
              help="consensus (final codes), all (every analyst), an analyst's name, or model (unconfirmed).")
@click.option("--case", "case_name", help="Only this case.")
@click.option("--transcript", help="Only this transcript (id or name).")
@click.option("--attribute", "pairs", multiple=True, metavar="NAME=VALUE",
              help="Only transcripts with this attribute value (repeatable; see `coder attributes`).")
@click.option("--quotes", default=3, show_default=True, help="Quotes per cell.")
@click.option("--format", "fmt", type=click.Choice(["md", "json", "csv"]), default="md", show_default=True)
@click.option("-o", "--output", type=click.File("w", encoding="utf-8"), default="-", help="File (default: stdout).")
@codebook_option
@db_option
def matrix(by, source, case_name, transcript, pairs, quotes, fmt, output, codebook_path, db_path):
    """The perspective x code matrix: counts, interviewees, shares and representative quotes.

    Example: coder matrix --db project.db --source consensus --format md -o matrix.md

    By an attribute: coder matrix --by attr:障害種別 --attribute 地域=関東 --db project.db
    """
    from .attributes import parse_filters
    from .codebook_edit import resolve
    from .matrix import build, empty_reason, to_csv, to_markdown

    db = store.open_db(db_path, create=False)
    book = resolve(db, codebook_path)
    where = parse_filters(pairs)
    result = build(db, book, by, source, quotes, case_name, transcript, where=where)
    if why := empty_reason(db, result, book):
        click.echo(why, err=True)
    if fmt == "json":
        output.write(json.dumps(result, ensure_ascii=False, indent=2) + "\n")
    else:
        output.write(to_markdown(result, book) if fmt == "md" else to_csv(result, book))


@cli.command()
@click.argument("kind", type=click.Choice(["heatmap", "bars"]))
@click.option("--by", type=Grouping(["perspective", "case", "transcript"]), default="perspective",
              show_default=True, help="Rows of the matrix (attr:NAME: the values of an attribute).")
@click.option("--source", default="consensus", show_default=True,
              help="consensus (final codes), all (every analyst), an analyst's name, or model (unconfirmed).")
@click.option("--code", help="bars: only this code (default: every code, one small chart each).")
@click.option("--measure", type=click.Choice(["segments", "share"]), default="segments", show_default=True,
              help="heatmap: colour by coded segments or by their share of the row's segments.")
@click.option("--attribute", "pairs", multiple=True, metavar="NAME=VALUE",
              help="Only transcripts with this attribute value (repeatable; see `coder attributes`).")
@click.option("--format", "fmt", type=click.Choice(["png", "svg"]), default="png", show_default=True)
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False), help="Image file to write.")
@codebook_option
@db_option
def chart(kind, by, source, code, measure, pairs, fmt, output, codebook_path, db_path):
    """Draw the matrix as an image with Japanese labels: a heatmap (rows x codes) or per-code bars.

    Example: coder chart heatmap --source consensus --format png -o matrix.png --db project.db

    One code: coder chart bars --code information_sharing --format svg -o sharing.svg --db project.db
    """
    from . import charts
    from .attributes import parse_filters
    from .codebook_edit import resolve
    from .matrix import build

    db = store.open_db(db_path, create=False)
    book = resolve(db, codebook_path)
    result = build(db, book, by, source, quotes=0, where=parse_filters(pairs))
    if kind == "heatmap":
        path = charts.heatmap(result, book, output, fmt, measure=measure)
    else:
        path = charts.bars(result, book, output, fmt, code=code)
    click.echo(f"{kind} → {path}")


@cli.command()
@click.option("--source", default="consensus", show_default=True,
              help="consensus (final codes), all (every analyst), an analyst's name, or model (unconfirmed).")
@click.option("--level", type=click.Choice(["segment", "interview"]), default="segment", show_default=True,
              help="png/svg: draw codes on the same segment, or anywhere in the same interview (md/json hold both).")
@click.option("--attribute", "pairs", multiple=True, metavar="NAME=VALUE",
              help="Only transcripts with this attribute value (repeatable; see `coder attributes`).")
@click.option("--format", "fmt", type=click.Choice(["md", "json", "png", "svg"]), default="md", show_default=True)
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="File (default: stdout; needed for png/svg).")
@codebook_option
@db_option
def cooccurrence(source, level, pairs, fmt, output, codebook_path, db_path):
    """Which codes appear together on a segment or in an interview: pairs with Jaccard, or the network.

    Example: coder cooccurrence --source consensus --format md -o cooccurrence.md --db project.db

    Network (KH Coder style): coder cooccurrence --level interview --format png -o network.png --db project.db
    """
    from . import charts
    from .attributes import parse_filters
    from .codebook_edit import resolve
    from .cooccurrence import compute, to_markdown

    if fmt in charts.FORMATS and not output:
        raise click.UsageError(f"--format {fmt} writes an image: give -o FILE")
    db = store.open_db(db_path, create=False)
    book = resolve(db, codebook_path)
    result = compute(db, book, source, where=parse_filters(pairs))
    if fmt in charts.FORMATS:
        click.echo(f"network → {charts.network(result, book, output, fmt, level=level)}")
        return
    text = json.dumps(result, ensure_ascii=False, indent=2) + "\n" if fmt == "json" else to_markdown(result, book)
    if output:
        Path(output).write_text(text, encoding="utf-8")
    else:
        click.echo(text, nl=False)


def _export_formats() -> list[str]:
    from .export import load

    return sorted(load())


@cli.command()
@click.option("--format", "fmt", required=True, type=click.Choice(_export_formats()),
              help="What to write (see README).")
@click.option("--out", "out_path", required=True, type=click.Path(), help="File to write, or a folder (default name).")
@click.option("--source", help="consensus (final codes; default), all (every analyst; default for refi-qdpx), "
                               "an analyst's name, or model (unconfirmed).")
@click.option("--by", type=Grouping(["perspective", "case", "transcript"]), default="perspective",
              show_default=True, help="Matrix rows (matrix-* formats; attr:NAME: the values of an attribute).")
@click.option("--case", "case_name", help="Only this case.")
@click.option("--transcript", help="Only this transcript (id or name).")
@click.option("--attribute", "pairs", multiple=True, metavar="NAME=VALUE",
              help="Only transcripts (or cases) with this attribute value; repeat for several.")
@click.option("--pseudonymise", is_flag=True,
              help="Replace listed names by 人物A, 事業所B … (see `coder names`); the key goes to OUT.key.csv.")
@codebook_option
@db_option
def export(fmt, out_path, source, by, case_name, transcript, pairs, pseudonymise, codebook_path, db_path):
    """Write quotes by code, the matrix or the project (REFI-QDA) to a file (CSV, XLSX, DOCX, Markdown, …).

    Example: coder export --format quotes-docx --out quotes.docx --source consensus --db project.db

    Pseudonymised: coder export --format refi-qdpx --out shared.qdpx --pseudonymise --db project.db

    One group: coder export --format quotes-docx --out 精神.docx --attribute 障害種別=精神 --db project.db
    """
    from .attributes import parse_filters
    from .codebook_edit import resolve
    from .export import get, run
    from .layers import codings_for
    from .pseudonymise import Pseudonymiser, write_key

    db = store.open_db(db_path, create=False)
    pz = Pseudonymiser.from_db(db) if pseudonymise else False
    book = resolve(db, codebook_path)
    path = run(db, fmt, out_path, book, source, by, case_name, transcript, pseudonymise=pz, where=parse_filters(pairs))
    click.echo(f"{fmt} → {path}")
    coded = source or "consensus"  # what run() reads for quotes and the matrix
    if get(fmt).kind in ("quotes", "matrix") and not codings_for(db, coded, book.ids):
        click.echo(f"{path} is empty: " + (
            "no suggestions are stored yet: run `coder suggest --db …` first" if coded == "model" else
            f"no segment is coded in source {coded!r} yet: code in the web UI, or see the unconfirmed "
            "suggestions with --source model (the file then says they are unconfirmed)"), err=True)
    if pz:
        for note in pz.notes():
            click.echo(f"warning: {note}", err=True)
        key = write_key(f"{path}.key.csv", pz.key(used_only=True))
        click.echo(f"key table (placeholder → real name): {key}, readable by you only. Keep it apart from the "
                   "export: never store or send the two together.", err=True)


@cli.command()
@click.option("--format", "fmt", required=True, type=click.Choice(["docx", "md", "html"]),
              help="Word, Markdown (charts as PNG files in OUT_files/) or one self-contained HTML file.")
@click.option("--out", "out_path", required=True, type=click.Path(), help="File to write, or a folder (default name).")
@click.option("--source", default="consensus", show_default=True,
              help="consensus (final codes), all (every analyst), an analyst's name, or model (unconfirmed).")
@click.option("--by", type=Grouping(["perspective", "case", "transcript"]), default="perspective",
              show_default=True, help="Rows of each code's counts (attr:NAME: the values of an attribute).")
@click.option("--attribute", "pairs", multiple=True, metavar="NAME=VALUE",
              help="Only transcripts (or cases) with this attribute value; repeat for several.")
@codebook_option
@db_option
def report(fmt, out_path, source, by, pairs, codebook_path, db_path):
    """Write the findings chapter of a report: per code counts, charts, summaries and quotes; methods; new themes.

    Example: coder report --format docx --out 報告書.docx --source consensus --db project.db
    """
    from . import report as findings
    from .attributes import parse_filters
    from .codebook_edit import resolve

    db = store.open_db(db_path, create=False)
    book = resolve(db, codebook_path)
    result = findings.build(db, book, source, by, where=parse_filters(pairs), progress=_progress)
    if not result["coded"]:
        _progress(f"no segment is coded in source {source!r} yet, so every count in the report is 0: code in the web "
                  "UI, or " + ("run `coder suggest --db ...` first" if source == "model" else
                               "report the unconfirmed suggestions with --source model"))
    click.echo(findings.write(result, Path(out_path), fmt, book, progress=_progress))


def _progress(message: str) -> None:
    click.echo(message, err=True)


def _name_kinds() -> list[str]:
    from .pseudonymise import KINDS

    return list(KINDS)


def _login_name() -> str:
    import getpass

    return getpass.getuser()


reviewer_option = click.option("--reviewer", default=_login_name, show_default="your login name",
                               help="Who reviewed the name (recorded).")


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
    from .pseudonymise import list_names

    for r in list_names(store.open_db(db_path, create=False), status):
        click.echo(json.dumps(r, ensure_ascii=False) if as_json else
                   f"{r['placeholder']:8} {r['name']:16} {r['kind']:13} {r['origin']:8} {r['status']}")


@names.command("scan")
@click.option("--again", is_flag=True, help="Read transcripts scanned before too.")
@click.option("--speakers-only", is_flag=True, help="Only speaker labels (fast; no GiNZA).")
@db_option
def names_scan(again, speakers_only, db_path):
    """Find candidate names: speaker labels that are names, and GiNZA's named entities (slow: ~2,000 chars/s).

    Example: coder names scan --db project.db
    """
    from tqdm import tqdm

    from .pseudonymise import scan
    from .segment import load_ner

    db = store.open_db(db_path, create=False)
    with tqdm(total=0, unit="字", file=sys.stderr, disable=None, desc="names") as bar:
        def step(done, total):
            bar.total, bar.n = total, done
            bar.refresh()
        found = scan(db, None if speakers_only else load_ner(), again, step)
    click.echo(f"new candidates: {found['speakers']} from speaker labels, {found['ner']} from the named entities of "
               f"{found['transcripts']} transcript(s); review them with `coder names list --status candidate`")


@names.command("add")
@click.argument("name")
@click.option("--kind", type=click.Choice(_name_kinds()), default="person", show_default=True,
              help="person → 人物A, organisation → 事業所A, place → 地域A.")
@reviewer_option
@db_option
def names_add(name, kind, reviewer, db_path):
    """Add a name to replace in pseudonymised exports (or set a listed name's kind).

    Example: coder names add 株式会社みなと物産 --kind organisation --db project.db
    """
    from .pseudonymise import add_name

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
    from .pseudonymise import review

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
    from .pseudonymise import review

    r = review(store.open_db(db_path, create=False), name, "keep", reviewer)
    click.echo(f"{r['name']} is kept as written")


@cli.command("import-qdpx")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--case", help="Case for sources the file gives none.")
@click.option("--speaker", "pairs", multiple=True, metavar="SPEAKER=PERSPECTIVE",
              help="Map a speaker label to person|supporter|employer|interviewer (repeatable).")
@click.option("--keep-consensus", is_flag=True,
              help="Keep the consensus layer of a coder export as this project's adjudicated codes.")
@codebook_option
@db_option
def import_qdpx(file, case, pairs, keep_consensus, codebook_path, db_path):
    """Import a REFI-QDA project (.qdpx) or codebook (.qdc) from NVivo, ATLAS.ti, MAXQDA, QualCoder or coder.

    Example: coder import-qdpx interviews.qdpx --case minato --speaker 支援員=supporter --db project.db
    """
    from . import speakers
    from .codebook_edit import resolve
    from .qda_import import import_qdc
    from .qda_import import import_qdpx as run

    try:
        mapping = speakers.parse_pairs(pairs)
    except speakers.SpeakerMapError as exc:
        raise click.BadParameter(str(exc)) from exc
    db = store.open_db(db_path)
    book = resolve(db, codebook_path)
    report = import_qdc(db, file, book) if file.lower().endswith(".qdc") else \
        run(db, file, book, case=case, speaker_map=mapping, keep_consensus=keep_consensus)
    click.echo("\n".join(report.summary()))


@cli.group(cls=Group, invoke_without_command=True)
@click.option("--source", type=click.Choice(["all", "uncoded"]), default="all", show_default=True,
              help="all interviewee segments, or only those with no confirmed or suggested code.")
@click.option("--topics", "n_topics", type=click.IntRange(min=2), help="Number of topics (default: from the size).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.option("--embedding-model", type=click.Path(exists=True, file_okay=False),
              help="A local sentence-transformers model directory (default: built from ja-ginza's vectors).")
@codebook_option
@db_option
@click.pass_context
def topics(ctx, source, n_topics, as_json, embedding_model, codebook_path, db_path):
    """Emergent themes (BERTopic): words, quotes, perspectives, cases and the codes each topic overlaps.

    Example: coder topics --db project.db --source uncoded
    """
    if ctx.invoked_subcommand:
        return
    from tqdm import tqdm

    from . import topics as themes
    from .codebook_edit import resolve

    db = store.open_db(db_path, create=False)
    stages = len(themes.STAGES)
    with tqdm(total=stages, file=sys.stderr, disable=None, bar_format="{desc} {n}/{total} {elapsed}") as bar:
        def step(stage):
            bar.n = themes.STAGES.index(stage)
            bar.set_description(f"topics: {stage}")
        result = themes.find_topics(db, source, n_topics, embedding_model, progress=step)
        bar.update(stages - bar.n)
    themes.save_result(db, result)
    click.echo(json.dumps(result, ensure_ascii=False, indent=2) if as_json
               else themes.to_text(result, themes.code_names(db, resolve(db, codebook_path))))


@topics.command("propose")
@click.argument("topic_id", type=int)
@click.option("--source", type=click.Choice(["all", "uncoded"]), default="all", show_default=True,
              help="Which last run of `coder topics` the topic number refers to.")
@click.option("--name", help="Code name (default: the topic's top three words).")
@click.option("--description", help="Description (default: the topic's words).")
@db_option
def topics_propose(topic_id, source, name, description, db_path):
    """Draft a new user code from a topic of the last `coder topics` run, with its example quotes.

    Example: coder topics propose 4 --name 通勤と生活リズム --db project.db
    """
    from .topics import find_topic, last_result, propose_code

    db = store.open_db(db_path, create=False)
    code = propose_code(db, find_topic(last_result(db, source), topic_id), name, description)
    click.echo(f"draft code {code['name']!r} added as {code['code']} with {len(code['examples'])} example quote(s)")


@cli.group(cls=Group)
def memo():
    """Write, edit or delete memos on a segment, a transcript, a case or the project.

    Example: coder memo add 12 "本人の希望を聞く場面の典型" --coder hanako --db project.db
    """


@memo.command("add")
@click.argument("args", nargs=-1, required=True, metavar="[SEGMENT_ID] TEXT")
@click.option("--coder", "author", required=True, help="Who writes the memo (an analyst's user name).")
@click.option("--transcript", help="A memo on this transcript (id or name) instead of a segment.")
@click.option("--case", "case_name", help="A memo on this case instead of a segment.")
@click.option("--project", is_flag=True, help="A memo on the whole project instead of a segment.")
@db_option
def memo_add(args, author, transcript, case_name, project, db_path):
    """Add a memo: on segment SEGMENT_ID (the `id` of `coder segments`), or with --transcript, --case
    or --project.

    Example: coder memo add --case minato "職場訪問の記録あり" --coder hanako --db project.db
    """
    from .memos import add

    other = transcript is not None or case_name is not None or project
    if len(args) != (1 if other else 2) or not (other or (args[0].isascii() and args[0].isdigit())):
        raise click.UsageError("give SEGMENT_ID TEXT, or TEXT with --transcript, --case or --project")
    m = add(store.open_db(db_path, create=False), author, args[-1], segment_id=None if other else int(args[0]),
            transcript=transcript, case=case_name, project=project)
    click.echo(f"memo {m['id']} added ({m['kind']})")


@memo.command("edit")
@click.argument("memo_id", type=int)
@click.argument("text")
@click.option("--coder", "author", required=True, help="The memo's author (only they may edit it).")
@db_option
def memo_edit(memo_id, text, author, db_path):
    """Replace the text of your memo MEMO_ID (see `coder memos`).

    Example: coder memo edit 3 "書き直したメモ" --coder hanako --db project.db
    """
    from .memos import edit

    edit(store.open_db(db_path, create=False), memo_id, author, text)
    click.echo(f"memo {memo_id} edited")


@memo.command("delete")
@click.argument("memo_id", type=int)
@click.option("--coder", "author", required=True, help="The memo's author (only they may delete it).")
@db_option
def memo_delete(memo_id, author, db_path):
    """Delete your memo MEMO_ID (its text stays in the event log).

    Example: coder memo delete 3 --coder hanako --db project.db
    """
    from .memos import delete

    delete(store.open_db(db_path, create=False), memo_id, author)
    click.echo(f"memo {memo_id} deleted")


@cli.command()
@click.option("--format", "fmt", type=click.Choice(["jsonl", "md"]), default="jsonl", show_default=True)
@click.option("--author", help="Only memos by this user.")
@click.option("--kind", type=click.Choice(["code", "segment", "transcript", "case", "project"]), help="Only this kind.")
@click.option("--transcript", help="Only memos on this transcript (id or name) and its segments.")
@click.option("--case", "case_name", help="Only memos on this case, its transcripts and their segments.")
@click.option("-o", "--output", type=click.File("w", encoding="utf-8"), default="-", help="File (default: stdout).")
@db_option
def memos(fmt, author, kind, transcript, case_name, output, db_path):
    """Print memos, oldest first, as JSON lines or a Markdown report.

    Example: coder memos --kind segment --author hanako --format md --db project.db
    """
    from .access import Policy
    from .memos import as_markdown, visible

    rows = visible(store.open_db(db_path, create=False), Policy.owner(), author=author, kind=kind,
                   transcript=transcript, case=case_name)
    if fmt == "md":
        output.write(as_markdown(rows))
        return
    for row in rows:
        output.write(json.dumps(row, ensure_ascii=False) + "\n")


summary_by = click.option("--by", type=Grouping(["perspective", "case", "transcript"]), default="perspective",
                          show_default=True, help="The matrix's rows the cell belongs to (attr:NAME: an attribute).")


@cli.group(cls=Group)
def summary():
    """Write or delete the summary of a matrix cell (row x code), shared by the team.

    Example: coder summary set supporter information_sharing --text "記録の共有が定着" --db project.db
    """


@summary.command("set")
@click.argument("row")
@click.argument("code")
@summary_by
@click.option("--text", required=True, help="The summary (an empty text deletes it).")
@click.option("--segments", metavar="ID,ID", help="Segment ids it rests on (`coder segments`), e.g. 12,15; "
                                                  "default: keep the linked ones; \"\" links none.")
@click.option("--coder", "author", default=_login_name, show_default="your login name", help="Who writes it.")
@codebook_option
@db_option
def summary_set(row, code, by, text, segments, author, codebook_path, db_path):
    """Write (or replace) the summary of cell ROW x CODE: ROW is a perspective id (person, supporter,
    employer), a case, a transcript name or an attribute value, as the matrix's rows are.

    Example: coder summary set supporter information_sharing --text "面談記録の共有が定着" --segments 12,15
    --db project.db
    """
    from .codebook_edit import resolve
    from .summaries import set_summary

    ids = None if segments is None else [_segment_id(v) for v in segments.split(",") if v.strip()]
    db = store.open_db(db_path, create=False)
    s = set_summary(db, by, row, code, text, user=author, segment_ids=ids, codebook=resolve(db, codebook_path))
    click.echo(f"summary of {by} {row} x {code} saved ({len(s['segments'])} linked segment(s))" if s else
               f"summary of {by} {row} x {code} deleted")


def _segment_id(value: str) -> int:
    if not (value.strip().isascii() and value.strip().isdigit()):
        raise click.BadParameter(f"{value!r} is not a segment id", param_hint="--segments")
    return int(value)


@summary.command("delete")
@click.argument("row")
@click.argument("code")
@summary_by
@click.option("--coder", "author", default=_login_name, show_default="your login name", help="Who deletes it.")
@db_option
def summary_delete(row, code, by, author, db_path):
    """Delete the summary of cell ROW x CODE (its text stays in the event log).

    Example: coder summary delete supporter information_sharing --db project.db
    """
    from .summaries import get_summary, set_summary

    db = store.open_db(db_path, create=False)
    if get_summary(db, by, row, code) is None:
        raise click.ClickException(f"no summary of {by} {row} x {code} (see `coder summaries`)")
    set_summary(db, by, row, code, "", user=author)
    click.echo(f"summary of {by} {row} x {code} deleted")


@cli.command()
@click.option("--by", type=Grouping(["perspective", "case", "transcript"]), help="Only this grouping of rows.")
@click.option("--format", "fmt", type=click.Choice(["jsonl", "md"]), default="jsonl", show_default=True)
@click.option("-o", "--output", type=click.File("w", encoding="utf-8"), default="-", help="File (default: stdout).")
@codebook_option
@db_option
def summaries(by, fmt, output, codebook_path, db_path):
    """Print the matrix cells' summaries as JSON lines or a Markdown report.

    Example: coder summaries --by perspective --format md -o summaries.md --db project.db
    """
    from .codebook_edit import resolve
    from .summaries import list_summaries, to_markdown

    db = store.open_db(db_path, create=False)
    rows = list_summaries(db, by)
    if fmt == "md":
        output.write(to_markdown(rows, resolve(db, codebook_path), db))
        return
    keys = ("grouping", "row", "code", "text", "segments", "author", "created_at", "updated_at")
    for row in rows:
        output.write(json.dumps({k: row[k] for k in keys}, ensure_ascii=False) + "\n")
