# The app behind the static-file tests: it says which path reached it, so a test can
# tell a file served from disk from a request the app answered. /block holds the only
# thread until the file named by its query string exists, and says it started by
# creating that name + ".started".
import os
import time


def application(environ, start_response):
    path = environ["PATH_INFO"]
    if path == "/block":
        open(environ["QUERY_STRING"] + ".started", "w").close()
        deadline = time.time() + 20
        while not os.path.exists(environ["QUERY_STRING"]) and time.time() < deadline:
            time.sleep(0.01)
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"app:" + path.encode("latin-1")]
