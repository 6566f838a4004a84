"""In-project learning: how suggestions improve as an analyst confirms segments of the same interviews.

    .venv/bin/python benchmarks/learning_curve.py LABELLED.jsonl [--ks 0,20,40,60] [--orders 3] [--org ORG ...]

For each of ``--orders`` fixed orders of the labelled statements (seeded shuffles), an analyst
confirms the first k statements (their gold codes), the tool trains on them exactly as the web UI
does after "confirm and next" (``combine.Combiner.fit``), and the *same* last third of that order is
scored. Prints macro-F1 (five core codes, and all codes; a code neither present nor suggested in a
test third is left out of that third's average) per order and k, the mean, and the change from one
k to the next (the goal: no batch of confirmations costs more than 0.02).

``--org`` keeps only the statements of the given organisations (files with an ``org`` field,
such as ``benchmarks/data/devset.jsonl``): one organisation's interviews are one project.
"""

from __future__ import annotations

import argparse
import sys

import numpy as np


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("labelled")
    parser.add_argument("--ks", default="0,20,40,60")
    parser.add_argument("--orders", type=int, default=3)
    parser.add_argument("--org", action="append", help="only statements of this organisation (repeatable)")
    parser.add_argument("--codebook")
    args = parser.parse_args()

    from coder.codebook import CORE_IDS, load_codebook
    from coder.suggest import Batch
    from coder.suggest.combine import Combiner
    from coder.suggest.embedding import Embedder
    from coder.suggest.labelled import label_matrix, read_jsonl

    book = load_codebook(args.codebook)
    embedder = Embedder()
    items = read_jsonl(args.labelled, need_codes=True)
    if args.org:
        items = [i for i in items if i.get("org") in args.org]
    Y = label_matrix(items, book, args.labelled)
    batch = Batch([i["text"] for i in items], embedder, [i.get("perspective") for i in items])
    ks = [int(k) for k in args.ks.split(",")]
    core = [book.ids.index(c) for c in CORE_IDS]
    n_test = len(items) // 3
    ks = [k for k in ks if k <= len(items) - n_test]
    print(
        f"{args.labelled}{' ' + ','.join(args.org) if args.org else ''}: {len(items)} statements; "
        f"test = the last {n_test} of each order"
    )
    table = np.zeros((args.orders, len(ks), 2))
    for o in range(args.orders):
        order = np.random.default_rng(o).permutation(len(items))
        test = order[-n_test:]
        for j, k in enumerate(ks):
            combiner = Combiner(book, embedder)
            if k:
                confirmed = order[:k]
                combiner.fit(batch.subset(confirmed), Y[confirmed])
            scores, thresholds, _ = combiner.score(batch.subset(test))
            pred = scores >= thresholds
            # a code neither present nor suggested in a test third is left out of its macro average
            f1 = {c: _f1(pred[:, c], Y[test, c]) for c in range(len(book.ids)) if Y[test, c].any() or pred[:, c].any()}
            table[o, j] = np.mean([f1[c] for c in core if c in f1]), np.mean(list(f1.values()))
            print(f"  order {o}: k={k:3}  core {table[o, j, 0]:.3f}  all {table[o, j, 1]:.3f}", file=sys.stderr)
    print(f"{'k':>5}" + "".join(f"  order {o} core" for o in range(args.orders)) + "   mean core  change   mean all")
    for j, k in enumerate(ks):
        mean = table[:, j, 0].mean()
        change = "" if j == 0 else f"{mean - table[:, j - 1, 0].mean():+.3f}"
        print(
            f"{k:5}"
            + "".join(f"{table[o, j, 0]:15.3f}" for o in range(args.orders))
            + f"{mean:12.3f}{change:>8}{table[:, j, 1].mean():11.3f}"
        )
    worst = min((table[:, j, 0] - table[:, j - 1, 0]).min() for j in range(1, len(ks))) if len(ks) > 1 else 0
    print(f"largest drop of one order from one k to the next: {worst:+.3f}")


def _f1(pred, gold) -> float:
    tp = float(np.sum(pred & (gold == 1)))
    return 2 * tp / (np.sum(pred) + np.sum(gold)) if tp else 0.0


if __name__ == "__main__":
    main()
