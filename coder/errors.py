"""Errors users see: each names the file (or object) and the problem."""


class CoderError(Exception):
    """Base class for errors shown to users as a message, not a traceback."""


class IngestError(CoderError):
    """A source file cannot be imported; nothing of it was stored."""

    def __init__(self, source: str, problem: str):
        self.source = str(source)
        self.problem = problem
        super().__init__(f"{self.source}: {problem}")


class NotFound(CoderError):
    """A transcript, segment, coder or coding source the project does not have (the web answers 404)."""


class Forbidden(CoderError):
    """Something the access policy (``coder.access``) closes to this user (the web answers 403)."""
