"""Web UI time per transcript page and per coding request, against a trivial page of the same app.

    .venv/bin/python benchmarks/web_speed.py [--segments 500] [--repeat 30] [--writes 50] [--retrain] [--profile]

Project: a temporary one holding ONE transcript made of the sample corpus's turns (every file of
``corpus/metadata.yaml``, CP932, Word and subtitles included) written out as ``話者：発言`` lines of
UTF-8 text, the corpus repeated until the transcript has at least ``--segments`` interviewee
segments (interviewer turns are not coded, so not counted); ingested with GiNZA, with stored
cold-start suggestions (rules.v1 + embedding.v1) and two analyst accounts. Set-up time is printed apart.

Requests: Flask's test client, in process (server time, no network, no browser), logged in with
CSRF on, ``--repeat`` times each after one untimed warm-up: the coding page in reading order and as
the review queue (``?order=uncertain``), the JSON its script loads (``/api/transcripts/ID/segments``),
and the two writes a coder makes most: ``toggle`` of a code and ``review`` ("confirm and next"),
each on a different segment every time. p50 and p95 (nearest rank) in ms, and response sizes.

Baseline, same run and app: the codebook page (``/codebook``, one small query and a template) and
the bare query behind the page's JSON (``coder.coding.states`` on an open connection); each figure
is also printed as a ratio to the codebook page's p50.

Concurrency: two analysts, each with their own client in their own thread, confirm the same
``--writes`` segments at the same time; prints throughput and checks that no request failed and
that every coding and audit event of both is stored.

``--retrain`` runs the app as served (background retraining after each review) instead of with
retraining off. ``--profile`` prints where the reading-order page spends its time (cProfile); this
is also done when its p95 is over 500 ms.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import io
import math
import pstats
import re
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LABELS = {"interviewer": "インタビュアー", "person": "本人", "supporter": "支援員", "employer": "人事担当"}
PASSWORD = "bench-password"
ANALYSTS = ("hanako", "taro")
SLOW_MS = 500


def corpus_turns() -> list[tuple[str, str]]:
    """(perspective, text) of every turn of the sample corpus, in manifest order."""
    from coder import speakers
    from coder.ingest import load_manifest, read_transcript

    manifest = load_manifest(ROOT / "corpus" / "metadata.yaml")
    out = []
    for name, meta in manifest.items():
        path = ROOT / "corpus" / name
        t = read_transcript(path, path.stem, set(meta["speakers"]))
        for turn in t.turns:
            text = re.sub(r"\s*\n\s*", "", t.text[turn.start : turn.end])
            out.append((speakers.resolve(turn.speaker, meta["speakers"], {}), text))
    return out


def write_transcript(path: Path, turns: list[tuple[str, str]]) -> Path:
    path.write_text("\n\n".join(f"{LABELS[p]}：{text}" for p, text in turns) + "\n", encoding="utf-8")
    return path


def build_project(workdir: Path, min_segments: int) -> tuple[Path, int, dict]:
    """The benchmark project: one transcript of >= min_segments interviewee segments, suggestions, users."""
    from coder import users
    from coder.codebook import load_codebook
    from coder.db import open_db, segments_to_code
    from coder.ingest import ingest
    from coder.segment import load_nlp
    from coder.suggest.service import suggest_project

    speaker_map = {label: p for p, label in LABELS.items()}
    timing = {}
    t0 = time.perf_counter()
    nlp = load_nlp()
    timing["load GiNZA"] = time.perf_counter() - t0
    turns = corpus_turns()
    # The corpus once, to learn how many segments each turn yields (segmentation is per turn), then
    # as many turns, the corpus repeated, as make min_segments interviewee segments.
    t0 = time.perf_counter()
    probe = open_db(workdir / "probe.db")
    ingest(probe, [write_transcript(workdir / "probe.txt", turns)], nlp=nlp, speaker_map=speaker_map)
    per_turn = dict(
        probe.execute("""select u.idx, count(*) from segments s join turns u on u.id = s.turn_id
                                     join speakers sp on sp.id = u.speaker_id where sp.perspective != 'interviewer'
                                     group by u.idx""").fetchall()
    )
    probe.close()
    chosen, n = [], 0
    while n < min_segments:
        i = len(chosen) % len(turns)
        chosen.append(turns[i])
        n += per_turn.get(i, 0)
    path = workdir / "bench.db"
    db = open_db(path)
    report = ingest(db, [write_transcript(workdir / "interview.txt", chosen)], nlp=nlp, speaker_map=speaker_map)
    timing["ingest"] = time.perf_counter() - t0
    transcript = report.imported[0]
    if report.unknown_speakers():
        raise SystemExit(f"speakers left unmapped: {report.unknown_speakers()}")
    t0 = time.perf_counter()
    summary = suggest_project(db, load_codebook())
    timing["suggest"] = time.perf_counter() - t0
    for name in ANALYSTS:
        users.add_user(db, name, "analyst", PASSWORD)
    info = {
        "id": transcript.id,
        "segments": len(transcript.segments),
        "coded": summary["segments"],
        "turns": len(chosen),
        "corpus_turns": len(turns),
        "chars": len(transcript.text),
        "timing": timing,
        "suggested": sum(1 for r in db.query("select distinct segment_id from suggestions where selected = 1")),
    }
    if info["coded"] != len(segments_to_code(db)) or info["coded"] < min_segments:
        raise SystemExit(f"expected >= {min_segments} interviewee segments, got {info['coded']}")
    db.close()
    return path, transcript.id, info


class gc_pauses(list):
    """Durations (ms) of full garbage collections, recorded from now until the callback is removed."""

    def __init__(self):
        super().__init__()
        self.start = 0.0
        gc.callbacks.append(self.callback)

    def callback(self, phase, info):
        if info["generation"] == 2:
            if phase == "start":
                self.start = time.perf_counter()
            else:
                self.append((time.perf_counter() - self.start) * 1000)


def login(app, name: str):
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'<meta name="csrf-token" content="([^"]+)"', page).group(1)
    response = client.post("/login", data={"name": name, "password": PASSWORD, "csrf_token": token})
    if response.status_code != 302:
        raise SystemExit(f"login as {name} failed: HTTP {response.status_code}")
    client.csrf = token
    return client


def check(response, what: str):
    if response.status_code != 200:
        raise SystemExit(f"{what}: HTTP {response.status_code}: {response.get_data(as_text=True)[:500]}")
    return response


def pct(samples: list[float], p: float) -> float:
    """Nearest-rank percentile."""
    s = sorted(samples)
    return s[max(0, math.ceil(p / 100 * len(s)) - 1)]


def timed(fn, repeat: int) -> tuple[list[float], object]:
    out, last = [], None
    for i in range(repeat):
        t0 = time.perf_counter()
        last = fn(i)
        out.append((time.perf_counter() - t0) * 1000)
    return out, last


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--segments", type=int, default=500, help="at least this many interviewee segments")
    parser.add_argument("--repeat", type=int, default=30, help="timed requests of each kind")
    parser.add_argument("--writes", type=int, default=50, help="confirmations per analyst in the concurrency run")
    parser.add_argument("--retrain", action="store_true", help="background retraining on, as `coder serve` runs")
    parser.add_argument("--profile", action="store_true", help="profile the reading-order page")
    args = parser.parse_args()
    from coder import coding
    from coder.db import open_db
    from web import create_app

    with tempfile.TemporaryDirectory() as tmp:
        t_setup = time.perf_counter()
        db_path, tid, info = build_project(Path(tmp), args.segments)
        t_setup = time.perf_counter() - t_setup
        print(
            f"transcript: {info['segments']} segments, {info['coded']} interviewee (coded) segments, "
            f"{info['chars']:,} characters, {info['turns']} turns (the sample corpus's {info['corpus_turns']}, "
            f"repeated); "
            f"{info['suggested']} segments with a suggested code"
        )
        print(
            "set-up (not timed below): "
            + ", ".join(f"{k} {v:.1f} s" for k, v in info["timing"].items())
            + f"; total {t_setup:.1f} s"
        )

        app = create_app({"DATABASE": str(db_path), "RETRAIN": args.retrain, "SECRET_KEY": "bench"})
        client = login(app, ANALYSTS[0])
        headers = {"X-CSRFToken": client.csrf}
        data = check(client.get(f"/api/transcripts/{tid}/segments"), "segments API").get_json()
        seg_ids = [s["id"] for s in data["segments"]]
        if len(seg_ids) != info["coded"]:
            raise SystemExit(f"segments API lists {len(seg_ids)} segments, the project has {info['coded']}")
        need = 2 * (args.repeat + 1) + args.writes
        if len(seg_ids) < need:
            raise SystemExit(
                f"{len(seg_ids)} segments; --repeat {args.repeat} and --writes {args.writes} "
                f"need {need} (raise --segments)"
            )
        toggle_ids = seg_ids[: args.repeat + 1]
        review_ids = seg_ids[args.repeat + 1 : 2 * (args.repeat + 1)]
        write_ids = seg_ids[-args.writes :]

        def get(url):
            def run(_):
                return check(client.get(url), url)

            return run

        def post(ids, body):
            def run(i):
                r = check(
                    client.post(f"/api/segments/{ids[i]}/actions", json=body, headers=headers),
                    f"{body} on segment {ids[i]}",
                )
                if r.get_json()["segment"]["id"] != ids[i]:
                    raise SystemExit(f"{body} on segment {ids[i]}: wrong segment in the answer")
                return r

            return run

        db = open_db(db_path, create=False)
        kinds = [
            ("codebook page (baseline)", get("/codebook"), True),
            ("states() query, bare", lambda _: coding.states(db, ANALYSTS[0], tid), False),
            ("transcript page, reading", get(f"/transcripts/{tid}"), True),
            ("transcript page, uncertain", get(f"/transcripts/{tid}?order=uncertain"), True),
            ("segments JSON (page's JS)", get(f"/api/transcripts/{tid}/segments"), True),
            ("POST toggle (confirm)", post(toggle_ids, {"action": "toggle", "code": "information_sharing"}), False),
            ("POST review", post(review_ids, {"action": "review"}), False),
        ]
        results = {}
        pauses = gc_pauses()
        for name, fn, sized in kinds:
            t0 = time.perf_counter()
            fn(args.repeat)  # warm-up (templates compiled, codebook loaded); its own segment for writes
            first = (time.perf_counter() - t0) * 1000
            samples, last = timed(fn, args.repeat)
            size = len(last.get_data()) if sized else None
            results[name] = (samples, first, size)
        for name in ("transcript page, reading", "transcript page, uncertain"):
            page = client.get(f"/transcripts/{tid}" + ("?order=uncertain" if "uncertain" in name else ""))
            n = page.get_data(as_text=True).count('<article class="seg"')
            if n != info["coded"]:
                raise SystemExit(f"{name}: {n} segments on the page, the project has {info['coded']}")
        gc.callbacks.remove(pauses.callback)
        retrain = None
        if app.config["RETRAIN"]:
            t0 = time.perf_counter()
            app.extensions["coder_retrainer"].wait()
            retrain = (time.perf_counter() - t0, app.extensions["coder_retrainer"].status())

        base = pct(results["codebook page (baseline)"][0], 50)
        print(
            f"\n{args.repeat} requests each, {ANALYSTS[0]} logged in, retraining "
            f"{'on' if args.retrain else 'off'}; ratio = p50 / codebook page p50"
        )
        print(f"{'':30s} {'p50 ms':>8s} {'p95 ms':>8s} {'max ms':>8s} {'first ms':>9s} {'ratio':>7s} {'size':>10s}")
        for name, (samples, first, size) in results.items():
            print(
                f"{name:30s} {pct(samples, 50):8.1f} {pct(samples, 95):8.1f} {max(samples):8.1f} {first:9.1f} "
                f"{pct(samples, 50) / base:7.1f} {f'{size / 1024:,.0f} KiB' if size else '':>10s}"
            )
        page, api = pct(results["transcript page, reading"][0], 50), pct(results["segments JSON (page's JS)"][0], 50)
        print(f"{'page + its JSON (p50 sum)':30s} {page + api:8.1f}")
        print(f"segments JSON p50 / bare states() p50: {api / pct(results['states() query, bare'][0], 50):.2f}")
        print(
            f"full (gen-2) garbage collections during the above: {len(pauses)}"
            + (f", {max(pauses):.0f} ms the longest" if pauses else "")
            + f" ({len(gc.get_objects()):,} objects tracked: GiNZA and the embedding model are loaded, "
            "as in a server after an upload or a retraining)"
        )
        if retrain:
            waited, status = retrain
            print(
                f"background retraining: {status['generation']} runs, error {status['error']}; "
                f"waited {waited:.1f} s after the last request for it to finish"
            )
            if status["error"]:
                raise SystemExit(f"retraining failed: {status['error']}")

        concurrency(app, db, tid, write_ids)
        if args.profile or pct(results["transcript page, reading"][0], 95) > SLOW_MS:
            profile(client, tid)
        db.close()


def concurrency(app, db, tid: int, segment_ids: list[int]) -> None:
    """Both analysts confirm the same segments at the same time, one thread each."""
    code = "handover"
    clients = {name: login(app, name) for name in ANALYSTS}
    before = {
        r["user"]: r["n"]
        for r in db.query(
            "select user, count(*) n from events where action = 'confirmed' and code = ? group by user", [code]
        )
    }
    failures, times = [], {name: [] for name in ANALYSTS}
    start = threading.Barrier(len(ANALYSTS))

    def work(name):
        client = clients[name]
        start.wait()
        for sid in segment_ids:
            t0 = time.perf_counter()
            r = client.post(
                f"/api/segments/{sid}/actions",
                json={"action": "confirm", "code": code},
                headers={"X-CSRFToken": client.csrf},
            )
            times[name].append((time.perf_counter() - t0) * 1000)
            if r.status_code != 200:
                failures.append(f"{name} segment {sid}: HTTP {r.status_code} {r.get_data(as_text=True)[:200]}")

    threads = [threading.Thread(target=work, args=(name,)) for name in ANALYSTS]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - t0
    n = len(ANALYSTS) * len(segment_ids)
    all_times = [x for v in times.values() for x in v]
    print(
        f"\nconcurrency: {len(ANALYSTS)} analysts x {len(segment_ids)} confirms of the same segments, "
        f"one thread each: {n} requests in {elapsed:.2f} s = {n / elapsed:.0f} requests/s; "
        f"per request p50 {pct(all_times, 50):.1f} ms, p95 {pct(all_times, 95):.1f} ms"
    )
    marks = ",".join("?" * len(segment_ids))
    stored = {
        r["coder"]: r["n"]
        for r in db.query(
            f"select coder, count(*) n from codings where code = ? and status = 'confirmed' and segment_id in ({marks}) "
            "group by coder",
            [code, *segment_ids],
        )
    }
    events = {
        r["user"]: r["n"] - before.get(r["user"], 0)
        for r in db.query(
            "select user, count(*) n from events where action = 'confirmed' and code = ? group by user", [code]
        )
    }
    print(
        f"  failed requests: {len(failures)}; confirmed codings stored per analyst: "
        + ", ".join(f"{name} {stored.get(name, 0)}/{len(segment_ids)}" for name in ANALYSTS)
        + "; audit events: "
        + ", ".join(f"{name} {events.get(name, 0)}" for name in ANALYSTS)
    )
    bad = failures or any(
        stored.get(name, 0) != len(segment_ids) or events.get(name, 0) != len(segment_ids) for name in ANALYSTS
    )
    if bad:
        raise SystemExit("concurrency run lost or failed writes:\n" + "\n".join(failures[:10]))


def profile(client, tid: int, runs: int = 5) -> None:
    prof = cProfile.Profile()
    prof.enable()
    for _ in range(runs):
        check(client.get(f"/transcripts/{tid}"), "profiled page")
    prof.disable()
    out = io.StringIO()
    pstats.Stats(prof, stream=out).sort_stats("cumulative").print_stats(25)
    print(f"\nprofile of {runs} reading-order page requests (cumulative time, top 25):")
    print("\n".join(line for line in out.getvalue().splitlines() if line.strip())[:6000])


if __name__ == "__main__":
    main()
