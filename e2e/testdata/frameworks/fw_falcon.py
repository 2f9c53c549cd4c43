import falcon

import fw_common


class Tag:
    def process_response(self, req, resp, resource, req_succeeded):
        resp.set_header("X-Framework", "falcon")


class Hello:
    def on_get(self, req, resp, name):
        resp.content_type = "application/json"
        resp.text = fw_common.hello("falcon", name, req.get_param("q"))


class Echo:
    def on_post(self, req, resp):
        resp.content_type = "application/json"
        resp.text = fw_common.echo("falcon", req.bounded_stream.read())


application = falcon.App(middleware=[Tag()])
application.add_route("/hello/{name}", Hello())
application.add_route("/echo", Echo())
