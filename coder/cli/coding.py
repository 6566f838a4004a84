"""Commands of coding: suggest, evaluate, codings, recode, memo/memos, search."""

from __future__ import annotations

import csv
import json

import click

from .. import db as store
from . import Group, cli, codebook_option, db_option


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
def search(
    query,
    lemma,
    perspective,
    case_name,
    speaker,
    transcript,
    code,
    coder,
    uncoded,
    attribute,
    all_turns,
    fmt,
    output,
    db_path,
):
    """Find QUERY in the segments and print each hit in context (KWIC) with its offsets.

    Example: coder search 引き継ぐ --lemma --perspective supporter --format md --db project.db
    """
    from ..search import FIELDS, to_markdown
    from ..search import search as run

    hits = run(
        store.open_db(db_path, create=False),
        query,
        lemma=lemma,
        perspective=perspective,
        case=case_name,
        speaker=speaker,
        transcript=transcript,
        code=code,
        coder=coder,
        uncoded=uncoded,
        attribute=attribute,
        all_turns=all_turns,
    )
    if fmt == "jsonl":
        output.writelines(json.dumps({f: h[f] for f in FIELDS}, ensure_ascii=False) + "\n" for h in hits)
    elif fmt == "csv":
        from ..export.cells import spreadsheet_row

        writer = csv.writer(output)
        writer.writerows([FIELDS, *(spreadsheet_row([h[f] for f in FIELDS]) for h in hits)])
    else:
        output.write(to_markdown(hits))


@cli.command()
@click.option(
    "--in",
    "in_path",
    type=click.Path(exists=True, dir_okay=False),
    help='JSONL of {"id", "text", "perspective"?} to suggest for (no project needed).',
)
@click.option("--out", "out_path", type=click.Path(dir_okay=False), help="Where to write the JSONL suggestions.")
@click.option(
    "--train",
    "train_path",
    type=click.Path(exists=True, dir_okay=False),
    help='Labelled JSONL (adds "codes": [ids]) to learn from.',
)
@click.option("--transcript", help="With --db: only this transcript (id or name).")
@click.option(
    "--embedding-model",
    type=click.Path(exists=True, file_okay=False),
    help="A local sentence-transformers model directory (default: built from ja-ginza's vectors).",
)
@codebook_option
@click.option("--db", "db_path", type=click.Path(dir_okay=False), help="Suggest for a project's segments.")
def suggest(in_path, out_path, train_path, transcript, embedding_model, codebook_path, db_path):
    """Suggest codes with reasons, for a JSONL file or for a project.

    Example: coder suggest --in segments.jsonl --out suggestions.jsonl --train labelled.jsonl
    """
    from ..codebook import load_codebook
    from ..suggest import service

    book = load_codebook(codebook_path)
    if not embedding_model:
        from ..suggest.embedding import default_model_dir

        if not default_model_dir().exists():
            click.echo(
                f"building the embedding model from ja-ginza's vectors (once) in {default_model_dir()} …", err=True
            )
    if db_path and not in_path:
        from ..codebook_edit import resolve

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
    from ..codebook import core_ids, load_codebook
    from ..evaluate import evaluate as run
    from ..evaluate import read_labels, to_text

    book = load_codebook(codebook_path)
    result = run(read_labels(gold, "codes"), read_labels(pred, "labels"), book.ids, core=core_ids(book))
    click.echo(json.dumps(result, ensure_ascii=False, indent=2) if as_json else to_text(result))


@cli.command()
@click.option(
    "--source",
    default="consensus",
    show_default=True,
    help="consensus, all (every analyst), an analyst's name, or model.",
)
@click.option("--format", "fmt", type=click.Choice(["jsonl", "csv"]), default="jsonl", show_default=True)
@click.option("-o", "--output", type=click.File("w", encoding="utf-8"), default="-", help="File (default: stdout).")
@db_option
def codings(source, fmt, output, db_path):
    """Print confirmed codings from one source (consensus, all analysts, one analyst, or the model).

    Example: coder codings --source consensus --format csv -o consensus.csv
    """
    from ..access import Policy
    from ..layers import codings_for

    db = store.open_db(db_path, create=False)
    rows = codings_for(db, Policy.owner().check_source(db, source))  # an unknown source is an error
    if fmt == "jsonl":
        output.writelines(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)
        return
    from ..export.cells import spreadsheet_row

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
    from ..agreement import draw_recode_sample

    n = draw_recode_sample(store.open_db(db_path, create=False), coder_name, size, min_age_days, seed)
    click.echo(f"{coder_name} has {n} segment(s) to re-code blind (web UI: 再コーディング)")


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
    from ..memos import add

    other = transcript is not None or case_name is not None or project
    if len(args) != (1 if other else 2) or not (other or (args[0].isascii() and args[0].isdigit())):
        raise click.UsageError("give SEGMENT_ID TEXT, or TEXT with --transcript, --case or --project")
    m = add(
        store.open_db(db_path, create=False),
        author,
        args[-1],
        segment_id=None if other else int(args[0]),
        transcript=transcript,
        case=case_name,
        project=project,
    )
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
    from ..memos import edit

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
    from ..memos import delete

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
    from ..access import Policy
    from ..memos import as_markdown, visible

    rows = visible(
        store.open_db(db_path, create=False),
        Policy.owner(),
        author=author,
        kind=kind,
        transcript=transcript,
        case=case_name,
    )
    if fmt == "md":
        output.write(as_markdown(rows))
        return
    for row in rows:
        output.write(json.dumps(row, ensure_ascii=False) + "\n")
