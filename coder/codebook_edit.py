"""The project's living codebook: every version stored in the project, and the edits that make new ones.

The codebook a project codes with lives in its database (table ``codebook_versions``, migration 0009):
each row is the whole codebook as a document of ``coder.codebook.SCHEMA``, newest last. The first use
seeds it from ``codebook/renkei.yaml`` (or the ``--codebook`` file given) with that file's version;
every edit writes a new row whose version is ``p<row id>`` (``renkei@p3``) and logs an event in the
same transaction. Code ids never change: a rename changes the name only, so codings keep their code.

Edits: add, rename, describe, recolour, nest (set the parent), retire (kept on past codings, not
offered for new coding), merge FROM INTO (FROM's codings move to INTO per coder, one event per coding;
FROM is retired with ``merged_into``), and promote a user code (``user:<guid>``: a draft from
``coder topics`` or a code imported from a REFI-QDA file) into a codebook code usable for coding.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from . import coding
from . import db as store
from .codebook import from_dict, load_codebook, to_dict
from .errors import CoderError, NotFound
from .types import Code, Codebook

PROJECT = "project"  # Codebook.path of the project's codebook
ID = re.compile(r"^[a-z][a-z0-9_]*$")
COLOR = re.compile(r"^#[0-9a-fA-F]{6}$")


def current_version(db) -> int | None:
    """The row id of the project's newest codebook version (None before the first use): a cache key."""
    row = db.execute("select max(id) from codebook_versions").fetchone()
    return row[0]


def _newest(db) -> Codebook | None:
    row = db.execute("select id, body from codebook_versions order by id desc limit 1").fetchone()
    return None if row is None else from_dict(json.loads(row[1]), f"{PROJECT} codebook version {row[0]}")


def project_codebook(db, seed_path: str | Path | None = None) -> Codebook:
    """The project's current codebook; on first use it is seeded from ``seed_path`` (default
    ``codebook/renkei.yaml``), keeping that file's version."""
    book = _newest(db)
    if book is None:
        seed = load_codebook(seed_path)
        with store.immediate(db):
            book = _newest(db)  # another process may have seeded it meanwhile
            if book is None:
                # the file's name, not its path: the path says where someone's checkout was, not what it was
                _save(db, seed, "system", f"seeded from {Path(str(seed.path)).name}", None, None, version=seed.version)
                book = _newest(db)
    book.path = PROJECT
    return book


def resolve(db, codebook_path: str | Path | None = None) -> Codebook:
    """The codebook a command with a project uses: the project's own; ``--codebook FILE`` seeds it on
    first use, and on a project that has its own codebook already, FILE is used instead of it."""
    if codebook_path and current_version(db) is not None:
        return load_codebook(codebook_path)
    return project_codebook(db, codebook_path)


def versions(db) -> list[dict]:
    """Every stored version, newest first: id, created_at, author, note, version tag."""
    rows = db.query(
        "select id, created_at, author, note, json_extract(body, '$.id') as book, "
        "json_extract(body, '$.version') as version from codebook_versions order by id desc"
    )
    return [{**r, "tag": f"{r.pop('book')}@{r['version']}"} for r in rows]


def _save(db, book: Codebook, user: str, note: str, action: str, code: str | None, version=None, **detail):
    """Write ``book`` as the next version and log ``action`` (seeding logs none: nobody changed
    anything); inside the caller's transaction."""
    at = store.now()
    book.version = version or f"p{(current_version(db) or 0) + 1}"
    body = to_dict(book)
    from_dict(body, f"{PROJECT} codebook")  # never store a version that cannot be read back
    db.execute(
        "insert into codebook_versions (created_at, author, note, body) values (?, ?, ?, ?)",
        [at, user, note, json.dumps(body, ensure_ascii=False)],
    )
    if action:
        coding.log_event(db, at, user, action, code, book.version_tag, note=note, **detail)
    return at


def _edit(db, user: str, action: str, code_id: str | None, change, note: str, **detail) -> Codebook:
    with store.immediate(db):
        book = project_codebook(db)
        extra = change(book) or {}
        _save(db, book, user, note, action, code_id, **detail, **extra)
    return project_codebook(db)


def _code(book: Codebook, code_id: str) -> Code:
    for c in book.codes:
        if c.id == code_id:
            return c
    raise NotFound(
        f"no code {code_id!r} in the codebook ({book.version_tag})",
        ja=f"コード「{code_id}」はコードブック（{book.version_tag}）にありません",
    )


def _check_name(book: Codebook, name: str, code_id: str | None = None) -> str:
    name = (name or "").strip()
    if not name:
        raise CoderError("a code needs a name", ja="コードの名前を入力してください")
    if any(c.name == name and c.id != code_id and c.status == "active" for c in book.codes):
        raise CoderError(f"a code named {name!r} already exists", ja=f"「{name}」という名前のコードはすでにあります")
    return name


def _check_parent(book: Codebook, code_id: str, parent: str | None) -> str | None:
    if not parent:
        return None
    _code(book, parent)
    walk = parent
    while walk:
        if walk == code_id:
            raise CoderError(
                f"{code_id!r} cannot be nested under {parent!r}: that would make a loop",
                ja=f"「{code_id}」を「{parent}」の下には置けません（入れ子が循環します）",
            )
        walk = _code(book, walk).parent
    return parent


def add_code(
    db, user: str, code_id: str, name: str, parent: str | None = None, description: str = "", group: str = "further"
) -> Codebook:
    """Add a code (``origin: project``); its definition is ``description`` (or the name until described)."""

    def change(book):
        if not ID.match(code_id or ""):
            raise CoderError(
                f"code id {code_id!r}: use lower-case letters, digits and _ (e.g. job_coach)",
                ja=f"コード ID「{code_id}」には半角の小文字・数字・_ だけを使ってください（例：job_coach）",
            )
        if code_id in book.ids:
            raise CoderError(f"code {code_id!r} already exists", ja=f"コード ID「{code_id}」はすでに使われています")
        label = _check_name(book, name)
        book.codes.append(
            Code(
                id=code_id,
                name=label,
                group=group,
                definition=(description or "").strip() or label,
                parent=_check_parent(book, code_id, parent),
                origin="project",
            )
        )

    return _edit(db, user, "code-added", code_id, change, f"added {code_id}", name=name, parent=parent)


def rename_code(db, user: str, code_id: str, name: str) -> Codebook:
    """Give a code a new name; its id, and so every coding of it, stay as they are."""
    old = {}

    def change(book):
        code = _code(book, code_id)
        old["name"], code.name = code.name, _check_name(book, name, code_id)

    return _edit(db, user, "code-renamed", code_id, change, f"renamed {code_id}", name=name, was=old)


def describe_code(db, user: str, code_id: str, description: str) -> Codebook:
    """Replace a code's definition (what the coding view and suggesters read as its description)."""

    def change(book):
        if not (description or "").strip():
            raise CoderError("a definition cannot be empty", ja="コードの定義を入力してください")
        _code(book, code_id).definition = description.strip()

    return _edit(db, user, "code-described", code_id, change, f"described {code_id}")


def recolour_code(db, user: str, code_id: str, color: str | None) -> Codebook:
    """Set a code's colour (``#rrggbb``), or clear it with None/""."""

    def change(book):
        if color and not COLOR.match(color):
            raise CoderError(
                f"colour {color!r}: give #rrggbb (e.g. #3366cc)",
                ja=f"色「{color}」は #rrggbb の形で指定してください（例：#3366cc）",
            )
        _code(book, code_id).color = color.lower() if color else None

    return _edit(
        db, user, "code-recoloured", code_id, change, f"recoloured {code_id}", color=color.lower() if color else None
    )


def nest_code(db, user: str, code_id: str, parent: str | None) -> Codebook:
    """Nest a code under ``parent`` (None: back at the top level)."""

    def change(book):
        _code(book, code_id).parent = _check_parent(book, code_id, parent)

    return _edit(db, user, "code-nested", code_id, change, f"nested {code_id}", parent=parent or None)


def retire_code(db, user: str, code_id: str) -> Codebook:
    """Retire a code: it stays on past codings (and is shown there), but is not offered for new coding."""

    def change(book):
        code = _code(book, code_id)
        if code.status == "retired":
            raise CoderError(f"code {code_id!r} is retired already", ja=f"コード「{code_id}」はすでに廃止されています")
        code.status = "retired"

    return _edit(db, user, "code-retired", code_id, change, f"retired {code_id}")


def merge_codes(db, user: str, source: str, into: str) -> Codebook:
    """Merge code ``source`` into ``into``: every coding of ``source`` moves to ``into`` (per coder;
    a segment a coder gave both keeps one coding), one event per changed coding; ``source`` is
    retired with ``merged_into``."""

    def change(book):
        if source == into:
            raise CoderError("a code cannot be merged into itself", ja="コードを自分自身に統合することはできません")
        frm, to = _code(book, source), _code(book, into)
        if to.status != "active":
            raise CoderError(
                f"code {into!r} is retired; merge into an active code",
                ja=f"コード「{into}」は廃止されています。使用中のコードに統合してください",
            )
        frm.status, frm.merged_into = "retired", into
        for c in book.codes:  # children of the merged code move under the code it became
            if c.parent == source:
                c.parent = into
        version = f"{book.id}@p{(current_version(db) or 0) + 1}"
        return {"codings": coding.repoint(db, store.now(), user, source, into, version)}

    return _edit(db, user, "code-merged", source, change, f"merged {source} into {into}", into=into)


def promote_user_code(
    db, user: str, user_code: str, code_id: str, name: str | None = None, parent: str | None = None
) -> Codebook:
    """Make a user code (``user:<guid>``: a topic draft or a code imported from REFI-QDA) a codebook code
    ``code_id``: its name, description and (up to six) example segments come along, its codings move to
    the new id (one event each), and it leaves the list of user codes."""
    guid = user_code.removeprefix("user:")
    row = db.execute("select name, description, parent, examples from user_codes where guid = ?", [guid]).fetchone()
    if row is None:
        raise NotFound(f"no user code {user_code!r}", ja=f"ユーザーコード「{user_code}」は見つかりません")
    label, description, old_parent, examples = row
    texts = [e["text"] for e in json.loads(examples or "[]") if e.get("text")][:6]

    def change(book):
        if not ID.match(code_id or ""):
            raise CoderError(
                f"code id {code_id!r}: use lower-case letters, digits and _ (e.g. job_coach)",
                ja=f"コード ID「{code_id}」には半角の小文字・数字・_ だけを使ってください（例：job_coach）",
            )
        if code_id in book.ids:
            raise CoderError(f"code {code_id!r} already exists", ja=f"コード ID「{code_id}」はすでに使われています")
        up = parent or (old_parent if old_parent in book.ids else None)
        book.codes.append(
            Code(
                id=code_id,
                name=_check_name(book, name or label),
                definition=description or label,
                examples=texts,
                parent=_check_parent(book, code_id, up),
                origin="project",
            )
        )
        version = f"{book.id}@p{(current_version(db) or 0) + 1}"
        moved = coding.repoint(db, store.now(), user, f"user:{guid}", code_id, version, action="promoted")
        db.execute("update user_codes set parent = ? where parent = ?", [code_id, f"user:{guid}"])
        db.execute("delete from user_codes where guid = ?", [guid])
        return {"codings": moved}

    return _edit(
        db, user, "code-promoted", code_id, change, f"promoted {label} to {code_id}", **{"from": f"user:{guid}"}
    )


def last_change(db) -> dict | None:
    """The newest codebook change in the event log: action, code, detail (e.g. ``codings`` moved)."""
    row = db.execute(
        "select action, code, detail from events where action like 'code%' and segment_id is null "
        "order by id desc limit 1"
    ).fetchone()
    return None if row is None else {"action": row[0], "code": row[1], "detail": json.loads(row[2] or "{}")}


def tree(codes) -> list[tuple[int, object]]:
    """``codes`` (Code objects) in tree order — each code followed by its children, in codebook order
    within a level — as (depth, code) pairs; a code whose parent is not among them is a root."""
    ids = {c.id for c in codes}
    children: dict[str | None, list] = {}
    for c in codes:
        children.setdefault(c.parent if c.parent in ids and c.parent != c.id else None, []).append(c)
    out, seen = [], set()

    def walk(key, depth):
        for c in children.get(key, []):
            if c.id not in seen:  # a loop of parents cannot recurse forever
                seen.add(c.id)
                out.append((depth, c))
                walk(c.id, depth + 1)

    walk(None, 0)
    return out + [(0, c) for c in codes if c.id not in seen]
