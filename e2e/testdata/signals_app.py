"""Registers Python signal handlers at load, as apps and libraries do."""

import os
import signal

GOT = []
signal.signal(signal.SIGUSR1, lambda signum, frame: GOT.append(signum))
PREVIOUS_TERM = signal.signal(signal.SIGTERM, lambda signum, frame: GOT.append(signum))


def application(environ, start_response):
    body = repr(sorted(GOT)).encode()
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
    return [body]
