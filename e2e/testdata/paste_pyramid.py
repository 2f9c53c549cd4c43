"""A Pyramid app and a filter, loaded through PasteDeploy entry points (use = call:...)."""

import json
import logging
import os

import uwsgi
from pyramid.config import Configurator
from pyramid.response import Response

log = logging.getLogger("paste_pyramid")


def hello(request):
    settings = request.registry.settings
    log.info("hello from worker %d", uwsgi.worker_id())
    body = {
        "pid": os.getpid(),
        "worker": uwsgi.worker_id(),
        "greeting": settings["greeting"],
        "config_file": settings["config_file"],
        "name": request.matchdict["name"],
    }
    return Response(body=json.dumps(body).encode(), content_type="application/json")


def main(global_config, **settings):
    """The paste.app_factory: global_config holds __file__ and here."""
    settings["config_file"] = global_config["__file__"]
    config = Configurator(settings=settings)
    config.add_route("hello", "/hello/{name}")
    config.add_view(hello, route_name="hello")
    return config.make_wsgi_app()


def tag(global_config, header, value):
    """A paste.filter_factory: adds a response header to everything the app answers."""

    def wrap(app):
        def tagged(environ, start_response):
            def start(status, headers, exc_info=None):
                return start_response(status, headers + [(header, value)], exc_info)

            return app(environ, start)

        return tagged

    return wrap
