"""Benchmark app: hello world's body sent through the write() callable that
start_response returns (the WSGI 1.0 imperative API), in two calls; the iterable is
empty."""

HEADERS = [("Content-Type", "text/plain"), ("Content-Length", "14")]


def application(environ, start_response):
    write = start_response("200 OK", HEADERS)
    write(b"Hello, ")
    write(b"World!\n")
    return []
