"""The WSGI (PEP 3333) conformance app of e2e/wsgi_test.go: one route per behaviour.

A route is PATH_INFO's first segments (/environ/anything is /environ); parameters come in the query string.
State that a later request reports (close() calls, open files, concurrency) lives in
module globals guarded by one lock.
"""

import hashlib
import io
import json
import os
import sys
import threading
import time
from urllib.parse import parse_qs

LOCK = threading.Lock()
COND = threading.Condition(LOCK)
# Repeats that make a first piece larger than the 64 KiB the server holds back: the piece
# is on the wire before what follows it runs, whatever the timing.
STREAMED = 20000
CLOSED = {}  # token -> {"closed": bool, "produced": int}
FILES = {}  # token -> the file object the app wrapped
EVENTS = {}  # token -> threading.Event a test sets with /release
CONC = {"inflight": 0, "max": 0, "count": 0, "gave_up": False}


def _q(environ):
    return {k: v[0] for k, v in parse_qs(environ.get("QUERY_STRING", ""), keep_blank_values=True).items()}


def _json(start_response, obj, status="200 OK"):
    body = json.dumps(obj, sort_keys=True).encode("ascii")
    start_response(status, [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
    return [body]


def _latin1(parts):
    return [p.decode("latin-1") for p in parts]


def _event(token):
    with LOCK:
        return EVENTS.setdefault(token, threading.Event())


def _state(token):
    with LOCK:
        return CLOSED.setdefault(token, {"closed": False, "produced": 0})


# ------------------------------------------------------------------ environ


def environ_dump(environ, start_response):
    out = {}
    bad = []
    for k, v in environ.items():
        if type(k) is not str:
            bad.append("key %r" % (k,))
            continue
        if "." not in k and type(v) is not str:
            bad.append("value of %s is %s" % (k, type(v).__name__))
        if type(v) is str:
            out[k] = v
    inp, err = environ.get("wsgi.input"), environ.get("wsgi.errors")
    out["_bad"] = bad
    out["_wsgi"] = {
        "version_ok": type(environ.get("wsgi.version")) is tuple and environ.get("wsgi.version") == (1, 0),
        "url_scheme": environ.get("wsgi.url_scheme"),
        "multithread": bool(environ.get("wsgi.multithread")),
        "multiprocess": bool(environ.get("wsgi.multiprocess")),
        "run_once": bool(environ.get("wsgi.run_once")),
        "has_multithread": "wsgi.multithread" in environ,
        "has_multiprocess": "wsgi.multiprocess" in environ,
        "has_run_once": "wsgi.run_once" in environ,
        "file_wrapper": callable(environ.get("wsgi.file_wrapper")),
        "errors_text": all(hasattr(err, a) for a in ("write", "writelines", "flush")) and isinstance(err, io.TextIOBase),
        "input_api": all(hasattr(inp, a) for a in ("read", "readline", "readlines", "__iter__")),
    }
    body = inp.read() if inp is not None else b""
    out["_body"] = body.decode("latin-1")
    return _json(start_response, out)


def errors_write(environ, start_response):
    mark = _q(environ)["mark"]
    err = environ["wsgi.errors"]
    err.write("wsgi.errors says %s\n" % mark)
    err.writelines(["writelines ", mark, "\n"])
    err.flush()
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"written"]


# ------------------------------------------------------------------ wsgi.input


def input_modes(environ, start_response):
    q = _q(environ)
    inp = environ["wsgi.input"]
    mode = q["mode"]
    n = int(q.get("n", "0"))
    parts = []
    after = []
    if mode == "read":
        parts.append(inp.read())
    elif mode == "read-1":
        parts.append(inp.read(-1))
    elif mode == "pieces":
        for _ in range(100000):
            b = inp.read(n)
            if not b:
                break
            parts.append(b)
    elif mode == "readline":
        for _ in range(100000):
            b = inp.readline()
            if not b:
                break
            parts.append(b)
    elif mode == "readline-hint":
        for _ in range(100000):
            b = inp.readline(n)
            if not b:
                break
            parts.append(b)
    elif mode == "readlines":
        parts = inp.readlines()
    elif mode == "iter":
        parts = list(inp)
    elif mode == "mixed":
        parts = [inp.readline(), inp.read(n)] + inp.readlines()
    else:
        raise ValueError("unknown mode %r" % mode)
    # EOF is sticky and nothing blocks past the body.
    after = [inp.read(), inp.read(7), inp.readline(), inp.readline(3)]
    after_lines = inp.readlines()
    return _json(start_response, {"parts": _latin1(parts), "after": _latin1(after), "after_lines": len(after_lines),
                                  "types": sorted(set(type(p).__name__ for p in parts + after))})


def sha_body(environ, start_response):
    """Digests the body read in 64 KiB pieces; says where a spilled body lives."""
    inp = environ["wsgi.input"]
    h = hashlib.sha256()
    total = 0
    for _ in range(10 ** 6):
        b = inp.read(65536)
        if not b:
            break
        h.update(b)
        total += len(b)
    spill = ""
    try:
        spill = os.readlink("/proc/self/fd/%d" % inp.fileno())
    except (AttributeError, OSError, io.UnsupportedOperation, ValueError):
        pass
    return _json(start_response, {"sha256": h.hexdigest(), "len": total, "content_length": environ.get("CONTENT_LENGTH"),
                                  "eof": inp.read() == b"", "spill": spill})


# ------------------------------------------------------------------ wsgi.file_wrapper


class ReadOnly(object):
    """A file-like object with read() only: no fileno, no close."""

    def __init__(self, data):
        self.data = data
        self.pos = 0

    def read(self, n=-1):
        if n < 0:
            n = len(self.data)
        b = self.data[self.pos:self.pos + n]
        self.pos += len(b)
        return b


def file_route(environ, start_response):
    q = _q(environ)
    kind = q.get("kind", "file")
    token = q.get("token", "")
    if kind == "file":
        f = open(q["path"], "rb")
        offset = int(q.get("offset", "0"))
        if offset:
            f.seek(offset)
        size = os.fstat(f.fileno()).st_size - offset
    elif kind == "bytesio":
        with open(q["path"], "rb") as src:
            f = io.BytesIO(src.read())
        size = len(f.getvalue())
    elif kind == "readonly":
        with open(q["path"], "rb") as src:
            f = ReadOnly(src.read())
        size = len(f.data)
    else:
        raise ValueError(kind)
    with LOCK:
        FILES[token] = f
    headers = [("Content-Type", "application/octet-stream"), ("X-Kind", kind)]
    if q.get("cl") == "1":
        headers.append(("Content-Length", str(size)))
    start_response("200 OK", headers)
    if "blksize" in q:
        return environ["wsgi.file_wrapper"](f, int(q["blksize"]))
    return environ["wsgi.file_wrapper"](f)


def file_closed(environ, start_response):
    token = _q(environ)["token"]
    with LOCK:
        f = FILES.get(token)
    return _json(start_response, {"known": f is not None, "closed": bool(f is not None and getattr(f, "closed", False))})


# ------------------------------------------------------------------ start_response


def sr_replace(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain"), ("X-First", "1")])
    try:
        raise ValueError("replace me")
    except ValueError:
        start_response("503 Service Unavailable", [("Content-Type", "text/plain"), ("X-Second", "2")], sys.exc_info())
    return [b"replaced"]


def sr_replace_gen(environ, start_response):
    """Nothing is sent before the first non-empty chunk: the status may still change."""
    start_response("200 OK", [("Content-Type", "text/plain"), ("X-First", "1")])

    def gen():
        yield b""
        try:
            raise ValueError("replace me in the generator")
        except ValueError:
            start_response("502 Bad Gateway", [("Content-Type", "text/plain"), ("X-Second", "2")], sys.exc_info())
        yield b"replaced in generator"

    return gen()


def sr_after_write(environ, start_response):
    mark = _q(environ)["mark"]
    write = start_response("200 OK", [("Content-Type", "text/plain")])
    write(b"already sent\n" * STREAMED)
    try:
        raise ValueError(mark)
    except ValueError:
        start_response("500 Internal Server Error", [("Content-Type", "text/plain")], sys.exc_info())
    return [b"must never be sent\n"]  # start_response re-raised above


def sr_after_yield(environ, start_response):
    mark = _q(environ)["mark"]
    start_response("200 OK", [("Content-Type", "text/plain")])

    def gen():
        yield b"already sent\n" * STREAMED
        try:
            raise ValueError(mark)
        except ValueError:
            start_response("500 Internal Server Error", [("Content-Type", "text/plain")], sys.exc_info())
        yield b"must never be sent\n"

    return gen()


def sr_twice(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    start_response("201 Created", [("Content-Type", "text/plain")])
    return [b"must never be sent"]


def write_route(environ, start_response):
    mode = _q(environ)["mode"]
    headers = [("Content-Type", "text/plain")]
    if mode == "cl":
        headers.append(("Content-Length", str(len(b"one,two,three,four"))))
    write = start_response("200 OK", headers)
    write(b"one,")
    write(b"two,")
    if mode == "empty":
        write(b"three,four")
        return []
    if mode == "gen":
        def gen():
            yield b"three,"
            yield b"four"
        return gen()
    return [b"three,", b"four"]


# ------------------------------------------------------------------ iterables and close()


class Tracked(object):
    """An iterable (not a list, not a generator) that records its close()."""

    def __init__(self, token, chunks, fail_at=None):
        self.state = _state(token)
        self.chunks, self.fail_at = chunks, fail_at

    def __iter__(self):
        for i, c in enumerate(self.chunks):
            if i == self.fail_at:
                raise RuntimeError("tracked iterable fails on purpose at chunk %d" % i)
            self.state["produced"] += 1
            yield c

    def close(self):
        self.state["closed"] = True


class TrackedList(list):
    def close(self):
        self.state["closed"] = True


def iter_route(environ, start_response):
    q = _q(environ)
    token, mode = q["token"], q["mode"]
    start_response("200 OK", [("Content-Type", "text/plain")])
    if mode == "normal":
        return Tracked(token, [b"one\n", b"two\n", b"three\n"])
    if mode == "list":
        lst = TrackedList([b"one\n", b"two\n", b"three\n"])
        lst.state = _state(token)
        return lst
    if mode == "raise":
        return Tracked(token, [b"one\n" * STREAMED, b"two\n", b"three\n"], fail_at=1)
    if mode == "slow":
        state = _state(token)

        def gen():
            try:
                for i in range(400):  # 400 x 50 ms: 20 s if nobody stops it
                    state["produced"] += 1
                    yield ("chunk %d\n" % i).encode()
                    time.sleep(0.05)
            finally:
                state["closed"] = True

        return gen()
    raise ValueError(mode)


def closed_route(environ, start_response):
    token = _q(environ)["token"]
    with LOCK:
        st = dict(CLOSED.get(token, {"closed": False, "produced": 0}))
    return _json(start_response, st)


def gate(environ, start_response):
    """Yields a first chunk, then waits until the test calls /release (or 10 s pass)."""
    ev = _event(_q(environ)["token"])
    start_response("200 OK", [("Content-Type", "text/plain")])

    def gen():
        yield b"first\n"
        released = ev.wait(10)
        yield b"released\n" if released else b"timed out\n"

    return gen()


def release(environ, start_response):
    _event(_q(environ)["token"]).set()
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"released"]


# ------------------------------------------------------------------ errors


BAD_HEADS = {
    "bytes-name": ("200 OK", [(b"X-Bytes", "v")]),
    "int-value": ("200 OK", [("X-Int", 5)]),
    "bytes-value": ("200 OK", [("X-B", b"Injected")]),
    "crlf-value": ("200 OK", [("X-Bad", "v\r\nInjected: yes")]),
    "lf-value": ("200 OK", [("X-Bad", "v\nInjected: yes")]),
    "cr-value": ("200 OK", [("X-Bad", "v\rInjected: yes")]),
    "crlf-name": ("200 OK", [("X-Bad\r\nInjected", "yes")]),
    "space-name": ("200 OK", [("X Injected", "yes")]),
    "colon-name": ("200 OK", [("X-A:Injected", "yes")]),
    "empty-name": ("200 OK", [("", "Injected")]),
    "not-pair": ("200 OK", [("X-Injected",)]),
    "tuple-headers": ("200 OK", (("X-Injected", "yes"),)),
    "status-no-reason": ("200", [("X-Injected", "yes")]),
    "status-words": ("OK 200", [("X-Injected", "yes")]),
    "status-4digit": ("2000 OK", [("X-Injected", "yes")]),
    "status-bytes": (b"200 OK", [("X-Injected", "yes")]),
    "status-crlf": ("200 OK\r\nInjected: yes", [("Content-Type", "text/plain")]),
}


def bad_head(environ, start_response):
    q = _q(environ)
    status, headers = BAD_HEADS[q["case"]]
    write = start_response(status, headers)
    if q.get("via") == "write":
        write(b"Injected body via write")
        return []
    if q.get("via") == "gen":
        def gen():
            yield b"Injected body via generator"
        return gen()
    return [b"Injected body"]


def no_start(environ, start_response):
    case = _q(environ)["case"]
    if case == "list":
        return [b"body without start_response"]
    if case == "empty":
        return []
    if case == "gen":
        def gen():
            yield b"body without start_response"
        return gen()
    raise ValueError(case)


def str_body(environ, start_response):
    case = _q(environ).get("case", "list")
    start_response("200 OK", [("Content-Type", "text/plain")])
    if case == "list":
        return ["a str, not bytes"]
    if case == "gen":
        def gen():
            yield "a str, not bytes"
        return gen()
    if case == "bare":
        return "a bare str"
    raise ValueError(case)


def empty_then_raise(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain"), ("X-Never", "1")])

    def gen():
        yield b""
        raise RuntimeError(_q(environ)["mark"])

    return gen()


def stream_raise(environ, start_response):
    mark = _q(environ)["mark"]
    start_response("200 OK", [("Content-Type", "text/plain")])

    def gen():
        yield b"first chunk\n" * STREAMED
        raise RuntimeError(mark)

    return gen()


# ------------------------------------------------------------------ concurrency


def conc(environ, start_response):
    wait = _q(environ).get("wait") == "1"
    with COND:
        CONC["inflight"] += 1
        CONC["count"] += 1
        CONC["max"] = max(CONC["max"], CONC["inflight"])
        COND.notify_all()
        if wait and not CONC["gave_up"]:
            # Hold this request until some other one was seen in flight with it (once: a
            # server that never runs two at once makes only the first request wait).
            if not COND.wait_for(lambda: CONC["max"] >= 2, timeout=5):
                CONC["gave_up"] = True
    time.sleep(0.05)
    with COND:
        CONC["inflight"] -= 1
    return _json(start_response, {"ok": True})


def conc_stats(environ, start_response):
    with COND:
        return _json(start_response, dict(CONC))


# ------------------------------------------------------------------ dispatch


def ping(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"pong"]


def body_list(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain"), ("X-App", "list")])
    return [b"a body of ", b"several parts\n"]


def body_gen(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain"), ("X-App", "gen")])

    def gen():
        yield b"a generated "
        yield b"body\n"

    return gen()


def raise_route(environ, start_response):
    raise RuntimeError(_q(environ)["mark"])


ROUTES = [
    ("/environ", environ_dump),
    ("/errors", errors_write),
    ("/input", input_modes),
    ("/sha", sha_body),
    ("/file-closed", file_closed),
    ("/file", file_route),
    ("/sr/replace-gen", sr_replace_gen),
    ("/sr/replace", sr_replace),
    ("/sr/after-write", sr_after_write),
    ("/sr/after-yield", sr_after_yield),
    ("/sr/twice", sr_twice),
    ("/write", write_route),
    ("/iter", iter_route),
    ("/closed", closed_route),
    ("/gate", gate),
    ("/release", release),
    ("/badhead", bad_head),
    ("/nostart", no_start),
    ("/str", str_body),
    ("/empty-then-raise", empty_then_raise),
    ("/stream-raise", stream_raise),
    ("/raise", raise_route),
    ("/conc-stats", conc_stats),
    ("/conc", conc),
    ("/ping", ping),
    ("/body-list", body_list),
    ("/body-gen", body_gen),
]


def application(environ, start_response):
    path = environ["PATH_INFO"]
    for prefix, fn in ROUTES:
        if path == prefix or path.startswith(prefix + "/"):
            return fn(environ, start_response)
    start_response("404 Not Found", [("Content-Type", "text/plain")])
    return [b"no route\n"]
