# fw_common's app in Quart (ASGI), with a WebSocket echo at /ws.
from quart import Quart, Response, request, websocket

import fw_common

app = Quart(__name__)


@app.after_request
async def tag(resp):
    resp.headers["X-Framework"] = "quart"
    return resp


@app.route("/hello/<name>")
async def hello(name):
    return Response(fw_common.hello("quart", name, request.args.get("q")), content_type="application/json")


@app.route("/echo", methods=["POST"])
async def echo():
    return Response(fw_common.echo("quart", await request.get_data()), content_type="application/json")


@app.websocket("/ws")
async def ws():
    while True:
        await websocket.send(await websocket.receive())
