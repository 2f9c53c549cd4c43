"""Benchmark app: hello world's body returned by a generator in two chunks, as streaming
code and framework responses return it. The harness compares its server CPU per request
with hello.py's, which returns the same bytes as a list."""

HEADERS = [("Content-Type", "text/plain"), ("Content-Length", "14")]


def body():
    yield b"Hello, "
    yield b"World!\n"


def application(environ, start_response):
    start_response("200 OK", HEADERS)
    return body()
