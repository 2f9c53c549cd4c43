"""An app wrapped in wsgiref.validate.validator, with warnings turned into errors.

Any PEP 3333 violation the validator sees on the server's side (environ, wsgi.input,
wsgi.errors, start_response, write, the iterator's close) becomes an AssertionError or a
WSGIWarning exception, which ends up in the server's log: e2e/wsgi_test.go checks that
none does.
"""

import gc
import hashlib
import io
import json
import sys
import warnings
from wsgiref.validate import validator

warnings.simplefilter("error")

TEXT = [("Content-Type", "text/plain; charset=utf-8")]


def _json(start_response, obj):
    body = json.dumps(obj, sort_keys=True).encode("ascii")
    start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
    return [body]


def inner(environ, start_response):
    path = environ["PATH_INFO"]
    inp = environ["wsgi.input"]
    if path == "/hello":
        start_response("200 OK", TEXT + [("X-Method", environ["REQUEST_METHOD"])])
        return [b"hello, ", b"validated world\n"]
    if path == "/query":
        return _json(start_response, {"query": environ["QUERY_STRING"], "path": environ["PATH_INFO"]})
    if path == "/digest":
        # The validator's input wrapper insists on read(n).
        h = hashlib.sha256()
        n = 0
        for _ in range(10 ** 6):
            b = inp.read(65536)
            if not b:
                break
            h.update(b)
            n += len(b)
        return _json(start_response, {"sha256": h.hexdigest(), "len": n, "content_length": environ.get("CONTENT_LENGTH")})
    if path == "/lines":
        lines = [l.decode("latin-1") for l in inp]
        return _json(start_response, {"lines": lines, "rest": [l.decode("latin-1") for l in inp.readlines()]})
    if path == "/generator":
        start_response("200 OK", TEXT)

        def gen():
            yield b"gen-one\n"
            yield b""
            yield b"gen-two\n"

        return gen()
    if path == "/write":
        write = start_response("200 OK", TEXT)
        write(b"written,")
        return [b"returned\n"]
    if path == "/file":
        start_response("200 OK", [("Content-Type", "application/octet-stream")])
        return environ["wsgi.file_wrapper"](io.BytesIO(b"file-wrapped bytes\n" * 1000), 4096)
    if path == "/errors":
        environ["wsgi.errors"].write("validated wsgi.errors line\n")
        environ["wsgi.errors"].writelines(["validated ", "writelines\n"])
        environ["wsgi.errors"].flush()
        start_response("200 OK", TEXT)
        return [b"ok\n"]
    if path == "/replace":
        start_response("200 OK", TEXT)
        try:
            raise ValueError("validated replace")
        except ValueError:
            start_response("500 Internal Server Error", TEXT + [("X-Replaced", "1")], sys.exc_info())
        return [b"replaced\n"]
    if path == "/no-content":
        start_response("204 No Content", [])
        return []
    if path == "/raise":
        raise RuntimeError("validator-raise-marker")
    if path == "/raise-mid":
        start_response("200 OK", TEXT)

        def failing():
            yield b"before the failure\n" * 4000  # more than the server holds: sent at once
            raise RuntimeError("validator-raise-mid-marker")

        return failing()
    if path == "/gc":
        for _ in range(3):
            gc.collect()
        start_response("200 OK", TEXT)
        return [b"collected\n"]
    start_response("404 Not Found", TEXT)
    return [b"no route\n"]


application = validator(inner)
