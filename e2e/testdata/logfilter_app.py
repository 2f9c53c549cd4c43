"""Answers /status/NNN with that status, /slow after 0.3 s, /big with 100,000 bytes."""
import time


def application(environ, start_response):
    path = environ["PATH_INFO"]
    body = b"ok\n"
    status = "200 OK"
    if path.startswith("/status/"):
        status = path[len("/status/"):] + " Whatever"
    elif path == "/slow":
        time.sleep(0.3)
    elif path == "/big":
        body = b"b" * 100000
    start_response(status, [("Content-Type", "text/plain")])
    return [body]
