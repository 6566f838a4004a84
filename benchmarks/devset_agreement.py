"""Agreement of the two independent coders of the development data, per code.

    .venv/bin/python benchmarks/devset_agreement.py [benchmarks/data/devset.jsonl benchmarks/data/sealed.jsonl]

Each line of the files carries ``coder1`` and ``coder2`` (the independent codings) and ``codes``
(after adjudication). Prints per code and file: positives of each coder and of the adjudicated
codes, Cohen's κ and Krippendorff's α between the coders, and how many adjudicated decisions
followed each coder.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

DATA = Path(__file__).resolve().parent / "data"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("files", nargs="*", type=Path, default=[DATA / "devset.jsonl", DATA / "sealed.jsonl"])
    args = parser.parse_args()

    from coder.agreement import alpha, cohen
    from coder.codebook import load_codebook
    from coder.jsonl import read_lines

    book = load_codebook()
    for path in args.files:
        rows = [json.loads(line) for _, line in read_lines(path)]  # "\n" only: text may hold U+2028
        print(f"{path}: {len(rows)} statements, {len({r.get('org') for r in rows})} organisations")
        print(f"{'code':20}{'coder1':>8}{'coder2':>8}{'final':>7}{'κ':>8}{'α':>8}{'→1':>5}{'→2':>5}")
        kappas = []
        for code in book.ids:
            a, b, f = (np.array([code in r[k] for r in rows], dtype=float) for k in ("coder1", "coder2", "codes"))
            k, al = cohen(a, b), alpha(np.vstack([a, b]))
            kappas.append(k)
            split = a != b
            print(
                f"{code:20}{int(a.sum()):8}{int(b.sum()):8}{int(f.sum()):7}{_fmt(k):>8}{_fmt(al):>8}"
                f"{int((f[split] == a[split]).sum()):5}{int((f[split] == b[split]).sum()):5}"
            )
        disputed = sum(set(r["coder1"]) != set(r["coder2"]) for r in rows)
        print(f"statements coded differently: {disputed}; κ range {min(kappas):.3f}–{max(kappas):.3f}\n")


def _fmt(value) -> str:
    return "–" if value is None else f"{value:.3f}"


if __name__ == "__main__":
    main()
