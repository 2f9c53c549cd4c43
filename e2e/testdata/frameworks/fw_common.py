# What every framework app answers, so that one test checks them all alike:
# GET /hello/NAME?q=Q -> {"framework", "hello": NAME, "q": Q}
# POST /echo (any body) -> {"framework", "len", "sha256"} of the body read through the framework
# anything else -> 404; every answer has X-Framework.
import hashlib
import json


def hello(framework, name, q):
    return json.dumps({"framework": framework, "hello": name, "q": q})


def echo(framework, body):
    return json.dumps({"framework": framework, "len": len(body), "sha256": hashlib.sha256(body).hexdigest()})
