"""Benchmark app: reads the whole request body (wrk sends 16 KiB) and answers its length."""


def application(environ, start_response):
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    stream = environ["wsgi.input"]
    n = 0
    while n < length:
        chunk = stream.read(min(65536, length - n))
        if not chunk:
            break
        n += len(chunk)
    body = b"%d\n" % n
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
    return [body]
