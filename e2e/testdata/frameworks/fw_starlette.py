# fw_common's app in Starlette (ASGI), with a WebSocket echo at /ws.
from starlette.applications import Starlette
from starlette.responses import Response
from starlette.routing import Route, WebSocketRoute

import fw_common


def _json(text, status=200):
    return Response(text, status_code=status, media_type="application/json", headers={"X-Framework": "starlette"})


async def hello(request):
    return _json(fw_common.hello("starlette", request.path_params["name"], request.query_params.get("q")))


async def echo(request):
    return _json(fw_common.echo("starlette", await request.body()))


async def ws(websocket):
    await websocket.accept()
    async for message in websocket.iter_text():
        await websocket.send_text(message)


async def not_found(request, exc):
    return Response("not found", status_code=404, headers={"X-Framework": "starlette"})


app = Starlette(
    routes=[Route("/hello/{name}", hello), Route("/echo", echo, methods=["POST"]), WebSocketRoute("/ws", ws)],
    exception_handlers={404: not_found},
)
