"""uwsgo's uwsgi module: uWSGI's Python API, as apps import it (import uwsgi).

This file is the module's body: the setup module (pypy_setup.py) runs it with the
module's own namespace as its globals, as Python runs a module's file, so every public
top-level name below is the module's API, and nothing else is. Private names start with
an underscore, imports included.

Before it runs, the setup module puts one name in that namespace, _boundary, with what
the module uses of the boundary with Go: api and ffi (struct uwsgo_api and its cffi
instance), log (a text to uwsgo's log), current (thread ident -> (handle, environ,
response, request id) of the request that thread runs), FileWrapper, run_file (runs a
script as __main__), and the contract's numbers (OP_*, RPC_*). The setup module, in
turn, takes from here the callbacks Go calls (_rpc_dispatch, _uwsgi_signal), the mule
and spooler loops (_mule_loop, _spooler_loop) and _role, which its configuration step
fills in. The configuration step also sets buffer_size, cores, version_info and, with
the app, applications and applist.

uwsgo embeds this file; a --pypy-setup replacement finds it in its namespace as
UWSGI_MODULE_SOURCE and runs it the same way (or its own).
"""

import errno as _errno
import json as _json
import os as _os
import select as _select
import socket as _socket
import sys as _sys
import time as _time
import traceback as _traceback
from _thread import get_ident as _get_ident

_api = _boundary.api  # noqa: F821 (put here by the setup module, as all of _boundary)
_ffi = _boundary.ffi  # noqa: F821
_log = _boundary.log  # noqa: F821
_current = _boundary.current  # noqa: F821

version = b"0.0.0"
numproc = 1
opt = {}
post_fork_hook = None
hostname = _socket.gethostname().encode()
started_on = int(_time.time())


def masterpid():
    return 0


def worker_id():
    return 1


def log(message):
    _log(str(message) + "\n")


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


def register_rpc(name, func, argc=0):
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


def rpc(node, name, *args):
    items = _rpc_items(name, args)
    if node is None or node == "" or node == b"":
        func = _rpc_functions.get(items[0])
        if func is None:
            _log("uwsgi.rpc: no local function %r\n" % items[0])
            return None
        return _result_bytes(func(*items[1:]))
    node = _as_bytes(node, "the RPC node")
    packet = b"".join([len(i).to_bytes(2, "little") + i for i in items])
    out = _ffi.new("char **")
    outlen = _ffi.new("long *")
    if _api.rpc_call(node, len(node), packet, len(packet), out, outlen) != 0:
        return None  # Go logged why
    try:
        return _ffi.unpack(out[0], outlen[0]) if outlen[0] else b""
    finally:
        _api.free(out[0])


def call(spec, *args):
    spec = spec.decode("utf-8") if isinstance(spec, bytes) else spec
    name, _, node = spec.partition("@")
    return rpc(node or None, name, *args)


def rpc_list():
    return tuple(_rpc_functions)


@_ffi.callback("long(long, const char *, long)")
def _rpc_dispatch(handle, items_p, n):
    data = _ffi.unpack(items_p, n)
    items = []
    i = 0
    while i < n:
        size = data[i] | data[i + 1] << 8
        items.append(data[i + 2:i + 2 + size])
        i += 2 + size
    func = _rpc_functions.get(items[0])
    if func is None:
        return _boundary.RPC_UNKNOWN
    try:
        result = _result_bytes(func(*items[1:]))
    except BaseException:
        _log("exception in RPC function %r:\n%s" % (items[0], _traceback.format_exc()))
        return _boundary.RPC_FAILED
    _api.rpc_reply(handle, result, len(result))
    return _boundary.RPC_DONE


# ---------------------------------------------------------------- operations carried out by Go
# Shared state (locks, caches, shared areas, metrics), uWSGI signals and control are
# carried out by Go (worker/uwsgiapi.go) through one call: an operation number and a
# list of byte strings. Numbers travel in decimal. Go checks each call against its
# table (internal/pypy/contract.go: each operation's arguments and result) first.

SPOOL_OK, SPOOL_RETRY, SPOOL_IGNORE = -2, -1, 0


def _arg(value):
    """An operation's argument as Go reads it: numbers in decimal, None empty, text UTF-8."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(int(value)).encode()
    if value is None:
        return b""
    return _as_bytes(value, "an argument")


def _go(op, *args):
    """Runs op in Go: (status, result bytes or None); raises what Go refused."""
    data = b"".join([len(a).to_bytes(4, "little") + a for a in map(_arg, args)])
    out = _ffi.new("char **")
    outlen = _ffi.new("long *")
    status = _api.call(op, data, len(data), out, outlen)
    result = None
    if outlen[0] >= 0:
        result = _ffi.unpack(out[0], outlen[0]) if outlen[0] else b""
        _api.free(out[0])
    if status < 0:
        raise ValueError(result.decode("utf-8", "replace"))
    return status, result


def _true_or_none(op, *args):
    return True if _go(op, *args)[0] == 0 else None


def lock(num=0):
    _go(_boundary.OP_LOCK, num)


def unlock(num=0):
    _go(_boundary.OP_UNLOCK, num)


def is_locked(num=0):
    return _go(_boundary.OP_IS_LOCKED, num)[0] == 0


def _cache_name(cache):
    if cache is None:
        return ""
    cache = cache.decode() if isinstance(cache, bytes) else cache
    if "@" in cache:
        raise NotImplementedError("remote caches (%r): uwsgo's caches are local to the instance" % cache)
    return cache


def cache_get(key, cache=None):
    status, value = _go(_boundary.OP_CACHE_GET, _cache_name(cache), key)
    return value if status == 0 else None


def cache_set(key, value, expires=0, cache=None):
    return _true_or_none(_boundary.OP_CACHE_SET, _cache_name(cache), key, value, expires)


def cache_update(key, value, expires=0, cache=None):
    return _true_or_none(_boundary.OP_CACHE_UPDATE, _cache_name(cache), key, value, expires)


def cache_del(key, cache=None):
    return _true_or_none(_boundary.OP_CACHE_DEL, _cache_name(cache), key)


def cache_exists(key, cache=None):
    return _true_or_none(_boundary.OP_CACHE_EXISTS, _cache_name(cache), key)


def cache_clear(cache=None):
    return _true_or_none(_boundary.OP_CACHE_CLEAR, _cache_name(cache))


def cache_keys(cache=None):
    data = _go(_boundary.OP_CACHE_KEYS, _cache_name(cache))[1]
    keys, i = [], 0
    while i < len(data):
        n = int.from_bytes(data[i:i + 4], "little")
        keys.append(data[i + 4:i + 4 + n])
        i += 4 + n
    return keys


def _cache_math(op):
    def math(key, value=1, expires=0, cache=None):
        status, result = _go(_boundary.OP_CACHE_MATH, _cache_name(cache), key, op, value, expires)
        return True if status == 0 else None
    return math


def cache_num(key, cache=None):
    """The 64-bit number cache_inc and friends keep under key (0 when absent)."""
    value = cache_get(key, cache)
    if value is None:
        return 0
    if len(value) != 8:
        raise ValueError("the value of %r is not a 64-bit number" % (key,))
    return int.from_bytes(value, _sys.byteorder, signed=True)


def sharedarea_read(id, pos, length=0):
    return _go(_boundary.OP_AREA_READ, id, pos, length)[1]


def sharedarea_write(id, pos, data):
    _go(_boundary.OP_AREA_WRITE, id, pos, data)
    return True


def sharedarea_readbyte(id, pos):
    return _go(_boundary.OP_AREA_READ, id, pos, 1)[1][0]


def sharedarea_writebyte(id, pos, value):
    _go(_boundary.OP_AREA_WRITE, id, pos, bytes([value & 0xFF]))
    return True


def sharedarea_readlong(id, pos):
    return int(_go(_boundary.OP_AREA_ADDLONG, id, pos, 0)[1])


def sharedarea_writelong(id, pos, value):
    _go(_boundary.OP_AREA_WRITELONG, id, pos, value)
    return True


def sharedarea_inclong(id, pos, amount=1):
    return int(_go(_boundary.OP_AREA_ADDLONG, id, pos, amount)[1])


def _metric(op):
    def metric(name, value=1):
        return True if _go(_boundary.OP_METRIC, name, op, value)[0] == 0 else None
    return metric


def metric_get(name):
    status, value = _go(_boundary.OP_METRIC, name, "?", 0)
    return int(value) if status == 0 else 0


def metric_set(name, value):
    return True if _go(_boundary.OP_METRIC, name, "=", value)[0] == 0 else None


# uWSGI signals. Each worker loads the app itself, so each registers its own handlers;
# the table of targets is shared, and a signal counts as registered in a process once
# that process registered a handler (so uwsgidecorators' get_free_signal() gives every
# worker the same numbers, and a timer added by every worker runs once).
_uwsgi_signal_handlers = {}
_signal_received = [None]


def register_signal(num, target, handler):
    if not 0 <= num < 256:
        raise ValueError("uWSGI signals are 0 to 255, not %r" % (num,))
    if not callable(handler):
        raise TypeError("the handler of signal %d must be callable" % num)
    target = target.decode() if isinstance(target, bytes) else (target or "worker")
    if _go(_boundary.OP_REGISTER, num, target)[0] != 0:
        raise ValueError("uWSGI signal %d is already registered with another target" % num)
    _uwsgi_signal_handlers[num] = handler
    return True


def signal_registered(num):
    return True if num in _uwsgi_signal_handlers and _go(_boundary.OP_REGISTERED, num)[0] == 0 else None


def signal(num):
    _go(_boundary.OP_RAISE, num)


def _add_source(kind, num, **params):
    params.update(kind=kind, num=num)
    _go(_boundary.OP_ADD_SOURCE, _json.dumps(params))
    return True


def add_timer(num, seconds):
    return _add_source("timer", num, secs=int(seconds))


def add_rb_timer(num, seconds, iterations=0):
    return _add_source("rbtimer", num, secs=int(seconds), iterations=int(iterations))


def add_cron(num, minute, hour, day, month, weekday):
    return _add_source("cron", num, cron=[int(minute), int(hour), int(day), int(month), int(weekday)])


def add_file_monitor(num, path):
    return _add_source("filemon", num, path=path.decode() if isinstance(path, bytes) else path)


def signal_wait(num=-1):
    got = int(_go(_boundary.OP_WAIT, num)[1])
    _signal_received[0] = got
    return got


def signal_received():
    return _signal_received[0]


@_ffi.callback("long(int)")
def _uwsgi_signal(num):
    _signal_received[0] = num
    handler = _uwsgi_signal_handlers.get(num)
    if handler is None:
        _log("uWSGI signal %d arrived but this process registered no handler for it\n" % num)
        return -1
    try:
        handler(num)
    except BaseException:
        _log("exception in the handler of uWSGI signal %d:\n%s" % (num, _traceback.format_exc()))
        return -1
    return 0


# Mules and the spooler: processes of their own, started by the master (--mule,
# --spooler); a message or a job travels through the master or a file.
_role = {"role": "", "id": 0}


def mule_msg(message, mule=None):
    target = "" if mule is None else (str(mule) if isinstance(mule, int) else _arg(mule).decode())
    _go(_boundary.OP_MULE_MSG, message, target)
    return True


def farm_msg(farm, message):
    return mule_msg(message, farm)


def mule_get_msg(signals=True, farms=True, buffer_size=65536, timeout=-1):
    status, data = _go(_boundary.OP_MULE_GET, "any" if farms else "direct", timeout)
    return data if status == 0 else None


def farm_get_msg():
    status, data = _go(_boundary.OP_MULE_GET, "farm", -1)
    return data if status == 0 else None


def in_farm(name=None):
    return True if _go(_boundary.OP_IN_FARM, name or "")[0] == 0 else None


def spool(*args, **kwargs):
    job = dict(args[0]) if args else {}
    job.update(kwargs)
    directory = job.pop("spooler", None) or job.pop(b"spooler", None) or ""
    pairs = []
    for key, value in job.items():
        if not isinstance(value, (bytes, str)):
            value = str(value)
        pairs += (key, value)
    return _go(_boundary.OP_SPOOL, directory, *pairs)[1]


def _mule_loop(script):
    if script:
        _boundary.run_file(script)
        return
    while True:
        message = mule_get_msg()
        hook = globals().get("mule_msg_hook")
        if hook is None:
            _log("mule %d: a message arrived but uwsgi.mule_msg_hook is not set\n" % _role["id"])
            continue
        try:
            hook(message)
        except BaseException:
            _log("exception in uwsgi.mule_msg_hook:\n%s" % _traceback.format_exc())


def _spooler_loop(directory):
    while True:
        data = _go(_boundary.OP_SPOOL_NEXT)[1]
        items, i = [], 0
        while i < len(data):
            n = int.from_bytes(data[i:i + 4], "little")
            items.append(data[i + 4:i + 4 + n])
            i += 4 + n
        path, body = items[0], items[1]
        job = {items[k]: items[k + 1] for k in range(2, len(items), 2)}
        if body:
            job[b"body"] = body
        hook = globals().get("spooler")
        result = SPOOL_RETRY
        if hook is None:
            _log("spooler: job %s waits: the app set no uwsgi.spooler hook\n" % path.decode())
        else:
            try:
                result = hook(job)
            except BaseException:
                _log("exception in the spooler job %s (it will be retried):\n%s" % (path.decode(), _traceback.format_exc()))
        if not isinstance(result, int):
            result = SPOOL_RETRY
        _go(_boundary.OP_SPOOL_DONE, path, result)


def workers():
    return tuple(_json.loads(_go(_boundary.OP_WORKERS)[1]))


def total_requests():
    return sum(w["requests"] for w in workers())


def _request():
    """The request this thread runs: (handle, environ, response, id); the request
    functions of the uwsgi module only have a meaning inside one."""
    current = _current.get(_get_ident())
    if current is None:
        raise RuntimeError("this uwsgi function works only while a request runs")
    return current


def set_user_harakiri(seconds):
    current = _current.get(_get_ident())
    if current is not None:
        _go(_boundary.OP_HARAKIRI, seconds, current[0])


def request_id():
    return _request()[3]


def websocket_handshake(key=None, origin=None, proto=None):
    handle, env, resp, _ = _request()
    key = key or env.get("HTTP_SEC_WEBSOCKET_KEY", "")
    _go(_boundary.OP_WS_HANDSHAKE, handle, key, proto or "")
    resp.upgraded = True


def _ws_recv(block):
    status, data = _go(_boundary.OP_WS_RECV, _request()[0], "1" if block else "0")
    return data if status == 0 else b""


def websocket_recv(request_context=None):
    try:
        return _ws_recv(True)
    except ValueError as e:
        raise IOError(str(e))


def websocket_recv_nb(request_context=None):
    try:
        return _ws_recv(False)
    except ValueError as e:
        raise IOError(str(e))


def _ws_send(message, binary):
    try:
        _go(_boundary.OP_WS_SEND, _request()[0], message, "1" if binary else "0")
    except ValueError as e:
        raise IOError(str(e))
    return True


def chunked_read(timeout=0):
    """The next piece of the request body (uWSGI reads a chunked body chunk by chunk;
    uwsgo has read it already): b"" at its end."""
    return _request()[1]["wsgi.input"].read(65536)


def sendfile(f, chunk=0, pos=0, filesize=0):
    """Sends a file (a path, a file object or a descriptor) as the response body, with
    sendfile(2)."""
    handle, env, resp, _ = _request()
    if isinstance(f, (str, bytes)):
        f = open(f, "rb")
    elif isinstance(f, int):
        f = _os.fdopen(_os.dup(f), "rb")
    if pos:
        f.seek(pos)
    wrapper = _boundary.FileWrapper(f)
    try:
        if not resp.sendfile(wrapper):
            for block in wrapper:
                resp.send(block, 0)
    finally:
        wrapper.close()
    return True


def connection_fd():
    return int(_go(_boundary.OP_CONNECTION_FD, _request()[0])[1])


# uWSGI's async API. uwsgo has no async mode: each request has a thread of its own, so
# what an async app asks for by registering a wait and then `yield uwsgi.suspend()` is
# done at once, blocking only this request's thread. wait_fd_read/wait_fd_write wait (at
# most timeout seconds; 0: no limit) and note the descriptor that became ready, which
# ready_fd() then answers (-1: the wait timed out); suspend() has nothing to switch to.
# They return b"", so that yielding what they return is an empty chunk of the body.


_ready_fd = {}  # thread -> the descriptor its last wait found ready, or -1


def _fileno(fd):
    return fd if isinstance(fd, int) else fd.fileno()


def _wait_fd(fd, timeout, events):
    fd = _fileno(fd)
    poller = _select.poll()
    poller.register(fd, events)
    ready = poller.poll(timeout * 1000 if timeout and timeout > 0 else None)
    _ready_fd[_get_ident()] = fd if ready else -1
    return b""


def async_sleep(timeout):
    if timeout > 0:
        _time.sleep(timeout)
    return b""


def async_connect(addr):
    """A connection to HOST:PORT or a UNIX socket, started without waiting (as uWSGI's):
    its descriptor, to wait on with wait_fd_write."""
    addr = addr.decode("utf-8") if isinstance(addr, bytes) else addr
    if ":" in addr and not addr.startswith("/"):
        host, port = addr.rsplit(":", 1)
        sock = _socket.socket(_socket.AF_INET6 if ":" in host else _socket.AF_INET)
        target = (host.strip("[]") or "127.0.0.1", int(port))
    else:
        sock, target = _socket.socket(_socket.AF_UNIX), addr
    sock.setblocking(False)
    err = sock.connect_ex(target)
    if err not in (0, _errno.EINPROGRESS, _errno.EAGAIN):
        sock.close()
        raise OSError(err, "uwsgi.async_connect(%r): %s" % (addr, _os.strerror(err)))
    return sock.detach()


def send(*args):
    """send(data) writes to the request's connection, send(fd, data) to fd; all of it."""
    if len(args) == 1:
        fd, data = connection_fd(), args[0]
    elif len(args) == 2:
        fd, data = _fileno(args[0]), args[1]
    else:
        raise TypeError("uwsgi.send(data) or uwsgi.send(fd, data), not %d arguments" % len(args))
    view = memoryview(_as_bytes(data, "uwsgi.send's data"))
    while view:
        view = view[_blocking(fd, _select.POLLOUT, _os.write, view):]
    return True


def recv(fd, size=4096):
    """Up to size bytes from fd; None at the end of the stream (as uWSGI's)."""
    fd = _fileno(fd)
    return _blocking(fd, _select.POLLIN, _os.read, size) or None


def _blocking(fd, events, op, arg):
    # The client's connection is non-blocking (Go polls it): wait for it as a blocking
    # descriptor would.
    while True:
        try:
            return op(fd, arg)
        except BlockingIOError:
            poller = _select.poll()
            poller.register(fd, events)
            poller.poll()


def alarm(name, message):
    # uwsgo has no --alarm, so no alarm can exist; uWSGI ignores an unknown one, uwsgo
    # at least logs it.
    _log("uwsgi.alarm(%r): uwsgo has no alarms (--alarm); the message: %r\n" % (name, message))


def setprocname(name):
    name = name.decode() if isinstance(name, bytes) else name
    with open("/proc/self/comm", "w") as f:
        f.write(name[:15])


def reload():
    _go(_boundary.OP_RELOAD)
    return True


def stop():
    _go(_boundary.OP_STOP)
    return True


cache_inc = _cache_math("+")
cache_dec = _cache_math("-")
cache_mul = _cache_math("*")
cache_div = _cache_math("/")
metric_inc = _metric("+")
metric_dec = _metric("-")
metric_mul = _metric("*")
metric_div = _metric("/")
send_to_spooler = spool


def websocket_send(message, request_context=None):
    return _ws_send(message, False)


def websocket_send_binary(message, request_context=None):
    return _ws_send(message, True)


def chunked_read_nb():
    return chunked_read()


def disconnect():
    _go(_boundary.OP_DISCONNECT, _request()[0])


def wait_fd_read(fd, timeout=0):
    return _wait_fd(fd, timeout, _select.POLLIN)


def wait_fd_write(fd, timeout=0):
    return _wait_fd(fd, timeout, _select.POLLOUT)


def ready_fd():
    return _ready_fd.get(_get_ident(), -1)


def suspend():
    return b""


def close(fd):
    _os.close(_fileno(fd))


def listen_queue():
    return int(_go(_boundary.OP_LISTEN_QUEUE)[1])


def accepting(*args):
    return None


def ready():
    return True


def mule_id():
    return _role["id"] if _role["role"] == "mule" else 0


def i_am_the_spooler():
    return _role["role"] == "spooler"


def spooler_pid():
    return int(_go(_boundary.OP_SPOOLER_PID)[1])


# Names of uWSGI's API for subsystems uwsgo does not have: a clear error, not an
# AttributeError that looks like a typo.
_absent = {
    "erlang_": "the Erlang bridge", "snmp_": "the SNMP server", "queue_": "the shared queue",
    "cluster": "clustering", "legion_": "Legions", "green_": "green threads",
    "route": "internal routing", "embedded_data": "embedded data",
    "extract": "embedded data", "cache_magic_": "the magic cache interface",
}


class _Absent(NotImplementedError, AttributeError):
    """A uWSGI name uwsgo has no meaning for: NotImplementedError, and an AttributeError
    too, so that hasattr(uwsgi, name) answers False for apps that probe features."""


_Absent.__name__ = _Absent.__qualname__ = "NotImplementedError"  # as tracebacks show it


def _missing(name):
    for prefix, feature in _absent.items():
        if name.startswith(prefix):
            raise _Absent("uwsgi.%s: uwsgo does not have %s" % (name, feature))
    raise AttributeError("module 'uwsgi' has no attribute %r" % name)


__getattr__ = _missing


def set_logvar(key, value):
    _go(_boundary.OP_SET_LOGVAR, _request()[0], _as_bytes(key, "a logvar name"), _as_bytes(value, "a logvar value"))


def get_logvar(key):
    status, value = _go(_boundary.OP_GET_LOGVAR, _request()[0], _as_bytes(key, "a logvar name"))
    return value if status == 0 else None
