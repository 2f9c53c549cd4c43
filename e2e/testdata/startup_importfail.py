# An app file that cannot be imported.
import startup_no_such_dependency  # noqa: F401  (raises ModuleNotFoundError)


def application(environ, start_response):
    start_response("200 OK", [])
    return [b"never"]
