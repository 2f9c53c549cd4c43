# A mod_wsgi-style file: uwsgo must load it by path although it has no .py extension.
def application(environ, start_response):
    body = b"served by startup_app.wsgi"
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
    return [body]
