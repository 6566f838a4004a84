"""Project accounts: analysts code, supervisors also review agreement and adjudicate.

Passwords are stored only as werkzeug hashes (scrypt); names are what codings record as ``coder``.
An account can be disabled (it cannot log in, its sessions end) and is locked for a while after
``LOCKOUT_FAILURES`` consecutive wrong passwords. ``session_epoch`` is part of every web session's
user id; raising it (logout, new password, disable) ends every session saved before.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from functools import cache

from werkzeug.security import check_password_hash, generate_password_hash

from . import db as store
from .errors import CoderError

ROLES = ("analyst", "supervisor")
MIN_PASSWORD = 8
NAME = re.compile(r"^[^\s:,/\\]{1,40}$")  # no spaces, ':' (model:… pseudo-coders), ',' (--coders lists)
# Lock an account after this many consecutive wrong passwords, for this long (a supervisor can lift it
# earlier). OWASP Authentication Cheat Sheet, "Account Lockout": lock after a threshold of failed
# attempts for a set duration; NIST SP 800-63B §5.2.2 requires at most 100 consecutive failures. Ten
# leaves room for typos while the per-account rate limit (web/auth.py) keeps guessing slow.
LOCKOUT_FAILURES = 10
LOCKOUT_MINUTES = 30
COLUMNS = "id, name, role, created_at, session_epoch, disabled_at, failed_logins, locked_until"


class AccountLocked(CoderError):
    """The account is locked after too many wrong passwords; even the right one is refused."""


def add_user(db, name: str, role: str, password: str) -> dict:
    """Create an account (``role`` analyst or supervisor; the password stored hashed) and return it as
    ``get_user`` does. ``CoderError`` for an unknown role, a bad or reserved name, a password shorter
    than ``MIN_PASSWORD`` characters, or a name already taken."""
    if role not in ROLES:
        raise CoderError(f"unknown role {role!r} (analyst or supervisor)")
    if not NAME.match(name or "") or name.startswith(("model", "consensus")):
        raise CoderError(
            f"user name {name!r}: 1–40 characters without spaces, ':', ',' or slashes, "
            "not starting with 'model' or 'consensus' (reserved for pseudo-coders)"
        )
    if len(password) < MIN_PASSWORD:
        raise CoderError(f"password for {name!r} is too short (at least {MIN_PASSWORD} characters)")
    if get_user(db, name):
        raise CoderError(f"user {name!r} already exists")
    with store.immediate(db):
        db["users"].insert(
            {"name": name, "role": role, "password_hash": generate_password_hash(password), "created_at": store.now()}
        )
    return get_user(db, name)


def get_user(db, name: str) -> dict | None:
    """The account called ``name`` (without its password hash), or None."""
    rows = list(db.query(f"select {COLUMNS} from users where name = ?", [name]))
    return rows[0] if rows else None


def get_user_by_id(db, user_id: int) -> dict | None:
    """The account with this id (without its password hash), or None."""
    rows = list(db.query(f"select {COLUMNS} from users where id = ?", [user_id]))
    return rows[0] if rows else None


def list_users(db) -> list[dict]:
    """Every account, oldest first, with its status columns (see ``status``)."""
    return list(db.query(f"select {COLUMNS} from users order by id"))


def authenticate(db, name: str, password: str) -> dict | None:
    """The user if the password is right and the account is not disabled, else None (the same answer
    for an unknown name). Records nothing; the login page uses ``attempt_login``."""
    rows = list(db.query("select password_hash, disabled_at from users where name = ?", [name]))
    if not rows:
        check_password_hash(_dummy_hash(), password)  # similar time for unknown names
        return None
    if not check_password_hash(rows[0]["password_hash"], password) or rows[0]["disabled_at"]:
        return None
    return get_user(db, name)


def attempt_login(db, name: str, password: str) -> dict | None:
    """A login attempt: the user if it may log in, else None; raises ``AccountLocked`` while the
    account is locked, whatever the password (so a locked account does not tell a guesser when a
    password was right). A wrong password counts towards the lockout; a right one resets the count."""
    right = authenticate(db, name, password)  # always hashes, locked or not: similar time
    with store.immediate(db):  # read and count under the write lock: concurrent failures all count
        user = get_user(db, name)
        if user is None:
            return None
        if is_locked(user):
            raise AccountLocked(f"account {name!r} is locked until {user['locked_until']}")
        if right:
            failures, until = 0, None
        else:
            failures = 1 if user["locked_until"] else user["failed_logins"] + 1  # expired lockout: count anew
            until = _utcnow() + timedelta(minutes=LOCKOUT_MINUTES) if failures >= LOCKOUT_FAILURES else None
        db.execute(
            "update users set failed_logins = ?, locked_until = ? where id = ?",
            [failures, until and until.isoformat(timespec="seconds"), user["id"]],
        )
    return get_user(db, name) if right else None


def is_locked(user: dict) -> bool:
    """Whether the account (a row from ``get_user``) is locked now."""
    return bool(user["locked_until"]) and datetime.fromisoformat(user["locked_until"]) > _utcnow()


def status(user: dict) -> str:
    """``disabled``, ``locked`` or ``active``: what ``coder user list`` and the accounts page show."""
    return "disabled" if user["disabled_at"] else "locked" if is_locked(user) else "active"


def set_password(db, name: str, password: str) -> None:
    """Set a new password (``coder user passwd``); every session of the account saved before ends."""
    if not get_user(db, name):
        raise CoderError(f"no user {name!r}")
    if len(password) < MIN_PASSWORD:
        raise CoderError(f"password for {name!r} is too short (at least {MIN_PASSWORD} characters)")
    with store.immediate(db):
        db.execute(
            "update users set password_hash = ?, session_epoch = session_epoch + 1 where name = ?",
            [generate_password_hash(password), name],
        )


def change_password(db, name: str, current: str, new: str) -> None:
    """A user's own password change: refused unless ``current`` is their password. Ends their sessions."""
    if not authenticate(db, name, current):
        raise CoderError(f"the current password of {name!r} is wrong")
    set_password(db, name, new)


def end_sessions(db, name: str) -> None:
    """Log the account out everywhere: every session saved before stops working (logout does this)."""
    _update(db, name, "session_epoch = session_epoch + 1")


def unlock(db, name: str) -> None:
    """Lift a lockout and forget the wrong passwords so far (``coder user unlock``, the accounts page)."""
    _update(db, name, "failed_logins = 0, locked_until = null")


def disable(db, name: str, by: str | None = None) -> None:
    """Disable an account: it cannot log in and its sessions end. ``by`` (the supervisor doing it on the
    accounts page) may not disable themselves."""
    if by is not None and by == name:
        raise CoderError(f"{name!r} cannot disable their own account")
    _update(db, name, "disabled_at = coalesce(disabled_at, ?), session_epoch = session_epoch + 1", [store.now()])


def enable(db, name: str) -> None:
    """Let a disabled account log in again."""
    _update(db, name, "disabled_at = null")


def _update(db, name: str, assignments: str, params: list | None = None) -> None:
    with store.immediate(db):
        cursor = db.execute(f"update users set {assignments} where name = ?", [*(params or []), name])
        if cursor.rowcount == 0:
            raise CoderError(f"no user {name!r}")


def _utcnow() -> datetime:
    return datetime.now(timezone.utc)


@cache
def _dummy_hash() -> str:
    return generate_password_hash("not a password")
