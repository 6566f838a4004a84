"""Ten analysts coding, one uploading and a retrain running, against `coder serve`, for 60 s.

    .venv/bin/python benchmarks/web_load.py [--seconds 60] [--analysts 10] [--think 0] [--db PROJECT.db]

Project: ``coder demo`` (the sample corpus, with stored suggestions) built in a temporary folder, or a
copy of ``--db`` (the file given is never written). Accounts ``load-analyst-1`` … and ``load-uploader``
are added with ``coder user add``. The server is the real command, ``coder serve --db … --host
127.0.0.1 --port FREE``, in a subprocess; its stderr is kept, and any traceback in it is printed.

Clients: ``requests`` sessions over loopback HTTP, one thread each, logged in through the login
form with its CSRF token:

- ``--analysts`` analysts, each on one transcript (spread over the project's transcripts, so some
  share one, as double coding does): load the coding page and its segments JSON, then code segment
  after segment: one or two of confirm / toggle / reject / accept, then ``review`` ("confirm and
  next", which schedules background retraining), every request after ``--think`` seconds; the page
  and the JSON are loaded again every 10 segments;
- one uploader: uploads a transcript (the sample ``minato_supporter.txt``, CP932, with a unique first line,
  so it is never refused as a duplicate) through the importer's preview, confirms it (GiNZA runs in
  that request; the import schedules retraining too), pauses 1 s, again;
- one status poller: ``/api/status`` every second, to report how much of the run a retrain was running.

Baseline, same run and server, before the load: one client alone, the same request types after
one untimed warm-up each; each ``review`` is followed by waiting for its retrain, so that no
retrain runs during a baseline request. ``review`` is reported apart from the other actions.

Printed: per request type count, p50 / p95 (nearest rank) / max in ms, 4xx and 5xx, the baseline
p50 and the ratio p50(load) / p50(baseline); then, read from the database (read-only) after the
server stopped, whether every coding and finished mark the clients were told was stored (their last
2xx answer per segment) is in ``codings`` / ``reviews``, exactly, and every confirmed upload is a
transcript. Exits 1 on a 5xx, a failed connection, a traceback in the server's stderr (a failed
background retrain included), a lost coding or upload, or if no upload went through.

Needs ``requests`` (installed with sentence-transformers' dependencies).
"""

from __future__ import annotations

import argparse
import math
import random
import re
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import defaultdict
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
CODER = Path(sys.executable).with_name("coder")
PASSWORD = "load-password"
UPLOAD = ROOT / "corpus" / "minato_supporter.txt"
UPLOAD_SPEAKERS = "インタビュアー=interviewer\n支援ワーカー=supporter"
TYPES = ("login", "page", "segments", "action", "review", "status", "upload", "confirm")
TIMEOUT = 300


class Stats:
    """Latencies (ms) and status codes per request type; failed connections; thread-safe."""

    def __init__(self):
        self.lock = threading.Lock()
        self.ms, self.codes, self.failures, self.refused = defaultdict(list), defaultdict(list), [], []

    def request(self, kind: str, session: requests.Session, method: str, url: str, **kwargs):
        t0 = time.perf_counter()
        try:
            response = session.request(method, url, timeout=TIMEOUT, allow_redirects=False, **kwargs)
        except requests.RequestException as exc:
            with self.lock:
                self.failures.append(f"{kind} {method} {url}: {exc!r}")
            return None
        with self.lock:
            self.ms[kind].append((time.perf_counter() - t0) * 1000)
            self.codes[kind].append(response.status_code)
            if response.status_code >= 400:
                text = re.sub(r"<(script|style)[^>]*>.*?</\1>|<[^>]+>", " ", response.text, flags=re.S)
                text = re.sub(r"\s+", " ", text)
                line = f"{kind} {method} {url} {kwargs.get('json', '')}: HTTP {response.status_code} {text[-400:]}"
                (self.failures if response.status_code >= 500 else self.refused).append(line)
        return response


def pct(samples: list[float], p: float) -> float:
    s = sorted(samples)
    return s[max(0, math.ceil(p / 100 * len(s)) - 1)] if s else float("nan")


def cli(*args: str) -> str:
    result = subprocess.run([str(CODER), *args], capture_output=True, text=True)
    if result.returncode:
        raise SystemExit(f"coder {' '.join(args)} failed:\n{result.stdout}{result.stderr}")
    return result.stdout


def prepare(workdir: Path, source: str | None, users: list[str]) -> Path:
    """The project to load: a copy of ``source``, or a fresh demo; with the load test's accounts."""
    db = workdir / "load.db"
    if source:
        with sqlite3.connect(f"file:{source}?mode=ro", uri=True) as src, sqlite3.connect(db) as dst:
            src.backup(dst)
    else:
        cli("demo", "--db", str(db), "--force")
    # a team past its agreement phase: blind mode off, so every "confirm and next" retrains the
    # suggestions (in blind mode only adjudications do) and a retrain is running under the load
    cli("blind", "off", "--db", str(db))
    (workdir / "password").write_text(PASSWORD + "\n", encoding="utf-8")
    existing = {line.split()[0] for line in cli("user", "list", "--db", str(db)).splitlines() if line.strip()}
    for name in users:
        if name in existing:
            cli("user", "passwd", name, "--password-file", str(workdir / "password"), "--db", str(db))
        else:
            cli("user", "add", name, "--role", "analyst", "--password-file", str(workdir / "password"), "--db", str(db))
    return db


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(db: Path, port: int, log: Path) -> subprocess.Popen:
    server = subprocess.Popen(
        [str(CODER), "serve", "--db", str(db), "--host", "127.0.0.1", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=log.open("w", encoding="utf-8"),
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"coder serve exited ({server.returncode}):\n{log.read_text(encoding='utf-8')}")
        try:
            if requests.get(f"http://127.0.0.1:{port}/login", timeout=5).status_code == 200:
                return server
        except requests.RequestException:
            time.sleep(0.2)
    server.terminate()
    raise SystemExit("coder serve did not answer within 120 s")


class Client:
    """One logged-in browser: a session with the CSRF token of its login page."""

    def __init__(self, base: str, stats: Stats, name: str):
        self.base, self.stats, self.name = base, stats, name
        self.session = requests.Session()
        self.csrf = None

    def get(self, kind: str, path: str):
        return self.stats.request(kind, self.session, "GET", self.base + path)

    def post(self, kind: str, path: str, **kwargs):
        return self.stats.request(
            kind, self.session, "POST", self.base + path, headers={"X-CSRFToken": self.csrf}, **kwargs
        )

    def login(self) -> bool:
        page = self.get("login", "/login")
        token = page is not None and re.search(r'name="csrf-token" content="([^"]+)"', page.text)
        if not token:
            return False
        self.csrf = token.group(1)
        response = self.post("login", "/login", data={"name": self.name, "password": PASSWORD, "csrf_token": self.csrf})
        return response is not None and response.status_code == 302


class Analyst(Client):
    """Codes one transcript; remembers, per segment, the last state the server said it stored."""

    def __init__(self, base, stats, name, transcript: int, codes: list[str], seed: int):
        super().__init__(base, stats, name)
        self.transcript, self.codes, self.random = transcript, codes, random.Random(seed)
        self.told: dict[int, dict] = {}  # segment id → {"mine": {code: status}, "reviewed": bool}
        self.unknown: set[int] = set()  # segments whose last action got no answer
        self.actions = 0
        self.logged = 0  # 2xx answers to actions that always write an audit event (all but accept)
        self.segments: list[int] = []

    def open(self) -> None:
        self.get("page", f"/transcripts/{self.transcript}")
        response = self.get("segments", f"/api/transcripts/{self.transcript}/segments")
        if response is not None and response.status_code == 200:
            self.segments = [s["id"] for s in response.json()["segments"]]

    def act(self, segment: int, action: str, code: str | None = None) -> None:
        kind = "review" if action == "review" else "action"
        response = self.post(kind, f"/api/segments/{segment}/actions", json={"action": action, "code": code})
        self.actions += 1
        if response is None or response.status_code >= 500:
            self.unknown.add(segment)
        elif response.status_code == 200:
            state = response.json()["segment"]
            self.told[segment] = {"mine": state["mine"], "reviewed": state["reviewed"]}
            self.logged += action != "accept"
            self.unknown.discard(segment)

    def code_one(self, segment: int, review: bool = True) -> None:
        for _ in range(self.random.choice((1, 2))):
            action = self.random.choice(("confirm", "confirm", "toggle", "reject", "accept"))
            self.act(segment, action, None if action == "accept" else self.random.choice(self.codes))
        if review:
            self.act(segment, "review")

    def run(self, until: float, think: float) -> None:
        if not self.login():
            return
        self.open()
        start = self.random.randrange(len(self.segments) or 1)
        for i in range(start, 10**9):
            if not self.segments or time.monotonic() >= until:
                return
            self.code_one(self.segments[i % len(self.segments)])
            if (i - start) % 10 == 9:
                self.open()
            time.sleep(think)


class Uploader(Client):
    def __init__(self, base, stats, name, run_id: str):
        super().__init__(base, stats, name)
        self.run_id, self.sent, self.confirmed = run_id, 0, []

    def upload_one(self) -> None:
        self.sent += 1
        name = f"load_{self.run_id}_{self.sent:03d}"
        first = f"負荷試験 {self.run_id} {self.sent}\r\n".encode("cp932")  # unique; CP932, as the file is
        body = first + UPLOAD.read_bytes()
        form = {"case": "load", "speakers": UPLOAD_SPEAKERS, "csrf_token": self.csrf}
        page = self.post("upload", "/import", data=form, files={"files": (f"{name}.txt", body, "text/plain")})
        token = page is not None and re.search(r'action="/import/([0-9a-f]+)"', page.text)
        if not token:
            return
        response = self.post("confirm", f"/import/{token.group(1)}", data={**form, "action": "import"})
        if response is not None and response.status_code == 302:
            self.confirmed.append(name)

    def run(self, until: float, pause: float = 1.0) -> None:
        if not self.login():
            return
        while time.monotonic() < until:
            self.upload_one()
            time.sleep(pause)


def poll_status(client: Client, until: float, seen: list[dict]) -> None:
    while time.monotonic() < until:
        response = client.get("status", "/api/status")
        if response is not None and response.status_code == 200:
            seen.append(response.json()["retraining"])
        time.sleep(1)


def wait_idle(client: Client, limit: float = 300) -> dict:
    """Until no retrain is running or queued (untimed); the last status."""
    deadline = time.monotonic() + limit
    while True:
        state = client.session.get(client.base + "/api/status", timeout=TIMEOUT).json()["retraining"]
        if (not state["running"] and not state["queued"]) or time.monotonic() > deadline:
            return state
        time.sleep(0.5)


def baseline(base: str, transcript: int, codes: list[str], run_id: str) -> tuple[Stats, Analyst, Uploader]:
    """One client alone on the idle server: each request type once untimed (warm-up), then timed;
    reviews last, each followed by its retrain, so that no retrain runs during a timed request."""
    stats = Stats()
    stats.retrain_errors = []
    analyst = Analyst(base, Stats(), "load-baseline", transcript, codes, seed=0)
    uploader = Uploader(base, analyst.stats, "load-baseline", run_id + "b")
    segments = iter(range(10**6))
    for repeat in (1, 5):
        if repeat > 1:
            analyst.stats = uploader.stats = stats
        for _ in range(repeat):
            analyst.session.cookies.clear()
            analyst.login()
        uploader.session, uploader.csrf = analyst.session, analyst.csrf
        for _ in range(2 * repeat):
            analyst.open()
            analyst.get("status", "/api/status")
        for _ in range(3 * repeat):
            analyst.code_one(analyst.segments[next(segments) % len(analyst.segments)], review=False)
        for _ in range(repeat):
            uploader.upload_one()
        stats.retrain_errors.append(wait_idle(analyst)["error"])
        for _ in range(repeat):
            analyst.act(analyst.segments[next(segments) % len(analyst.segments)], "review")
            stats.retrain_errors.append(wait_idle(analyst)["error"])
    return stats, analyst, uploader


def transcripts(db: Path) -> list[int]:
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as con:
        return [r[0] for r in con.execute("select id from transcripts order by id")]


def verify(db: Path, told: dict[tuple[str, int], dict], uploads: list[str], logged: dict[str, int]) -> dict:
    """Read-only, after the server stopped: of the codings and finished marks the clients were told
    are stored, how many are stored exactly; rows nobody was told of; confirmed uploads missing;
    coders with fewer audit events than acknowledged actions."""
    out = dict.fromkeys(("codings", "codings_stored", "reviews", "reviews_stored", "extra", "missing"), 0)
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as con:
        events = dict(con.execute("select user, count(*) from events group by user").fetchall())
        out["unlogged"] = sorted(name for name, n in logged.items() if events.get(name, 0) < n)
        for (coder, segment), state in told.items():
            rows = dict(
                con.execute(
                    "select code, status from codings where coder = ? and segment_id = ?", [coder, segment]
                ).fetchall()
            )
            reviewed = (
                con.execute("select 1 from reviews where coder = ? and segment_id = ?", [coder, segment]).fetchone()
                is not None
            )
            out["codings"] += len(state["mine"])
            out["codings_stored"] += sum(rows.get(code) == status for code, status in state["mine"].items())
            out["reviews"] += state["reviewed"]
            out["reviews_stored"] += state["reviewed"] and reviewed
            out["extra"] += len(set(rows) - set(state["mine"])) + (reviewed and not state["reviewed"])
        names = {r[0] for r in con.execute("select name from transcripts")}
    out["missing"] = sum(name not in names for name in uploads)
    return out


def warnings(log: Path) -> dict[str, int]:
    """Logged warnings and errors (e.g. waitress's "Task queue depth is N"), numbers folded (largest kept
    in brackets), with counts."""
    out: dict[str, int] = defaultdict(int)
    largest: dict[str, int] = defaultdict(int)
    for line in log.read_text(encoding="utf-8", errors="replace").splitlines():
        if line.startswith(("WARNING:", "ERROR:", "CRITICAL:")):
            key = re.sub(r"\d+", "N", line)[:200]
            out[key] += 1
            largest[key] = max([largest[key], *map(int, re.findall(r"\d+", line))])
    return {f"{k} (largest N {largest[k]})": n for k, n in out.items()}


def report(load: Stats, base: Stats) -> None:
    print(
        f"{'request':10} {'count':>6} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8} {'4xx':>5} {'5xx':>5}   "
        f"{'baseline n':>10} {'p50 ms':>8} {'p50 ratio':>9}"
    )
    for kind in TYPES:
        ms, codes, b = load.ms[kind], load.codes[kind], base.ms[kind]
        ratio = pct(ms, 50) / pct(b, 50) if ms and b else float("nan")
        print(
            f"{kind:10} {len(ms):>6} {pct(ms, 50):>8.0f} {pct(ms, 95):>8.0f} {max(ms, default=float('nan')):>8.0f} "
            f"{sum(400 <= c < 500 for c in codes):>5} {sum(c >= 500 for c in codes):>5}   "
            f"{len(b):>10} {pct(b, 50):>8.0f} {ratio:>9.1f}"
        )


def tracebacks(log: Path) -> list[str]:
    text = log.read_text(encoding="utf-8", errors="replace")
    return re.findall(r"Traceback \(most recent call last\):\n(?:[ \t].*\n)*.*", text)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=60, help="length of the load")
    parser.add_argument("--analysts", type=int, default=10, help="analysts coding at once")
    parser.add_argument(
        "--think", type=float, default=0.0, help="pause (s) after each segment (0: as fast as answered)"
    )
    parser.add_argument("--db", help="a project to copy instead of building the demo")
    args = parser.parse_args()
    run_id = uuid.uuid4().hex[:8]
    names = [f"load-analyst-{i + 1}" for i in range(args.analysts)]
    with tempfile.TemporaryDirectory(prefix="coder-load-") as tmp:
        workdir = Path(tmp)
        t0 = time.perf_counter()
        db = prepare(workdir, args.db, [*names, "load-uploader", "load-baseline"])
        ids = transcripts(db)
        print(
            f"project: {len(ids)} transcripts, {'copy of ' + args.db if args.db else 'coder demo'}; "
            f"set-up {time.perf_counter() - t0:.0f} s (not timed below)"
        )
        port, log = free_port(), workdir / "server.log"
        server = start_server(db, port, log)
        base = f"http://127.0.0.1:{port}"
        try:
            probe = Client(base, Stats(), "load-baseline")
            probe.login()
            codes = [c["id"] for c in probe.get("page", "/api/codebook").json()["codes"]]
            base_stats, base_analyst, base_uploader = baseline(base, ids[0], codes, run_id)
            load = Stats()
            analysts = [Analyst(base, load, name, ids[i % len(ids)], codes, seed=i) for i, name in enumerate(names)]
            uploader = Uploader(base, load, "load-uploader", run_id)
            poller, seen = Client(base, load, names[0]), []
            poller.login()
            until = time.monotonic() + args.seconds
            threads = [threading.Thread(target=a.run, args=(until, args.think)) for a in analysts]
            threads += [
                threading.Thread(target=uploader.run, args=(until,)),
                threading.Thread(target=poll_status, args=(poller, until, seen)),
            ]
            t0 = time.perf_counter()
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            elapsed = time.perf_counter() - t0
        finally:
            server.terminate()
            server.wait(timeout=60)
        print(
            f"load: {args.analysts} analysts (think {args.think} s), 1 uploader, status poll 1/s; "
            f"{elapsed:.0f} s (asked {args.seconds:.0f} s; requests in flight at the end finish)"
        )
        ok = summarize(load, base_stats, base_analyst, base_uploader, analysts, uploader, seen, db, log, elapsed)
    if not ok:
        sys.exit(1)


def summarize(load, base_stats, base_analyst, base_uploader, analysts, uploader, seen, db, log, elapsed) -> bool:
    """Print the figures and checks; False on a 5xx, failed connection, traceback or lost write."""
    report(load, base_stats)
    running = sum(s["running"] for s in seen)
    generations = [s["generation"] for s in seen]
    errors = {s["error"] for s in seen if s["error"]}
    print(
        f"retraining: running in {running} of {len(seen)} status polls; runs finished during the load "
        f"{generations[-1] - generations[0] if generations else 0}; errors seen by the poller: "
        f"{sorted(errors) or 'none'}; errors after the baseline's runs: "
        f"{[e for e in base_stats.retrain_errors if e] or 'none'}"
    )
    told = {(a.name, seg): state for a in analysts for seg, state in a.told.items() if seg not in a.unknown}
    told |= {
        ("load-baseline", seg): state for seg, state in base_analyst.told.items() if seg not in base_analyst.unknown
    }
    uploads = uploader.confirmed + base_uploader.confirmed
    v = verify(db, told, uploads, {a.name: a.logged for a in [*analysts, base_analyst]})
    unknown = sum(len(a.unknown) for a in analysts)
    print(
        f"codings sent {v['codings']}, stored {v['codings_stored']}; finished marks sent {v['reviews']}, "
        f"stored {v['reviews_stored']}; rows nobody was told of {v['extra']}; "
        f"segments left unverified after a failed request {unknown}; "
        f"coders with fewer audit events than acknowledged actions: {v['unlogged'] or 'none'}"
    )
    print(
        f"{sum(a.actions for a in analysts)} actions by the analysts during the load "
        f"({sum(a.actions for a in analysts) / elapsed:.0f}/s)"
    )
    print(f"uploads confirmed {len(uploads)}, stored {len(uploads) - v['missing']}")
    failures = load.failures + base_stats.failures
    for line in failures[:20]:
        print(f"FAILED: {line}")
    for line in (load.refused + base_stats.refused)[:10]:
        print(f"refused: {line}")
    found = tracebacks(log)
    for tb in dict.fromkeys(found):
        print(f"server traceback ({found.count(tb)} time(s)):\n{tb}")
    print(f"server stderr: {len(found)} traceback(s)")
    for line, n in warnings(log).items():
        print(f"server stderr ({n} time(s)): {line}")
    lost = v["codings"] - v["codings_stored"] + v["reviews"] - v["reviews_stored"] + v["extra"] + v["missing"]
    return not (failures or found or lost or v["unlogged"] or not uploader.confirmed)


if __name__ == "__main__":
    main()
