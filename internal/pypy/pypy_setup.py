"""uwsgo's setup module: the Python half of the boundary with Go.

uwsgo runs this file once per process with pypy_execute_source_ptr(); the global
`c_argument` is then the address of `struct uwsgo_api` (internal/pypy/boundary.h). Go
has filled in the functions Python calls (send, sendfile, log, report, call ...); this
module fills in the ones Go calls (handle, step, rpc, the signal deliveries). cffi is used
in ABI mode only (cdef + cast + callback): nothing is compiled, so no C compiler or header
is needed at run time.

Replace this file with `--pypy-setup FILE`; `uwsgo --print-sym uwsgi_pypy_setup` prints
it. A replacement finds the contract already in its namespace, as this file does:
UWSGO_API_CDEF (struct uwsgo_api, from boundary.h), the operations (OP_*) and every
result code and step number (internal/pypy/contract.go is the table).

The uwsgi module is a file of its own (uwsgi_module.py), whose text arrives here as
UWSGI_MODULE_SOURCE: this module runs it as the module's body (see "the uwsgi module"
below), and a replacement can do the same or run a module of its own.

The request path is kept short on purpose: Go has already read the whole request and
encoded its CGI variables as a uwsgi vars block; here it becomes the environ, the app
runs, and the response goes back in one call when the app returns a list.
"""

import io
import json
import os
import sys
import traceback
import types

import cffi
from _thread import get_ident as _get_ident

ffi = cffi.FFI()
# The contract's names (UWSGO_API_CDEF, OP_*, STEP_*, SEND_*, HANDLED ...) are in this
# module's namespace before it runs: Go puts them there from its one table
# (internal/pypy/contract.go), so this file defines none of them.
ffi.cdef(UWSGO_API_CDEF)  # noqa: F821 (and so are the names below)
api = ffi.cast("struct uwsgo_api *", c_argument)  # noqa: F821 (set by PyPy)


def _log(text):
    data = text.encode("utf-8", "replace")
    api.log(data, len(data))


def _report(what, text):
    data = text.encode("utf-8", "replace")
    api.report(what, data, len(data))


# ---------------------------------------------------------------- WSGI


class FileWrapper(object):
    """wsgi.file_wrapper: a real file goes out with sendfile(2), anything else is read."""

    def __init__(self, filelike, blksize=65536):
        self.filelike = filelike
        self.blksize = blksize
        close = getattr(filelike, "close", None)
        if close is not None:
            self.close = close

    def __iter__(self):
        return self

    def __next__(self):
        data = self.filelike.read(self.blksize)
        if data:
            return data
        raise StopIteration


class _NoBody(object):
    """wsgi.input of a request without a body: stateless, so one serves all."""

    __slots__ = ()

    def read(self, size=-1):
        return b""

    def readline(self, size=-1):
        return b""

    def readlines(self, hint=-1):
        return []

    def __iter__(self):
        return iter(())


_no_body = _NoBody()


class _ClientGone(OSError):
    """What write() raises once nobody listens: the client left, or the request ended."""

    def __init__(self):
        OSError.__init__(self, "the client is gone, or the request has ended")


_base = {
    "wsgi.version": (1, 0),
    "wsgi.url_scheme": "http",
    "wsgi.errors": sys.stderr,
    "wsgi.multithread": False,
    "wsgi.multiprocess": False,
    "wsgi.run_once": False,
    "wsgi.file_wrapper": FileWrapper,
    "wsgi.input_terminated": True,
}
_app = None
_current = {}  # thread ident -> (handle, environ, response, request id) of the request it runs
_request_ids = __import__("itertools").count(1)


def _environ(data):
    """Decodes a uwsgi vars block (u16-LE length, key, u16-LE length, value ...)."""
    env = _base.copy()
    i = 0
    n = len(data)
    while i < n:
        j = i + 2 + (data[i] | data[i + 1] << 8)
        key = data[i + 2:j].decode("latin-1")
        i = j + 2 + (data[j] | data[j + 1] << 8)
        env[key] = data[j + 2:i].decode("latin-1")
    return env


def _bad_head(status, headers, code):
    """Names what Go refused, for the traceback the user will read."""
    if code == SEND_BAD_STATUS:
        return "invalid status %r: it must be a 3-digit code, a space and a reason" % (status,)
    if code == SEND_BAD_CALL:
        return "send or sendfile refused its arguments: a negative length or descriptor"
    if code != SEND_BAD_HEADER:
        return "send or sendfile failed with code %d" % code
    for name, value in headers:
        if not name or any(c in name for c in ' \t\r\n:()<>@,;\\"/[]?={}') or "\r" in value or "\n" in value or "\0" in value:
            return "invalid response header %r" % ((name, value),)
    return "invalid response header"


class _Response(object):
    __slots__ = ("handle", "status", "headers", "sent", "upgraded")

    def __init__(self, handle):
        self.handle = handle
        self.status = None
        self.headers = None
        self.sent = False
        self.upgraded = False

    def start_response(self, status, headers, exc_info=None):
        if exc_info is not None:
            try:
                if self.sent:
                    raise exc_info[1].with_traceback(exc_info[2])
            finally:
                exc_info = None
        elif self.status is not None:
            raise AssertionError("start_response() called a second time without exc_info")
        if type(status) is not str:
            raise TypeError("the status must be a str, not %s" % type(status).__name__)
        if type(headers) is not list:
            raise TypeError("the headers must be a list of (name, value) tuples, not %s" % type(headers).__name__)
        self.status = status
        self.headers = headers
        return self.write

    def head(self):
        """Status, then a line per header: name NUL value. NUL never survives Go's checks
        of a name or a value, so a CR, LF or colon hidden in one cannot forge a header."""
        if self.status is None:
            raise AssertionError("the app did not call start_response()")
        parts = [self.status, "\r\n"]
        for name, value in self.headers:
            if type(name) is not str or type(value) is not str:
                raise TypeError("response header %r: names and values must be str" % ((name, value),))
            parts += (name, "\0", value, "\r\n")
        return "".join(parts).encode("latin-1")

    def send(self, data, final):
        if self.sent:
            rc = api.send(self.handle, ffi.NULL, 0, data, len(data), final)
        else:
            head = self.head()
            rc = api.send(self.handle, head, len(head), data, len(data), final)
        if rc < 0:
            if rc == SEND_CLIENT_GONE:
                raise _ClientGone()
            raise ValueError(_bad_head(self.status, self.headers, rc))
        self.sent = True

    def write(self, data):
        """The legacy write() callable start_response returns (PEP 3333)."""
        if type(data) is not bytes:
            raise TypeError("write() takes bytes, not %s" % type(data).__name__)
        self.send(data, 0)

    def sendfile(self, wrapper):
        f = wrapper.filelike
        try:
            fd = f.fileno()
            offset = f.tell()
        except (AttributeError, OSError, io.UnsupportedOperation):
            return False
        head = b"" if self.sent else self.head()
        rc = api.sendfile(self.handle, head, len(head), fd, offset, -1)
        if rc == SEND_NOT_REGULAR:
            return False
        if rc != SEND_OK:
            if rc == SEND_CLIENT_GONE:
                raise _ClientGone()
            raise ValueError(_bad_head(self.status, self.headers, rc))
        self.sent = True
        return True

    def finish(self, result):
        try:
            if type(result) is list and not self.sent:
                self.send(b"".join(result), 1)
                return HANDLED
            if type(result) is FileWrapper and self.sendfile(result):
                return HANDLED
            for chunk in result:
                if type(chunk) is not bytes:
                    raise TypeError("the app yielded %s, not bytes" % type(chunk).__name__)
                if chunk:
                    self.send(chunk, 0)
            self.send(b"", 1)
            return HANDLED
        except _ClientGone:
            return HANDLED
        finally:
            close = getattr(result, "close", None)
            if close is not None:
                close()


@ffi.callback("long(long, const char *, long, const char *, long, int)")
def _handle(handle, vars_p, vars_n, body_p, body_n, body_fd):
    env = None
    resp = None
    inp = _no_body
    try:
        env = _environ(ffi.unpack(vars_p, vars_n))
        if body_fd >= 0:
            inp = io.open(os.dup(body_fd), "rb")
        elif body_n > 0:
            inp = io.BytesIO(ffi.unpack(body_p, body_n))
        env["wsgi.input"] = inp
        scheme = env.get("UWSGI_SCHEME")
        if scheme:
            env["wsgi.url_scheme"] = scheme
        elif env.get("HTTPS", "off").lower() in ("on", "1", "true"):
            env["wsgi.url_scheme"] = "https"  # nginx's uwsgi_params say HTTPS=on
        app = _app
        if app is None:
            return NO_APP
        resp = _Response(handle)
        _current[_get_ident()] = (handle, env, resp, next(_request_ids))
        result = app(env, resp.start_response)
        if resp.upgraded:
            # The app spoke WebSocket on the connection: no HTTP response follows.
            close = getattr(result, "close", None)
            if close is not None:
                close()
            return HANDLED
        return resp.finish(result)
    except BaseException:
        where = ""
        if env is not None:
            where = " for %s %s" % (env.get("REQUEST_METHOD"), env.get("REQUEST_URI"))
        _log("exception in the app%s:\n%s" % (where, traceback.format_exc()))
        if resp is not None and (resp.sent or resp.upgraded):
            return FAILED_AFTER_HEADERS
        return FAILED_BEFORE_HEADERS
    finally:
        _current.pop(_get_ident(), None)
        if body_fd >= 0 and inp is not _no_body:
            inp.close()


# ---------------------------------------------------------------- signals
# Go owns the process's signals: PyPy's own handler would take a signal away from Go
# without a word. signal.signal() asks Go to watch the signal instead, and Go calls
# _deliver_signal when it comes. Go refuses (and logs why) the signals it uses itself.

import signal as _signal

_signal_handlers = {}
_pypy_getsignal = _signal.getsignal


def _uwsgo_signal(signalnum, handler):
    signum = int(signalnum)
    if not 1 <= signum < _signal.NSIG:
        raise ValueError("signal number out of range")
    if handler == _signal.SIG_DFL:
        disposition = SIGNAL_DEFAULT
    elif handler == _signal.SIG_IGN:
        disposition = SIGNAL_IGNORE
    elif callable(handler):
        disposition = SIGNAL_HANDLE
    else:
        raise TypeError("signal handler must be signal.SIG_IGN, signal.SIG_DFL, or a callable object")
    previous = _uwsgo_getsignal(signum)
    api.signal(signum, disposition)
    _signal_handlers[signum] = handler
    return previous


def _uwsgo_getsignal(signalnum):
    signum = int(signalnum)
    if signum in _signal_handlers:
        return _signal_handlers[signum]
    return _pypy_getsignal(signum)


@ffi.callback("long(int)")
def _deliver_signal(signum):
    handler = _signal_handlers.get(signum)
    if callable(handler):
        try:
            handler(signum, None)
        except BaseException:
            _log("exception in the handler of signal %d:\n%s" % (signum, traceback.format_exc()))
    return 0


_signal.signal = _uwsgo_signal
_signal.getsignal = _uwsgo_getsignal


# ---------------------------------------------------------------- the uwsgi module
# Its own file (uwsgi_module.py, UWSGI_MODULE_SOURCE here) is the module's body, run in
# the module's namespace; _boundary is all it takes from this one.

uwsgi = types.ModuleType("uwsgi", "uwsgo's implementation of uWSGI's Python API")
uwsgi._boundary = types.SimpleNamespace(
    api=api, ffi=ffi, log=_log, current=_current, FileWrapper=FileWrapper,
    run_file=lambda path: _run_file(path),
    **{name: value for name, value in globals().items() if name.startswith(("OP_", "RPC_"))})
exec(compile(UWSGI_MODULE_SOURCE, "<uwsgi module>", "exec"), uwsgi.__dict__)  # noqa: F821
sys.modules["uwsgi"] = uwsgi



# ---------------------------------------------------------------- the log
# The app's print() and logging output goes to Go a line at a time (api.log), and Go
# writes each line to the log with the worker's prefix, like its own lines. Each thread
# keeps its own unfinished line, so concurrent prints do not mix within a line. Nothing
# here runs for a request that prints nothing.

import threading as _threading


class _LogStream(io.TextIOBase):
    """sys.stdout/sys.stderr: line-buffered text that reaches uwsgo's log."""

    encoding = "utf-8"
    errors = "backslashreplace"
    line_buffering = True

    def __init__(self, name, fd):
        self.name = name
        self._fd = fd
        self._pending = _threading.local()
        self.buffer = _LogBuffer(self)

    def writable(self):
        return True

    def isatty(self):
        return False

    def fileno(self):
        # The real descriptor (the log file or the service's stderr): what writes to it
        # directly, such as faulthandler, still lands in the log, without the prefix.
        return self._fd

    def write(self, text):
        if type(text) is not str:
            raise TypeError("write() argument must be str, not %s" % type(text).__name__)
        head = getattr(self._pending, "text", "")
        end = text.rfind("\n")
        if end < 0:
            self._pending.text = head + text
        else:
            self._pending.text = text[end + 1:]
            _log(head + text[:end + 1])
        return len(text)

    def flush(self):
        text = getattr(self._pending, "text", "")
        if text:
            self._pending.text = ""
            _log(text + "\n")


class _LogBuffer(io.BufferedIOBase):
    """sys.stdout.buffer: bytes written there are decoded as UTF-8 and logged as text."""

    def __init__(self, stream):
        self._stream = stream

    def writable(self):
        return True

    def fileno(self):
        return self._stream.fileno()

    def write(self, data):
        self._stream.write(bytes(data).decode("utf-8", "backslashreplace"))
        return len(data)

    def flush(self):
        self._stream.flush()


def _capture_output():
    """Sends the app's output to the log. Not with --honour-stdin: an interactive session
    (the seed's IPython trick) needs the terminal's own streams."""
    sys.stdout = _LogStream("<stdout>", 1)
    sys.stderr = _LogStream("<stderr>", 2)
    _base["wsgi.errors"] = sys.stderr



# ---------------------------------------------------------------- start-up steps

_main = sys.modules.get("__main__")
if _main is None:
    _main = sys.modules["__main__"] = types.ModuleType("__main__")
_path_front = 0


def _add_path(directory):
    global _path_front
    sys.path.insert(_path_front, directory)
    _path_front += 1


def _run_source(code, filename):
    exec(compile(code, filename, "exec"), _main.__dict__)


def _run_file(path):
    with open(path, "rb") as f:
        code = f.read()
    _main.__dict__["__file__"] = path
    _run_source(code, path)


def _checked(app, what):
    if not callable(app):
        raise TypeError("%s is %r, which is not callable" % (what, app))
    return app, what


def _set_app(app, what):
    _install(app)
    uwsgi.applications = {"": app}
    uwsgi.applist = (what,)
    _report(REPORT_APP, what)


# --mount PREFIX=APP: more apps, chosen by SCRIPT_NAME (as nginx's uwsgi_param sets it)
# or, with --manage-script-name, by the longest PREFIX that PATH_INFO starts with, which
# then moves from PATH_INFO to SCRIPT_NAME. The app loaded without --mount, if any,
# answers the rest. Without mounts none of this is on the request path.
_mounts = []  # (prefix, app), longest prefix first
_default_app = None
_manage_script_name = False


def _dispatch(environ, start_response):
    if _manage_script_name:
        path = environ.get("PATH_INFO", "")
        for prefix, app in _mounts:
            if path == prefix or path.startswith(prefix + "/"):
                environ["SCRIPT_NAME"] = environ.get("SCRIPT_NAME", "") + prefix
                environ["PATH_INFO"] = path[len(prefix):]
                return app(environ, start_response)
    else:
        script = environ.get("SCRIPT_NAME", "").rstrip("/")
        for prefix, app in _mounts:
            if script == prefix:
                return app(environ, start_response)
    if _default_app is not None:
        return _default_app(environ, start_response)
    start_response("404 Not Found", [("Content-Type", "text/plain")])
    return [b"no app is mounted here\n"]


def _mount(spec):
    global _default_app
    prefix, _, target = spec.partition("=")
    prefix = prefix.rstrip("/")
    if target.startswith("config:") or target.endswith(".ini"):
        app, what = _paste_app(target)
    elif target.endswith(".py") or os.path.isfile(target):
        app, what = _file_app(target)
    else:
        app, what = _module_app(target)
    if not _mounts:
        _default_app = _target
        uwsgi.applist = uwsgi.applist if _target is not None else ()
        uwsgi.applications = dict(uwsgi.applications) if _target is not None else {}
    _mounts.append((prefix, app))
    _mounts.sort(key=lambda m: -len(m[0]))
    uwsgi.applications[prefix] = app
    uwsgi.applist += ("%s=%s" % (prefix, what),)
    _install(_dispatch)
    _report(REPORT_APP, ", ".join(uwsgi.applist))


# ---------------------------------------------------------------- internal routing
# uWSGI's request chain (--route and friends, as its InternalRouting page describes): rules
# tried in order before the app; a rule's regexp (or --route-if check) matching runs its
# action, which goes on to the next rule (NEXT), passes the request to the app (CONTINUE)
# or answers it itself (BREAK). Without rules, none of this is on the request path.

_target = None  # the app (or the mount dispatcher) requests go to after the rules
_routes = []  # (option, compiled regexp or "CHECK:ARGS" or None, action, its argument)
_labels = {}  # route-label name -> index in _routes

_SUBJECTS = {
    "route": "PATH_INFO", "route-uri": "REQUEST_URI", "route-qs": "QUERY_STRING",
    "route-host": "HTTP_HOST", "route-remote-addr": "REMOTE_ADDR", "route-referer": "HTTP_REFERER",
    "route-user-agent": "HTTP_USER_AGENT", "route-remote-user": "REMOTE_USER",
}


def _install(app):
    global _app, _target
    _target = app
    _app = _route if _routes else app


def _compile_routes(pairs):
    import re

    for name, value in pairs:
        if name == "route-label":
            _labels[value] = len(_routes)
            continue
        if name == "route-run":
            cond, action = None, value
        else:
            cond, _, action = value.partition(" ")
            action = action.strip()
        verb, _, arg = action.partition(":")
        if name in _SUBJECTS:
            try:
                cond = re.compile(cond)
            except re.error as e:
                raise _UserError("--%s %s: %s is not a regular expression: %s" % (name, value, cond, e))
        _routes.append((name, cond, verb, arg))


def _expand(text, environ, groups):
    """$1..$9 are the regexp's groups; ${VAR} a request variable, ${qs[NAME]} a query
    string item, ${cookie[NAME]} a cookie."""
    if "$" not in text:
        return text
    out, i = [], 0
    while i < len(text):
        c = text[i]
        if c == "$" and i + 1 < len(text) and text[i + 1].isdigit():
            n = int(text[i + 1])
            out.append((groups[n] if n < len(groups) else None) or "")
            i += 2
        elif c == "$" and text.startswith("{", i + 1) and "}" in text[i + 2:]:
            end = text.index("}", i + 2)
            name = text[i + 2:end]
            if name.startswith("qs[") and name.endswith("]"):
                from urllib.parse import parse_qs

                out.append(parse_qs(environ.get("QUERY_STRING", "")).get(name[3:-1], [""])[0])
            elif name.startswith("cookie[") and name.endswith("]"):
                from http.cookies import SimpleCookie

                morsel = SimpleCookie(environ.get("HTTP_COOKIE", "")).get(name[7:-1])
                out.append(morsel.value if morsel else "")
            else:
                out.append(str(environ.get(name, "")))
            i = end + 1
        else:
            out.append(c)
            i += 1
    return "".join(out)


def _number(s):
    try:
        return float(s)
    except ValueError:
        return None


# --route-if checks: each takes the expanded "SUBJECT;PATTERN" and returns the match's
# groups (a tuple, possibly empty) or None.
def _check(name, args):
    import re

    subject, _, pattern = args.partition(";")
    if name == "exists":
        return () if os.path.exists(subject) else None
    if name == "isfile":
        return () if os.path.isfile(subject) else None
    if name == "isdir":
        return () if os.path.isdir(subject) else None
    if name == "isexec":
        return () if os.path.isfile(subject) and os.access(subject, os.X_OK) else None
    if name == "empty":
        return () if subject == "" else None
    if name in ("equal", "isequal", "eq", "=="):
        return () if subject == pattern else None
    if name == "startswith":
        return () if subject.startswith(pattern) else None
    if name == "endswith":
        return () if subject.endswith(pattern) else None
    if name in ("contains", "contain"):
        return () if pattern in subject else None
    if name in ("regexp", "re"):
        m = re.search(pattern, subject)
        return (m.group(0),) + m.groups() if m else None
    a, b = _number(subject), _number(pattern)
    if a is None or b is None:
        return None
    ok = {"ishigherequal": a >= b, ">=": a >= b, "ishigher": a > b, ">": a > b,
          "islower": a < b, "<": a < b, "islowerequal": a <= b, "<=": a <= b}[name]
    return () if ok else None


def _status_line(text, default):
    from http import HTTPStatus

    text = text.strip() or default
    code, _, reason = text.partition(" ")
    if not reason:
        try:
            reason = HTTPStatus(int(code)).phrase
        except ValueError:
            reason = "Unknown"
    return "%s %s" % (code, reason)


def _route(environ, start_response):
    add, remove = [], set()

    def answer(status, headers):
        headers = [h for h in headers if h[0].lower() not in remove] + add
        start_response(status, headers)
        return [b""]

    i = 0
    while i < len(_routes):
        kind, cond, verb, arg = _routes[i]
        i += 1
        if kind in _SUBJECTS:
            m = cond.search(str(environ.get(_SUBJECTS[kind], "")))
            if m is None:
                continue
            groups = (m.group(0),) + m.groups()
        elif kind in ("route-if", "route-if-not"):
            check, _, args = cond.partition(":")
            groups = _check(check, _expand(args, environ, ()))
            if (groups is None) == (kind == "route-if"):
                continue
            groups = groups or ()
        else:
            groups = ()
        arg = _expand(arg, environ, groups)
        if verb in ("continue", "last"):
            break
        if verb in ("break", "return", "break-with-status"):
            if verb == "break" and not arg.strip():
                # "Close the request": no response at all, as a taken-over connection.
                uwsgi._request()[2].upgraded = True
                return []
            return answer(_status_line(arg, "500"), [("Content-Type", "text/plain")])
        if verb in ("redirect", "redirect-302"):
            return answer("302 Found", [("Location", arg)])
        if verb in ("redirect-permanent", "redirect-301"):
            return answer("301 Moved Permanently", [("Location", arg)])
        if verb in ("rewrite", "rewrite-last"):
            path, q, qs = arg.partition("?")
            environ["PATH_INFO"] = path
            if q:
                environ["QUERY_STRING"] = qs
            if verb == "rewrite-last":
                break
        elif verb == "addheader":
            name, _, value = arg.partition(":")
            add.append((name.strip(), value.strip()))
        elif verb in ("delheader", "remheader"):
            remove.add(arg.strip().lower())
        elif verb == "addvar":
            name, _, value = arg.partition("=")
            environ[name] = value
        elif verb == "log":
            _log(arg + "\n")
        elif verb == "logvar":
            name, _, value = arg.partition("=")
            uwsgi.set_logvar(name, value)
        elif verb == "fixpathinfo":
            # PATH_INFO without the SCRIPT_NAME a proxy left at its start.
            script, path = environ.get("SCRIPT_NAME", ""), environ.get("PATH_INFO", "")
            if script and path.startswith(script):
                environ["PATH_INFO"] = path[len(script):]
        elif verb == "goto":
            i = _labels[arg] if arg in _labels else int(arg)
    if not add and not remove:
        return _target(environ, start_response)

    def routed_start_response(status, headers, exc_info=None):
        return start_response(status, [h for h in headers if h[0].lower() not in remove] + add, exc_info)

    return _target(environ, routed_start_response)


# The app's name in a module or file: --callable, as uWSGI's CPython plugin calls it.
_callable = "application"


def _module_app(spec):
    import importlib

    name, _, attr = spec.partition(":")
    attr = attr or _callable
    module = importlib.import_module(name)
    app = module
    for part in attr.split("."):
        if not hasattr(app, part):
            raise AttributeError("module %r has no callable %r (from --pypy-wsgi %s)" % (name, attr, spec))
        app = getattr(app, part)
    return _checked(app, "%s:%s" % (name, attr))


def _file_app(path):
    import importlib.machinery
    import importlib.util

    path = os.path.abspath(path)
    name = "uwsgi_file_" + "".join(c if c.isalnum() else "_" for c in path)
    loader = importlib.machinery.SourceFileLoader(name, path)
    spec = importlib.util.spec_from_file_location(name, path, loader=loader)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        loader.exec_module(module)
    except BaseException:
        del sys.modules[name]
        raise
    if not hasattr(module, _callable):
        raise AttributeError("%s defines no callable named %r" % (path, _callable))
    return _checked(getattr(module, _callable), "%s:%s" % (path, _callable))


def _virtualenv(path):
    """--virtualenv DIR: the site-packages of a PyPy virtualenv (with its .pth files) on
    sys.path, after the standard library as in the virtualenv's own interpreter. PyPy itself
    stays the one uwsgo loaded: a virtualenv's interpreter is only a link to it."""
    import glob
    import site

    path = os.path.abspath(path)
    try:
        os.listdir(path)
    except OSError as e:  # missing, not a directory, or not readable by this user
        raise _UserError("--virtualenv %s: %s (as uid %d)" % (path, e.strerror, os.getuid()))
    want = "pypy%d.%d" % sys.version_info[:2]
    # PyPy 3.8 and later use lib/pypy3.X; older PyPy virtualenvs kept site-packages at the top.
    for d in (os.path.join(path, "lib", want, "site-packages"), os.path.join(path, "site-packages")):
        if os.path.isdir(d):
            site.addsitedir(d)
            return
    found = sorted(os.path.basename(os.path.dirname(d)) for d in glob.glob(os.path.join(path, "lib", "*", "site-packages")))
    if any(f.startswith("python") for f in found):
        raise _UserError("--virtualenv %s is a CPython virtualenv (lib/%s): its packages cannot run on PyPy; "
                         "make a PyPy one with pypy3 -m venv and install the app's requirements there" % (path, found[0]))
    if found:
        raise _UserError("--virtualenv %s was made for %s, but uwsgo runs %s (%s): make it again with this PyPy"
                         % (path, found[0], want, sys.executable))
    raise _UserError("--virtualenv %s is not a virtualenv: it has no lib/%s/site-packages" % (path, want))


class _UserError(Exception):
    """A start-up error whose message says everything: reported without a traceback."""


def _paste_app(spec):
    """--pypy-paste [config:]FILE: PasteDeploy's loadapp, after logging is configured from
    the same file when it has logging sections (as pserve and uWSGI do)."""
    path = os.path.abspath(spec[len("config:"):] if spec.startswith("config:") else spec)
    if not os.path.isfile(path):
        raise _UserError("%s: no such file" % path)
    try:
        from paste.deploy import loadapp
    except ImportError as e:
        raise _UserError("loading %s needs PasteDeploy (Debian: apt-get install python3-pastedeploy; "
                         "or pip install PasteDeploy for this PyPy): %s" % (path, e))
    import configparser

    # ConfigParser's names for the file, as PasteDeploy and pyramid's setup_logging define them.
    names = {"here": os.path.dirname(path), "__file__": path}
    # Read it once here so that a syntax error names the file and the line, and so that a
    # file without logging sections is left alone (fileConfig would fail on it).
    parser = configparser.ConfigParser(names)
    try:
        with open(path, encoding="utf-8") as f:
            parser.read_file(f, path)
    except configparser.Error as e:
        errors = getattr(e, "errors", None)
        line = getattr(e, "lineno", None) or (errors[0][0] if errors else None)
        raise _UserError("%s%s: %s" % (path, ":%d" % line if line else "", e))
    if parser.has_section("loggers"):
        import logging.config

        # Loggers created before (by --pypy-exec code, say) keep working.
        logging.config.fileConfig(path, names, disable_existing_loggers=False)
    return _checked(loadapp("config:" + path), "config:" + path)


def _post_fork(_):
    hook = getattr(uwsgi, "post_fork_hook", None)
    if hook is not None:
        hook()


def _configure(text):
    conf = json.loads(text)
    uwsgi.version = conf["version"].encode()
    uwsgi.numproc = conf["processes"]
    worker_id, master_pid = conf["worker_id"], conf["master_pid"]
    uwsgi._role.update(role=conf.get("role", ""), id=worker_id)
    if uwsgi._role["role"]:
        worker_id = 0  # mules and spoolers are not workers
    uwsgi.worker_id = lambda: worker_id
    uwsgi.masterpid = lambda: master_pid
    given = {}
    for name, value in conf["options"]:
        given.setdefault(name, []).append(value.encode())
    uwsgi.opt = {k: (v[0] if len(v) == 1 else v) for k, v in given.items()}
    global _callable, _manage_script_name
    if "callable" in given:
        _callable = given["callable"][-1].decode()
    _manage_script_name = given.get("manage-script-name", [b"false"])[-1] == b"true"
    _compile_routes((n, v) for n, v in conf["options"] if n == "route" or n.startswith("route-"))
    uwsgi.buffer_size = conf.get("buffer_size", 65535)
    uwsgi.cores = conf["threads"]
    major, minor, rev = (int(x) for x in conf["version"].split(".")[:3])
    uwsgi.version_info = (major, minor, rev, 0, "uwsgo")
    if conf.get("capture_output", True):
        _capture_output()
    if not sys.argv:
        # Embedded, PyPy leaves it empty, which runpy and argparse cannot take; uWSGI's
        # plugin gives the binary's path.
        sys.argv = [conf["binary"]]
    _base["wsgi.multithread"] = conf["threads"] > 1
    _base["wsgi.multiprocess"] = conf["processes"] > 1


_steps = {
    STEP_PATH: _add_path,
    STEP_EVAL: lambda code: _run_source(code, "<pypy-eval>"),
    STEP_EXEC: _run_file,
    STEP_WSGI_MODULE: lambda spec: _set_app(*_module_app(spec)),
    STEP_WSGI_FILE: lambda path: _set_app(*_file_app(path)),
    STEP_POST_FORK: _post_fork,
    STEP_CONFIG: _configure,
    STEP_MULE_LOOP: uwsgi._mule_loop,
    STEP_SPOOLER_LOOP: uwsgi._spooler_loop,
    STEP_PASTE: lambda spec: _set_app(*_paste_app(spec)),
    STEP_MOUNT: _mount,
    STEP_VIRTUALENV: _virtualenv,
}


def _failed(err_p, errcap, text):
    """A step's failure goes back with the call: as much as fits, and the whole length."""
    data = text.encode("utf-8", "replace") or b"?"
    ffi.memmove(err_p, data, min(len(data), errcap))
    return len(data)


@ffi.callback("long(int, const char *, long, char *, long)")
def _step(what, arg_p, arg_n, err_p, errcap):
    try:
        arg = ffi.unpack(arg_p, arg_n).decode("utf-8", "surrogateescape") if arg_n else ""
        _steps[what](arg)
        return 0
    except _UserError as e:
        return _failed(err_p, errcap, "%s\n" % e)
    except BaseException:
        return _failed(err_p, errcap, traceback.format_exc())


api.handle = _handle
api.step = _step
api.deliver_signal = _deliver_signal
api.rpc = uwsgi._rpc_dispatch
api.uwsgi_signal = uwsgi._uwsgi_signal
# The callbacks must outlive this module's namespace: keep them where the process keeps uwsgi.
uwsgi._uwsgo_keep = (ffi, _handle, _step, _deliver_signal)
sys.path.insert(0, "")
_report(REPORT_VERSION, "PyPy %s (Python %s)" % (".".join(map(str, sys.pypy_version_info[:3])), sys.version.split()[0]))
