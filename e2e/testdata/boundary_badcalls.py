# Makes bad raw calls across the boundary and answers what each gave back. It needs a
# --pypy-setup that exposes the boundary: uwsgi._uwsgo_raw = (api, ffi, uwsgi._go, globals()).
import json

import uwsgi

api, ffi, _go, names = uwsgi._uwsgo_raw


def _raised(f):
    try:
        f()
    except Exception as e:
        return "%s: %s" % (type(e).__name__, e)
    return "no exception"


def _raw_call(op, data, n):
    """api.call as it is, without _go's encoding: (status, the text it gave back)."""
    out = ffi.new("char **")
    outlen = ffi.new("long *")
    status = api.call(op, data, n, out, outlen)
    text = None
    if outlen[0] >= 0:
        text = ffi.unpack(out[0], outlen[0]).decode()
        api.free(out[0])
    return [status, text]


def application(env, start_response):
    op_lock = names["OP_LOCK"]
    out = ffi.new("char **")
    outlen = ffi.new("long *")
    results = {
        "op_lock": op_lock,
        "unknown_op": _raised(lambda: _go(999)),
        "few_args": _raised(lambda: _go(names["OP_CACHE_GET"], "default")),
        "many_args": _raised(lambda: _go(names["OP_RELOAD"], "now")),
        "not_a_number": _raised(lambda: _go(op_lock, "one")),
        "negative_length": _raw_call(op_lock, b"", -5),
        "stray_bytes": _raw_call(op_lock, b"\x05\x00\x00\x00ab", 6),
        "short_prefix": _raw_call(op_lock, b"\x01\x00", 2),
        "no_result_pointer": api.call(op_lock, b"", 0, ffi.NULL, ffi.NULL),
        "send_negative_length": api.send(0, ffi.NULL, -1, ffi.NULL, 0, 1),
        "send_length_without_memory": api.send(0, ffi.NULL, 10, ffi.NULL, 0, 1),
        "send_bad_handle": api.send(999999, b"200 OK\r\n", 8, ffi.NULL, 0, 1),
        "sendfile_negative_fd": api.sendfile(0, ffi.NULL, 0, -3, 0, -1),
        "sendfile_negative_offset": api.sendfile(0, ffi.NULL, 0, 0, -1, -1),
        "signal_zero": api.signal(0, names["SIGNAL_DEFAULT"]),
        "signal_bad_disposition": api.signal(15, 9),
        "rpc_call_negative": api.rpc_call(b"x", -1, b"", 0, out, outlen),
        "rpc_call_no_result": api.rpc_call(b"x", 1, b"", 0, ffi.NULL, ffi.NULL),
        "rpc_reply_negative": api.rpc_reply(0, ffi.NULL, -1),
        "good_call": _go(names["OP_IS_LOCKED"], 0)[0],
    }
    body = json.dumps(results).encode()
    start_response("200 OK", [("Content-Type", "application/json")])
    return [body]
