"""An ASGI app that knows nothing of lifespan (it fails on any scope but http), named
`application`, as many are."""


async def application(scope, receive, send):
    assert scope["type"] == "http", "only http, got %r" % scope["type"]
    await receive()
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"no lifespan here"})
