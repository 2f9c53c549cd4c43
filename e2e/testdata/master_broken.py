"""An app that cannot be loaded: it raises at import (e2e/master_faults_test.go)."""

raise ImportError("master_broken exploded at import: no database here")


def application(environ, start_response):  # never reached
    start_response("200 OK", [])
    return [b""]
