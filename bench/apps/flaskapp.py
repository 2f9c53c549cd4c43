"""Benchmark app: Flask. `/` renders templates/flask_page.html (a Jinja2 template with a
loop over 10 rows and a filter); `/json` answers jsonify of a 20-entry list. Written so
that Flask 2.2 (Debian 12) and 3.1 (Debian 13) answer the same bytes: the harness checks
them against expected/flask and expected/flask-json."""

import os

from flask import Flask, jsonify, render_template

HERE = os.path.dirname(os.path.abspath(__file__))
app = Flask("benchflask", root_path=HERE, template_folder=os.path.join(HERE, "templates"))

ITEMS = [{"id": i, "name": "item-%d" % i, "qty": (i * 7) % 13, "cents": i * 125} for i in range(20)]
ROWS = ITEMS[:10]


@app.route("/")
def page():
    return render_template("flask_page.html", title="Flask page", rows=ROWS)


@app.route("/json")
def data():
    return jsonify(items=ITEMS, count=len(ITEMS), source="flask")


application = app
