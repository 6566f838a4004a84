"""`coder serve` runs a production server (waitress; cheroot for its own TLS) and sets cookies
for HTTPS; Flask's development server only with --debug."""

import http.cookiejar
import re
import socket
import ssl
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from coder.db import open_db
from coder.users import add_user

CODER = str(Path(sys.executable).with_name("coder"))


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def served(tmp_path):
    """Start `coder serve` with extra options; returns (base url, process)."""
    procs = []
    path = tmp_path / "p.db"
    db = open_db(path)
    add_user(db, "sato", "supervisor", "sato-password")
    db.close()

    def start(*options, scheme="http"):
        port = _free_port()
        proc = subprocess.Popen(
            [CODER, "serve", "--db", str(path), "--port", str(port), *options],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        procs.append(proc)
        for _ in range(300):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                return f"{scheme}://127.0.0.1:{port}", proc
            except OSError:
                if proc.poll() is not None:
                    raise AssertionError(proc.stderr.read())
                time.sleep(0.1)
        raise AssertionError("server did not start")

    yield start
    for proc in procs:
        proc.terminate()
        proc.wait(10)


def _login(base, context=None):
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(
        urllib.request.HTTPCookieProcessor(jar), urllib.request.HTTPSHandler(context=context)
    )
    page = opener.open(base + "/login").read().decode()
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page) or re.search(
        r'name="csrf-token" content="([^"]+)"', page
    )
    data = urllib.parse.urlencode({"name": "sato", "password": "sato-password", "csrf_token": token.group(1)})
    # a browser sends the page as Referer on a same-origin form post (Referrer-Policy: same-origin)
    post = urllib.request.Request(base + "/login", data=data.encode(), headers={"Referer": base + "/login"})
    response = opener.open(post)
    return response, jar


def test_serve_uses_a_production_server_with_plain_cookies_on_localhost(served):
    base, proc = served()
    response, jar = _login(base)
    assert response.status == 200 and "Werkzeug" not in (response.headers.get("Server") or "")
    assert [c for c in jar if c.name == "session"] and not any(c.secure for c in jar)


def test_serve_with_a_certificate_speaks_https_and_marks_cookies_secure(served, tmp_path):
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=127.0.0.1",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
    )
    base, proc = served("--certfile", str(cert), "--keyfile", str(key), scheme="https")
    context = ssl.create_default_context(cafile=str(cert))
    context.check_hostname = False
    response, jar = _login(base, context)
    assert response.status == 200 and "max-age" in response.headers["Strict-Transport-Security"]
    assert all(c.secure for c in jar if c.name == "session") and [c for c in jar if c.name == "session"]
    with pytest.raises(Exception):  # plain HTTP to the TLS port gets no page
        urllib.request.urlopen(base.replace("https", "http") + "/login", timeout=5).read()


def test_behind_a_proxy_forwarded_https_is_trusted_only_from_the_proxy(served):
    base, proc = served("--behind-proxy", "127.0.0.1")
    request = urllib.request.Request(base + "/login", headers={"X-Forwarded-Proto": "https"})
    response = urllib.request.urlopen(request)
    assert "max-age" in response.headers.get("Strict-Transport-Security", "")
    assert "Secure" in response.headers.get("Set-Cookie", "Secure")


def test_serve_warns_when_plain_http_is_reachable_from_the_network(served):
    base, proc = served("--host", "0.0.0.0")
    proc.terminate()
    assert "unencrypted" in proc.communicate(timeout=10)[1]


def test_certificate_without_key_is_refused(tmp_path):
    from web.server import serve

    with pytest.raises(Exception, match="go together"):
        serve(None, "127.0.0.1", 0, certfile=str(tmp_path / "c.pem"))
