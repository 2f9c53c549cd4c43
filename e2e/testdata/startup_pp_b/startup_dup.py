# Also in startup_pp_a/: the one imported tells which --pypy-pp directory came first.
import json
import os
import sys

import startup_onlyc  # only in startup_pp_c/

WHERE = "b"


def application(environ, start_response):
    body = json.dumps({
        "where": WHERE,
        "onlyc": os.path.abspath(startup_onlyc.__file__),
        "sys_path": [os.path.abspath(p) if p else p for p in sys.path],
    }).encode()
    start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
    return [body]
