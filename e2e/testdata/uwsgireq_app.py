"""The request-level functions of the uwsgi module under test (e2e/uwsgireq_*_test.go).

Routes (query strings are URL-encoded key=value pairs):
  /ws/echo      websocket_handshake(proto=?proto), send "open", then echo every message
                until websocket_recv() fails: a message starting with b"bin:" goes back
                with websocket_send_binary, any other with websocket_send. The outcome
                ("ioerror: ..." or "other: ...") is written to the file ?rec.
  /ws/nb        websocket_handshake; websocket_recv_nb() at once, its repr sent back
                ("nb-first:b''"); then websocket_recv_nb() polled (10 s at most) until a
                message comes: "nb-got:<message>"; then the outcome of a last blocking
                websocket_recv() goes to ?rec.
  /sendfile     start_response, then uwsgi.sendfile(?path) given as ?mode: path, obj (an
                open file object) or fd (a descriptor); returns [].
  /chunked      chunked_read() (?nb=1: chunked_read_nb()) until b"": JSON pieces, len, sha256.
  /disconnect   uwsgi.disconnect() (?write=1: after start_response and a write() of
                b"partial"), then writes "after" to ?rec and returns a body nobody gets.
  /fd           connection_fd(): JSON fd, is_sock (fstat), peer (getpeername of a dup).
  /rid          JSON pid, id (request_id()).
  /pid          JSON pid.
  /eval         JSON of what the --pypy-eval code left in the environment variable
                UREQ_EVAL (ureqEvalCode in e2e/uwsgireq_test.go).
  /thread/start starts a thread that waits for /thread/go, then calls every request
                function; /thread/go releases it and answers what they raised.
  /late         start_response, then a thread that waits for the file ?go to exist, calls
                the request's write() callable (the request has ended by then) and writes
                what happened to ?rec; the request answers "now".
  /signal/raise registers uWSGI signal 20 (once) and raises it; its handler calls the
                request functions named in ?calls (all by default); /signal/result
                answers what they raised (or 404 until the handler ran).
"""

import hashlib
import json
import os
import socket
import stat
import threading
import time
from urllib.parse import parse_qsl

import uwsgi


def _query(env):
    return dict(parse_qsl(env.get("QUERY_STRING", "")))


def _json(start_response, obj, status="200 OK"):
    body = json.dumps(obj).encode()
    start_response(status, [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
    return [body]


def _record(path, text):
    if not path:
        return
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(text)
    os.rename(tmp, path)


# Every request function, called with plausible arguments, for the "outside a request" tests.
CALLS = [
    ("request_id", lambda: uwsgi.request_id()),
    ("websocket_handshake", lambda: uwsgi.websocket_handshake("dGhlIHNhbXBsZSBub25jZQ==")),
    ("websocket_recv", lambda: uwsgi.websocket_recv()),
    ("websocket_recv_nb", lambda: uwsgi.websocket_recv_nb()),
    ("websocket_send", lambda: uwsgi.websocket_send(b"x")),
    ("websocket_send_binary", lambda: uwsgi.websocket_send_binary(b"x")),
    ("chunked_read", lambda: uwsgi.chunked_read()),
    ("chunked_read_nb", lambda: uwsgi.chunked_read_nb()),
    ("sendfile", lambda: uwsgi.sendfile(__file__)),
    ("disconnect", lambda: uwsgi.disconnect()),
    ("connection_fd", lambda: uwsgi.connection_fd()),
]


def call_all(names=None):
    """name -> "TypeName: message" of what each call raised, or "returned <repr>";
    names (a comma-separated list) chooses the calls."""
    out = {}
    for name, f in CALLS:
        if names and name not in names.split(","):
            continue
        try:
            out[name] = "returned %r" % (f(),)
        except BaseException as e:
            out[name] = "%s: %s" % (type(e).__name__, e)
    return out


# ---------------------------------------------------------------- WebSockets

def ws_echo(env, start_response):
    q = _query(env)
    uwsgi.websocket_handshake(env["HTTP_SEC_WEBSOCKET_KEY"], env.get("HTTP_ORIGIN", ""), q.get("proto") or None)
    uwsgi.websocket_send(b"open")
    outcome = "returned"
    try:
        for _ in range(100000):
            msg = uwsgi.websocket_recv()
            if msg.startswith(b"bin:"):
                uwsgi.websocket_send_binary(msg)
            else:
                uwsgi.websocket_send(msg)
    except IOError as e:
        outcome = "ioerror: %s" % e
    except BaseException as e:
        outcome = "other: %s: %s" % (type(e).__name__, e)
    _record(q.get("rec"), outcome)
    return []


def ws_nb(env, start_response):
    q = _query(env)
    uwsgi.websocket_handshake(env["HTTP_SEC_WEBSOCKET_KEY"])
    first = uwsgi.websocket_recv_nb()
    uwsgi.websocket_send(("nb-first:%r" % (first,)).encode())
    got = b""
    deadline = time.time() + 10
    while not got and time.time() < deadline:
        got = uwsgi.websocket_recv_nb()
        if not got:
            time.sleep(0.005)
    uwsgi.websocket_send(b"nb-got:" + got)
    try:
        uwsgi.websocket_recv()
        outcome = "returned"
    except IOError as e:
        outcome = "ioerror: %s" % e
    _record(q.get("rec"), outcome)
    return []


# ---------------------------------------------------------------- the rest

def sendfile(env, start_response):
    q = _query(env)
    path, mode = q["path"], q.get("mode", "path")
    start_response("200 OK", [("Content-Type", "application/octet-stream")])
    if mode == "path":
        uwsgi.sendfile(path)
    elif mode == "obj":
        with open(path, "rb") as f:
            uwsgi.sendfile(f)
    elif mode == "fd":
        fd = os.open(path, os.O_RDONLY)
        try:
            uwsgi.sendfile(fd)
        finally:
            os.close(fd)
    return []


def chunked(env, start_response):
    read = uwsgi.chunked_read_nb if _query(env).get("nb") == "1" else uwsgi.chunked_read
    h = hashlib.sha256()
    pieces, total = 0, 0
    for _ in range(1000000):
        piece = read()
        if piece == b"":
            break
        if type(piece) is not bytes:
            return _json(start_response, {"error": "a piece of type %s" % type(piece).__name__}, "500 Bad Piece")
        pieces += 1
        total += len(piece)
        h.update(piece)
    return _json(start_response, {"pieces": pieces, "len": total, "sha256": h.hexdigest()})


def disconnect(env, start_response):
    q = _query(env)
    try:
        if q.get("write") == "1":
            write = start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "100")])
            write(b"partial")
        uwsgi.disconnect()
        _record(q.get("rec"), "after")
    except BaseException as e:
        _record(q.get("rec"), "%s: %s" % (type(e).__name__, e))
        raise
    if q.get("write") != "1":
        start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"nobody reads this\n"]


def connection_fd(env, start_response):
    fd = uwsgi.connection_fd()
    is_sock = stat.S_ISSOCK(os.fstat(fd).st_mode)
    s = socket.fromfd(fd, socket.AF_INET, socket.SOCK_STREAM)
    try:
        peer = s.getpeername()
    finally:
        s.close()
    return _json(start_response, {"fd": fd, "is_int": type(fd) is int, "is_sock": is_sock,
                                  "peer": [peer[0], peer[1]]})


_thread = {}


def thread_start(env, start_response):
    ev = threading.Event()
    result = {}

    def run():
        if ev.wait(10):
            result.update(call_all())

    t = threading.Thread(target=run, daemon=True)
    t.start()
    _thread.update(event=ev, thread=t, result=result)
    return _json(start_response, {"started": True})


def thread_go(env, start_response):
    _thread["event"].set()
    _thread["thread"].join(10)
    return _json(start_response, _thread["result"])


_signal = {"registered": False, "result": None, "calls": None}


def _on_signal(num):
    _signal["result"] = call_all(_signal["calls"])


def signal_raise(env, start_response):
    if not _signal["registered"]:
        uwsgi.register_signal(20, "worker", _on_signal)
        _signal["registered"] = True
    _signal["result"] = None
    _signal["calls"] = _query(env).get("calls")
    uwsgi.signal(20)
    return _json(start_response, {"raised": True})


def signal_result(env, start_response):
    if _signal["result"] is None:
        return _json(start_response, None, "404 Not Yet")
    return _json(start_response, _signal["result"])


def late_write(env, start_response):
    q = _query(env)
    write = start_response("200 OK", [("Content-Type", "text/plain")])

    def run():
        deadline = time.time() + 10
        while not os.path.exists(q["go"]) and time.time() < deadline:
            time.sleep(0.01)
        try:
            write(b"too late\n")
            outcome = "returned"
        except BaseException as e:
            outcome = "%s: %s" % (type(e).__name__, e)
        _record(q["rec"], outcome)

    threading.Thread(target=run, daemon=True).start()
    return [b"now\n"]


def application(env, start_response):
    path = env["PATH_INFO"]
    if path == "/ws/echo":
        return ws_echo(env, start_response)
    if path == "/ws/nb":
        return ws_nb(env, start_response)
    if path == "/sendfile":
        return sendfile(env, start_response)
    if path == "/chunked":
        return chunked(env, start_response)
    if path == "/disconnect":
        return disconnect(env, start_response)
    if path == "/fd":
        return connection_fd(env, start_response)
    if path == "/rid":
        return _json(start_response, {"pid": os.getpid(), "id": uwsgi.request_id()})
    if path == "/pid":
        return _json(start_response, {"pid": os.getpid()})
    if path == "/eval":
        return _json(start_response, json.loads(os.environ.get("UREQ_EVAL", "null")))
    if path == "/thread/start":
        return thread_start(env, start_response)
    if path == "/thread/go":
        return thread_go(env, start_response)
    if path == "/late":
        return late_write(env, start_response)
    if path == "/signal/raise":
        return signal_raise(env, start_response)
    if path == "/signal/result":
        return signal_result(env, start_response)
    start_response("404 Not Found", [("Content-Type", "text/plain")])
    return [b"no route\n"]
