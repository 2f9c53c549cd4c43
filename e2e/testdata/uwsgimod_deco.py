"""uWSGI's own uwsgidecorators (Debian's python3-uwsgidecorators, unmodified) on uwsgo.

Loaded as a module (--pypy-wsgi uwsgimod_deco, --pypy-pp e2e/testdata) so that the code
/exec runs can `import uwsgimod_deco` and reach the decorated functions. Every decorated
function counts its runs in the cache "deco" (cache_inc), under its name and under
"<name>-w<worker id>". --pypy-eval "UMOD_DIR = '...'" names the directory whose file
"watched" @filemon watches.
"""

import os
import threading
import time

import __main__
import uwsgi
import uwsgidecorators

from uwsgimod_app import application  # noqa: F401 (the /exec route)

CACHE = "deco"
DIR = getattr(__main__, "UMOD_DIR", "/nonexistent")


def count(name):
    uwsgi.cache_inc(name, 1, 0, CACHE)
    uwsgi.cache_inc("%s-w%d" % (name, uwsgi.worker_id()), 1, 0, CACHE)


@uwsgidecorators.postfork
def every_worker():
    count("postfork")


@uwsgidecorators.postfork(2)
def worker_two_only():
    count("postfork2")


@uwsgidecorators.rpc("umod_hello")
def hello(who):
    return b"hello " + who + (" from %d" % uwsgi.worker_id()).encode()


@uwsgidecorators.signal(30)
def sig30(num):
    count("sig30")


@uwsgidecorators.signal(31, target="workers")
def sig31(num):
    count("sig31")


TIMER_NUM = uwsgidecorators.get_free_signal()  # the number the decorator takes


@uwsgidecorators.timer(1)
def every_second(num):
    count("timer")


RBTIMER_NUM = uwsgidecorators.get_free_signal()  # the number the decorator takes


@uwsgidecorators.rbtimer(1)
def rb_every_second(num):
    count("rbtimer")


FILEMON_NUM = uwsgidecorators.get_free_signal()  # the number the decorator takes


@uwsgidecorators.filemon(os.path.join(DIR, "watched"))
def changed(num):
    count("filemon")


CRON_NUM = uwsgidecorators.get_free_signal()  # the number the decorator takes


@uwsgidecorators.cron(-1, -1, -1, -1, -1)
def each_minute(num):
    count("cron")


@uwsgidecorators.lock
def locked_increment(tag):
    """Read-modify-write under lock 0; reports whether someone else was inside."""
    clash = uwsgi.cache_set("holder", tag, 0, CACHE) is None
    v = int(uwsgi.cache_get("locked", CACHE) or b"0")
    time.sleep(0.002)
    uwsgi.cache_update("locked", str(v + 1), 0, CACHE)
    uwsgi.cache_del("holder", CACHE)
    return clash


@uwsgidecorators.thread
def in_background(tag):
    time.sleep(1)
    uwsgi.cache_set(tag, str(threading.get_ident()), 0, CACHE)


@uwsgidecorators.harakiri(2)
def slow(seconds):
    time.sleep(seconds)
    return "done"


# With --spooler and --mule (their decorators refuse to work without them).
if "spooler" in uwsgi.opt:

    @uwsgidecorators.spool
    def spooled(args):
        # The count comes last: the test reads what the job stored once it sees the count.
        uwsgi.cache_update("spool-args", repr(sorted(args.items())), 0, CACHE)
        uwsgi.cache_update("spool-where", repr([uwsgi.i_am_the_spooler(), uwsgi.worker_id(), os.getpid()]), 0, CACHE)
        count("spool")

    @uwsgidecorators.spool(pass_arguments=True)
    def spooled_with_arguments(a, b=None):
        uwsgi.cache_update("spool-pass-args", repr([a, b]), 0, CACHE)
        count("spool-pass")

if "mule" in uwsgi.opt:

    @uwsgidecorators.mulefunc
    def in_a_mule(value):
        uwsgi.cache_update("mulefunc-where", repr([value, uwsgi.mule_id(), uwsgi.worker_id(), os.getpid()]), 0, CACHE)
        count("mulefunc")

    @uwsgidecorators.mulefunc(1)
    def in_mule_one(value):
        uwsgi.cache_update("mulefunc1-where", repr([value, uwsgi.mule_id()]), 0, CACHE)
        count("mulefunc1")
