"""How `coder serve` runs the app: a production WSGI server with a thread pool, never Flask's
development server unless asked for with ``--debug``.

- Plain HTTP: waitress (``threads`` worker threads). Fine on 127.0.0.1; on a network, put TLS in
  front of it (below) — passwords and interview text would otherwise travel in the clear.
- TLS of its own (``certfile`` + ``keyfile``): cheroot with Python's ssl module, since waitress
  does not speak TLS. Session cookies are then ``Secure``.
- Behind a reverse proxy that terminates TLS (``behind_proxy``, the proxy's address): waitress
  trusts that address's ``X-Forwarded-Proto/For/Host`` headers, so the app knows the request was
  HTTPS (Secure cookies, HSTS) and login throttling sees the client's address, not the proxy's.
"""

from __future__ import annotations

import ipaddress
import logging
import ssl

from coder.errors import CoderError

THREADS = 8  # worker threads: requests are short (SQLite, templates); GiNZA and embeddings take turns
PROXY_HEADERS = {"x-forwarded-proto", "x-forwarded-for", "x-forwarded-host", "x-forwarded-port"}


def secure_config(tls: bool) -> dict:
    """App config for cookies that only travel over HTTPS (when ``tls``)."""
    return {
        "SESSION_COOKIE_SECURE": tls,
        "REMEMBER_COOKIE_SECURE": tls,
        "PREFERRED_URL_SCHEME": "https" if tls else "http",
    }


def is_loopback(host: str) -> bool:
    """Whether ``host`` (an address or ``localhost``) only accepts connections from this machine."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def serve(
    app,
    host: str,
    port: int,
    threads: int = THREADS,
    certfile: str | None = None,
    keyfile: str | None = None,
    behind_proxy: str | None = None,
    debug: bool = False,
) -> None:
    """Serve ``app`` until interrupted. Raises ``CoderError`` for a certificate or key that cannot
    be loaded, or for ``certfile`` without ``keyfile`` (and the other way round)."""
    if bool(certfile) != bool(keyfile):
        raise CoderError("--certfile and --keyfile go together (a PEM certificate and its private key)")
    if debug:
        app.run(
            host=host,
            port=port,
            threaded=True,
            debug=True,
            use_reloader=False,
            ssl_context=(certfile, keyfile) if certfile else None,
        )
        return
    max_body = app.config.get("MAX_CONTENT_LENGTH") or 100 * 1024 * 1024
    if certfile:
        from cheroot import wsgi
        from cheroot.ssl.builtin import BuiltinSSLAdapter

        try:
            ssl.create_default_context(ssl.Purpose.CLIENT_AUTH).load_cert_chain(certfile, keyfile)
        except (OSError, ssl.SSLError) as exc:
            raise CoderError(f"{certfile} / {keyfile}: cannot load the certificate and key ({exc})") from exc
        server = wsgi.Server((host, port), app, numthreads=threads, max=-1, server_name="coder")
        server.ssl_adapter = BuiltinSSLAdapter(certfile, keyfile)
        server.max_request_body_size = max_body
        try:
            server.start()
        except KeyboardInterrupt:
            server.stop()
        return
    from waitress import serve as waitress_serve

    # waitress warns once per request that waits for a free thread; under a team's load that floods the
    # log without saying anything actionable (requests still wait their turn and are answered)
    logging.getLogger("waitress.queue").setLevel(logging.ERROR)

    options = {
        "threads": threads,
        "ident": "coder",
        "max_request_body_size": max_body + 1024 * 1024,
        "clear_untrusted_proxy_headers": True,
    }
    if behind_proxy:
        options.update(trusted_proxy=behind_proxy, trusted_proxy_headers=PROXY_HEADERS)
    waitress_serve(app, host=host, port=port, **options)
