"""The app of the reliability end-to-end tests (e2e/rel_*_test.go)."""

import os
import sys
import time


def application(environ, start_response):
    path = environ["PATH_INFO"]
    if path == "/sleep":
        print("rel_app sleeping %s" % environ["QUERY_STRING"], flush=True)
        time.sleep(float(environ.get("QUERY_STRING") or "1"))
    if path == "/hold":
        # Held until the file the query names exists: a request as long as the test needs.
        print("rel_app holding", flush=True)
        deadline = time.time() + 120
        while not os.path.exists(environ["QUERY_STRING"]) and time.time() < deadline:
            time.sleep(0.01)
    if path == "/stream":
        n = int(environ.get("QUERY_STRING") or "1048576")
        start_response("200 OK", [("Content-Type", "text/plain")])
        return (b"s" * 65536 for _ in range(n // 65536))
    if path == "/argv":
        body = "\n".join(sys.argv).encode()
    elif path == "/big":
        body = b"x" * int(environ.get("QUERY_STRING") or "1048576")
    else:
        body = environ["wsgi.input"].read()
        body = b"%d %s %d" % (os.getpid(), path.encode("latin-1"), len(body))
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
    return [body]
