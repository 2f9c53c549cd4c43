# The app served both by uwsgo and by the seed's own uWSGI PyPy plugin: it reports the
# names of its uwsgi module and its WSGI environ, calls RPC functions on other nodes, and
# registers one of its own.
import json
import uwsgi


def seed_join(*args):
    return b"seed:" + b"+".join(args)


# The plugin takes bytes only, and fails at load time (its own module is not found): the
# error is reported at /registered rather than losing the app.
try:
    uwsgi.register_rpc(b"seed_join", seed_join)
    registered = "ok"
except Exception as e:
    registered = "%s: %s" % (type(e).__name__, e)


def _plain(v):
    if isinstance(v, (str, int, float, bool)) or v is None:
        return v
    if isinstance(v, bytes):
        return v.decode("latin-1")
    if isinstance(v, tuple):
        return [_plain(x) for x in v]
    return type(v).__name__


def application(environ, start_response):
    path = environ["PATH_INFO"]
    if path == "/dir":
        out = sorted(n for n in dir(uwsgi) if not n.startswith("__"))
    elif path == "/registered":
        out = registered
    elif path.startswith("/environ"):
        out = {k: _plain(v) for k, v in environ.items()}
    elif path == "/rpc":
        q = dict(p.split("=", 1) for p in environ["QUERY_STRING"].split("&") if p)
        args = [a.encode() for a in q.get("args", "").split(",") if a]
        r = uwsgi.rpc(q["node"].encode(), q["name"].encode(), *args)
        out = {"type": type(r).__name__, "text": r.decode("latin-1") if isinstance(r, bytes) else None}
    else:
        out = {"path": path}
    body = json.dumps(out, sort_keys=True).encode()
    start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
    return [body]
