"""Benchmark app: a 1 MiB response (16,384 lines of 64 bytes, built once at import), as a
list of one bytes object: the server's cost of moving bytes."""

LINE = b"%063d\n"
BODY = b"".join(LINE % i for i in range(16384))
HEADERS = [("Content-Type", "application/octet-stream"), ("Content-Length", str(len(BODY)))]


def application(environ, start_response):
    start_response("200 OK", HEADERS)
    return [BODY]
