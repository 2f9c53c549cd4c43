from flask import Flask, request, Response

import fw_common

app = Flask(__name__)


def _json(text):
    return Response(text, content_type="application/json")


@app.route("/hello/<name>")
def hello(name):
    return _json(fw_common.hello("flask", name, request.args.get("q")))


@app.route("/echo", methods=["POST"])
def echo():
    return _json(fw_common.echo("flask", request.get_data()))


@app.after_request
def tag(resp):
    resp.headers["X-Framework"] = "flask"
    return resp


application = app
