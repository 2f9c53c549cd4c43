"""The app of the HTTP/1.1 end-to-end tests (e2e/http_*_test.go).

Every request that reaches Python is appended, as "METHOD REQUEST_URI", to the file named
by os.environ["HTTP_E2E_SEEN"] (the tests set it with --pypy-eval), so a test can prove
that a request never reached the app.
"""

import json
import os
import threading
import time
from urllib.parse import parse_qs

_lock = threading.Lock()


def _record(environ):
    path = os.environ.get("HTTP_E2E_SEEN")
    if not path:
        return
    line = "%s %s\n" % (environ.get("REQUEST_METHOD"), environ.get("REQUEST_URI"))
    with _lock:
        with open(path, "a") as f:
            f.write(line)


def _json(start_response, obj, headers=()):
    body = json.dumps(obj, sort_keys=True).encode()
    start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))] + list(headers))
    return [body]


def _gen(n, pad=0):
    """n pieces; the first one padded with pad dots (a first piece larger than the server
    holds makes it stream at once, whatever the timing)."""
    for i in range(n):
        yield b"chunk-%d;" % i + (b"." * pad if i == 0 else b"")
        yield b""  # an empty piece must not end the chunked body early


def application(environ, start_response):
    _record(environ)
    path = environ["PATH_INFO"]
    q = {k: v[0] for k, v in parse_qs(environ.get("QUERY_STRING", "")).items()}

    if path == "/env":
        body = environ["wsgi.input"].read()
        env = {k: v for k, v in environ.items() if isinstance(v, str)}
        env["body"] = body.decode("latin-1")
        env["body_len"] = len(body)
        return _json(start_response, env)

    if path == "/echo":
        body = environ["wsgi.input"].read()
        start_response("200 OK", [("Content-Type", "application/octet-stream")])
        head = ("%s %s|" % (environ["REQUEST_METHOD"], environ["REQUEST_URI"])).encode("latin-1")
        return [head, body]

    if path == "/gen":
        start_response("200 OK", [("Content-Type", "text/plain")])
        return _gen(int(q.get("n", "3")), int(q.get("pad", "0")))

    if path == "/list":
        start_response("200 OK", [("Content-Type", "text/plain")])
        n = int(q.get("n", "3"))
        size = int(q.get("size", "0"))
        return [(b"part-%d;" % i) + b"p" * size for i in range(n)]

    if path == "/withcl":
        body = b"exactly 25 bytes of body\n"
        start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
        return [body]

    if path == "/big":
        n = int(q.get("n", str(8 << 20)))
        start_response("200 OK", [("Content-Type", "application/octet-stream")])
        return [b"b" * n]

    if path == "/genbig":
        # A large streamed body: n bytes in pieces of 64 KiB.
        n = int(q.get("n", str(8 << 20)))
        start_response("200 OK", [("Content-Type", "application/octet-stream")])
        piece = b"g" * 65536

        def pieces():
            left = n
            while left > 0:
                yield piece[:left]
                left -= len(piece)

        return pieces()

    if path == "/file":
        start_response("200 OK", [("Content-Type", "application/octet-stream")])
        return environ["wsgi.file_wrapper"](open(q["path"], "rb"))

    if path == "/slowgen":
        # A streamed body with a pause in the middle, spent in Python.
        pause = float(q.get("pause", "1"))
        start_response("200 OK", [("Content-Type", "text/plain")])

        def slow():
            yield b"before;"
            time.sleep(pause)
            yield b"after;"

        return slow()

    if path == "/sleep":
        start = time.monotonic()
        time.sleep(float(q.get("secs", "0.5")))
        return _json(start_response, {"start": start, "end": time.monotonic(), "id": q.get("id", "")})

    if path == "/hold":
        # Waits until the file q["gate"] exists (or q["max"] seconds pass): a request that
        # stays in Python exactly as long as the test wants.
        start = time.monotonic()
        deadline = start + float(q.get("max", "10"))
        gated = False
        while time.monotonic() < deadline:
            if os.path.exists(q["gate"]):
                gated = True
                break
            time.sleep(0.02)
        return _json(start_response, {"start": start, "end": time.monotonic(), "gated": gated})

    if path == "/hop":
        # An app that sends hop-by-hop headers it should not (PEP 3333 forbids them).
        mode = q.get("mode", "list")
        headers = [
            ("Content-Type", "text/plain"),
            ("Connection", "keep-alive"),
            ("Transfer-Encoding", "chunked"),
            ("Keep-Alive", "timeout=99"),
        ]
        if mode == "cl":
            headers.append(("Content-Length", "11"))
        start_response("200 OK", headers)
        if mode == "gen":
            return _gen(3, int(q.get("pad", "0")))
        return [b"hop-", b"by-hop"] if mode == "list" else [b"hop-by-hop\n"]

    if path == "/status":
        # A status that has no body (204, 304, ...), with a body the app sends anyway.
        code = q.get("code", "204")
        start_response(code + " Whatever", [("Content-Type", "text/plain")])
        if q.get("mode") == "gen":
            return _gen(2)
        return [b"this body must not be sent"]

    if path == "/cl":
        # An app whose Content-Length does not match its body.
        actual = b"a" * int(q.get("actual", "10"))
        start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", q.get("declared", "10"))])
        if q.get("mode") == "gen":
            return iter([actual[:5], actual[5:]])
        return [actual]

    if path == "/appclose":
        start_response("200 OK", [("Content-Type", "text/plain"), ("Connection", "close")])
        return [b"app asked to close"]

    start_response("404 Not Found", [("Content-Type", "text/plain")])
    return [b"no route " + path.encode("latin-1") + b"\n"]
