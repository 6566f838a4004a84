"""``rules.v2``: the codebook's cue lexicon matched as whole words, with negative cues.

Each rule of a code is a *cue group* (its ``label``: e.g. 経路, 会議, 同行 for information
sharing) with a weight. A group fires on

- ``phrases``: a sequence of Sudachi split mode A normalised forms (so 引継ぎ/引き継ぎ/引き継ぐ
  agree); a match must begin on a split mode C word boundary and end on one, or be followed
  only by a one-character suffix within its word (報告書, 研修会, 離職率, 主体性). So キャリア
  inside キャリアコンサルタント, 情報 inside 個人情報 or 安定 inside 不安定 is *not* a cue (a
  compound that is a cue is listed as a phrase of its own: 情報共有, キャリアパス);
- ``near``: a phrase of each of two sets, whole words as above, with at most ``window`` mode A
  units between them, in either order (本人 … 決める, 決めるのは … 本人);
- ``pattern``: a spaCy Matcher pattern on NORM/LEMMA/TAG;

and ``unless`` lists phrases that cancel any of the group's matches they overlap (自立 in
自立支援医療); a ``negatable`` group's match is cancelled when a negation (ない, ず, にくい, づらい,
難しい) follows it within ``NEGATION_WINDOW`` units of the same clause (自分からは言いにくい is not
self-advocacy). A negative ``weight`` makes a negative cue: evidence *against* the code, from
the code's "do not use" notes (a member moving store for their career is not a handover).

A group's value is the sum of the weights of its distinct matched cues; a code's rule score
is ``1 - exp(-max(0, sum of its groups' values))``: one strong cue (weight 1) gives 0.63, two
0.86, a strong and a weak one (0.3) 0.73. The group values are also the learner's features.
Reasons name the groups and the words as written.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import CoderError
from . import register
from .text import phrase_norms

VERSION = "rules.v2"
WINDOW = 8  # default span of a ``near`` rule, in mode A units
NEGATION_WINDOW = 4  # mode A units after a match in which a negation cancels a ``negatable`` group
NEGATIONS = {"ない", "無い", "ず", "難い", "辛い", "難しい"}  # Sudachi normalised forms
CLAUSE_END = {"、", "。", "？", "！", "?", "!", "，", "．"}


@dataclass
class Group:
    """A cue group (one rule of a code), compiled: phrases as tuples of Sudachi mode A normalised forms,
    ``near`` word sets, ``unless`` phrases, an optional Matcher pattern."""

    code: int  # index of the code in the codebook
    label: str
    weight: float
    phrases: list[tuple[str, ...]]
    near: list[list[tuple[str, ...]]] | None
    window: int
    unless: list[tuple[str, ...]]
    pattern: list[dict] | None
    negatable: bool = False


@dataclass(frozen=True)
class Hit:
    """One cue match: its group, its span (code points into the segment text, end exclusive) and the words
    as written."""

    group: int  # index into CueSuggester.groups
    start: int  # code points into the segment text, end exclusive
    end: int
    text: str


def _find(norms: list[str], phrase: tuple[str, ...]):
    """Start indices where ``phrase`` occurs in ``norms``."""
    n = len(phrase)
    first = phrase[0]
    return [i for i, w in enumerate(norms) if w == first and tuple(norms[i : i + n]) == phrase]


def _whole(morphs, i: int, j: int) -> bool:
    """Whether units ``i:j`` form whole words, allowing one trailing one-character suffix."""
    if not morphs[i].first:
        return False
    if morphs[j - 1].last:
        return True
    return j < len(morphs) and morphs[j].last and len(morphs[j].surface) == 1


def _negated(norms: list[str], j: int) -> bool:
    """Whether a negation follows position ``j`` within ``NEGATION_WINDOW`` units of the same clause."""
    for w in norms[j : j + NEGATION_WINDOW]:
        if w in CLAUSE_END:
            return False
        if w in NEGATIONS:
            return True
    return False


class CueSuggester:
    """The ``rules.v2`` suggester: the codebook's cue groups matched in each segment. ``score`` gives rule
    scores 0–1 [n, codes] and reasons; ``CoderError`` for an invalid Matcher pattern."""

    version = VERSION

    def __init__(self, codebook):
        self.codebook = codebook
        self.groups: list[Group] = []
        for ci, code in enumerate(codebook.codes):
            for rule in code.rules:
                label = rule.label or "、".join(rule.phrases[:2])
                self.groups.append(
                    Group(
                        ci,
                        label,
                        rule.weight,
                        [phrase_norms(p) for p in rule.phrases],
                        [[phrase_norms(w) for w in words] for words in rule.near] if rule.near else None,
                        rule.window or WINDOW,
                        [phrase_norms(p) for p in rule.unless],
                        rule.pattern,
                        rule.negatable,
                    )
                )
        self._matcher = None
        if any(g.pattern for g in self.groups):
            from spacy.matcher import Matcher

            from .text import vocab

            self._matcher = Matcher(vocab())
            for gi, g in enumerate(self.groups):
                if g.pattern:
                    try:
                        self._matcher.add(str(gi), [g.pattern])
                    except ValueError as exc:
                        code = codebook.codes[g.code].id
                        raise CoderError(
                            f"{codebook.path}: code {code!r}, rule {g.label!r}: "
                            f"invalid Matcher pattern: {str(exc).splitlines()[0]}"
                        ) from exc
        # look-up table: first normalised form of a phrase → (group, phrase, side of a near rule or None)
        self._phrases: dict[str, list[tuple[int, tuple[str, ...], int | None]]] = {}
        for gi, g in enumerate(self.groups):
            for phrase in g.phrases:
                self._phrases.setdefault(phrase[0], []).append((gi, phrase, None))
            for side, phrases in enumerate(g.near or []):
                for phrase in phrases:
                    self._phrases.setdefault(phrase[0], []).append((gi, phrase, side))
        self.codes = np.array([g.code for g in self.groups])
        self.weights = np.array([g.weight for g in self.groups])

    def hits(self, text: str, morphs) -> list[Hit]:
        """Every cue found in one analysed text (after ``unless`` cancellations)."""
        norms = [m.norm for m in morphs]
        found: dict[int, list[Hit]] = {}
        sides: dict[int, tuple[list, list]] = {}  # near groups: matched spans of each word set

        def span(gi, i, j):
            if self.groups[gi].negatable and _negated(norms, j):
                return
            found.setdefault(gi, []).append(
                Hit(gi, morphs[i].start, morphs[j - 1].end, text[morphs[i].start : morphs[j - 1].end])
            )

        for i, w in enumerate(norms):
            for gi, phrase, side in self._phrases.get(w, ()):
                j = i + len(phrase)
                if tuple(norms[i:j]) == phrase and _whole(morphs, i, j):
                    if side is None:
                        span(gi, i, j)
                    else:
                        sides.setdefault(gi, ([], []))[side].append((i, j))
        for gi, (a, b) in sides.items():
            window = self.groups[gi].window
            pairs = [
                (max(x[1], y[1]) - min(x[0], y[0]) - (x[1] - x[0]) - (y[1] - y[0]), x, y)
                for x in a
                for y in b
                if x[1] <= y[0] or y[1] <= x[0]
            ]
            pairs = [p for p in pairs if p[0] <= window]
            if pairs:
                _, x, y = min(pairs)
                span(gi, min(x[0], y[0]), max(x[1], y[1]))
        if self._matcher is not None:
            for gi, i, j in self._pattern_matches(morphs):
                span(gi, i, j)
        out = []
        for gi, hits in found.items():
            unless = self.groups[gi].unless
            if unless:
                blocked = [(morphs[i].start, morphs[i + len(p) - 1].end) for p in unless for i in _find(norms, p)]
                hits = [h for h in hits if not any(s < h.end and h.start < e for s, e in blocked)]
            out.extend(hits)
        return out

    def _pattern_matches(self, morphs) -> list[tuple[int, int, int]]:
        """(group, start unit, end unit) of every Matcher pattern match."""
        from spacy.tokens import Doc

        from .text import vocab

        doc = Doc(
            vocab(),
            words=[m.surface for m in morphs],
            spaces=[False] * len(morphs),
            lemmas=[m.lemma for m in morphs],
            tags=[m.tag for m in morphs],
        )
        for token, m in zip(doc, morphs):
            token.norm_ = m.norm
        return [(int(doc.vocab.strings[match_id]), i, j) for match_id, i, j in self._matcher(doc)]

    def features(self, batch) -> np.ndarray:
        """[n, groups]: per cue group, the summed weight of its distinct matched cues."""
        X = np.zeros((len(batch), len(self.groups)))
        for i, hits in enumerate(self.batch_hits(batch)):
            seen = set()
            for h in hits:
                key = (h.group, h.text)
                if key not in seen:
                    seen.add(key)
                    X[i, h.group] += self.weights[h.group]
        return X

    def batch_hits(self, batch) -> list[list[Hit]]:
        key = ("cue-hits", id(self))
        if key not in batch.cache:
            batch.cache[key] = [self.hits(t, a.morphs) for t, a in zip(batch.texts, batch.analyses)]
        return batch.cache[key]

    def evidence(self, X: np.ndarray) -> np.ndarray:
        """[n, codes]: summed group values per code (negative cues subtract)."""
        E = np.zeros((len(X), len(self.codebook.codes)))
        np.add.at(E.T, self.codes, X.T)
        return E

    def score(self, batch):
        X = self.features(batch)
        scores = rule_score(self.evidence(X))
        reasons = [self.explain(hits) for hits in self.batch_hits(batch)]
        return scores, reasons

    def explain(self, hits: list[Hit]) -> dict[str, list[str]]:
        """Per code, one reason line naming the groups and the words as written, strongest first."""
        by_code: dict[int, dict[int, list[str]]] = {}  # code → group → words as written
        for h in sorted(hits, key=lambda h: -self.weights[h.group]):
            words = by_code.setdefault(self.groups[h.group].code, {}).setdefault(h.group, [])
            if h.text not in words:
                words.append(h.text)
        out = {}
        for ci, groups in by_code.items():
            said = {
                sign: [
                    f"{self.groups[gi].label}「{'」「'.join(words[:3])}」"
                    for gi, words in groups.items()
                    if (self.weights[gi] > 0) == sign
                ]
                for sign in (True, False)
            }
            out[self.codebook.codes[ci].id] = (["ルール: " + "、".join(said[True][:4])] if said[True] else []) + (
                ["打ち消し: " + "、".join(said[False][:2])] if said[False] else []
            )
        return out

    def match_texts(self, texts: list[str]) -> list[set[str]]:
        """Code ids with positive rule evidence in each text (used by ``codebook lint``)."""
        from . import Batch

        E = self.evidence(self.features(Batch(texts)))
        return [{self.codebook.ids[ci] for ci in np.flatnonzero(row > 0)} for row in E]


@register(VERSION)
def make_cues(codebook, **_):
    """Factory of ``rules.v2`` (registered): a ``CueSuggester`` for ``codebook``; other arguments are ignored."""
    return CueSuggester(codebook)


def rule_score(evidence: np.ndarray) -> np.ndarray:
    """The noisy-OR of summed cue weights (see the module docstring)."""
    return 1 - np.exp(-np.maximum(evidence, 0))
