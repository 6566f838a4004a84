"""Commands of the web app: serve, user (accounts), demo."""

from __future__ import annotations

from pathlib import Path

import click

from .. import db as store
from . import Group, cli, db_option
from .terminal import echo_table, read_password

CORPUS = Path(__file__).resolve().parent.parent.parent / "corpus"


@cli.command()
@click.option("--corpus", type=click.Path(exists=True, file_okay=False), default=str(CORPUS), show_default=True)
@click.option("--force", is_flag=True, help="Replace the database if it exists.")
@click.option("--suggest/--no-suggest", default=True, show_default=True, help="Store code suggestions too.")
@click.option(
    "--codings/--no-codings",
    default=True,
    show_default=True,
    help="Load the demo team's codings, adjudications and summaries (corpus/demo_codings.yaml).",
)
@click.option(
    "--topics/--no-topics",
    default=True,
    show_default=True,
    help="Find the themes of the uncoded segments (coder topics --source uncoded) for the report.",
)
@click.option("--db", "db_path", type=click.Path(dir_okay=False), default="demo.db", show_default=True)
def demo(corpus, force, suggest, codings, topics, db_path):
    """Build a fresh demo project from the sample corpus.

    Example: coder demo --db demo.db --force
    """
    from ..demo import build_demo

    click.echo(
        "building the demo project: segmenting with GiNZA, suggesting codes, loading the demo team's "
        "work, finding themes …",
        err=True,
    )
    report = build_demo(db_path, corpus, force=force, suggest=suggest, codings=codings, topics=topics)
    imported = report.ingest.imported
    click.echo(
        f"demo project {db_path}: {len(imported)} transcripts, {sum(len(t.segments) for t in imported)} "
        f"segments{', suggestions stored' if suggest else ''}"
    )
    if c := report.codings:
        click.echo(
            f"{len(c['analysts'])} analysts ({', '.join(c['analysts'])}) coded {len(c['transcripts'])} "
            f"interviews ({c['segments']} segments), {c['disagreements']} disagreements, "
            f"{c['adjudicated']} adjudicated" + ("" if c["summaries"] is None else f", {c['summaries']} cell summaries")
        )
    if report.topics is not None:
        click.echo(f"{report.topics} themes found among the uncoded segments (see `coder report`, the トピック page)")
    if report.topics_skipped:
        click.echo(f"no themes: {report.topics_skipped}", err=True)
    click.echo(
        f"next: coder user add NAME --role supervisor --db {db_path}  (then log in to `coder serve --db "
        f"{db_path}`; a supervisor sees every analyst's codes, the agreement page and the adjudications)"
    )


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to bind (local only by default).")
@click.option("--port", default=5000, show_default=True)
@click.option("--threads", default=8, show_default=True, help="Worker threads of the server.")
@click.option("--certfile", type=click.Path(exists=True, dir_okay=False), help="PEM certificate: serve HTTPS.")
@click.option("--keyfile", type=click.Path(exists=True, dir_okay=False), help="PEM private key of --certfile.")
@click.option(
    "--behind-proxy",
    metavar="ADDRESS",
    help="A reverse proxy at ADDRESS terminates HTTPS and forwards here (trust its X-Forwarded-* headers).",
)
@click.option("--debug", is_flag=True, help="Flask's development server with the debugger (never on a network).")
@click.option(
    "--codebook",
    "codebook_path",
    type=click.Path(exists=True, dir_okay=False),
    help="Codebook YAML (default: codebook/renkei.yaml).",
)
@click.option(
    "--embedding-model",
    type=click.Path(exists=True, file_okay=False),
    help="A local sentence-transformers model directory for suggestions.",
)
@db_option
def serve(host, port, threads, certfile, keyfile, behind_proxy, debug, codebook_path, embedding_model, db_path):
    """Serve the web UI for a project (log in with an account from `coder user add`) with a
    production server (waitress; cheroot for --certfile/--keyfile).

    Example: coder serve --db demo.db --port 5000
    """
    from web import create_app
    from web.server import is_loopback, secure_config
    from web.server import serve as run

    from ..users import list_users

    db = store.open_db(db_path, create=False)
    if not list_users(db):
        click.echo(f"no accounts yet: create one with `coder user add NAME --role analyst --db {db_path}`", err=True)
    db.close()
    tls = bool(certfile or behind_proxy)
    if not tls and not is_loopback(host):
        click.echo(
            f"warning: {host} is reachable from the network but this is plain HTTP: passwords and interview "
            "text travel unencrypted. Use --certfile/--keyfile or a reverse proxy (README: Serving).",
            err=True,
        )
    click.echo(f"serving {db_path} on {'https' if certfile else 'http'}://{host}:{port}/ (Ctrl+C stops)", err=True)
    app = create_app(
        {
            "DATABASE": str(Path(db_path).resolve()),
            "CODEBOOK": codebook_path,
            "EMBEDDING_MODEL": embedding_model,
            **secure_config(tls),
        }
    )
    run(app, host, port, threads, certfile, keyfile, behind_proxy, debug)


@cli.group(cls=Group)
def user():
    """Manage the project's accounts (analysts and supervisors).

    Example: coder user add hanako --role analyst --db project.db
    """


@user.command("add")
@click.argument("name")
@click.option("--role", type=click.Choice(["analyst", "supervisor"]), default="analyst", show_default=True)
@click.option(
    "--password-file",
    type=click.File("r", encoding="utf-8"),
    help="Read the password from the first line of this file ('-' = stdin); default: prompt "
    "(or stdin's first line when stdin is not a terminal).",
)
@db_option
def user_add(name, role, password_file, db_path):
    """Create an account; the password is prompted for (twice) unless --password-file is given.

    Example: coder user add hanako --role analyst --db project.db
    """
    from ..users import add_user

    add_user(store.open_db(db_path, create=False), name, role, read_password(password_file, "password"))
    click.echo(f"user {name} ({role}) added to {db_path}")


@user.command("list")
@db_option
def user_list(db_path):
    """List the project's accounts, with disabled or locked ones marked.

    Example: coder user list --db project.db
    """
    from ..users import list_users, status

    rows = []
    for u in list_users(store.open_db(db_path, create=False)):
        state = {"disabled": "  disabled", "locked": f"  locked until {u['locked_until']}"}.get(status(u), "")
        failed = f"  ({u['failed_logins']} failed logins)" if u["failed_logins"] else ""
        rows.append([u["name"], u["role"], f"{u['created_at']}{state}{failed}"])
    echo_table("{:20} {:11} since {}", rows)


@user.command("passwd")
@click.argument("name")
@click.option(
    "--password-file",
    type=click.File("r", encoding="utf-8"),
    help="Read the new password from this file ('-' = stdin); default: prompt "
    "(or stdin's first line when stdin is not a terminal).",
)
@db_option
def user_passwd(name, password_file, db_path):
    """Set a new password for an account; its open web sessions end.

    Example: coder user passwd hanako --db project.db
    """
    from ..users import set_password

    set_password(store.open_db(db_path, create=False), name, read_password(password_file, "new password"))
    click.echo(f"password of {name} changed")


@user.command("unlock")
@click.argument("name")
@db_option
def user_unlock(name, db_path):
    """Lift the lockout after too many wrong passwords (and forget the count).

    Example: coder user unlock hanako --db project.db
    """
    from ..users import unlock

    unlock(store.open_db(db_path, create=False), name)
    click.echo(f"{name} unlocked")


@user.command("disable")
@click.argument("name")
@db_option
def user_disable(name, db_path):
    """Disable an account: it can no longer log in, and its open sessions end at once.

    Example: coder user disable hanako --db project.db
    """
    from ..users import disable

    disable(store.open_db(db_path, create=False), name)
    click.echo(f"{name} disabled (undo with `coder user enable {name} --db {db_path}`)")


@user.command("enable")
@click.argument("name")
@db_option
def user_enable(name, db_path):
    """Let a disabled account log in again.

    Example: coder user enable hanako --db project.db
    """
    from ..users import enable

    enable(store.open_db(db_path, create=False), name)
    click.echo(f"{name} enabled")
