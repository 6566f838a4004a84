"""Suggestion cost against GiNZA parse cost for the same segments, measured in one run.

    .venv/bin/python benchmarks/suggest_speed.py [--segments 2000]

Segments: the sample corpus's interviewee segments, repeated to ``--segments``. Parse:
``nlp.pipe`` (tok2vec + parser, the tool's batch size) over their texts. Suggest: scoring
them cold (the codebook prior: rules.v2 + embedding.v1; no project, so every embedding is
computed) and after learning from 300 of them (learned.v2; labels: their own cold suggestions,
only to exercise the learner), reasons included. One-off costs (loading models, building the
codebook's features) and the fit itself are printed apart.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--segments", type=int, default=2000)
    args = parser.parse_args()
    from coder.codebook import load_codebook
    from coder.db import open_db, segments_to_code
    from coder.demo import build_demo
    from coder.segment import BATCH_SIZE, load_nlp
    from coder.suggest import Batch
    from coder.suggest.combine import Combiner
    from coder.suggest.embedding import Embedder

    nlp = load_nlp()
    with tempfile.TemporaryDirectory() as tmp:
        build_demo(Path(tmp) / "demo.db", ROOT / "corpus", nlp=nlp)
        base = [s["text"] for s in segments_to_code(open_db(Path(tmp) / "demo.db"))]
    texts = (base * (args.segments // len(base) + 1))[: args.segments]

    t0 = time.perf_counter()
    for _ in nlp.pipe(texts, batch_size=BATCH_SIZE):
        pass
    parse = time.perf_counter() - t0

    t0 = time.perf_counter()
    book, embedder = load_codebook(), Embedder()
    combiner = Combiner(book, embedder)
    setup = time.perf_counter() - t0

    t0 = time.perf_counter()
    scores, thresholds, _ = combiner.score(Batch(texts, embedder, ["supporter"] * len(texts)))
    cold = time.perf_counter() - t0

    train = Batch(texts[:300], embedder, ["supporter"] * 300)
    Y = (scores[:300] >= thresholds[:300]).astype(int)
    t0 = time.perf_counter()
    combiner.fit(train, Y)
    fit = time.perf_counter() - t0
    t0 = time.perf_counter()
    combiner.score(Batch(texts, embedder, ["supporter"] * len(texts)))
    learned = time.perf_counter() - t0

    n = len(texts) / 1000
    chars = sum(map(len, texts))
    print(f"{len(texts)} segments, {chars:,} characters")
    print(f"GiNZA parse (tok2vec+parser):  {parse / n:7.2f} s per 1,000 segments")
    print(f"suggest, cold:                 {cold / n:7.2f} s per 1,000 segments  ratio {cold / parse:.3f}")
    print(f"suggest, after learning:       {learned / n:7.2f} s per 1,000 segments  ratio {learned / parse:.3f}")
    print(f"one-off: load models and build the codebook features {setup:.1f} s; learn from 300 segments {fit:.1f} s")


if __name__ == "__main__":
    main()
