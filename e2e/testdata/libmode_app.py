"""Served in library mode: says which process and interpreter run it, waits on an event
another request sets (two Python threads at once), and keeps a signal handler."""

import json
import os
import signal
import sys
import threading

import uwsgi

GOT = []
signal.signal(signal.SIGUSR1, lambda signum, frame: GOT.append(signum))
_event = threading.Event()


def application(environ, start_response):
    path = environ["PATH_INFO"]
    if path == "/wait":
        sys.stderr.write("libmode_app: waiting\n")
        sys.stderr.flush()
        data = {"waited": _event.wait(30)}
    elif path == "/set":
        _event.set()
        data = {"set": True}
    else:
        data = {
            "pid": os.getpid(),
            "worker": uwsgi.worker_id(),
            "implementation": sys.implementation.name,
            "argv0": sys.argv[0],
            "signals": GOT,
        }
    body = json.dumps(data).encode()
    start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
    return [body]
