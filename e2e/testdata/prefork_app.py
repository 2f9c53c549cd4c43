"""The app of the pre-fork tests (e2e/prefork_*_test.go).

The tests' --pypy-eval sets builtins.PREFORK_DIR, a directory where this app notes what
ran in which process, a line each: "imports" (every import of the app), "hooks"
(uwsgi.post_fork_hook), "signals" (the uWSGI signals its handlers ran) and "unix-signals"
(SIGUSR1, whose handler signal.signal() set at import). The reload
tests copy this file and change VERSION.

At import it also uses the uwsgi module as apps do: it registers a uWSGI signal, a timer
and an RPC function, sets a cache item (the tests give --cache2 name=default), and notes
what asking the cache raises before the fork.

Routes: /pid answers the worker's pid as text (what the master tests' load asks), /spawn
starts a short subprocess it never waits for and answers its pid,
/missing 404, /signal raises uWSGI signal 17 first, /api also reads the cache and calls the
RPC function; every path but /pid and /missing answers JSON about the process serving it.
"""

import builtins
import json
import os
import signal
import subprocess

import uwsgi

VERSION = "v1"
DIR = builtins.PREFORK_DIR
AT_IMPORT = {"pid": os.getpid(), "worker_id": uwsgi.worker_id(), "masterpid": uwsgi.masterpid()}
SERVED = [0]  # requests this image ran: a forked worker starts with the warm-up's


def note(name, text):
    with open(os.path.join(DIR, name), "a") as f:
        f.write(text + "\n")


note("imports", str(os.getpid()))
uwsgi.post_fork_hook = lambda: note("hooks", "%d %d" % (os.getpid(), uwsgi.worker_id()))


def on_signal(num):
    note("signals", "%d %d %d" % (num, os.getpid(), uwsgi.worker_id()))


signal.signal(signal.SIGUSR1, lambda num, frame: note("unix-signals", "%d %d" % (num, os.getpid())))
uwsgi.register_signal(17, "workers", on_signal)
uwsgi.register_signal(18, "worker", on_signal)
uwsgi.add_timer(18, 1)
uwsgi.register_rpc("whoami", lambda: str(os.getpid()).encode())
uwsgi.cache_set("greeting", b"set at import")
try:
    uwsgi.cache_get("greeting")
    AT_IMPORT["cache_get"] = "worked"
except Exception as e:
    AT_IMPORT["cache_get"] = "%s: %s" % (type(e).__name__, e)


def application(environ, start_response):
    SERVED[0] += 1
    if environ["PATH_INFO"] == "/pid":
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [str(os.getpid()).encode()]
    if environ["PATH_INFO"] == "/spawn":
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [str(subprocess.Popen(["sleep", "0.3"]).pid).encode()]
    if environ["PATH_INFO"] == "/missing":
        start_response("404 Not Found", [("Content-Type", "text/plain")])
        return [b"no such page"]
    if environ["PATH_INFO"] == "/signal":
        uwsgi.signal(17)
    facts = {
        "pid": os.getpid(),
        "ppid": os.getppid(),
        "version": VERSION,
        "at_import": AT_IMPORT,
        "served": SERVED[0],
        "worker_id": uwsgi.worker_id(),
        "masterpid": uwsgi.masterpid(),
    }
    if environ["PATH_INFO"] == "/api":
        facts["cache"] = (uwsgi.cache_get("greeting") or b"").decode()
        facts["rpc"] = uwsgi.rpc(None, "whoami").decode()
    body = json.dumps(facts).encode()
    start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
    return [body]
