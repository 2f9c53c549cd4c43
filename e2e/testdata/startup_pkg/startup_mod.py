# A WSGI module found on the Python path: --pypy-wsgi startup_mod[:callable].
def _say(text, start_response):
    body = text.encode()
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
    return [body]


def application(environ, start_response):
    return _say("startup_mod:application", start_response)


def other(environ, start_response):
    return _say("startup_mod:other", start_response)
