"""The one access policy: which coding layers exist, and which a user may see or write.

Every reader of coding layers asks a ``Policy`` — the matrix and its cells, exports (REFI-QDA
included), agreement, the codebook and topic counts, the web views and the JSON API — so no view
decides it alone. The command line gets ``Policy.owner()``: whoever holds the project file can read
all of it anyway.

Sources a user names (see ``coder.layers``): ``consensus`` (the final codes), ``all`` (every
analyst), an analyst's name, ``model`` (unconfirmed suggestions) and ``NAME:recode`` (NAME's
re-coding of a sample, made without seeing their earlier codes or the suggestions — intra-coder
agreement; ``coder.coding.apply(…, recode=True)``).

Rules:
- **Blind mode** (``blind(db)``, the setting ``settings.blind``; on in a new project; a supervisor
  turns it off): an analyst sees only their own layers (their name and ``NAME:recode``) and the
  model's suggestions. ``consensus`` and ``all`` are built from everyone's codes, so they are closed
  too, and so are counts that include other people (codebook usage, codes carried by a topic, topics
  of "uncoded" segments).
- Without blind mode every user sees every layer. Supervisors always do.
- Writing: a user writes only their own layers; ``consensus`` only a supervisor (adjudication);
  ``model`` nobody (suggesters write it). Speaker → perspective mappings, agreement and re-code
  samples are a supervisor's.

Unknown sources raise ``NotFound`` (the web answers 404); known but closed ones raise
``Forbidden`` (403).
"""

from __future__ import annotations

from dataclasses import dataclass

from . import db as store
from . import layers
from .errors import CoderError, Forbidden, NotFound

ALL = "all"
BLIND_SETTING = "blind"
BLIND_DEFAULT = "1"  # new projects start blind: agreement is only worth something if coders code independently


def blind(db) -> bool:
    """Whether the project is in blind mode (``settings.blind``; on unless a supervisor turned it off)."""
    return store.get_setting(db, BLIND_SETTING, BLIND_DEFAULT) == "1"


def set_blind(db, on: bool) -> None:
    """Turn blind mode on or off (the setting ``settings.blind``, stored as ``1``/``0``; see ``blind``)."""
    store.put_setting(db, BLIND_SETTING, "1" if on else "0")


def training_layers(db) -> list[str]:
    """Whose confirmed codes the suggestion learner learns from: every analyst and the consensus;
    in blind mode only the consensus (codes a supervisor settled). Suggestions are shown to every
    analyst, so a learner trained on one analyst's codes would pass them on to the others and
    their agreement would no longer be independent."""
    return [layers.CONSENSUS] if blind(db) else layers.analysts(db) + [layers.CONSENSUS]


@dataclass(frozen=True)
class Policy:
    """What one user may see and write. ``user`` is None for the project owner at the command line."""

    user: str | None
    supervisor: bool
    blind: bool  # the project's blind mode (``blind(db)``) when the policy was made

    @classmethod
    def owner(cls) -> Policy:
        """The command line: whoever holds the project file sees and writes everything."""
        return cls(None, True, False)

    @classmethod
    def for_user(cls, db, name: str, role: str) -> Policy:
        """A logged-in user (``role`` analyst or supervisor) under the project's current blind setting."""
        return cls(name, role == "supervisor", blind(db))

    @property
    def sees_others(self) -> bool:
        """Whether other analysts' codes (and anything computed from them) are visible."""
        return self.supervisor or not self.blind

    def own(self, layer: str) -> bool:
        return self.user is not None and layer in (self.user, self.user + layers.RECODE)

    def may_see(self, layer: str) -> bool:
        """A concrete layer (analyst, ``consensus``, ``model:…``, ``NAME:recode``)."""
        return self.sees_others or self.own(layer) or layer.startswith(layers.MODEL)

    def may_write(self, layer: str) -> bool:
        """Own layers; ``consensus`` for supervisors; the model's layer for nobody."""
        if layer.startswith(layers.MODEL):
            return False
        if layer == layers.CONSENSUS:
            return self.supervisor
        return self.user is None or self.own(layer)

    @property
    def may_supervise(self) -> bool:
        """Agreement, adjudication, re-code samples, speaker → perspective mappings, accounts."""
        return self.supervisor

    def analysts(self, db) -> list[str]:
        """Analysts whose codes this user may see (every analyst, or only themselves when blind)."""
        return [a for a in layers.analysts(db) if self.may_see(a)]

    def visible_layers(self, db) -> list[str]:
        """Concrete layers present in the project that this user may see."""
        model = layers.model_layer(db)
        return [name for name in layers.all_layers(db) + ([model] if model else []) if self.may_see(name)]

    def sources(self, db) -> list[str]:
        """Sources for menus (matrix, exports), in order: consensus, all, analysts, model."""
        if not self.sees_others:
            return [self.user, layers.MODEL]
        return [layers.CONSENSUS, ALL] + self.analysts(db) + [layers.MODEL]

    def check_source(self, db, source: str | None) -> str:
        """``source`` if this user may read it. Raises ``NotFound`` for a source the project does not
        have and ``Forbidden`` for one closed to this user (blind mode)."""
        if source in (layers.CONSENSUS, ALL, layers.MODEL):
            if source == layers.MODEL or self.sees_others:
                return source
            raise Forbidden(
                f"source {source!r} includes other analysts' codes; blind mode is on",
                ja="ブラインドモードのため、ほかの分析者のコードを含む集計（合意・全分析者）は見られません。",
            )
        if source and self.own(source):
            return source  # also before they coded anything (an empty matrix)
        if not self.sees_others:  # the same answer whether or not that analyst has coded yet
            raise Forbidden(
                f"source {source!r} is not yours; blind mode is on",
                ja="ブラインドモードのため、ほかの分析者のコーディングは見られません。",
            )
        model = layers.model_layer(db)
        known = set(layers.all_layers(db)) | ({model} if model else set())
        if not source or source not in known:
            raise NotFound(
                f"unknown coding source {source!r} ({layers.SOURCES_HELP}; "
                f"analysts: {', '.join(self.analysts(db)) or 'none'})",
                ja=f"「{source}」という出典（分析者・合意・提案）はこのプロジェクトにありません。",
            )
        return source

    def default_source(self) -> str:
        """What the matrix and quote exports show first: the final codes, or in blind mode the
        analyst's own."""
        return layers.CONSENSUS if self.sees_others or self.user is None else self.user

    def check_layers(self, db, names: list[str] | None) -> list[str]:
        """``layers.resolve`` (names checked, ``model`` → the model layer, default every visible
        analyst) limited to what this user may see; raises ``NotFound``/``Forbidden`` like
        ``check_source``."""
        if not names:
            return self.analysts(db)
        try:
            resolved = layers.resolve(db, names)
        except CoderError as exc:
            raise NotFound(str(exc)) from exc
        closed = [n for n in resolved if not self.may_see(n)]
        if closed:
            raise Forbidden(
                f"coders {', '.join(closed)} are closed in blind mode",
                ja=f"ブラインドモードのため、{'、'.join(closed)} のコーディングは見られません。",
            )
        return resolved
