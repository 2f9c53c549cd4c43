"""A real uWSGI node (CPython plugin + rpc plugin) for the interop tests: it registers
functions that uwsgo calls, and its app calls functions registered in uwsgo.
uWSGI's CPython plugin wants a str name for register_rpc and bytes for rpc()'s node,
name and arguments."""

import json
import os
from urllib.parse import parse_qs

import uwsgi


def cpy_join(*args):
    return b"cpython:" + b"+".join(args)


def cpy_pattern(n):
    return bytes(i % 251 for i in range(int(n)))


uwsgi.register_rpc("cpy_join", cpy_join)
uwsgi.register_rpc("cpy_pattern", cpy_pattern)
# The same as uwsgi_app.py's, for byte-for-byte comparisons of the replies.
uwsgi.register_rpc("upper", lambda *args: b"|".join(a.upper() for a in args))
uwsgi.register_rpc("pattern", cpy_pattern)


def application(environ, start_response):
    q = parse_qs(environ.get("QUERY_STRING", ""))
    node = q["node"][0].encode()
    name = q["name"][0].encode()
    args = [a.encode() for a in q.get("arg", [])]
    value = uwsgi.rpc(node, name, *args)
    body = json.dumps({
        "type": type(value).__name__,
        "text": value.decode("latin-1") if isinstance(value, bytes) else None,
        "pid": os.getpid(),
    }).encode()
    start_response("200 OK", [("Content-Type", "application/json")])
    return [body]
