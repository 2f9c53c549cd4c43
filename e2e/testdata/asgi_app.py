"""A raw ASGI 3 app for the end-to-end tests (e2e/asgi_*_test.go): each path is one
behaviour. $ASGI_RECORD names a file the app appends what it saw to (lifespan events,
disconnects), which the tests poll."""
import asyncio
import json
import os


# Made as the module loads: on Python 3.9 it belongs to asyncio.get_event_loop() then,
# which must be the loop that serves (module_event below).
EVENT = asyncio.Event()


def record(line):
    path = os.environ.get("ASGI_RECORD")
    if path:
        with open(path, "a") as f:
            f.write("%s %d\n" % (line, os.getpid()))


async def lifespan(scope, receive, send):
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            if os.environ.get("ASGI_FAIL_STARTUP"):
                await send({"type": "lifespan.startup.failed", "message": "the database is not there"})
                return
            scope["state"]["greeting"] = "hello from lifespan"
            record("startup")
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            record("shutdown")
            await send({"type": "lifespan.shutdown.complete"})
            return


async def respond(send, status, body, headers=()):
    await send({"type": "http.response.start", "status": status, "headers": list(headers)})
    await send({"type": "http.response.body", "body": body})


async def read_body(receive):
    """The whole body, and how many http.request messages carried it."""
    parts, messages = [], 0
    while True:
        m = await receive()
        if m["type"] != "http.request":
            raise RuntimeError("got %r while reading the body" % (m,))
        messages += 1
        parts.append(m.get("body", b""))
        if not m.get("more_body"):
            return b"".join(parts), messages


async def hello(scope, receive, send):
    await respond(send, 200, b"Hello, ASGI!", [(b"content-type", b"text/plain")])


async def show_scope(scope, receive, send):
    body, messages = await read_body(receive)
    s = dict(scope)
    s["headers"] = [[k.decode("latin-1"), v.decode("latin-1")] for k, v in scope["headers"]]
    s["raw_path"] = scope["raw_path"].decode("latin-1")
    s["query_string"] = scope["query_string"].decode("latin-1")
    s["state"] = dict(scope["state"])
    s["pid"] = os.getpid()
    s["body"] = body.decode("latin-1")
    s["messages"] = messages
    s["running_loop"] = asyncio.get_running_loop() is not None
    s["in_all_tasks"] = asyncio.current_task() in asyncio.all_tasks()
    await respond(send, 200, json.dumps(s).encode(), [(b"content-type", b"application/json")])


async def sleep(scope, receive, send):
    await receive()
    await asyncio.sleep(float(scope["query_string"] or b"0.5"))
    await respond(send, 200, b"slept")


async def body_info(scope, receive, send):
    body, messages = await read_body(receive)
    import hashlib

    await respond(send, 200, json.dumps({"length": len(body), "messages": messages,
                                         "sha1": hashlib.sha1(body).hexdigest()}).encode())


async def wait_disconnect(scope, receive, send):
    """Long poll: nothing is sent until the client goes away."""
    await read_body(receive)
    record("waiting")
    m = await receive()
    record("got " + m["type"])


async def stream(scope, receive, send):
    """A first piece at once, the last once the file named in the query exists."""
    await receive()
    gate = scope["query_string"].decode()
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})
    await send({"type": "http.response.body", "body": b"first", "more_body": True})
    while not os.path.exists(gate):
        await asyncio.sleep(0.01)
    await send({"type": "http.response.body", "body": b"second", "more_body": True})
    await send({"type": "http.response.body", "body": b"last"})


async def stream_forever(scope, receive, send):
    """Sends until it learns that the client left, from receive() (a task beside it) or
    from send() having nobody to send to."""
    await receive()
    gone = asyncio.Event()

    async def watch():
        m = await receive()
        record("watch " + m["type"])
        gone.set()

    task = asyncio.ensure_future(watch())
    await send({"type": "http.response.start", "status": 200, "headers": []})
    while not gone.is_set():
        await send({"type": "http.response.body", "body": b"tick\n", "more_body": True})
        await asyncio.sleep(0.01)
    record("stopped streaming")
    await task


async def flood(scope, receive, send):
    """Sends the number of MiB in the query, 64 KiB at a time, and records the first send
    that suspended the handler (the server's back-pressure) with how much had gone by
    then: a callback scheduled just before it has run when the send returns only if the
    loop turned meanwhile."""
    await receive()
    loop = asyncio.get_running_loop()
    total = int(scope["query_string"]) << 20
    chunk = b"x" * 65536
    sent, waited = 0, False
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", str(total).encode())]})
    while sent < total:
        turned = loop.create_future()
        loop.call_soon(turned.set_result, None)
        await send({"type": "http.response.body", "body": chunk, "more_body": sent + len(chunk) < total})
        sent += len(chunk)
        if turned.done() and not waited:
            waited = True
            record("send waited after %d" % sent)
    record("flood done")


async def trailers(scope, receive, send):
    await receive()
    await send({"type": "http.response.start", "status": 200, "headers": [], "trailers": True})
    await send({"type": "http.response.body", "body": b"never"})


async def raises(scope, receive, send):
    raise RuntimeError("the app failed on purpose")


async def no_response(scope, receive, send):
    await receive()


async def raises_midway(scope, receive, send):
    await receive()
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"partial", "more_body": True})
    await asyncio.sleep(0.01)
    raise RuntimeError("the app failed after its head")


async def bad_header(scope, receive, send):
    await receive()
    await respond(send, 200, b"x", [(b"x-bad", b"a\r\nInjected: yes")])


async def pathsend(scope, receive, send):
    await receive()
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})
    await send({"type": "http.response.pathsend", "path": scope["query_string"].decode()})


async def zerocopy(scope, receive, send):
    """The file named in the query from byte 5: in one zerocopysend, or (?pieces) in two,
    the first of 100 bytes with more_body."""
    await receive()
    path, _, pieces = scope["query_string"].decode().partition("&")
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})
    with open(path, "rb") as f:
        if pieces:
            await send({"type": "http.response.zerocopysend", "file": f, "offset": 5, "count": 100, "more_body": True})
            await send({"type": "http.response.zerocopysend", "file": f, "offset": 105})
        else:
            f.seek(5)
            await send({"type": "http.response.zerocopysend", "file": f})


async def blocking(scope, receive, send):
    """Sync work in the loop's executor (--threads): it blocks its thread until the file
    named in the query exists."""
    import threading
    import time

    await receive()
    gate = scope["query_string"].decode()

    def work():
        record("in executor")
        for _ in range(1000):
            if os.path.exists(gate):
                break
            time.sleep(0.01)
        return threading.current_thread().name

    name = await asyncio.get_running_loop().run_in_executor(None, work)
    await respond(send, 200, name.encode())


async def block(scope, receive, send):
    """Blocks the whole loop (what --harakiri is for)."""
    import time

    await receive()
    record("blocking")
    time.sleep(float(scope["query_string"] or b"30"))
    await respond(send, 200, b"unblocked")


async def module_event(scope, receive, send):
    """Waits on an Event made at import time: a loop of its own would fail here."""
    await receive()
    try:
        await asyncio.wait_for(EVENT.wait(), 0.01)
    except asyncio.TimeoutError:
        pass
    await respond(send, 200, b"waited")


async def pid(scope, receive, send):
    await receive()
    await respond(send, 200, str(os.getpid()).encode())


async def uwsgi_cache(scope, receive, send):
    import uwsgi

    await receive()
    uwsgi.cache_set("k", b"cached")
    await asyncio.sleep(0)  # the request functions still know the request after a switch
    uwsgi.set_logvar("rid", str(uwsgi.request_id()))
    await respond(send, 200, uwsgi.cache_get("k") + b" by worker %d" % uwsgi.worker_id())


async def websocket(scope, receive, send):
    m = await receive()
    assert m["type"] == "websocket.connect", m
    path = scope["path"]
    if path == "/ws/deny":
        await send({"type": "websocket.close"})
        return
    if path == "/ws/http":
        await send({"type": "websocket.http.response.start", "status": 401,
                    "headers": [(b"content-type", b"text/plain"), (b"www-authenticate", b"Token")]})
        await send({"type": "websocket.http.response.body", "body": b"no token"})
        return
    sub = scope["subprotocols"][0] if scope["subprotocols"] else None
    await send({"type": "websocket.accept", "subprotocol": sub, "headers": [(b"x-session", b"42")]})
    await send({"type": "websocket.send", "text": "open"})
    while True:
        m = await receive()
        if m["type"] == "websocket.disconnect":
            record("ws disconnect %d" % m["code"])
            return
        if m.get("text") == "close please":
            await send({"type": "websocket.close", "code": 4001, "reason": "asked"})
            record("ws closed by app")
            return
        if m.get("text") is not None:
            await send({"type": "websocket.send", "text": m["text"]})
        else:
            await send({"type": "websocket.send", "bytes": m["bytes"]})


routes = {
    "/": hello,
    "/sleep": sleep,
    "/body": body_info,
    "/wait-disconnect": wait_disconnect,
    "/stream": stream,
    "/stream-forever": stream_forever,
    "/trailers": trailers,
    "/flood": flood,
    "/raise": raises,
    "/no-response": no_response,
    "/raise-midway": raises_midway,
    "/bad-header": bad_header,
    "/pathsend": pathsend,
    "/zerocopy": zerocopy,
    "/blocking": blocking,
    "/pid": pid,
    "/module-event": module_event,
    "/block": block,
    "/uwsgi-cache": uwsgi_cache,
}


async def app(scope, receive, send):
    if scope["type"] == "lifespan":
        await lifespan(scope, receive, send)
    elif scope["type"] == "websocket":
        await websocket(scope, receive, send)
    elif scope["path"].startswith("/scope"):
        await show_scope(scope, receive, send)
    else:
        await routes.get(scope["path"], hello)(scope, receive, send)
