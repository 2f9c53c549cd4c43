"""The app of the start-up tests (startup_test.go): GET anything returns, as JSON, what
the process looked like when the app ran: the order of the start-up steps, whether a custom
setup module ran, stdin, sys.path, the environment's C compiler and the uwsgi module."""

import json
import os
import shutil
import sys

import uwsgi

# Start-up steps (--pypy-eval, --pypy-exec, their post-fork forms) append to this list;
# importing the app appends "app" and the post-fork hook appends "hook".
uwsgi.__dict__.setdefault("startup_order", []).append("app")


def _post_fork_hook():
    uwsgi.startup_order.append("hook")


uwsgi.post_fork_hook = _post_fork_hook


def _str(v):
    return v.decode("latin-1") if isinstance(v, bytes) else v


def application(environ, start_response):
    try:
        stdin = os.readlink("/proc/self/fd/0")
    except OSError as e:
        stdin = "error: %s" % e
    info = {
        "app": "startup_app",
        "file": os.path.abspath(__file__),
        "module": __name__,
        "order": list(uwsgi.startup_order),
        "custom_setup": getattr(uwsgi, "custom_setup", None),
        "stdin": stdin,
        "sys_path": [os.path.abspath(p) if p else p for p in sys.path],
        "cwd": os.getcwd(),
        "cc": shutil.which("cc") or shutil.which("gcc"),
        "multithread": environ["wsgi.multithread"],
        "version": _str(uwsgi.version),
        "startup_sock": getattr(uwsgi, "startup_sock", None),
        "path_info": environ["PATH_INFO"],
    }
    body = json.dumps(info, sort_keys=True).encode()
    start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
    return [body]
