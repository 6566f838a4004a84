"""Ingest throughput against bare GiNZA sentence splitting, measured in the same run.

    .venv/bin/python benchmarks/ingest.py                 # the sample corpus, repeated to >= 50,000 chars
    .venv/bin/python benchmarks/ingest.py a.txt b.vtt     # your own transcripts
    .venv/bin/python benchmarks/ingest.py --n-process 1 2 --repeat 3

Baseline: ``nlp.pipe`` of ja_ginza with only tok2vec + parser (what ``doc.sents``
needs) over the turns' texts, i.e. the least parsing any sentence segmentation of
these interviews needs, with the tool's batch size (``segment.BATCH_SIZE``; spaCy's
default of 1000 is also printed once, for reference). Tool: ``coder.ingest.ingest`` of the same files into a
fresh project (read, decode, parse turns, segment, store) with the same loaded
model. Both count the same characters (the turns' texts), so the ratio is
baseline time / tool time. Best of ``--repeat`` runs each (default 5), alternating: this machine varies by ±10% run to run.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def copies(files: list[Path], min_chars: int, workdir: Path) -> list[Path]:
    """Distinct-bytes copies of ``files`` (so none is skipped as already imported) until min_chars."""
    from coder.ingest import read_transcript

    sizes = {f: sum(t.end - t.start for t in read_transcript(f, f.stem).turns) for f in files}
    out, total, rep = [], 0, 0
    while total < min_chars or rep == 0:
        for f in files:
            dest = workdir / f"r{rep:02d}_{f.name}"
            if f.suffix == ".docx":
                import docx

                document = docx.Document(str(f))
                document.core_properties.revision = rep + 1
                document.save(str(dest))
            else:
                shutil.copyfile(f, dest)
                with open(dest, "ab") as fh:
                    fh.write(b"\n" * rep)  # trailing newlines: new bytes, same transcript
            out.append(dest)
            total += sizes[f]
        rep += 1
    return out


def turn_texts(paths: list[Path]) -> list[str]:
    from coder.ingest import read_transcript

    texts = []
    for p in paths:
        t = read_transcript(p, p.stem)
        texts.extend(t.text[turn.start : turn.end] for turn in t.turns)
    return texts


def bare(nlp, texts: list[str], n_process: int, batch_size: int) -> float:
    t0 = time.perf_counter()
    n = sum(1 for doc in nlp.pipe(texts, n_process=n_process, batch_size=batch_size) for _ in doc.sents)
    assert n > 0
    return time.perf_counter() - t0


def tool(nlp, paths: list[Path], n_process: int, workdir: Path) -> float:
    from coder.db import open_db
    from coder.ingest import ingest

    db_path = workdir / f"bench-{time.perf_counter_ns()}.db"
    t0 = time.perf_counter()
    report = ingest(open_db(db_path), paths, nlp=nlp, n_process=n_process)
    elapsed = time.perf_counter() - t0
    assert not report.skipped and report.imported
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("files", nargs="*", type=Path, help="transcripts (default: corpus/)")
    parser.add_argument("--min-chars", type=int, default=50_000)
    parser.add_argument("--n-process", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    import yaml

    from coder.segment import BATCH_SIZE, load_nlp

    files = args.files or [
        ROOT / "corpus" / e["file"]
        for e in yaml.safe_load((ROOT / "corpus" / "metadata.yaml").read_text(encoding="utf-8"))["files"]
    ]
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        paths = copies(files, args.min_chars, workdir)
        texts = turn_texts(paths)
        chars = sum(map(len, texts))
        nlp = load_nlp()
        list(nlp.pipe(texts[:20]))  # warm up
        print(f"{len(paths)} files, {len(texts)} turns, {chars:,} characters of speech; pipeline {nlp.pipe_names}")
        print(f"{'n_process':>9} {'bare GiNZA chars/s':>19} {'coder ingest chars/s':>21} {'ratio':>6}")
        for n in args.n_process:
            b = t = float("inf")
            for _ in range(args.repeat):
                b = min(b, bare(nlp, texts, n, BATCH_SIZE))
                t = min(t, tool(nlp, paths, n, workdir))
            print(f"{n:>9} {chars / b:>19,.0f} {chars / t:>21,.0f} {b / t:>6.2f}")
        d = bare(nlp, texts, 1, 1000)
        print(f"reference: bare GiNZA with spaCy's default batch size (1000), 1 process: {chars / d:,.0f} chars/s")


if __name__ == "__main__":
    main()
