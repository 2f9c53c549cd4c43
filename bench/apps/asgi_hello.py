"""Benchmark app: hello world as a raw ASGI 3 app. Every ASGI server loads this file."""

BODY = b"Hello, World!\n"
START = {"type": "http.response.start", "status": 200,
         "headers": [(b"content-type", b"text/plain"), (b"content-length", str(len(BODY)).encode())]}
RESPONSE = {"type": "http.response.body", "body": BODY}


async def app(scope, receive, send):
    if scope["type"] != "http":
        return
    await send(START)
    await send(RESPONSE)
