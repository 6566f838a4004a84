"""Project accounts: analysts code, supervisors also review agreement and adjudicate.

Passwords are stored only as werkzeug hashes (scrypt); names are what codings record as ``coder``.
"""

from __future__ import annotations

import re

from werkzeug.security import check_password_hash, generate_password_hash

from . import db as store
from .errors import CoderError

ROLES = ("analyst", "supervisor")
MIN_PASSWORD = 8
NAME = re.compile(r"^[^\s:,/\\]{1,40}$")  # no spaces, ':' (model:… pseudo-coders), ',' (--coders lists)


def add_user(db, name: str, role: str, password: str) -> dict:
    if role not in ROLES:
        raise CoderError(f"unknown role {role!r} (analyst or supervisor)")
    if not NAME.match(name or "") or name.startswith(("model", "consensus")):
        raise CoderError(f"user name {name!r}: 1–40 characters without spaces, ':', ',' or slashes, "
                         "not starting with 'model' or 'consensus' (reserved for pseudo-coders)")
    if len(password) < MIN_PASSWORD:
        raise CoderError(f"password for {name!r} is too short (at least {MIN_PASSWORD} characters)")
    if get_user(db, name):
        raise CoderError(f"user {name!r} already exists")
    with store.immediate(db):
        db["users"].insert({"name": name, "role": role, "password_hash": generate_password_hash(password),
                            "created_at": store.now()})
    return get_user(db, name)


def get_user(db, name: str) -> dict | None:
    rows = list(db.query("select id, name, role, created_at from users where name = ?", [name]))
    return rows[0] if rows else None


def get_user_by_id(db, user_id: int) -> dict | None:
    rows = list(db.query("select id, name, role, created_at from users where id = ?", [user_id]))
    return rows[0] if rows else None


def list_users(db) -> list[dict]:
    return list(db.query("select id, name, role, created_at from users order by id"))


def authenticate(db, name: str, password: str) -> dict | None:
    """The user if the password is right, else None (same answer for an unknown name)."""
    rows = list(db.query("select password_hash from users where name = ?", [name]))
    if not rows:
        check_password_hash(generate_password_hash("x"), password)  # similar time for unknown names
        return None
    return get_user(db, name) if check_password_hash(rows[0]["password_hash"], password) else None


def set_password(db, name: str, password: str) -> None:
    if not get_user(db, name):
        raise CoderError(f"no user {name!r}")
    if len(password) < MIN_PASSWORD:
        raise CoderError(f"password for {name!r} is too short (at least {MIN_PASSWORD} characters)")
    with store.immediate(db):
        db.execute("update users set password_hash = ? where name = ?", [generate_password_hash(password), name])
