"""A worker that dies while starting (e2e/master_faults_test.go).

The test's --pypy-eval sets builtins.MASTER_CRASH = (DIR, N): every start appends its time
to DIR/starts, and the first N starts (all of them if N < 0) end the process at once
with status 3, as a broken C extension or configuration would.
"""

import builtins
import os
import time

_dir, _times = builtins.MASTER_CRASH
with open(os.path.join(_dir, "starts"), "a") as f:
    f.write("%f\n" % time.time())
with open(os.path.join(_dir, "starts")) as f:
    _n = len(f.read().split())
if _times < 0 or _n <= _times:
    print("master_crash: dying at start %d" % _n, flush=True)
    os._exit(3)


def application(environ, start_response):
    body = str(os.getpid()).encode()
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
    return [body]
