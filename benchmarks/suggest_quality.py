"""Suggestion quality: keyword list, rules alone, cold start and trained, as macro-F1 and Krippendorff's α.

    .venv/bin/python benchmarks/suggest_quality.py [LABELLED.jsonl] [--train TRAIN.jsonl] [--looo]

``LABELLED`` (default ``benchmarks/data/devset.jsonl``) is a JSONL of ``{"id", "text",
"perspective"?, "org"?, "codes"}`` — e.g. ``../shared/eval/dev_statements.jsonl`` or
``benchmarks/data/sealed.jsonl``. Columns:

- ``keywords``: the two-minute keyword list of ``benchmarks/data/keywords_two_minutes.json``
  (substrings, as a KH Coder user writes them; any hit = the code);
- ``rules.v2``: the cue lexicon alone, a code at rule score ≥ ``RULE_THRESHOLD``;
- ``cold``: what a new project gets (rules.v2 + embedding.v1, the codebook prior);
- ``trained``: cold + ``--train`` (exactly ``coder suggest --in LABELLED --train TRAIN``);
- ``looo`` (with ``--looo``, for files with an ``org`` field): each organisation scored after
  training on all the *other* organisations of the file (leave-one-organisation-out).

Per code, F1 and α (Krippendorff's binary α between the model's and the gold codes; a reliable
coder by Krippendorff's standard has α ≥ .800), then macro-F1 and mean α over the five core codes
and over all codes, and macro-F1 over the core codes per voice.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
RULE_THRESHOLD = 0.5  # a rule score of one strong cue (0.63) or two medium ones


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("labelled", nargs="?", default=str(ROOT / "benchmarks" / "data" / "devset.jsonl"))
    parser.add_argument("--train", help="labelled JSONL to train on, as `coder suggest --train`")
    parser.add_argument("--looo", action="store_true", help="also train on the other organisations of the file")
    parser.add_argument("--codebook")
    parser.add_argument("--keywords", default=str(ROOT / "benchmarks" / "data" / "keywords_two_minutes.json"))
    args = parser.parse_args()

    from coder.codebook import CORE_IDS, load_codebook
    from coder.suggest import Batch, create
    from coder.suggest.embedding import Embedder
    from coder.suggest.labelled import label_matrix, read_jsonl

    book = load_codebook(args.codebook)
    embedder = Embedder()
    items = read_jsonl(args.labelled, need_codes=True)
    Y = label_matrix(items, book, args.labelled)
    texts = [i["text"] for i in items]
    keywords = json.loads(Path(args.keywords).read_text(encoding="utf-8"))
    preds, seconds = {}, {}

    def timed(name, run):
        t0 = time.perf_counter()
        preds[name] = run()
        seconds[name] = time.perf_counter() - t0
        print(f"  {name} done", file=sys.stderr)

    timed("keywords", lambda: np.array([[any(w in t for w in keywords.get(c, [])) for c in book.ids] for t in texts]))
    timed("rules.v2", lambda: create("rules.v2", book).score(Batch(texts))[0] >= RULE_THRESHOLD)
    timed("cold", lambda: _labels(items, book, embedder, None))
    if args.train:
        train = read_jsonl(args.train, need_codes=True)
        timed("trained", lambda: _labels(items, book, embedder, train))
    if args.looo:
        orgs = np.array([str(i.get("org")) for i in items])

        def looo():
            out = np.zeros(Y.shape, dtype=bool)
            for org in sorted(set(orgs)):
                mine = np.flatnonzero(orgs == org)
                out[mine] = _labels(
                    [items[i] for i in mine], book, embedder, [items[i] for i in np.flatnonzero(orgs != org)]
                )
            return out

        timed("looo", looo)

    print(f"{args.labelled}: {len(items)} items" + (f"; trained on {args.train}" if args.train else ""))
    core = [book.ids.index(c) for c in CORE_IDS if c in book.ids]
    f1 = {n: [_f1(p[:, c], Y[:, c]) for c in range(len(book.ids))] for n, p in preds.items()}
    alpha = {n: [_alpha(p[:, c], Y[:, c]) for c in range(len(book.ids))] for n, p in preds.items()}
    print(f"{'code':20}   n" + "".join(f"{n:>16}" for n in preds))
    print(f"{'':24}" + "".join(f"{'F1':>8}{'α':>8}" for _ in preds))
    for c, code in enumerate(book.ids):
        print(f"{code:20}{int(Y[:, c].sum()):4}" + "".join(f"{f1[n][c]:8.3f}{_fmt(alpha[n][c]):>8}" for n in preds))
    for group, idx in (("macro core", core), ("macro all", list(range(len(book.ids))))):
        print(
            f"{group:24}"
            + "".join(
                f"{np.mean([f1[n][c] for c in idx]):8.3f}{_fmt(_mean([alpha[n][c] for c in idx])):>8}" for n in preds
            )
        )
    for voice in ("person", "supporter", "employer"):
        rows = np.array([i.get("perspective") == voice for i in items])
        if rows.any():
            print(
                f"{'core, ' + voice:19}{int(rows.sum()):5}"
                + "".join(f"{np.mean([_f1(p[rows, c], Y[rows, c]) for c in core]):8.3f}{'':8}" for p in preds.values())
            )
    print(f"{'seconds':24}" + "".join(f"{seconds[n]:8.1f}{'':8}" for n in preds))


def _labels(items, book, embedder, train) -> np.ndarray:
    """What `coder suggest --in items [--train train]` labels, as a boolean matrix."""
    from coder.suggest.labelled import label_matrix
    from coder.suggest.service import score_texts

    scores, _, thresholds = score_texts(
        [i["text"] for i in items],
        book,
        embedder,
        [i["text"] for i in train] if train else None,
        label_matrix(train, book, "train") if train else None,
        [i.get("perspective") for i in items],
        [i.get("perspective") for i in train] if train else None,
    )
    return scores >= thresholds


def _f1(pred, gold) -> float:
    tp = float(np.sum(pred & (gold == 1)))
    return 2 * tp / (np.sum(pred) + np.sum(gold)) if tp else 0.0


def _alpha(pred, gold):
    from coder.agreement import alpha

    return alpha(np.vstack([pred.astype(float), gold.astype(float)]))


def _mean(values):
    values = [v for v in values if v is not None]
    return float(np.mean(values)) if values else None


def _fmt(value) -> str:
    return "–" if value is None else f"{value:.3f}"


if __name__ == "__main__":
    main()
