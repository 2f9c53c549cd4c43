"""Benchmark app: an I/O-bound ASGI endpoint that awaits 10 ms (as for a database), then
answers; run under 256 connections."""
import asyncio

BODY = b"slept 10 ms\n"
START = {"type": "http.response.start", "status": 200,
         "headers": [(b"content-type", b"text/plain"), (b"content-length", str(len(BODY)).encode())]}
RESPONSE = {"type": "http.response.body", "body": BODY}


async def app(scope, receive, send):
    if scope["type"] != "http":
        return
    await asyncio.sleep(0.010)
    await send(START)
    await send(RESPONSE)
