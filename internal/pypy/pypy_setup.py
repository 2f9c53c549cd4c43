"""uwsgo's setup module: the Python half of the boundary with Go.

uwsgo runs this file once per process with pypy_execute_source_ptr(); the global
`c_argument` is then the address of `struct uwsgo_api` (internal/pypy/boundary.h). Go
has filled in the functions Python calls (send, sendfile, log, report); this module fills
in the two Go calls (handle, step). cffi is used in ABI mode only (cdef + cast +
callback): nothing is compiled, so no C compiler or header is needed at run time.

Replace this file with `--pypy-setup FILE`; `uwsgo --print-sym uwsgi_pypy_setup` prints
it. A replacement must keep the struct layout and the numbers below.

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

ffi = cffi.FFI()
ffi.cdef("""
struct uwsgo_api {
    long (*send)(long, const char *, long, const char *, long, int);
    long (*sendfile)(long, const char *, long, int, int64_t, int64_t);
    void (*log)(const char *, long);
    void (*report)(int, const char *, long);
    long (*signal)(int, int);
    long (*rpc_reply)(long, const char *, long);
    long (*rpc_call)(const char *, long, const char *, long, char **, long *);
    void (*free)(void *);
    long (*handle)(long, const char *, long, const char *, long, int);
    long (*step)(int, const char *, long);
    long (*deliver_signal)(int);
    long (*rpc)(long, const char *, long);
};
""")
api = ffi.cast("struct uwsgo_api *", c_argument)  # noqa: F821 (set by PyPy)

# Start-up steps Go asks for (pypy.Step in Go).
STEP_PATH, STEP_EVAL, STEP_EXEC, STEP_WSGI_MODULE, STEP_WSGI_FILE, STEP_POST_FORK, STEP_CONFIG = range(1, 8)
STEP_PASTE = 8
# What handle() returns (pypy.Handled ... in Go).
HANDLED, FAILED_BEFORE_HEADERS, FAILED_AFTER_HEADERS, NO_APP = range(4)
# What send() returns.
SEND_CLIENT_GONE, SEND_BAD_STATUS, SEND_BAD_HEADER = -1, -2, -3
# What signal() asks Go for (pypy.Signal* in Go).
SIGNAL_DEFAULT, SIGNAL_IGNORE, SIGNAL_HANDLE = range(3)
# What rpc() returns (pypy.RPC* in Go).
RPC_DONE, RPC_UNKNOWN, RPC_FAILED = 0, -1, -2
# What report() carries.
REPORT_ERROR, REPORT_VERSION, REPORT_APP = 1, 2, 3


def _log(text):
    data = text.encode("utf-8", "replace")
    api.log(data, len(data))


def _report(what, text):
    data = text.encode("utf-8", "replace")
    api.report(what, data, len(data))


# ---------------------------------------------------------------- the uwsgi module

uwsgi = types.ModuleType("uwsgi", "uwsgo's implementation of uWSGI's Python API")
uwsgi.version = b"0.0.0"
uwsgi.numproc = 1
uwsgi.opt = {}
uwsgi.post_fork_hook = None
uwsgi.masterpid = lambda: 0
uwsgi.worker_id = lambda: 1


def _uwsgi_log(message):
    _log(str(message) + "\n")


uwsgi.log = _uwsgi_log
sys.modules["uwsgi"] = uwsgi


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


class _ClientGone(Exception):
    pass


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
    for name, value in headers:
        if not name or any(c in name for c in ' \t\r\n:()<>@,;\\"/[]?={}') or "\r" in value or "\n" in value or "\0" in value:
            return "invalid response header %r" % ((name, value),)
    return "invalid response header"


class _Response(object):
    __slots__ = ("req", "status", "headers", "sent")

    def __init__(self, req):
        self.req = req
        self.status = None
        self.headers = None
        self.sent = False

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
            rc = api.send(self.req, ffi.NULL, 0, data, len(data), final)
        else:
            head = self.head()
            rc = api.send(self.req, head, len(head), data, len(data), final)
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
        rc = api.sendfile(self.req, head, len(head), fd, offset, -1)
        if rc == 1:  # not a regular file: iterate instead
            return False
        if rc < 0:
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
def _handle(req, vars_p, vars_n, body_p, body_n, body_fd):
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
        app = _app
        if app is None:
            return NO_APP
        resp = _Response(req)
        return resp.finish(app(env, resp.start_response))
    except BaseException:
        where = ""
        if env is not None:
            where = " for %s %s" % (env.get("REQUEST_METHOD"), env.get("REQUEST_URI"))
        _log("exception in the app%s:\n%s" % (where, traceback.format_exc()))
        if resp is not None and resp.sent:
            return FAILED_AFTER_HEADERS
        return FAILED_BEFORE_HEADERS
    finally:
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


# ---------------------------------------------------------------- RPC
# uWSGI's RPC: functions registered here answer modifier 173 packets on --socket, and
# uwsgi.rpc()/uwsgi.call() reach them here or on any other uwsgo or uWSGI node. Names,
# arguments and results travel as bytes; str is sent as UTF-8.

_rpc_functions = {}
_RPC_MAX_ITEMS = 255
_RPC_MAX_ITEM = 65535


def _as_bytes(value, what):
    if isinstance(value, bytes):
        return value
    if isinstance(value, str):
        return value.encode("utf-8")
    if isinstance(value, (bytearray, memoryview)):
        return bytes(value)
    raise TypeError("%s must be bytes or str, not %s" % (what, type(value).__name__))


def _rpc_items(name, args):
    items = [_as_bytes(name, "the RPC function name")] + [_as_bytes(a, "an RPC argument") for a in args]
    if len(items) > _RPC_MAX_ITEMS:
        raise ValueError("an RPC call takes at most %d arguments, not %d" % (_RPC_MAX_ITEMS - 1, len(items) - 1))
    for item in items:
        if len(item) > _RPC_MAX_ITEM:
            raise ValueError("an RPC name or argument is at most %d bytes, not %d" % (_RPC_MAX_ITEM, len(item)))
    return items


def _register_rpc(name, func, argc=0):
    if not callable(func):
        raise TypeError("register_rpc() needs a callable, not %s" % type(func).__name__)
    key = _as_bytes(name, "the RPC function name")
    if not key or len(key) > _RPC_MAX_ITEM:
        raise ValueError("an RPC function name must be 1 to %d bytes" % _RPC_MAX_ITEM)
    _rpc_functions[key] = func
    return True


def _result_bytes(result):
    if result is None:
        return b""
    return _as_bytes(result, "an RPC result")


def _rpc(node, name, *args):
    items = _rpc_items(name, args)
    if node is None or node == "" or node == b"":
        func = _rpc_functions.get(items[0])
        if func is None:
            _log("uwsgi.rpc: no local function %r\n" % items[0])
            return None
        return _result_bytes(func(*items[1:]))
    node = _as_bytes(node, "the RPC node")
    packet = b"".join([len(i).to_bytes(2, "little") + i for i in items])
    out = ffi.new("char **")
    outlen = ffi.new("long *")
    if api.rpc_call(node, len(node), packet, len(packet), out, outlen) != 0:
        return None  # Go logged why
    try:
        return ffi.unpack(out[0], outlen[0]) if outlen[0] else b""
    finally:
        api.free(out[0])


def _call(spec, *args):
    spec = spec.decode("utf-8") if isinstance(spec, bytes) else spec
    name, _, node = spec.partition("@")
    return _rpc(node or None, name, *args)


def _rpc_list():
    return tuple(_rpc_functions)


uwsgi.register_rpc = _register_rpc
uwsgi.rpc = _rpc
uwsgi.call = _call
uwsgi.rpc_list = _rpc_list


@ffi.callback("long(long, const char *, long)")
def _rpc_dispatch(req, items_p, n):
    data = ffi.unpack(items_p, n)
    items = []
    i = 0
    while i < n:
        size = data[i] | data[i + 1] << 8
        items.append(data[i + 2:i + 2 + size])
        i += 2 + size
    func = _rpc_functions.get(items[0])
    if func is None:
        return RPC_UNKNOWN
    try:
        result = _result_bytes(func(*items[1:]))
    except BaseException:
        _log("exception in RPC function %r:\n%s" % (items[0], traceback.format_exc()))
        return RPC_FAILED
    api.rpc_reply(req, result, len(result))
    return RPC_DONE


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


def _set_app(app, what):
    global _app
    if not callable(app):
        raise TypeError("%s is %r, which is not callable" % (what, app))
    _app = app
    uwsgi.applications = {"": app}
    _report(REPORT_APP, what)


def _load_module(spec):
    import importlib

    name, _, attr = spec.partition(":")
    module = importlib.import_module(name)
    app = module
    for part in (attr or "application").split("."):
        if not hasattr(app, part):
            raise AttributeError("module %r has no callable %r (from --pypy-wsgi %s)" % (name, attr or "application", spec))
        app = getattr(app, part)
    _set_app(app, "%s:%s" % (name, attr or "application"))


def _load_file(path):
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
    if not hasattr(module, "application"):
        raise AttributeError("%s defines no callable named 'application'" % path)
    _set_app(module.application, "%s:application" % path)


class _UserError(Exception):
    """A start-up error whose message says everything: reported without a traceback."""


def _load_paste(spec):
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
    _set_app(loadapp("config:" + path), "config:" + path)


def _post_fork(_):
    hook = getattr(uwsgi, "post_fork_hook", None)
    if hook is not None:
        hook()


def _configure(text):
    conf = json.loads(text)
    uwsgi.version = conf["version"].encode()
    uwsgi.numproc = conf["processes"]
    worker_id, master_pid = conf["worker_id"], conf["master_pid"]
    uwsgi.worker_id = lambda: worker_id
    uwsgi.masterpid = lambda: master_pid
    uwsgi.opt = {k: (v[0] if len(v) == 1 else v) for k, v in ((k, [x.encode() for x in vs]) for k, vs in conf["options"])}
    _base["wsgi.multithread"] = conf["threads"] > 1
    _base["wsgi.multiprocess"] = conf["processes"] > 1


_steps = {
    STEP_PATH: _add_path,
    STEP_EVAL: lambda code: _run_source(code, "<pypy-eval>"),
    STEP_EXEC: _run_file,
    STEP_WSGI_MODULE: _load_module,
    STEP_WSGI_FILE: _load_file,
    STEP_POST_FORK: _post_fork,
    STEP_CONFIG: _configure,
    STEP_PASTE: _load_paste,
}


@ffi.callback("long(int, const char *, long)")
def _step(what, arg_p, arg_n):
    try:
        arg = ffi.unpack(arg_p, arg_n).decode("utf-8", "surrogateescape") if arg_n else ""
        _steps[what](arg)
        return 0
    except _UserError as e:
        _report(REPORT_ERROR, "%s\n" % e)
        return -1
    except BaseException:
        _report(REPORT_ERROR, traceback.format_exc())
        return -1


api.handle = _handle
api.step = _step
api.deliver_signal = _deliver_signal
api.rpc = _rpc_dispatch
# The callbacks must outlive this module's namespace: keep them where the process keeps uwsgi.
uwsgi._uwsgo_keep = (ffi, _handle, _step, _deliver_signal, _rpc_dispatch)
sys.path.insert(0, "")
_report(REPORT_VERSION, "PyPy %s (Python %s)" % (".".join(map(str, sys.pypy_version_info[:3])), sys.version.split()[0]))
