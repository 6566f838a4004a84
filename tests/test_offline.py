"""Nothing leaves the machine: a whole web session and the CLI job run with every non-loopback
connection and name lookup refused, and none is attempted.

The interviews are sensitive (disability, health), so the claim is tested, not assumed: the
Hugging Face offline variables are removed first, so the tests prove the code does not try to
connect, not that an environment variable stopped it. The same blocker (``BLOCKER``) runs in
process for the web app and, written out as ``sitecustomize.py``, at start-up of every Python
process the CLI starts.
"""

import ast
import io
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CODER = Path(sys.executable).with_name("coder")
OFFLINE_VARIABLES = ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "HF_DATASETS_OFFLINE")
PROBE = ("93.184.216.34", 80)  # example.com: must be refused and recorded, or the blocker blocks nothing

BLOCKER = '''
import errno
import ipaddress
import socket

LOCAL_NAMES = {"localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback"}


def is_loopback(host):
    """127.0.0.0/8, ::1 or localhost; None or "" (a wildcard lookup, as servers do to bind) too."""
    if host is None or host in ("", b""):
        return True
    host = (host.decode() if isinstance(host, bytes) else str(host)).split("%")[0].lower()
    try:
        return host in LOCAL_NAMES or ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def install(record, setattr=setattr):
    """Refuse every non-loopback connect and name lookup as an offline machine would (OSError),
    after passing ``(function, address)`` to ``record``. Unix sockets are allowed."""
    connect, connect_ex = socket.socket.connect, socket.socket.connect_ex
    getaddrinfo, create_connection = socket.getaddrinfo, socket.create_connection

    def allowed(sock, address):
        return sock.family == getattr(socket, "AF_UNIX", None) or (
            isinstance(address, tuple) and is_loopback(address[0]))

    def guarded_connect(self, address):
        if not allowed(self, address):
            record("socket.connect", address)
            raise OSError(errno.ENETUNREACH, "network is unreachable (offline test)")
        return connect(self, address)

    def guarded_connect_ex(self, address):
        if not allowed(self, address):
            record("socket.connect_ex", address)
            return errno.ENETUNREACH
        return connect_ex(self, address)

    def guarded_getaddrinfo(host, port, *args, **kwargs):
        if not is_loopback(host):
            record("socket.getaddrinfo", (host, port))
            raise socket.gaierror(socket.EAI_NONAME, "name lookup refused (offline test)")
        return getaddrinfo(host, port, *args, **kwargs)

    def guarded_create_connection(address, *args, **kwargs):
        if not is_loopback(address[0]):
            record("socket.create_connection", address)
            raise OSError(errno.ENETUNREACH, "network is unreachable (offline test)")
        return create_connection(address, *args, **kwargs)

    setattr(socket.socket, "connect", guarded_connect)
    setattr(socket.socket, "connect_ex", guarded_connect_ex)
    setattr(socket, "getaddrinfo", guarded_getaddrinfo)
    setattr(socket, "create_connection", guarded_create_connection)
'''

SITECUSTOMIZE = (
    BLOCKER
    + """
import os
import sys


def _record(what, address):
    with open(os.environ["CODER_OFFLINE_LOG"], "a", encoding="utf-8") as log:
        log.write(f"{what} {address!r}\\n")


if os.environ.get("CODER_OFFLINE_LOG"):
    install(_record)
    with open(os.environ["CODER_OFFLINE_LOG"] + ".loaded", "a", encoding="utf-8") as marker:
        marker.write(f"{os.getpid()} {sys.argv!r}\\n")
"""
)


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    """An empty model cache: the first test builds the embedding model there under the blocker."""
    return tmp_path_factory.mktemp("cache")


@pytest.fixture
def attempts(monkeypatch, cache):
    """Block the network in this process (undone after the test); the list of attempted addresses."""
    for name in OFFLINE_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    if "huggingface_hub.constants" in sys.modules:  # imported by an earlier test: its flag was read then
        monkeypatch.setattr(sys.modules["huggingface_hub.constants"], "HF_HUB_OFFLINE", False)
    monkeypatch.setenv("CODER_CACHE", str(cache))
    namespace, tried = {}, []
    exec(BLOCKER, namespace)
    namespace["install"](lambda what, address: tried.append((what, address)), monkeypatch.setattr)
    return tried


def assert_blocker_blocks(attempts):
    import socket

    with pytest.raises(OSError):
        socket.create_connection(PROBE, timeout=1)
    with pytest.raises(OSError):
        socket.getaddrinfo("huggingface.co", 443)
    assert attempts == [("socket.create_connection", PROBE), ("socket.getaddrinfo", ("huggingface.co", 443))]
    attempts.clear()


@pytest.fixture
def app(attempts, project):
    """The app as served: background retraining on (overrides conftest's, which turns it off)."""
    from web import create_app

    return create_app({"DATABASE": str(project), "TESTING": True, "RETRAIN": True, "SECRET_KEY": "test"})


def upload_interview(client, path: Path, speakers: str):
    files = [(io.BytesIO(path.read_bytes()), path.name)]
    page = client.post(
        "/import",
        content_type="multipart/form-data",
        data={"files": files, "case": "kaede", "speakers": speakers, "csrf_token": client.csrf},
    )
    assert page.status_code == 200 and "読み取り結果の確認" in page.get_data(as_text=True)
    token = re.search(r'action="/import/([0-9a-f]+)"', page.get_data(as_text=True)).group(1)
    response = client.post(
        f"/import/{token}", data={"csrf_token": client.csrf, "action": "import", "case": "kaede", "speakers": speakers}
    )
    assert response.status_code == 302, response.get_data(as_text=True)


def code_segments(client, transcript_id: int) -> int:
    """Confirm a code on the first ten segments and finish them; return how many were finished."""
    segments = client.get(f"/api/transcripts/{transcript_id}/segments").get_json()["segments"]
    for s in segments[:10]:
        for action, code in (("confirm", "information_sharing"), ("toggle", "autonomy"), ("review", None)):
            response = client.post(
                f"/api/segments/{s['id']}/actions",
                json={"action": action, "code": code},
                headers={"X-CSRFToken": client.csrf},
            )
            assert response.status_code == 200, response.get_data(as_text=True)
    return len(segments[:10])


def export(client, fmt: str, source: str) -> bytes:
    response = client.post("/export/", data={"format": fmt, "source": source, "csrf_token": client.csrf})
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.data


def test_a_whole_web_session_attempts_no_connection(app, login, attempts):
    from coder import db as store
    from web import tasks, topics

    assert_blocker_blocks(attempts)
    client = login("hanako")
    upload_interview(client, ROOT / "corpus" / "kaede_person.txt", "本人=person\nインタビュアー=interviewer")
    database = store.open_db(app.config["DATABASE"])
    transcript = store.find_transcript(database, "kaede_person")["id"]
    database.close()
    assert "kaede_person" in client.get("/").get_data(as_text=True)
    assert client.get(f"/transcripts/{transcript}").status_code == 200
    assert code_segments(client, transcript) == 10
    with app.app_context():
        tasks.retrainer().wait(timeout=120)
    status = client.get("/api/status").get_json()["retraining"]
    assert status["error"] is None and status["generation"] >= 1 and status["trained_on"] >= 10
    assert "関係者間の情報共有" in client.get("/matrix/?source=hanako").get_data(as_text=True)
    assert export(client, "quotes-xlsx", "hanako")[:2] == b"PK" and export(client, "refi-qdpx", "hanako")[:2] == b"PK"
    assert (
        client.post("/topics/run", data={"source": "all", "n_topics": "3", "csrf_token": client.csrf}).status_code
        == 302
    )
    with app.app_context():
        topics.job().wait(timeout=120)
    assert client.get("/api/topics/status").get_json()["error"] is None
    assert "トピック 3" in client.get("/topics/").get_data(as_text=True)
    assert attempts == []


@pytest.fixture
def offline_env(tmp_path, cache):
    """Environment for a subprocess whose Python installs the blocker at start-up (``sitecustomize``),
    appending refused addresses to ``CODER_OFFLINE_LOG`` and its pid to that name + ``.loaded``."""
    (tmp_path / "site").mkdir()
    (tmp_path / "site" / "sitecustomize.py").write_text(SITECUSTOMIZE, encoding="utf-8")
    log = tmp_path / "attempts.log"
    env = {k: v for k, v in os.environ.items() if k not in OFFLINE_VARIABLES}
    env.update(
        PYTHONPATH=os.pathsep.join(p for p in (str(tmp_path / "site"), env.get("PYTHONPATH")) if p),
        CODER_OFFLINE_LOG=str(log),
        CODER_CACHE=str(cache),
    )
    probe = f"import socket\ntry: socket.create_connection({PROBE!r})\nexcept OSError: print('refused')"
    assert subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True, text=True).stdout == "refused\n"
    assert log.read_text(encoding="utf-8") == f"socket.create_connection {PROBE!r}\n"
    log.unlink()
    return env


def run_cli(env, *args):
    result = subprocess.run([str(CODER), *args], env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, f"coder {' '.join(args)}\n{result.stdout}\n{result.stderr}"
    return result.stdout


SOURCES = (
    ROOT / "tests" / "data" / "field" / "interview_timestamps.txt",
    ROOT / "corpus" / "kaede_person.txt",
)  # the second gives topics enough segments
COMMANDS = ["init", "ingest", "suggest", "matrix", "export", "topics"]
SPEAKERS = ("--speaker", "本人=person", "--speaker", "聞き手=interviewer", "--speaker", "インタビュアー=interviewer")


def test_the_cli_job_attempts_no_connection(offline_env, tmp_path):
    for source in SOURCES:
        (tmp_path / source.name).write_bytes(source.read_bytes())
    db = str(tmp_path / "project.db")
    run_cli(offline_env, "init", "--db", db)
    assert "imported" in run_cli(
        offline_env, "ingest", *(str(tmp_path / s.name) for s in SOURCES), "--case", "kaede", *SPEAKERS, "--db", db
    )
    assert "segments scored" in run_cli(offline_env, "suggest", "--db", db)
    assert "関係者間の情報共有" in run_cli(offline_env, "matrix", "--source", "model", "--db", db)
    run_cli(
        offline_env,
        "export",
        "--format",
        "quotes-xlsx",
        "--source",
        "model",
        "--out",
        str(tmp_path / "q.xlsx"),
        "--db",
        db,
    )
    assert (tmp_path / "q.xlsx").read_bytes()[:2] == b"PK"
    assert json.loads(run_cli(offline_env, "topics", "--topics", "3", "--json", "--db", db))["n_topics"] == 3
    loaded = [
        ast.literal_eval(line.split(" ", 1)[1])
        for line in (tmp_path / "attempts.log.loaded").read_text(encoding="utf-8").splitlines()
    ]
    assert [argv[1] for argv in loaded if argv[0] == str(CODER)] == COMMANDS  # each ran with the blocker
    assert not (tmp_path / "attempts.log").exists(), (tmp_path / "attempts.log").read_text(encoding="utf-8")
