# fw_common's app in Django, served through Django's ASGI handler (its views run in
# asgiref's thread, whose results come back to the loop through call_soon_threadsafe).
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

from django.core.asgi import get_asgi_application
from django.http import HttpResponse, HttpResponseNotFound
from django.urls import path

import fw_common


def _json(text):
    resp = HttpResponse(text, content_type="application/json")
    resp["X-Framework"] = "django"
    return resp


def hello(request, name):
    return _json(fw_common.hello("django", name, request.GET.get("q")))


async def echo(request):
    # An async view: it runs on the loop itself.
    return _json(fw_common.echo("django", request.body))


def not_found(request, exception=None):
    resp = HttpResponseNotFound("not found")
    resp["X-Framework"] = "django"
    return resp


urlpatterns = [path("hello/<str:name>", hello), path("echo", echo)]
handler404 = not_found

app = get_asgi_application()
