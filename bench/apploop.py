"""The app's own cost, for the benchmark harness: calls a WSGI app in a plain loop, with no
server, and prints one JSON line.

    python apploop.py APP_FILE PATH WARM_SECONDS MEASURE_SECONDS [BODY_BYTES [BODY_OUT]]

Every call gets an environ with the keys a server gives for wrk's request (a POST of
BODY_BYTES when that is > 0), consumes the body the app returns and calls its close(),
as a server must. It loops for WARM_SECONDS (the JIT's warm-up), then for MEASURE_SECONDS,
and reports the CPU time (user + system, of the whole process) per call of the second
part, comparable with the server's CPU per request. The first response (status,
Content-Type, body's length and SHA-256) is printed too, so that the harness checks it as
it checks the servers'; BODY_OUT, when given, receives that body."""

import hashlib
import importlib.util
import io
import json
import os
import sys
import time


def load(path):
    sys.path.insert(0, os.path.dirname(os.path.abspath(path)))
    spec = importlib.util.spec_from_file_location("benchapp", path)
    mod = importlib.util.module_from_spec(spec)
    sys.modules["benchapp"] = mod
    spec.loader.exec_module(mod)
    return mod.application


def main():
    app_file, path, warm, measure = sys.argv[1], sys.argv[2], float(sys.argv[3]), float(sys.argv[4])
    body_bytes = int(sys.argv[5]) if len(sys.argv) > 5 else 0
    body_out = sys.argv[6] if len(sys.argv) > 6 else ""
    app = load(app_file)
    request_body = b"x" * body_bytes
    base = {
        "REQUEST_METHOD": "POST" if body_bytes else "GET",
        "SCRIPT_NAME": "",
        "PATH_INFO": path,
        "QUERY_STRING": "",
        "REQUEST_URI": path,
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "8080",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "REMOTE_PORT": "40000",
        "HTTP_HOST": "127.0.0.1:8080",
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": "http",
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": False,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
    }
    if body_bytes:
        base["CONTENT_TYPE"] = "application/octet-stream"
        base["CONTENT_LENGTH"] = str(body_bytes)

    response = {}

    def start_response(status, headers, exc_info=None):
        response["status"] = status
        response["headers"] = headers
        return response["chunks"].append

    def call():
        environ = dict(base)
        environ["wsgi.input"] = io.BytesIO(request_body)
        response["chunks"] = chunks = []
        result = app(environ, start_response)
        try:
            for chunk in result:
                chunks.append(chunk)
        finally:
            close = getattr(result, "close", None)
            if close is not None:
                close()
        return chunks

    body = b"".join(call())
    ctype = ""
    for k, v in response["headers"]:
        if k.lower() == "content-type":
            ctype = v
    if body_out:
        with open(body_out, "wb") as f:
            f.write(body)

    def loop(seconds):
        calls = 0
        end = time.monotonic() + seconds
        cpu = time.process_time()
        while time.monotonic() < end:
            for _ in range(50):
                call()
            calls += 50
        return calls, time.process_time() - cpu

    loop(warm)
    calls, cpu = loop(measure)
    print(json.dumps({
        "status": response["status"],
        "content_type": ctype,
        "body_len": len(body),
        "body_sha256": hashlib.sha256(body).hexdigest(),
        "body_start": body[:200].decode("latin-1"),
        "calls": calls,
        "us_per_call": cpu / calls * 1e6,
        "python": sys.version.split()[0],
        "implementation": sys.implementation.name,
    }))


main()
