"""Benchmark app: a mid-weight page, built anew for every request: an HTML table of 100
rows and the json.dumps of a 50-entry dict. The output is deterministic, so that the
harness can check every server's answer byte for byte (bench/apps.go builds the same)."""

import json


def application(environ, start_response):
    rows = []
    for i in range(100):
        rows.append(
            "<tr><td>%d</td><td>item-%d</td><td>%d</td><td>%.2f</td></tr>"
            % (i, i, i * i, i / 7.0)
        )
    data = {}
    for i in range(50):
        data["key%02d" % i] = {"id": i, "name": "name-%d" % i, "ok": i % 2 == 0}
    page = (
        "<!DOCTYPE html>\n<html><head><title>mid</title></head><body>\n<table>\n"
        + "\n".join(rows)
        + "\n</table>\n<script type=\"application/json\">"
        + json.dumps(data)
        + "</script>\n</body></html>\n"
    )
    body = page.encode("utf-8")
    start_response(
        "200 OK",
        [("Content-Type", "text/html; charset=utf-8"), ("Content-Length", str(len(body)))],
    )
    return [body]
