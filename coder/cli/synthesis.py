"""Commands of synthesis: matrix, chart, cooccurrence, agreement, summary/summaries, topics, report."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from .. import db as store
from . import Group, Grouping, _login_name, attributes_option, cli, codebook_option, db_option, source_option


@cli.command()
@click.option(
    "--ratings",
    type=click.Path(exists=True, dir_okay=False),
    help="Generic mode: a CSV with columns unit,coder,value (one row per rating).",
)
@click.option(
    "--metric",
    type=click.Choice(
        ["alpha-nominal", "alpha-ordinal", "alpha-interval", "alpha-ratio", "cohen", "fleiss", "percent"]
    ),
    default="alpha-nominal",
    show_default=True,
    help="With --ratings: the statistic.",
)
@click.option(
    "--coders",
    help="Project mode: comma-separated coders (default: every analyst; 'model', "
    "'consensus' and NAME:recode are allowed).",
)
@click.option(
    "--by",
    type=Grouping(["code", "perspective", "transcript"]),
    default="code",
    show_default=True,
    help="Rows: per code, perspective, transcript, or value of an attribute (attr:障害種別).",
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@codebook_option
@db_option
def agreement(ratings, metric, coders, by, as_json, codebook_path, db_path):
    """Inter-rater agreement: Krippendorff's alpha (95% bootstrap CI), Cohen's and Fleiss' kappa, % agreement.

    Example: coder agreement --db project.db --by perspective
    """
    from .. import agreement as stats

    if ratings:
        _, _, matrix = stats.read_ratings(ratings)
        result = stats.compute(metric, matrix)
        click.echo(json.dumps(result) if as_json else stats.to_text(result))
        return
    from ..codebook_edit import resolve

    names = [c.strip() for c in coders.split(",") if c.strip()] if coders else None
    db = store.open_db(db_path, create=False)
    result = stats.project_agreement(db, resolve(db, codebook_path), names, by)
    click.echo(json.dumps(result, ensure_ascii=False, indent=2) if as_json else stats.to_text(result))


@cli.command()
@click.option(
    "--by",
    type=Grouping(["perspective", "case", "transcript"]),
    default="perspective",
    show_default=True,
    help="Rows of the matrix (attr:NAME: the values of an attribute).",
)
@source_option
@click.option("--case", "case_name", help="Only this case.")
@click.option("--transcript", help="Only this transcript (id or name).")
@attributes_option
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
    from ..attributes import parse_filters
    from ..codebook_edit import resolve
    from ..matrix import build, empty_reason, to_csv, to_markdown

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
@click.option(
    "--by",
    type=Grouping(["perspective", "case", "transcript"]),
    default="perspective",
    show_default=True,
    help="Rows of the matrix (attr:NAME: the values of an attribute).",
)
@source_option
@click.option("--code", help="bars: only this code (default: every code, one small chart each).")
@click.option(
    "--measure",
    type=click.Choice(["segments", "share"]),
    default="segments",
    show_default=True,
    help="heatmap: colour by coded segments or by their share of the row's segments.",
)
@attributes_option
@click.option("--format", "fmt", type=click.Choice(["png", "svg"]), default="png", show_default=True)
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False), help="Image file to write.")
@codebook_option
@db_option
def chart(kind, by, source, code, measure, pairs, fmt, output, codebook_path, db_path):
    """Draw the matrix as an image with Japanese labels: a heatmap (rows x codes) or per-code bars.

    Example: coder chart heatmap --source consensus --format png -o matrix.png --db project.db

    One code: coder chart bars --code information_sharing --format svg -o sharing.svg --db project.db
    """
    from .. import charts
    from ..attributes import parse_filters
    from ..codebook_edit import resolve
    from ..matrix import build

    db = store.open_db(db_path, create=False)
    book = resolve(db, codebook_path)
    result = build(db, book, by, source, quotes=0, where=parse_filters(pairs))
    if kind == "heatmap":
        path = charts.heatmap(result, book, output, fmt, measure=measure)
    else:
        path = charts.bars(result, book, output, fmt, code=code)
    click.echo(f"{kind} → {path}")


@cli.command()
@source_option
@click.option(
    "--level",
    type=click.Choice(["segment", "interview"]),
    default="segment",
    show_default=True,
    help="png/svg: draw codes on the same segment, or anywhere in the same interview (md/json hold both).",
)
@attributes_option
@click.option("--format", "fmt", type=click.Choice(["md", "json", "png", "svg"]), default="md", show_default=True)
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="File (default: stdout; needed for png/svg).")
@codebook_option
@db_option
def cooccurrence(source, level, pairs, fmt, output, codebook_path, db_path):
    """Which codes appear together on a segment or in an interview: pairs with Jaccard, or the network.

    Example: coder cooccurrence --source consensus --format md -o cooccurrence.md --db project.db

    Network (KH Coder style): coder cooccurrence --level interview --format png -o network.png --db project.db
    """
    from .. import charts
    from ..attributes import parse_filters
    from ..codebook_edit import resolve
    from ..cooccurrence import compute, to_markdown

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


@cli.command()
@click.option(
    "--format",
    "fmt",
    required=True,
    type=click.Choice(["docx", "md", "html"]),
    help="Word, Markdown (charts as PNG files in OUT_files/) or one self-contained HTML file.",
)
@click.option("--out", "out_path", required=True, type=click.Path(), help="File to write, or a folder (default name).")
@source_option
@click.option(
    "--by",
    type=Grouping(["perspective", "case", "transcript"]),
    default="perspective",
    show_default=True,
    help="Rows of each code's counts (attr:NAME: the values of an attribute).",
)
@attributes_option
@codebook_option
@db_option
def report(fmt, out_path, source, by, pairs, codebook_path, db_path):
    """Write the findings chapter of a report: per code counts, charts, summaries and quotes; methods; new themes.

    Example: coder report --format docx --out 報告書.docx --source consensus --db project.db
    """
    from .. import report as findings
    from ..attributes import parse_filters
    from ..codebook_edit import resolve

    db = store.open_db(db_path, create=False)
    book = resolve(db, codebook_path)
    result = findings.build(db, book, source, by, where=parse_filters(pairs), progress=_progress)
    if not result["coded"]:
        _progress(
            f"no segment is coded in source {source!r} yet, so every count in the report is 0: code in the web "
            "UI, or "
            + (
                "run `coder suggest --db ...` first"
                if source == "model"
                else "report the unconfirmed suggestions with --source model"
            )
        )
    click.echo(findings.write(result, Path(out_path), fmt, book, progress=_progress))


def _progress(message: str) -> None:
    click.echo(message, err=True)


@cli.group(cls=Group, invoke_without_command=True)
@click.option(
    "--source",
    type=click.Choice(["all", "uncoded"]),
    default="all",
    show_default=True,
    help="all interviewee segments, or only those with no confirmed or suggested code.",
)
@click.option("--topics", "n_topics", type=click.IntRange(min=2), help="Number of topics (default: from the size).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.option(
    "--embedding-model",
    type=click.Path(exists=True, file_okay=False),
    help="A local sentence-transformers model directory (default: built from ja-ginza's vectors).",
)
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

    from .. import topics as themes
    from ..codebook_edit import resolve

    db = store.open_db(db_path, create=False)
    stages = len(themes.STAGES)
    with tqdm(total=stages, file=sys.stderr, disable=None, bar_format="{desc} {n}/{total} {elapsed}") as bar:

        def step(stage):
            bar.n = themes.STAGES.index(stage)
            bar.set_description(f"topics: {stage}")

        result = themes.find_topics(db, source, n_topics, embedding_model, progress=step)
        bar.update(stages - bar.n)
    themes.save_result(db, result)
    click.echo(
        json.dumps(result, ensure_ascii=False, indent=2)
        if as_json
        else themes.to_text(result, themes.code_names(db, resolve(db, codebook_path)))
    )


@topics.command("propose")
@click.argument("topic_id", type=int)
@click.option(
    "--source",
    type=click.Choice(["all", "uncoded"]),
    default="all",
    show_default=True,
    help="Which last run of `coder topics` the topic number refers to.",
)
@click.option("--name", help="Code name (default: the topic's top three words).")
@click.option("--description", help="Description (default: the topic's words).")
@db_option
def topics_propose(topic_id, source, name, description, db_path):
    """Draft a new user code from a topic of the last `coder topics` run, with its example quotes.

    Example: coder topics propose 4 --name 通勤と生活リズム --db project.db
    """
    from ..topics import find_topic, last_result, propose_code

    db = store.open_db(db_path, create=False)
    code = propose_code(db, find_topic(last_result(db, source), topic_id), name, description)
    click.echo(f"draft code {code['name']!r} added as {code['code']} with {len(code['examples'])} example quote(s)")


summary_by = click.option(
    "--by",
    type=Grouping(["perspective", "case", "transcript"]),
    default="perspective",
    show_default=True,
    help="The matrix's rows the cell belongs to (attr:NAME: an attribute).",
)


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
@click.option(
    "--segments",
    metavar="ID,ID",
    help='Segment ids it rests on (`coder segments`), e.g. 12,15; default: keep the linked ones; "" links none.',
)
@click.option("--coder", "author", default=_login_name, show_default="your login name", help="Who writes it.")
@codebook_option
@db_option
def summary_set(row, code, by, text, segments, author, codebook_path, db_path):
    """Write (or replace) the summary of cell ROW x CODE: ROW is a perspective id (person, supporter,
    employer), a case, a transcript name or an attribute value, as the matrix's rows are.

    Example: coder summary set supporter information_sharing --text "面談記録の共有が定着" --segments 12,15
    --db project.db
    """
    from ..codebook_edit import resolve
    from ..summaries import set_summary

    ids = None if segments is None else [_segment_id(v) for v in segments.split(",") if v.strip()]
    db = store.open_db(db_path, create=False)
    s = set_summary(db, by, row, code, text, user=author, segment_ids=ids, codebook=resolve(db, codebook_path))
    click.echo(
        f"summary of {by} {row} x {code} saved ({len(s['segments'])} linked segment(s))"
        if s
        else f"summary of {by} {row} x {code} deleted"
    )


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
    from ..summaries import get_summary, set_summary

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
    from ..codebook_edit import resolve
    from ..summaries import list_summaries, to_markdown

    db = store.open_db(db_path, create=False)
    rows = list_summaries(db, by)
    if fmt == "md":
        output.write(to_markdown(rows, resolve(db, codebook_path), db))
        return
    keys = ("grouping", "row", "code", "text", "segments", "author", "created_at", "updated_at")
    for row in rows:
        output.write(json.dumps({k: row[k] for k in keys}, ensure_ascii=False) + "\n")
