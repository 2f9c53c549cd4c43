"""An ASGI app for e2e/asgi_prefork_test.go: what it binds to the event loop at import
must serve in workers forked after the import. $ASGI_RECORD names a file it appends a
line per event to ("EVENT PID"): its import, lifespan startup and shutdown."""
import asyncio
import os
import threading

VERSION = "1"


def record(line):
    with open(os.environ["ASGI_RECORD"], "a") as f:
        f.write("%s %d\n" % (line, os.getpid()))


record("import")

# Bound to asyncio.get_event_loop() as they are made on Python 3.9: the loop the loader
# made, which the workers keep.
SLEEPERS = asyncio.Semaphore(1000)
in_flight = 0
most = 0


async def answer(send, body):
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})
    await send({"type": "http.response.body", "body": body.encode()})


async def app(scope, receive, send):
    global in_flight, most
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            kind = message["type"].rpartition(".")[2]
            record(kind)
            await send({"type": "lifespan.%s.complete" % kind})
            if kind == "shutdown":
                return
    path = scope["path"]
    if path == "/sleep":
        # How many requests this worker had waiting at once: they overlap on one loop.
        async with SLEEPERS:
            in_flight += 1
            most = max(most, in_flight)
            await asyncio.sleep(float(scope["query_string"] or b"0.3"))
            in_flight -= 1
        await answer(send, "%d %d" % (os.getpid(), most))
    elif path == "/executor":
        loop = asyncio.get_running_loop()
        a = await asyncio.to_thread(lambda: threading.current_thread().name)
        b = await loop.run_in_executor(None, lambda: threading.current_thread().name)
        await answer(send, "%d %s %s" % (os.getpid(), a, b))
    elif path == "/loop":
        # The descriptors of the loop's epoll instance and of its self-pipe's reading end
        # (asyncio's internals), for the test to look at from /proc.
        loop = asyncio.get_running_loop()
        await answer(send, "%d %d %d" % (os.getpid(), loop._selector.fileno(), loop._ssock.fileno()))
    else:
        await answer(send, "%d %s" % (os.getpid(), VERSION))
