"""Server memory while it refuses a ZIP-bomb .docx upload, against its memory right after start.

    .venv/bin/python benchmarks/upload_bomb.py                  # ~4 MB .docx inflating to 1.2 GB
    .venv/bin/python benchmarks/upload_bomb.py --inflated 2000  # MB that word/document.xml inflates to

Server: a real ``coder serve --db TEMPDB --host 127.0.0.1 --port FREEPORT`` process on a fresh
project (``coder init``, ``coder user add --password-file``), driven over HTTP with ``requests``:
the login form (``GET /login`` for the ``csrf_token`` hidden input, ``POST name/password/csrf_token``),
then the upload form (``POST /import``, field ``files``). Nothing else is assumed about the server.

The bomb: python-docx's blank document whose ``word/document.xml`` is one Word paragraph of
interview text (~150 bytes) repeated until it inflates to ``--inflated`` MB; it compresses about
250 times, so 1.2 GB is a file of about 4.7 MB, like the reported finding's 4 MB one. It is written
to disk in chunks; this script never holds it inflated.

Figures: the server's resident memory right after start (baseline, once it answered its first
request), its peak while the bomb is uploaded and refused (the larger of RSS sampled every 10 ms,
with psutil if installed, else /proc, and the kernel's lifetime high-water mark VmHWM; over the
server and any children), the ratio of the two, the HTTP status and whether the page shows the
Japanese refusal; then an ordinary .docx from the corpus is uploaded to show the server still
answers. Goal: peak under 1 GB.
"""

from __future__ import annotations

import argparse
import re
import socket
import subprocess
import sys
import tempfile
import threading
import time
import zipfile
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
SAID = "支援員さんと情報を共有しています。主治医の意見も職場に伝えてもらいました。"


def write_bomb(path: Path, inflated: int) -> None:
    """A .docx whose document.xml inflates to ``inflated`` bytes, written 1 MiB at a time."""
    import docx

    paragraph = f"<w:p><w:r><w:t>本人：{SAID}</w:t></w:r></w:p>".encode()
    block = paragraph * (2**20 // len(paragraph))
    blank = Path(path.parent, "blank.docx")
    docx.Document().save(blank)
    with zipfile.ZipFile(blank) as src, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for item in src.infolist():
            if item.filename != "word/document.xml":
                z.writestr(item, src.read(item))
        with z.open("word/document.xml", "w", force_zip64=True) as f:
            written = f.write(f'<?xml version="1.0" encoding="UTF-8"?><w:document xmlns:w="{W}"><w:body>'.encode())
            while written < inflated:
                written += f.write(block)
            f.write(b"</w:body></w:document>")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def tree(pid: int) -> list[int]:
    """``pid`` and its descendants (a server may run its workers as children)."""
    out = [pid]
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            out += [p for child in (task / "children").read_text().split() for p in tree(int(child))]
        except OSError:
            continue
    return out


def rss(pid: int) -> int:
    """Resident memory in bytes of ``pid`` and its children: psutil if installed, else /proc."""
    try:
        import psutil

        procs = [psutil.Process(pid), *psutil.Process(pid).children(recursive=True)]
        return sum(p.memory_info().rss for p in procs)
    except ImportError:
        return sum(_status(p).get("VmRSS", 0) for p in tree(pid))


def high_water(pid: int) -> int:
    """The kernel's peak resident memory (VmHWM) of ``pid`` or its children since they started; 0 without /proc."""
    return max((_status(p).get("VmHWM", 0) for p in tree(pid)), default=0)


def _status(pid: int) -> dict[str, int]:
    try:
        lines = Path(f"/proc/{pid}/status").read_text().splitlines()
    except OSError:
        return {}
    return {k: int(v.split()[0]) * 1024 for k, v in (line.split(":", 1) for line in lines) if v.strip().endswith("kB")}


class Sampler(threading.Thread):
    """The largest ``rss(pid)`` seen, polled every 10 ms until ``stop()``."""

    def __init__(self, pid: int):
        super().__init__(daemon=True)
        self.pid, self.peak, self.done = pid, 0, threading.Event()

    def run(self) -> None:
        while not self.done.wait(0.01):
            self.peak = max(self.peak, rss(self.pid))

    def stop(self) -> int:
        self.done.set()
        self.join()
        return self.peak


def token(html: str) -> str:
    tag = re.search(r'<input[^>]*name="csrf_token"[^>]*>', html) or re.search(r'<meta name="csrf-token"[^>]*>', html)
    return re.search(r'(?:value|content)="([^"]+)"', tag.group(0)).group(1)


def start(workdir: Path) -> tuple[subprocess.Popen, str]:
    db, password = workdir / "project.db", workdir / "password"
    password.write_text("bench-password-1234\n", encoding="utf-8")
    coder = str(BIN / "coder")
    subprocess.run([coder, "init", "--db", str(db)], check=True, capture_output=True)
    subprocess.run(
        [coder, "user", "add", "bench", "--role", "analyst", "--password-file", str(password), "--db", str(db)],
        check=True,
        capture_output=True,
    )
    port = free_port()
    server = subprocess.Popen(
        [coder, "serve", "--db", str(db), "--host", "127.0.0.1", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    for _ in range(600):
        try:
            if requests.get(url + "/login", timeout=2).status_code == 200:
                return server, url
        except requests.ConnectionError:
            time.sleep(0.2)
    server.terminate()
    raise SystemExit("the server did not answer within 2 minutes")


def upload(session: requests.Session, url: str, path: Path) -> requests.Response:
    csrf = token(session.get(url + "/import").text)
    with path.open("rb") as f:
        return session.post(url + "/import", data={"csrf_token": csrf}, files={"files": (path.name, f)}, timeout=600)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--inflated", type=int, default=1200, help="MB that word/document.xml inflates to")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        bomb = workdir / "bomb.docx"
        began = time.perf_counter()
        write_bomb(bomb, args.inflated * 10**6)
        with zipfile.ZipFile(bomb) as z:
            inflated = sum(i.file_size for i in z.infolist())
        print(
            f"bomb.docx: {bomb.stat().st_size / 1e6:.1f} MB on disk, inflates to {inflated / 1e9:.2f} GB "
            f"(built in {time.perf_counter() - began:.0f} s)"
        )
        server, url = start(workdir)
        try:
            baseline, baseline_hwm = rss(server.pid), high_water(server.pid)
            session = requests.Session()
            csrf = token(session.get(url + "/login").text)
            login = session.post(
                url + "/login",
                allow_redirects=False,
                timeout=60,
                data={"name": "bench", "password": "bench-password-1234", "csrf_token": csrf},
            )
            if login.status_code != 302:
                raise SystemExit(f"login failed: HTTP {login.status_code}")
            sampler = Sampler(server.pid)
            sampler.start()
            began = time.perf_counter()
            response = upload(session, url, bomb)
            took = time.perf_counter() - began
            sampled, hwm = sampler.stop(), high_water(server.pid)
            shown = re.search(r"bomb\.docx：[^<]*ZIP爆弾[^<]*", response.text)
            ok = upload(session, url, ROOT / "corpus" / "kaede_supporter.docx").status_code
        finally:
            server.terminate()
            server.wait(timeout=30)
    peak = max(sampled, hwm)
    print(
        f"server RSS right after start (baseline):  {baseline / 1e6:,.0f} MB (high-water mark so far "
        f"{baseline_hwm / 1e6:,.0f} MB)"
    )
    print(
        f"server peak RSS while refusing the bomb:  {peak / 1e6:,.0f} MB = {peak / baseline:.2f}× baseline "
        f"(sampled every 10 ms: {sampled / 1e6:,.0f} MB; VmHWM: {hwm / 1e6:,.0f} MB); goal: under 1,000 MB"
    )
    print(
        f"HTTP {response.status_code} in {took:.2f} s; page says: {shown.group(0) if shown else '(no refusal shown)'}"
    )
    print(f"an ordinary .docx uploaded afterwards: HTTP {ok}")


if __name__ == "__main__":
    main()
