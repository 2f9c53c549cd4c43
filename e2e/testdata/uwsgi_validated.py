"""A small app wrapped in wsgiref.validate.validator with warnings made errors, for the
uwsgi protocol tests: any PEP 3333 violation in what uwsgo builds from an nginx uwsgi
packet becomes an AssertionError or WSGIWarning traceback in uwsgo's log."""

import hashlib
import json
import warnings
from wsgiref.validate import validator

warnings.simplefilter("error")


def inner(environ, start_response):
    inp = environ["wsgi.input"]
    h = hashlib.sha256()
    n = 0
    for _ in range(10 ** 6):
        chunk = inp.read(65536)
        if not chunk:
            break
        h.update(chunk)
        n += len(chunk)
    body = json.dumps({
        "method": environ["REQUEST_METHOD"],
        "path": environ["PATH_INFO"],
        "script": environ["SCRIPT_NAME"],
        "query": environ.get("QUERY_STRING", ""),
        "len": n,
        "sha256": h.hexdigest(),
    }, sort_keys=True).encode()
    start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
    return [body]


application = validator(inner)
