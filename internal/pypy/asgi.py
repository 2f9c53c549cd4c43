"""uwsgo's ASGI part: ASGI 3 apps on one asyncio event loop per worker, driven by Go.

The setup module runs this file (STEP_PART) only when an ASGI app is given; `setup` is
then the setup module's namespace. It adds its steps to setup's table and its entry point
to struct uwsgo_api (the `asgi` member; `asgi_event` is Go's).

The loop is asyncio's own SelectorEventLoop, so everything asyncio offers works in the
app (timers, sockets, executors, call_soon_threadsafe), but it never blocks in select():
Go calls the entry point (_entry) on the goroutine that has something for it (a new
request, a piece of a request body, a client gone, a timer due, the selector's descriptor
readable), and the entry runs what is ready until nothing is, then tells Go when the next
timer is due. So a request costs one call into Python on its connection's own goroutine:
a hello-world app's task starts, answers and ends within that call, with no thread handing
anything to another. Go holds one lock around every call: the loop has one driver at a
time, whichever goroutine that is.
"""

import asyncio
import contextvars
import heapq
import http
import inspect
import os
import sys
import traceback
import weakref
from asyncio import events as _events

from _thread import get_ident as _get_ident

api = setup["api"]  # noqa: F821 (set by the setup module)
ffi = setup["ffi"]  # noqa: F821
_log = setup["_log"]  # noqa: F821

# The contract's names (the ASGI steps and ops, HANDLED, SEND_CLIENT_GONE ...) are in this
# module's namespace before it runs, from internal/pypy/contract.go's table, as in the
# setup module's; this file defines none of them.

# A request body's bytes queued for the app beyond this pause Go's reading of it until
# the app has taken them.
BODY_QUEUE = 1 << 20
# Ready callbacks run per call before Go gets the loop back (it comes back at once).
ROUNDS = 64

_ASGI = {"version": "3.0", "spec_version": "2.3"}
_ASGI_WS = {"version": "3.0", "spec_version": "2.4"}
_EXTENSIONS = {"http.response.pathsend": {}, "http.response.zerocopysend": {}}

_app = None
_loop = None
_threads = 0  # the size of the loop's default executor (0: asyncio's default)
_state = {}  # lifespan's state, copied into every scope
_open = {}  # handle -> the request or WebSocket its task serves
_driving = 0  # the handle of the request the current ASGI_HTTP starts
_driving_rc = ASGI_PENDING
_hooked = set()  # threads whose async generator hooks are the loop's
_running = getattr(_events, "_running_loop", None)
if _running is not None and getattr(_events._set_running_loop, "__module__", "") == "asyncio.events":
    _pid = os.getpid()

    def _set_running_loop(loop):
        """asyncio's own (pure Python on PyPy), less its getpid(2) per call: two system
        calls a request. A worker forked from the loader takes its own pid (_forked)."""
        _running.loop_pid = (loop, _pid)
else:
    _set_running_loop = _events._set_running_loop
_NULL = ffi.NULL


class _TaskRegistry(weakref.WeakSet):
    """asyncio's set of every task (asyncio.tasks._all_tasks, which all_tasks() reads),
    holding the tasks of requests strongly instead: each weak reference costs ~2 µs on
    PyPy, a third of a hello-world request's time in Python, and a request's task always
    ends through _finish, which takes it out."""

    def __init__(self, tasks):
        weakref.WeakSet.__init__(self, tasks)
        self.requests = set()
        self.adding_request = False

    def add(self, task):
        if self.adding_request:
            self.requests.add(task)
        else:
            weakref.WeakSet.add(self, task)

    def discard(self, task):
        self.requests.discard(task)
        weakref.WeakSet.discard(self, task)

    def __iter__(self):
        yield from list(self.requests)
        yield from weakref.WeakSet.__iter__(self)

    def __len__(self):
        return len(self.requests) + weakref.WeakSet.__len__(self)


_tasks = None
if type(getattr(asyncio.tasks, "_all_tasks", None)) is weakref.WeakSet and asyncio.tasks._register_task.__module__ == "asyncio.tasks":
    _tasks = asyncio.tasks._all_tasks = _TaskRegistry(asyncio.tasks._all_tasks)


def _start(coro):
    """The request's task, registered strongly when _TaskRegistry is in place."""
    if _tasks is None:
        return _loop.create_task(coro)
    _tasks.adding_request = True
    try:
        return _loop.create_task(coro)
    finally:
        _tasks.adding_request = False


def _event(what, handle, arg=0, data=b""):
    return api.asgi_event(what, handle, arg, data, len(data))


# ---------------------------------------------------------------- loading


def _find(module, names, what):
    for name in names:
        app = getattr(module, name, None)
        if app is not None:
            if not callable(app):
                raise TypeError("%s:%s is %r, which is not callable" % (what, name, app))
            return app, "%s:%s" % (what, name)
    raise AttributeError("%s has no ASGI app named %s" % (what, " or ".join(repr(n) for n in names)))


def _names(given):
    if given:
        return [given]
    callable_ = setup["_callable"]  # noqa: F821 (--callable, else "application")
    return ["app", "application"] if callable_ == "application" else [callable_]


def _module(spec):
    import importlib

    name, _, attr = spec.partition(":")
    return _find(importlib.import_module(name), _names(attr), name)


def _file(path):
    import importlib.util

    path = os.path.abspath(path)
    name = "uwsgi_file_" + "".join(c if c.isalnum() else "_" for c in path)
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None:
        raise ImportError("%s is not a Python file" % path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[name]
        raise
    return _find(module, _names(""), path)


def _asgi2(app):
    """An ASGI 2 app (a class: instance per scope, then awaited with receive and send)."""

    async def asgi3(scope, receive, send):
        await app(scope)(receive, send)

    return asgi3


class _Task(asyncio.Task):
    """asyncio's Task, less its context once it is done. On PyPy an object whose class has
    __del__ (every Future) keeps all it references alive past the nursery, to the next
    major collection; a finished task's context (the contextvars its code set: at least
    the request's, below) was most of that: ~1.5 µs of GC per hello-world request.
    Nothing reads a task's context once it is done: it only runs the task's steps."""

    def _Task__step(self, *args):
        try:
            asyncio.Task._Task__step(self, *args)
        finally:
            if self.done():
                self._context = None


_Task.__name__ = _Task.__qualname__ = "Task"  # an app's logs show its tasks as asyncio names them


def _task_factory(loop, coro, **kwargs):
    return _Task(coro, loop=loop, **kwargs)


class _Loop(asyncio.SelectorEventLoop):
    """asyncio's loop with one more way to run it: a bounded pass over what is ready,
    which never waits. Everything else (call_soon, timers, readers, executors) is
    asyncio's own, but for the tasks it makes (_Task, where asyncio's Task is its pure
    Python one)."""

    def __init__(self):
        asyncio.SelectorEventLoop.__init__(self)
        if hasattr(asyncio.Task, "_Task__step"):
            self.set_task_factory(_task_factory)

    def pass_ready(self, poll):
        ready, scheduled = self._ready, self._scheduled
        for _ in range(ROUNDS):
            if poll:
                self._process_events(self._selector.select(0))
                poll = False
            if scheduled:
                end = self.time() + self._clock_resolution
                while scheduled and scheduled[0]._when < end:
                    handle = heapq.heappop(scheduled)
                    handle._scheduled = False
                    if handle._cancelled:
                        self._timer_cancelled_count -= 1
                    else:
                        ready.append(handle)
            n = len(ready)
            if not n:
                return
            for _ in range(n):
                handle = ready.popleft()
                if not handle._cancelled:
                    handle._run()

    def next_due(self):
        """Nanoseconds until the next timer (0: callbacks are ready; -1: none)."""
        if self._ready:
            return 0
        scheduled = self._scheduled
        if self._timer_cancelled_count > 100 and self._timer_cancelled_count * 2 > len(scheduled):
            live = [h for h in scheduled if not h._cancelled]
            for h in scheduled:
                if h._cancelled:
                    h._scheduled = False
            heapq.heapify(live)
            self._scheduled[:] = live
            self._timer_cancelled_count = 0
        while scheduled and scheduled[0]._cancelled:
            heapq.heappop(scheduled)._scheduled = False
            self._timer_cancelled_count -= 1
        if not scheduled:
            return -1
        return max(0, int((scheduled[0]._when - self.time()) * 1e9))


def _load(text, how):
    """Makes the loop, then imports the app: what a module creates as it loads
    (asyncio.Lock(), Queue(), Event() bind to asyncio.get_event_loop() on Python 3.9) must
    belong to the loop that will run it, as under uvicorn."""
    global _app, _loop, _threads
    threads, _, spec = text.partition("\n")
    if _loop is None:
        _threads = int(threads)
        _loop = _Loop()
        _loop._default_executor = _executor()
        asyncio.set_event_loop(_loop)
    app, what = how(spec)
    uwsgi = sys.modules["uwsgi"]
    uwsgi.applications = {"": app}
    uwsgi.applist = (what,)
    _app = _asgi2(app) if inspect.isclass(app) else app
    setup["_report"](REPORT_APP, "%s (ASGI)" % what)  # noqa: F821
    _event(ASGI_EVENT_LOOP, _loop._selector.fileno())


def _executor():
    """The loop's default executor: --threads threads, else asyncio's own, made when first
    used."""
    if _threads <= 0:
        return None
    import concurrent.futures

    return concurrent.futures.ThreadPoolExecutor(_threads, "asgi")


def _forked(_):
    """In a worker forked from the loader (pre-fork): the loop keeps its Python objects, so
    what the app bound to it at import stays bound, but gets its own descriptors and
    threads. The epoll descriptor it inherited names the loader's epoll instance, shared
    by every worker forked from it (a descriptor one worker added or removed there would
    be the others' too), the self-pipe is shared the same way, and the executor's threads
    stayed in the loader (none ran there: the loop never did)."""
    global _pid
    _pid = os.getpid()
    _hooked.clear()
    old = _loop._selector
    pipe = _loop._ssock.fileno()
    kept = [key for key in old.get_map().values() if key.fd != pipe]
    # Only this process's descriptors are closed: an unregister would be an epoll_ctl on
    # the shared instance, taken from the loader and from every other worker.
    old.close()
    _loop._ssock.close()
    _loop._csock.close()
    _loop._internal_fds -= 1
    _loop._selector = type(old)()
    for key in kept:
        _loop._selector.register(key.fileobj, key.events, key.data)
    _loop._make_self_pipe()
    _loop._default_executor = _executor()
    # asyncio's policy keeps the loop per thread; Python 3.12's asyncio forgets it at fork.
    asyncio.set_event_loop(_loop)
    _event(ASGI_EVENT_LOOP, _loop._selector.fileno())


# ---------------------------------------------------------------- lifespan


class _StartupFailed(Exception):
    pass


class _Lifespan(object):
    def __init__(self):
        self.inbox = asyncio.Queue()
        self.started = _loop.create_future()
        self.stopped = _loop.create_future()
        self.supported = True

    async def receive(self):
        return await self.inbox.get()

    async def send(self, message):
        kind = message.get("type")
        if kind == "lifespan.startup.complete":
            _settle(self.started, None)
        elif kind == "lifespan.startup.failed":
            _settle(self.started, _StartupFailed(message.get("message", "")))
        elif kind == "lifespan.shutdown.complete":
            _settle(self.stopped, None)
        elif kind == "lifespan.shutdown.failed":
            _log("the app's lifespan shutdown failed: %s\n" % message.get("message", ""))
            _settle(self.stopped, None)
        else:
            raise ValueError("unknown lifespan message type %r" % (kind,))

    async def main(self):
        scope = {"type": "lifespan", "asgi": {"version": "3.0", "spec_version": "2.0"}, "state": _state}
        try:
            await _app(scope, self.receive, self.send)
        except BaseException as e:
            if not self.started.done():
                # The app does not speak lifespan (uvicorn's "auto" mode reads it so too).
                self.supported = False
                _log("the ASGI app does not support lifespan (%s: %s); serving without it\n" % (type(e).__name__, e))
            else:
                _log("exception in the app's lifespan:\n%s" % traceback.format_exc())
        finally:
            _settle(self.started, None)
            _settle(self.stopped, None)


def _settle(future, value):
    if future.done():
        return
    if isinstance(value, BaseException):
        future.set_exception(value)
    else:
        future.set_result(value)


_lifespan = None


def _startup(_):
    global _lifespan
    _lifespan = _Lifespan()
    _loop.create_task(_lifespan.main())
    _lifespan.inbox.put_nowait({"type": "lifespan.startup"})
    try:
        _loop.run_until_complete(_lifespan.started)
    except _StartupFailed as e:
        raise setup["_UserError"]("the ASGI app's lifespan startup failed: %s" % (e,))  # noqa: F821


def _shutdown(_):
    if _lifespan is None or not _lifespan.supported or _lifespan.stopped.done():
        return
    _lifespan.inbox.put_nowait({"type": "lifespan.shutdown"})
    _loop.run_until_complete(_lifespan.stopped)


# ---------------------------------------------------------------- HTTP

_reasons = {s.value: s.phrase for s in http.HTTPStatus}
_status_lines = {}


def _status_line(status):
    line = _status_lines.get(status)
    if line is None:
        if type(status) is not int or not 100 <= status <= 999:
            raise ValueError("the response status must be an int from 100 to 999, not %r" % (status,))
        line = _status_lines[status] = ("%d %s\r\n" % (status, _reasons.get(status, "Unknown"))).encode()
    return line


def _head(status, headers):
    """The head as Go takes it: status line, then name NUL value CRLF per header."""
    parts = [_status_line(status)]
    for pair in headers:
        name, value = pair
        if type(name) is not bytes or type(value) is not bytes:
            raise TypeError("response header %r: names and values must be bytes" % (pair,))
        parts += (name, b"\0", value, b"\r\n")
    return b"".join(parts)


def _split(data):
    """A block of u16-LE length-prefixed strings, as Go encodes the request (asgiScope)."""
    items = []
    i, n = 0, len(data)
    while i < n:
        j = i + 2 + (data[i] | data[i + 1] << 8)
        items.append(data[i + 2:j])
        i = j
    return items


def _scope(data, kind):
    items = _split(data)
    method, version, scheme, raw_path, query, root, chost, cport, shost, sport = items[:10]
    path = raw_path.decode("latin-1")
    if "%" in path or any(c > 127 for c in raw_path):
        from urllib.parse import unquote_to_bytes

        path = unquote_to_bytes(raw_path).decode("utf-8", "surrogateescape")
    h = items[10:]
    scope = {
        "type": kind,
        "asgi": _ASGI if kind == "http" else _ASGI_WS,
        "http_version": version.decode(),
        "scheme": scheme.decode(),
        "path": path,
        "raw_path": raw_path,
        "query_string": query,
        "root_path": root.decode("latin-1"),
        "headers": [(h[k], h[k + 1]) for k in range(0, len(h), 2)],
        "client": (chost.decode(), int(cport)) if cport else None,
        "server": (shost.decode(), int(sport)) if sport else (shost.decode(), None),
        "state": _state.copy(),
    }
    if kind == "http":
        scope["method"] = method.decode()
        scope["extensions"] = _EXTENSIONS
    return scope


def _scope_of_vars(data):
    """The scope of a request that came on the uwsgi protocol, from its CGI variables (as
    nginx's uwsgi_params give them): headers come back lower-cased with dashes, in the
    block's order, and PATH_INFO is taken as the decoded path."""
    env = setup["_environ"](data)  # noqa: F821
    headers = []
    for key, value in env.items():
        if key.startswith("HTTP_"):
            headers.append((key[5:].replace("_", "-").lower().encode("latin-1"), value.encode("latin-1")))
        elif key in ("CONTENT_TYPE", "CONTENT_LENGTH") and value:
            headers.append((key.replace("_", "-").lower().encode(), value.encode("latin-1")))
    uri = env.get("REQUEST_URI", "")
    raw_path = uri.partition("?")[0].encode("latin-1")
    path = env.get("PATH_INFO", "").encode("latin-1").decode("utf-8", "surrogateescape")
    scheme = env.get("UWSGI_SCHEME") or env.get("REQUEST_SCHEME") or ("https" if env.get("HTTPS", "off").lower() in ("on", "1", "true") else "http")
    port = env.get("SERVER_PORT", "")
    rport = env.get("REMOTE_PORT", "")
    return {
        "type": "http",
        "asgi": _ASGI,
        "http_version": env.get("SERVER_PROTOCOL", "HTTP/1.1").partition("/")[2] or "1.1",
        "method": env.get("REQUEST_METHOD", "GET"),
        "scheme": scheme,
        "path": path,
        "raw_path": raw_path or path.encode("utf-8", "surrogateescape"),
        "query_string": env.get("QUERY_STRING", "").encode("latin-1"),
        "root_path": env.get("SCRIPT_NAME", ""),
        "headers": headers,
        "client": (env.get("REMOTE_ADDR", ""), int(rport)) if rport.isdigit() else None,
        "server": (env.get("SERVER_NAME", ""), int(port) if port.isdigit() else None),
        "state": _state.copy(),
        "extensions": _EXTENSIONS,
    }


class _HTTP(object):
    """One request's receive and send, and where its body and response stand."""

    __slots__ = ("h", "scope", "body", "queued", "more", "ended", "paused", "gone", "disconnected",
                 "waiter", "status", "headers", "started", "sent", "complete", "drain")

    def __init__(self, h, scope, body, more):
        self.h = h
        self.scope = scope
        self.body = [body] if body else []
        self.queued = len(body)
        self.more = more
        self.ended = False  # the last http.request went to the app
        self.paused = False  # Go waits for the app to take the queued body
        self.gone = False  # a write failed: nothing more reaches the client
        # The client's side ended (EOF or reset): receive() says http.disconnect, but a
        # client that only half-closed still reads what is sent.
        self.disconnected = False
        self.waiter = None
        self.status = None
        self.headers = None
        self.started = False  # http.response.start came
        self.sent = False  # Go has the head
        self.complete = False
        self.drain = None  # while send() waits for the client to read (ASGI_SEND_WAIT)

    def wake(self):
        for w in (self.waiter, self.drain):
            if w is not None and not w.done():
                w.set_result(None)

    def feed(self, data, more):
        if data:
            self.body.append(data)
            self.queued += len(data)
        self.more = more
        self.wake()
        if self.queued >= BODY_QUEUE:
            self.paused = True
            return 1
        return 0

    async def receive(self):
        while True:
            if self.gone or self.disconnected:
                return {"type": "http.disconnect"}
            if self.body or not (self.more or self.ended):
                body = self.body
                data = body[0] if len(body) == 1 else b"".join(body)
                self.body = []
                self.queued = 0
                self.ended = not self.more
                if self.paused:
                    self.paused = False
                    _event(ASGI_EVENT_WANT, self.h)
                return {"type": "http.request", "body": data, "more_body": self.more}
            if self.complete:
                return {"type": "http.disconnect"}
            self.waiter = _loop.create_future()
            try:
                await self.waiter
            finally:
                self.waiter = None

    async def send(self, message):
        kind = message["type"]
        if kind == "http.response.body":
            if not self.started:
                raise RuntimeError("http.response.body before http.response.start")
            if self.complete or self.gone:
                return
            body = message.get("body", b"")
            more = message.get("more_body", False)
            if self.sent:
                rc = api.send(self.h, _NULL, 0, body, len(body), not more)
            else:
                head = _head(self.status, self.headers)
                self.sent = True
                rc = api.send(self.h, head, len(head), body, len(body), not more)
            if rc == ASGI_SEND_WAIT:
                await _drained(self)
            else:
                self._sent(rc, not more)
        elif kind == "http.response.start":
            if self.started:
                raise RuntimeError("http.response.start sent twice")
            if message.get("trailers"):
                raise RuntimeError("uwsgo does not send HTTP trailers: scope['extensions'] has no "
                                   "'http.response.trailers'; send the response without trailers=True")
            self.status = message["status"]
            self.headers = message.get("headers", ())
            _status_line(self.status)
            self.started = True
        elif kind == "http.response.pathsend":
            self._pathsend(message["path"])
        elif kind == "http.response.zerocopysend":
            await self._zerocopysend(message)
        elif kind == "http.response.trailers":
            raise RuntimeError("uwsgo does not send HTTP trailers (no 'http.response.trailers' in scope['extensions'])")
        else:
            raise ValueError("unknown message type %r for an http scope" % (kind,))

    def _sent(self, rc, final):
        if rc == SEND_CLIENT_GONE:
            self.gone = True
            self.wake()
        elif rc < 0:
            raise ValueError("Go refused the response head (status %r, headers %r): a bad status or header"
                             % (self.status, self.headers))
        if final:
            self.complete = True
            self.wake()

    def _pathsend(self, path):
        if not self.started or self.sent:
            raise RuntimeError("http.response.pathsend must follow http.response.start, alone")
        if self.complete or self.gone:
            return
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
        try:
            if not self._sendfile(fd, 0, -1):
                raise ValueError("http.response.pathsend: %s is not a regular file" % (path,))
        finally:
            os.close(fd)

    def _sendfile(self, fd, offset, count):
        """The whole rest of the response from a file, with sendfile(2) once the app's
        call has ended; False when fd is not a regular file."""
        head = _head(self.status, self.headers)
        rc = api.sendfile(self.h, head, len(head), fd, offset, count)
        if rc == SEND_NOT_REGULAR:
            return False
        self.sent = True
        self._sent(rc, True)
        return True

    async def _zerocopysend(self, message):
        """The last piece of a response from a regular file goes out with sendfile(2);
        another piece, or a file of another kind, is read and sent as body."""
        if not self.started:
            raise RuntimeError("http.response.zerocopysend before http.response.start")
        if self.complete or self.gone:
            return
        fd = message["file"].fileno()
        offset, count = message.get("offset"), message.get("count")
        more = message.get("more_body", False)
        if offset is None:
            offset = os.lseek(fd, 0, os.SEEK_CUR)
        if not more and not self.sent and self._sendfile(fd, offset, -1 if count is None else count):
            return
        left = -1 if count is None else count
        while left != 0:
            data = os.pread(fd, 65536 if left < 0 else min(left, 65536), offset)
            if not data:
                break
            offset += len(data)
            left = left - len(data) if left > 0 else left
            await self.send({"type": "http.response.body", "body": data, "more_body": True})
        if not more:
            await self.send({"type": "http.response.body", "body": b""})


async def _drained(r):
    """Waits until Go says r's client has read enough (ASGI_DRAINED), or is gone."""
    r.drain = _loop.create_future()
    try:
        await r.drain
    finally:
        r.drain = None


# What the running task serves, for the uwsgi module's request functions (set_logvar,
# request_id ...): (handle, {}, None, request id), as a WSGI request's minus its environ
# and response.
_task_request = contextvars.ContextVar("uwsgo_asgi_request", default=None)
setup["_current"].task_request = _task_request.get  # noqa: F821
_request_ids = setup["_request_ids"]  # noqa: F821


async def _serve_http(r):
    _task_request.set((r.h, {}, None, next(_request_ids)))
    rc = HANDLED
    try:
        await _app(r.scope, r.receive, r.send)
        if not r.complete and not (r.gone or r.disconnected):
            rc = FAILED_AFTER_HEADERS if r.sent else FAILED_BEFORE_HEADERS
            _log("the ASGI app returned %s for %s %s\n" % (
                "before the end of its response" if r.sent else "without a response",
                r.scope["method"], r.scope["path"]))
    except BaseException:
        rc = FAILED_AFTER_HEADERS if r.sent else FAILED_BEFORE_HEADERS
        _log("exception in the ASGI app for %s %s:\n%s" % (r.scope["method"], r.scope["path"], traceback.format_exc()))
    _finish(r.h, rc)


def _finish(h, rc):
    global _driving_rc
    del _open[h]
    if _tasks is not None:
        _tasks.requests.discard(asyncio.current_task(_loop))
    if h == _driving:
        _driving_rc = rc
    else:
        _event(ASGI_EVENT_DONE, h, rc)


# ---------------------------------------------------------------- WebSocket


class _WebSocket(object):
    """One WebSocket session: the handshake's answer, then messages both ways."""

    __slots__ = ("h", "scope", "inbox", "waiter", "state", "code", "denied", "drain")

    CONNECTING, OPEN, CLOSED = 0, 1, 2

    def __init__(self, h, scope):
        self.h = h
        self.scope = scope
        self.inbox = [{"type": "websocket.connect"}]
        self.waiter = None
        self.state = self.CONNECTING
        self.code = 1006
        self.denied = None  # the head of a websocket.http.response, once started
        self.drain = None

    def wake(self):
        for w in (self.waiter, self.drain):
            if w is not None and not w.done():
                w.set_result(None)

    def put(self, message):
        self.inbox.append(message)
        self.wake()

    def closed(self, code):
        if self.state != self.CLOSED:
            self.state = self.CLOSED
            self.code = code
        self.put({"type": "websocket.disconnect", "code": code})

    async def receive(self):
        while not self.inbox:
            self.waiter = _loop.create_future()
            try:
                await self.waiter
            finally:
                self.waiter = None
        return self.inbox.pop(0)

    async def send(self, message):
        kind = message["type"]
        if kind == "websocket.send":
            if self.state != self.OPEN:
                raise RuntimeError("websocket.send on a WebSocket that is not open")
            text, data = message.get("text"), message.get("bytes")
            if text is not None:
                payload, binary = text.encode("utf-8"), 0
            elif data is not None:
                payload, binary = data, 1
            else:
                raise ValueError("websocket.send needs 'text' or 'bytes'")
            rc = _event(ASGI_EVENT_WS_SEND, self.h, binary, payload)
            if rc == ASGI_SEND_WAIT:
                await _drained(self)
            elif rc < 0:
                self.closed(1006)
        elif kind == "websocket.accept":
            self._answering()
            headers = list(message.get("headers", ()))
            sub = message.get("subprotocol")
            if sub:
                headers.append((b"sec-websocket-protocol", sub.encode("latin-1")))
            self.state = self.OPEN
            if _event(ASGI_EVENT_WS_ACCEPT, self.h, 0, _head(101, headers)) < 0:
                self.closed(1006)
        elif kind == "websocket.close":
            if self.state == self.CONNECTING and self.denied is None:
                # Refused before the handshake: 403, the spec's answer.
                self.state = self.CLOSED
                head = _head(403, ())
                api.send(self.h, head, len(head), b"", 0, 1)
            elif self.state == self.OPEN:
                code = message.get("code") or 1000
                reason = (message.get("reason") or "").encode("utf-8")
                self.state = self.CLOSED
                self.code = code
                _event(ASGI_EVENT_WS_CLOSE, self.h, code, reason)
        elif kind == "websocket.http.response.start":
            self._answering()
            self.denied = _head(message["status"], message.get("headers", ()))
        elif kind == "websocket.http.response.body":
            if self.denied is None or self.state != self.CONNECTING:
                raise RuntimeError("websocket.http.response.body without websocket.http.response.start")
            more = message.get("more_body", False)
            body = message.get("body", b"")
            head, self.denied = self.denied, b""
            api.send(self.h, head or _NULL, len(head), body, len(body), not more)
            if not more:
                self.state = self.CLOSED
        else:
            raise ValueError("unknown message type %r for a websocket scope" % (kind,))

    def _answering(self):
        if self.state != self.CONNECTING or self.denied is not None:
            raise RuntimeError("the WebSocket handshake was already answered")


async def _serve_ws(w):
    rc = HANDLED
    try:
        await _app(w.scope, w.receive, w.send)
    except BaseException:
        rc = FAILED_BEFORE_HEADERS if w.state == w.CONNECTING and w.denied is None else FAILED_AFTER_HEADERS
        _log("exception in the ASGI app for WebSocket %s:\n%s" % (w.scope["path"], traceback.format_exc()))
    else:
        if w.state == w.CONNECTING:
            # Neither accepted nor refused (or a denial left unfinished): Go answers 500
            # if nothing went out yet, else cuts the connection.
            rc = FAILED_BEFORE_HEADERS if w.denied is None else FAILED_AFTER_HEADERS
            _log("the ASGI app returned without answering the WebSocket handshake for %s\n" % w.scope["path"])
    _finish(w.h, rc)


# ---------------------------------------------------------------- the entry point


@ffi.callback("long(int, long, const char *, long, const char *, long, int, int64_t *)")
def _entry(op, h, a_p, a_n, b_p, b_n, flags, next_p):
    global _driving, _driving_rc
    loop = _loop
    tid = _get_ident()
    loop._thread_id = tid
    _set_running_loop(loop)
    if tid not in _hooked:
        sys.set_asyncgen_hooks(firstiter=loop._asyncgen_firstiter_hook, finalizer=loop._asyncgen_finalizer_hook)
        _hooked.add(tid)
    rc = 0
    try:
        if op == ASGI_HTTP:
            _driving, _driving_rc = h, ASGI_PENDING
            body = ffi.unpack(b_p, b_n) if b_n > 0 else b""
            data = ffi.unpack(a_p, a_n)
            scope = _scope_of_vars(data) if flags & ASGI_VARS else _scope(data, "http")
            r = _open[h] = _HTTP(h, scope, body, flags & ASGI_MORE != 0)
            _start(_serve_http(r))
        elif op == ASGI_BODY:
            r = _open.get(h)
            if r is not None:
                rc = r.feed(ffi.unpack(a_p, a_n) if a_n > 0 else b"", flags & ASGI_MORE != 0)
        elif op == ASGI_DISCONNECT:
            r = _open.get(h)
            if r is not None:
                if type(r) is _HTTP:
                    r.disconnected = True
                    r.wake()
                else:
                    r.closed(1006)
        elif op == ASGI_WEBSOCKET:
            _driving, _driving_rc = h, ASGI_PENDING
            w = _open[h] = _WebSocket(h, _scope(ffi.unpack(a_p, a_n), "websocket"))
            w.scope["subprotocols"] = [p.strip() for p in ffi.unpack(b_p, b_n).decode("latin-1").split(",") if p.strip()] if b_n > 0 else []
            _start(_serve_ws(w))
        elif op == ASGI_WS_MESSAGE:
            w = _open.get(h)
            if w is not None:
                data = ffi.unpack(a_p, a_n) if a_n > 0 else b""
                if flags & ASGI_BINARY:
                    w.put({"type": "websocket.receive", "bytes": data})
                else:
                    w.put({"type": "websocket.receive", "text": data.decode("utf-8")})
        elif op == ASGI_WS_CLOSED:
            w = _open.get(h)
            if w is not None:
                w.closed(flags)
        elif op == ASGI_DRAINED:
            r = _open.get(h)
            if r is not None:
                d = r.drain
                if d is not None and not d.done():
                    d.set_result(None)
        loop.pass_ready(flags & ASGI_POLL and op == ASGI_RUN)
        if op == ASGI_HTTP or op == ASGI_WEBSOCKET:
            rc = _driving_rc
    except BaseException:
        _log("uwsgo's ASGI loop failed:\n%s" % traceback.format_exc())
        rc = -2
    finally:
        _driving = 0
        next_p[0] = loop.next_due()
        _set_running_loop(None)
        loop._thread_id = None
    return rc


setup["_steps"].update({  # noqa: F821
    STEP_ASGI_MODULE: lambda text: _load(text, _module),
    STEP_ASGI_FILE: lambda text: _load(text, _file),
    STEP_ASGI_STARTUP: _startup,
    STEP_ASGI_SHUTDOWN: _shutdown,
    STEP_ASGI_FORKED: _forked,
})
api.asgi = _entry
