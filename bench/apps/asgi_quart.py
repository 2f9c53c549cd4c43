"""Benchmark app: Quart (Debian's python3-quart), JSON of 20 entries at /json."""
from quart import Quart, jsonify

app = Quart(__name__)

ROWS = [{"id": i, "name": "row %d" % i, "score": i * 1.5, "tags": ["a", "b"]} for i in range(20)]


@app.route("/json")
async def rows():
    return jsonify(rows=ROWS)
