import bottle

import fw_common

app = bottle.Bottle()
bottle.BaseRequest.MEMFILE_MAX = 1 << 20


@app.hook("after_request")
def tag():
    bottle.response.set_header("X-Framework", "bottle")


@app.error(404)
def notfound(err):
    bottle.response.set_header("X-Framework", "bottle")
    return "not found"


@app.get("/hello/<name>")
def hello(name):
    bottle.response.content_type = "application/json"
    return fw_common.hello("bottle", name, bottle.request.query.getunicode("q"))


@app.post("/echo")
def echo():
    bottle.response.content_type = "application/json"
    return fw_common.echo("bottle", bottle.request.body.read())


application = app
