"""Suggestion quality on a labelled JSONL file: cold start and learned (k-fold cross-fitting).

    .venv/bin/python benchmarks/suggest_quality.py ../shared/eval/dev_statements.jsonl [--codebook PATH]

Keywords: a KH Coder-style baseline, a code whenever any of its rule phrases occurs (the
codebook's own rules, no weights, no embedding). Cold: codebook only (rules.v1 +
embedding.v1, combined). Learned: the same file as training data;
each item is scored by a model fitted on the other folds (``coder suggest --in F --train F``),
so the figure is a 5-fold cross-validation. Prints per-code P/R/F1 and macro-F1 over the
five core codes and over all codes.
"""

from __future__ import annotations

import argparse
import time


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("labelled")
    parser.add_argument("--codebook")
    parser.add_argument("--embedding-model")
    args = parser.parse_args()
    from coder.codebook import load_codebook
    from coder.evaluate import evaluate
    from coder.suggest.service import read_jsonl, suggest_items

    book = load_codebook(args.codebook)
    items = read_jsonl(args.labelled, need_codes=True)
    gold = {str(i["id"]): set(i["codes"]) for i in items}
    from coder.suggest import Batch, create

    results = {}
    t0 = time.perf_counter()
    rule_scores, _ = create("rules.v1", book).score(Batch([i["text"] for i in items]))
    keywords = {str(i["id"]): {c for c, s in zip(book.ids, row) if s > 0} for i, row in zip(items, rule_scores)}
    results["keywords (any phrase)"] = (evaluate(gold, keywords, book.ids), time.perf_counter() - t0)
    for name, train in (("cold", None), ("learned (5-fold)", items)):
        t0 = time.perf_counter()
        rows = suggest_items(items, book, train, args.embedding_model, source=args.labelled)
        results[name] = (evaluate(gold, {str(r["id"]): set(r["labels"]) for r in rows}, book.ids),
                         time.perf_counter() - t0)
    print(f"{len(items)} items, codebook {book.version_tag}")
    print(f"{'code':20} " + " ".join(f"{n:>24}" for n in results))
    print(f"{'':20} " + " ".join(f"{'P':>8}{'R':>8}{'F1':>8}" for _ in results))
    for code in book.ids:
        cells = []
        for res, _ in results.values():
            m = res["per_code"][code]
            cells.append(f"{m['precision']:8.2f}{m['recall']:8.2f}{m['f1']:8.2f}")
        print(f"{code:20} " + " ".join(cells) + f"   n={results['cold'][0]['per_code'][code]['support']}")
    for group in ("core", "all"):
        print(f"macro-F1 {group:11} " + " ".join(f"{res['summary'][group]['macro_f1']:>24.3f}"
                                                 for res, _ in results.values()))
        print(f"micro-F1 {group:11} " + " ".join(f"{res['summary'][group]['micro_f1']:>24.3f}"
                                                 for res, _ in results.values()))
    print("seconds              " + " ".join(f"{t:>24.1f}" for _, t in results.values()))


if __name__ == "__main__":
    main()
