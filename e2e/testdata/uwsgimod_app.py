"""The uwsgi module under test (e2e/uwsgimod_*_test.go).

Routes:
  POST /exec      runs the Python code in the body; the code leaves its answer in `out`.
                  The reply is JSON: pid, wid (worker id), repr(out), out itself when JSON
                  can carry it, and the exception ("Type: message") the code raised. With
                  the header X-Want-Worker: N, a worker other than N answers 409 without
                  running anything, so a test can address one worker.
  GET /hold       lock(lock), say so (a first streamed line with pid and wid), wait secs
                  or until the file `until` exists, note the time, unlock, say when
                  ({"released": time}): a lock held by a known process until the test
                  says.
  GET /harakiri   set_user_harakiri(secs), then sleep `sleep` seconds.
  GET /wait       signal_wait(num) then signal_received().

The code /exec runs sees uwsgi, os, time, threading, environ, and num(key, cache): a
cache_inc'ed number.

With --pypy-eval "UMOD_SIGNALS='DIR'" the app registers, in every worker at load, the
uWSGI signals of the signal tests; every handler counts its runs in the cache "sig"
under "s<num>-w<worker id>" (and "s<num>" for all workers together).
"""

import json
import os
import threading
import time
import traceback

import __main__
import uwsgi


def num(key, cache):
    """A cache_inc'ed number, whatever byte order it is stored in (the smaller reading is
    the right one for the small numbers of the tests); None when absent."""
    v = uwsgi.cache_get(key, cache)
    if v is None:
        return None
    return min(int.from_bytes(v, "little", signed=True), int.from_bytes(v, "big", signed=True), key=abs)


def _count(signum):
    uwsgi.cache_inc("s%d-w%d" % (signum, uwsgi.worker_id()), 1, 0, "sig")
    uwsgi.cache_inc("s%d" % signum, 1, 0, "sig")


SIGNAL_DIR = getattr(__main__, "UMOD_SIGNALS", None)
if SIGNAL_DIR is not None:
    # 10 every worker, 11 one worker, 12 worker 2 only, 13 a timer, 14 an rb timer
    # (3 runs), 15 a file monitor, 17 the reliability count, 18 for signal_wait.
    for signum, target in ((10, "workers"), (11, "worker"), (12, "worker2"), (13, "worker"),
                        (14, "worker"), (15, "worker"), (17, "worker"), (18, "workers")):
        uwsgi.register_signal(signum, target, _count)
    uwsgi.add_timer(13, 1)
    uwsgi.add_rb_timer(14, 1, 3)
    uwsgi.add_file_monitor(15, os.path.join(SIGNAL_DIR, "watched"))


def _jsonable(value):
    try:
        json.dumps(value)
        return value
    except (TypeError, ValueError):
        return None


def _reply(start_response, status, doc):
    body = json.dumps(doc).encode()
    start_response(status, [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
    return [body]


def _exec(environ, start_response):
    want = environ.get("HTTP_X_WANT_WORKER")
    me = {"pid": os.getpid(), "wid": uwsgi.worker_id(), "tid": threading.get_ident()}
    if want and int(want) != uwsgi.worker_id():
        return _reply(start_response, "409 Conflict", me)
    n = int(environ.get("CONTENT_LENGTH") or 0)
    code = environ["wsgi.input"].read(n).decode()
    scope = {"uwsgi": uwsgi, "os": os, "time": time, "threading": threading, "environ": environ,
             "num": num, "out": None}
    doc = dict(me, error=None)
    try:
        exec(compile(code, "<exec>", "exec"), scope)
    except BaseException as e:
        doc["error"] = "%s: %s" % (type(e).__name__, e)
        doc["traceback"] = traceback.format_exc()
    out = scope.get("out")
    doc["repr"] = repr(out)
    doc["out"] = _jsonable(out)
    return _reply(start_response, "200 OK", doc)


def _query(environ):
    q = {}
    for part in environ.get("QUERY_STRING", "").split("&"):
        k, _, v = part.partition("=")
        if k:
            q[k] = v
    return q


def _hold(environ, start_response):
    q = _query(environ)
    num, secs, until = int(q.get("lock", 0)), float(q.get("secs", 60)), q.get("until")
    uwsgi.lock(num)
    start_response("200 OK", [("Content-Type", "text/plain")])
    yield (json.dumps({"pid": os.getpid(), "wid": uwsgi.worker_id()}) + "\n").encode()
    deadline = time.time() + secs
    while time.time() < deadline and not (until and os.path.exists(until)):
        time.sleep(0.01)
    released = time.time()
    uwsgi.unlock(num)
    yield (json.dumps({"released": released}) + "\n").encode()


def _harakiri(environ, start_response):
    q = _query(environ)
    uwsgi.set_user_harakiri(int(q.get("secs", 2)))
    start_response("200 OK", [("Content-Type", "text/plain")])
    yield (json.dumps({"pid": os.getpid(), "wid": uwsgi.worker_id()}) + "\n").encode()
    time.sleep(float(q.get("sleep", 10)))
    yield b"survived\n"


def _wait(environ, start_response):
    q = _query(environ)
    start_response("200 OK", [("Content-Type", "text/plain")])
    yield (json.dumps({"pid": os.getpid(), "wid": uwsgi.worker_id()}) + "\n").encode()
    uwsgi.signal_wait(int(q.get("num", 18)))
    yield (json.dumps({"received": uwsgi.signal_received()}) + "\n").encode()


_routes = {"/exec": _exec, "/hold": _hold, "/harakiri": _harakiri, "/wait": _wait}


def application(environ, start_response):
    route = _routes.get(environ["PATH_INFO"])
    if route is None:
        start_response("404 Not Found", [("Content-Type", "text/plain")])
        return [b"no such route\n"]
    return route(environ, start_response)
