"""The soak app (bench/soak): the shapes of a real site, so that a leak in any path of the
server shows: a page built per request, a POST body read, a streamed response (a
generator, which the server streams), a large list response, and a 404."""

import json


def _page():
    rows = ["<tr><td>%d</td><td>item-%d</td></tr>" % (i, i) for i in range(100)]
    data = {"key%02d" % i: {"id": i, "ok": i % 2 == 0} for i in range(50)}
    return ("<table>" + "".join(rows) + "</table>" + json.dumps(data)).encode()


def _stream(n):
    for i in range(n):
        yield b"%06d" % i + b"s" * 16378


def application(environ, start_response):
    path = environ["PATH_INFO"]
    if path == "/page":
        body = _page()
    elif path == "/post":
        body = b"%d" % len(environ["wsgi.input"].read())
    elif path == "/stream":
        start_response("200 OK", [("Content-Type", "application/octet-stream")])
        return _stream(64)
    elif path == "/big":
        body = b"b" * (1 << 20)
    else:
        start_response("404 Not Found", [("Content-Type", "text/plain")])
        return [b"not found\n"]
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
    return [body]
