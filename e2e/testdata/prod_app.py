"""The app of the production tests (prod_*_test.go): systemd, logs, health, proxies."""

import json
import logging
import os
import sys
import time

import uwsgi


def _json(start_response, obj):
    body = json.dumps(obj, sort_keys=True).encode()
    start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
    return [body]


def application(environ, start_response):
    path = environ["PATH_INFO"]
    query = environ.get("QUERY_STRING", "")
    if path == "/env":
        seen = {k: os.environ.get(k) for k in ("NOTIFY_SOCKET", "LISTEN_PID", "LISTEN_FDS", "LISTEN_FDNAMES")}
        seen["REMOTE_ADDR"] = environ["REMOTE_ADDR"]
        seen["url_scheme"] = environ["wsgi.url_scheme"]
        for k in ("HTTP_X_FORWARDED_FOR", "HTTP_X_FORWARDED_PROTO"):
            seen[k] = environ.get(k)
        seen["pid"] = os.getpid()
        seen["worker_id"] = uwsgi.worker_id()
        return _json(start_response, seen)
    if path == "/print":
        print("printed", query)
        sys.stdout.write("partial ")
        sys.stdout.write("line " + query + "\n")
        sys.stderr.write("to stderr " + query + "\nsecond line " + query + "\n")
        logging.getLogger("prodapp").warning("logged %s", query)
        return _json(start_response, {"printed": query})
    if path == "/logvar":
        for pair in query.split("&"):
            k, _, v = pair.partition("=")
            uwsgi.set_logvar(k, v)
        got = {}
        for name in [pair.partition("=")[0] for pair in query.split("&")] + ["never_set"]:
            value = uwsgi.get_logvar(name)
            got[name] = value if value is None else value.decode()
        return _json(start_response, got)
    if path == "/wait":
        # Says it started (QUERY.started), then blocks until the test creates the file
        # named by the query (at most 30 s).
        open(query + ".started", "w").close()
        deadline = time.time() + 30
        while not os.path.exists(query) and time.time() < deadline:
            time.sleep(0.02)
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"waited\n"]
    body = ("from python: " + path + "\n").encode()
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
    return [body]


logging.basicConfig(format="%(levelname)s %(name)s: %(message)s")
