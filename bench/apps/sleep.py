"""Benchmark app: an I/O-bound endpoint that waits 10 ms (as for a database), then answers.
Servers run it with 8 threads per worker."""

import time

BODY = b"slept 10 ms\n"


def application(environ, start_response):
    time.sleep(0.010)
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(BODY)))])
    return [BODY]
