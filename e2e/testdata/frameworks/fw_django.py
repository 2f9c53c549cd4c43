# A whole Django project in one module: settings, URLs and views.
import django
from django.conf import settings

settings.configure(
    DEBUG=False,
    SECRET_KEY="e2e-only",
    ALLOWED_HOSTS=["*"],
    ROOT_URLCONF=__name__,
    MIDDLEWARE=[],
    INSTALLED_APPS=[],
    DATA_UPLOAD_MAX_MEMORY_SIZE=None,
)
django.setup()

from django.core.wsgi import get_wsgi_application
from django.http import HttpResponse
from django.urls import path

import fw_common


def _json(text, status=200):
    resp = HttpResponse(text, content_type="application/json", status=status)
    resp["X-Framework"] = "django"
    return resp


def hello(request, name):
    return _json(fw_common.hello("django", name, request.GET.get("q")))


def echo(request):
    if request.method != "POST":
        return _json("{}", status=405)
    return _json(fw_common.echo("django", request.body))


urlpatterns = [path("hello/<str:name>", hello), path("echo", echo)]

_django = get_wsgi_application()


def application(environ, start_response):
    # Django's own 404 page carries no X-Framework: add it to every answer.
    def start(status, headers, exc_info=None):
        if not any(k.lower() == "x-framework" for k, _ in headers):
            headers = list(headers) + [("X-Framework", "django")]
        return start_response(status, headers, exc_info)

    return _django(environ, start)
