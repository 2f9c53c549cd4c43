"""Benchmark app: Django, configured in this file, through the default middleware of
`django-admin startproject`. `/` renders templates/django_page.html (a loop over 10 rows);
`/rows` reads 20 rows through the ORM from SQLite and answers them as JSON. Written so
that Django 3.2 (Debian 12) and 4.2 (Debian 13) answer the same bytes: the harness checks
them against expected/django and expected/django-orm.

The database is made at import, 100 deterministic rows, in a file of the temporary
directory: written under a name of this process's own and renamed into place, so that
workers importing at once never see half of it."""

import os
import sqlite3
import sys
import tempfile
import types

import django
from django.conf import settings

HERE = os.path.dirname(os.path.abspath(__file__))
DB = os.path.join(tempfile.gettempdir(), "uwsgo-bench-django.sqlite3")


def make_db():
    tmp = "%s.%d" % (DB, os.getpid())
    if os.path.exists(tmp):
        os.remove(tmp)
    con = sqlite3.connect(tmp)
    con.execute("CREATE TABLE item (id INTEGER PRIMARY KEY, name TEXT NOT NULL, qty INTEGER NOT NULL, cents INTEGER NOT NULL)")
    con.executemany(
        "INSERT INTO item (id, name, qty, cents) VALUES (?, ?, ?, ?)",
        [(i, "item-%d" % i, (i * 7) % 13, i * 125) for i in range(1, 101)],
    )
    con.commit()
    con.close()
    os.replace(tmp, DB)


make_db()

# ROOT_URLCONF names a module; this file's own module name depends on the server.
urls = types.ModuleType("benchdjango_urls")
sys.modules[urls.__name__] = urls

settings.configure(
    DEBUG=False,
    SECRET_KEY="uwsgo-bench-not-secret",
    ALLOWED_HOSTS=["*"],
    ROOT_URLCONF=urls.__name__,
    USE_TZ=True,
    DEFAULT_AUTO_FIELD="django.db.models.AutoField",
    INSTALLED_APPS=[
        "django.contrib.auth",
        "django.contrib.contenttypes",
        "django.contrib.sessions",
        "django.contrib.messages",
    ],
    MIDDLEWARE=[
        "django.middleware.security.SecurityMiddleware",
        "django.contrib.sessions.middleware.SessionMiddleware",
        "django.middleware.common.CommonMiddleware",
        "django.middleware.csrf.CsrfViewMiddleware",
        "django.contrib.auth.middleware.AuthenticationMiddleware",
        "django.contrib.messages.middleware.MessageMiddleware",
        "django.middleware.clickjacking.XFrameOptionsMiddleware",
    ],
    TEMPLATES=[
        {
            "BACKEND": "django.template.backends.django.DjangoTemplates",
            "DIRS": [os.path.join(HERE, "templates")],
            "OPTIONS": {
                "context_processors": [
                    "django.template.context_processors.debug",
                    "django.template.context_processors.request",
                    "django.contrib.auth.context_processors.auth",
                    "django.contrib.messages.context_processors.messages",
                ],
            },
        }
    ],
    # One connection per thread for its life, as sites that read on every request set.
    DATABASES={"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": DB, "CONN_MAX_AGE": None}},
)
django.setup()

from django.core.handlers.wsgi import WSGIHandler  # noqa: E402 (needs the settings)
from django.db import models  # noqa: E402
from django.http import JsonResponse  # noqa: E402
from django.shortcuts import render  # noqa: E402
from django.urls import path  # noqa: E402


class Item(models.Model):
    name = models.CharField(max_length=40)
    qty = models.IntegerField()
    cents = models.IntegerField()

    class Meta:
        app_label = "benchdjango"
        db_table = "item"
        managed = False


ROWS = [
    {"id": i, "name": "item-%d" % i, "qty": (i * 7) % 13, "price": "%d.%02d" % divmod(i * 125, 100)}
    for i in range(10)
]


def page(request):
    return render(request, "django_page.html", {"title": "Django page", "rows": ROWS, "note": "in stock & counted"})


def rows(request):
    items = list(Item.objects.order_by("id").values("id", "name", "qty", "cents")[:20])
    return JsonResponse({"items": items, "count": len(items), "source": "django"})


urls.urlpatterns = [path("", page), path("rows", rows)]

application = WSGIHandler()
