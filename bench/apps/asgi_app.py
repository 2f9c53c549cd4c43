"""Benchmark app: the raw ASGI 3 rows, one app every ASGI server loads. / answers hello
world; /sleep awaits 10 ms (as for a database) first; a WebSocket echoes what it gets
(bench -ws-echo drives it)."""
import asyncio


def _answer(body):
    start = {"type": "http.response.start", "status": 200,
             "headers": [(b"content-type", b"text/plain"), (b"content-length", str(len(body)).encode())]}
    return start, {"type": "http.response.body", "body": body}


HELLO = _answer(b"Hello, World!\n")
SLEPT = _answer(b"slept 10 ms\n")


async def _echo(receive, send):
    await receive()  # websocket.connect
    await send({"type": "websocket.accept"})
    while True:
        m = await receive()
        if m["type"] == "websocket.disconnect":
            return
        if m.get("text") is not None:
            await send({"type": "websocket.send", "text": m["text"]})
        else:
            await send({"type": "websocket.send", "bytes": m["bytes"]})


async def app(scope, receive, send):
    kind = scope["type"]
    if kind == "websocket":
        await _echo(receive, send)
        return
    if kind != "http":
        return
    answer = HELLO
    if scope["path"] == "/sleep":
        await asyncio.sleep(0.010)
        answer = SLEPT
    await send(answer[0])
    await send(answer[1])
