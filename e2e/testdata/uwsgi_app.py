"""The app of the uwsgi protocol tests (e2e/uwsgi_test.go): a WSGI app for nginx's
uwsgi_pass, and an RPC node that both serves functions and calls other nodes.

Routes:
  /env...      (and anything under SCRIPT_NAME /mnt) environ (its str values) and the sha256 of the body, as JSON
  /stream      a generator response of ?n= chunks, with headers of its own
  /call        POST JSON {"fn": "rpc"|"call"|"list", "node", "name", "args", "bytes"}:
               runs uwsgi.rpc/call/rpc_list and describes the result (or the exception)
  /pids        ?node=&n=: calls "pid" on node up to n times, until two pids are seen
"""

import hashlib
import json
import os

import uwsgi


def _upper(*args):
    return b"|".join(a.upper() for a in args)


def _types(*args):
    # A str result travels as UTF-8 bytes.
    return ",".join(type(a).__name__ for a in args)


def _pattern(n):
    return bytes(i % 251 for i in range(n))


def _boom(*args):
    raise RuntimeError("boom on purpose")


uwsgi.register_rpc("upper", _upper)
uwsgi.register_rpc(b"types", _types)
uwsgi.register_rpc("count", lambda *a: str(len(a)))
uwsgi.register_rpc("sizes", lambda *a: ",".join(str(len(x)) for x in a))
uwsgi.register_rpc("pattern", lambda n: _pattern(int(n)))
uwsgi.register_rpc("nothing", lambda *a: None)
uwsgi.register_rpc("pid", lambda *a: str(os.getpid()).encode())
uwsgi.register_rpc("boom", _boom)


def _json(start_response, obj, status="200 OK"):
    body = json.dumps(obj, sort_keys=True).encode()
    start_response(status, [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
    return [body]


def _describe(value):
    if value is None:
        return {"type": "NoneType"}
    if isinstance(value, tuple):
        return {"type": "tuple", "items": [[type(v).__name__, v.decode("latin-1")] for v in value]}
    out = {"type": type(value).__name__, "len": len(value), "sha256": hashlib.sha256(value).hexdigest()}
    if len(value) <= 4096:
        out["text"] = value.decode("latin-1")
    return out


def _call(req):
    args = req.get("args") or []
    if req.get("bytes"):
        args = [a.encode("utf-8") for a in args]
    if "repeat" in req:
        args = args * req["repeat"]
    name = req.get("name", "")
    if req.get("name_bytes"):
        name = name.encode()
    node = req.get("node")
    if req.get("node_bytes") and node is not None:
        node = node.encode()
    fn = req["fn"]
    try:
        if fn == "rpc":
            value = uwsgi.rpc(node, name, *args)
        elif fn == "call":
            value = uwsgi.call(name, *args)
        else:
            value = uwsgi.rpc_list()
    except Exception as e:
        return {"error": "%s: %s" % (type(e).__name__, e)}
    return _describe(value)


def application(environ, start_response):
    path = environ["PATH_INFO"]
    if path.startswith("/env") or environ["SCRIPT_NAME"] == "/mnt":
        inp = environ["wsgi.input"]
        h = hashlib.sha256()
        n = 0
        while True:
            chunk = inp.read(65536)
            if not chunk:
                break
            h.update(chunk)
            n += len(chunk)
        env = {k: v for k, v in environ.items() if isinstance(v, str)}
        body = json.dumps({"environ": env, "len": n, "sha256": h.hexdigest()}, sort_keys=True).encode()
        start_response("200 OK", [
            ("Content-Type", "application/json"),
            ("X-App", "uwsgi_app"),
            ("Set-Cookie", "a=1; Path=/"),
            ("Set-Cookie", "b=2; Path=/"),
        ])
        return [body]
    if path == "/stream":
        n = int(environ["QUERY_STRING"].partition("n=")[2] or "10")

        def gen():
            for i in range(n):
                yield ("%06d:" % i).encode() + b"s" * 993 + b"\n"

        start_response("200 OK", [("Content-Type", "text/plain"), ("X-Streamed", "yes")])
        return gen()
    if path == "/call":
        req = json.loads(environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0)))
        return _json(start_response, _call(req))
    if path == "/pids":
        q = dict(p.split("=", 1) for p in environ["QUERY_STRING"].split("&"))
        pids = set()
        for _ in range(int(q["n"])):
            pids.add(uwsgi.rpc(q["node"], "pid"))
            if len(pids) >= 2:
                break
        return _json(start_response, {"pids": sorted(p.decode() if p else repr(p) for p in pids)})
    return _json(start_response, {"error": "no route " + path}, "404 Not Found")
