"""Errors users see: each names the file (or object) and the problem.

The message (``str(exc)``) is English, the command line's language. An error a web user is likely to
meet also carries a Japanese text, ``exc.ja`` (None when there is none); the web shows it through
``japanese(exc)`` and falls back to the English message after a Japanese lead-in.
"""


class CoderError(Exception):
    """Base class for errors shown to users as a message, not a traceback.

    ``CoderError(message, ja=None)``: ``message`` is the English text (``str(exc)``), ``ja`` the same
    for the web in Japanese, or None.
    """

    ja: str | None = None  # also for subclasses whose __init__ does not pass ``ja`` on

    def __init__(self, *args, ja: str | None = None):
        super().__init__(*args)
        self.ja = ja


class IngestError(CoderError):
    """A source file cannot be imported; nothing of it was stored.

    ``IngestError(source, problem, ja=None)``: ``ja`` is the problem in Japanese; ``exc.ja`` then names
    the file as the English message does (``"SOURCE：JA"``).
    """

    def __init__(self, source: str, problem: str, ja: str | None = None):
        self.source = str(source)
        self.problem = problem
        super().__init__(f"{self.source}: {problem}", ja=f"{self.source}：{ja}" if ja else None)


class NotFound(CoderError):
    """A transcript, segment, coder or coding source the project does not have (the web answers 404)."""


class Forbidden(CoderError):
    """Something the access policy (``coder.access``) closes to this user (the web answers 403)."""


ENGLISH_LEAD = "（英語のメッセージ）"


def japanese(exc: BaseException) -> str:
    """The text of ``exc`` for a Japanese page: its ``ja`` when set, else its English message after the
    lead-in ``ENGLISH_LEAD`` ("（英語のメッセージ）…"), so a page never shows English unannounced."""
    ja = getattr(exc, "ja", None)
    return ja if ja else f"{ENGLISH_LEAD}{exc}"
