from pyramid.config import Configurator
from pyramid.response import Response

import fw_common


def _json(text):
    return Response(text, content_type="application/json", charset="utf-8", headers={"X-Framework": "pyramid"})


def hello(request):
    return _json(fw_common.hello("pyramid", request.matchdict["name"], request.GET.get("q")))


def echo(request):
    return _json(fw_common.echo("pyramid", request.body))


def notfound(request):
    resp = Response("not found", status=404)
    resp.headers["X-Framework"] = "pyramid"
    return resp


with Configurator() as config:
    config.add_route("hello", "/hello/{name}")
    config.add_route("echo", "/echo", request_method="POST")
    config.add_view(hello, route_name="hello")
    config.add_view(echo, route_name="echo")
    config.add_notfound_view(notfound)
    application = config.make_wsgi_app()
