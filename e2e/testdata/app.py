"""A WSGI app with one route per behaviour the end-to-end tests check."""

import json
import os
import sys
import threading
import time

CLOSED = []  # paths whose iterable's close() ran


def _json(start_response, obj, status="200 OK"):
    body = json.dumps(obj, sort_keys=True).encode()
    start_response(status, [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
    return [body]


class Tracked(object):
    """An iterable that records its close()."""

    def __init__(self, path, chunks, fail_at=None):
        self.path, self.chunks, self.fail_at = path, chunks, fail_at

    def __iter__(self):
        for i, c in enumerate(self.chunks):
            if i == self.fail_at:
                raise RuntimeError("failing mid-stream on purpose")
            yield c

    def close(self):
        CLOSED.append(self.path)


def application(environ, start_response):
    path = environ["PATH_INFO"]
    if path == "/environ":
        env = {k: v for k, v in environ.items() if isinstance(v, str)}
        env["wsgi.version"] = list(environ["wsgi.version"])
        for k in ("wsgi.multithread", "wsgi.multiprocess", "wsgi.run_once", "wsgi.input_terminated"):
            env[k] = environ.get(k)
        env["thread"] = threading.current_thread().name
        env["pid"] = os.getpid()
        return _json(start_response, env)
    if path == "/echo":
        body = environ["wsgi.input"].read()
        start_response("200 OK", [("Content-Type", "application/octet-stream")])
        return [body]
    if path == "/sleep":
        time.sleep(float(environ.get("QUERY_STRING") or "0.5"))
        return _json(start_response, {"slept": True, "thread": threading.get_ident()})
    if path == "/stream":
        start_response("200 OK", [("Content-Type", "text/plain")])
        return Tracked(path, [b"one\n", b"two\n", b"three\n"])
    if path == "/closed":
        return _json(start_response, CLOSED)
    if path == "/raise":
        raise RuntimeError("raised on purpose")
    if path == "/str":
        start_response("200 OK", [("Content-Type", "text/plain")])
        return ["a str, not bytes"]
    if path == "/badheader":
        start_response("200 OK", [("X-Bad", "line\r\nInjected: yes")])
        return [b"never sent"]
    if path == "/pid":
        return _json(start_response, {"pid": os.getpid()})
    start_response("404 Not Found", [("Content-Type", "text/plain")])
    return [b"no route " + path.encode("latin-1") + b"\n"]
