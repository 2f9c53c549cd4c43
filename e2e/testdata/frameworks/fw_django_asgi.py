# fw_django's project served through Django's ASGI handler: its views run in asgiref's
# thread, whose results come back to the loop through call_soon_threadsafe.
from django.core.asgi import get_asgi_application
from django.http import HttpResponseNotFound

import fw_django


def not_found(request, exception=None):
    # fw_django's WSGI wrapper adds X-Framework to Django's own 404; here the handler does.
    resp = HttpResponseNotFound("not found")
    resp["X-Framework"] = "django"
    return resp


fw_django.handler404 = not_found
app = get_asgi_application()
