"""The app of the master/worker tests (e2e/master_test.go).

It records the start-up steps it sees, in order, in builtins.MASTER_EVENTS: the tests'
--pypy-eval adds "eval" before the app is imported, the app adds "app", the tests'
--pypy-eval-post-fork adds "post-fork-eval", and uwsgi.post_fork_hook adds "hook".

Routes:
  /         JSON: pid, ppid, uwsgi's process facts, the start-up events, cwd, uid
  /pid      the worker's pid as text (what the load generators ask)
  /sleep?s= sleeps that many seconds (prints "master_app sleeping <path>" first)
  /raise    raises an exception (counted by the stats)
  /print    prints a marker line to stdout and answers "printed"
"""

import builtins
import json
import os
import sys
import time

import uwsgi

if not hasattr(builtins, "MASTER_EVENTS"):
    builtins.MASTER_EVENTS = []
builtins.MASTER_EVENTS.append("app")


def _hook():
    builtins.MASTER_EVENTS.append("hook")


uwsgi.post_fork_hook = _hook


def _answer(start_response, body, status="200 OK", ctype="text/plain"):
    body = body.encode()
    start_response(status, [("Content-Type", ctype), ("Content-Length", str(len(body)))])
    return [body]


def application(environ, start_response):
    path = environ["PATH_INFO"]
    if path == "/pid":
        return _answer(start_response, str(os.getpid()))
    if path == "/sleep":
        qs = dict(p.split("=", 1) for p in environ.get("QUERY_STRING", "").split("&") if "=" in p)
        print("master_app sleeping %s pid %d" % (environ["REQUEST_URI"], os.getpid()), flush=True)
        time.sleep(float(qs.get("s", "1")))
        return _answer(start_response, "slept %d" % os.getpid())
    if path == "/raise":
        raise RuntimeError("master_app raised on purpose")
    if path == "/print":
        print("master_app printed marker-7d1f", flush=True)
        return _answer(start_response, "printed")
    facts = {
        "pid": os.getpid(),
        "ppid": os.getppid(),
        "numproc": uwsgi.numproc,
        "worker_id": uwsgi.worker_id(),
        "masterpid": uwsgi.masterpid(),
        "multiprocess": environ["wsgi.multiprocess"],
        "multithread": environ["wsgi.multithread"],
        "events": list(builtins.MASTER_EVENTS),
        "cwd": os.getcwd(),
        "uid": os.getuid(),
    }
    return _answer(start_response, json.dumps(facts), ctype="application/json")
