"""A Pyramid app for PasteDeploy: `./uwsgo --pypy-ini-paste examples/paste/app.ini`."""

import logging

from pyramid.config import Configurator
from pyramid.response import Response

log = logging.getLogger(__name__)


def hello(request):
    name = request.matchdict.get("name", "World")
    log.info("greeting %s", name)
    greeting = request.registry.settings["greeting"]
    return Response(body=("%s, %s!\n" % (greeting, name)).encode(), content_type="text/plain")


def main(global_config, **settings):
    """PasteDeploy's app factory (use = call:pyramid_hello:main)."""
    config = Configurator(settings=settings)
    config.add_route("root", "/")
    config.add_route("hello", "/hello/{name}")
    config.add_view(hello, route_name="root")
    config.add_view(hello, route_name="hello")
    return config.make_wsgi_app()
