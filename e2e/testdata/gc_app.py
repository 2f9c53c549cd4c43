"""Says how PyPy's GC was set up: its nursery size and whether the app sees PYPY_GC_NURSERY."""
import gc
import json
import os


def application(environ, start_response):
    body = json.dumps({
        "nursery": gc.get_stats().nursery_size,
        "env": os.environ.get("PYPY_GC_NURSERY"),
    }).encode()
    start_response("200 OK", [("Content-Type", "application/json")])
    return [body]
