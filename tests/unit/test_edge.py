"""The edge's ASGI side, driven with scripted receive/send: what the app sees of a body,
where reading stops, and what a client that leaves gets. No sockets, no database."""
from __future__ import annotations

import asyncio
from types import SimpleNamespace

import pytest
from flask import Flask, Response, request

from server.edge import MEMORY_BYTES, Edge
from server.settings import Settings


@pytest.fixture
def edge(tmp_path, monkeypatch):
    monkeypatch.setattr("server.edge.LINGER_S", 0.2)
    cfg = Settings.with_overrides({"data_dir": tmp_path, "max_request_bytes": 4096,
                                   "max_upload_bytes": 8 << 20, "gunicorn_threads": 2})
    app = Flask(__name__)
    app.extensions["services"] = SimpleNamespace(cfg=cfg)
    seen: list[dict] = []

    def echo():
        body = request.environ["wsgi.input"].read()
        seen.append({"length": request.environ["CONTENT_LENGTH"], "body": body})
        return {"bytes": len(body)}

    app.add_url_rule("/public/video", endpoint="public.submit_video", view_func=echo, methods=["POST"])
    app.add_url_rule("/big", view_func=lambda: Response(b"x" * (64 << 10) for _ in range(48)))
    e = Edge(app)
    e.seen = seen                                      # type: ignore[attr-defined]
    yield e
    e.app_pool.shutdown()
    e.io_pool.shutdown()


def scope(path="/public/video", method="POST", headers=()):
    return {"type": "http", "method": method, "path": path, "raw_path": path.encode(),
            "query_string": b"", "headers": list(headers), "http_version": "1.1",
            "scheme": "http", "server": ("127.0.0.1", 8000), "client": ("127.0.0.1", 5000)}


def run(edge, sc, messages):
    """Calls the edge with `messages` as what the client sends; returns what it answered
    and how many messages it took."""
    incoming = list(messages)
    taken = []
    sent = []

    async def receive():
        if incoming:
            taken.append(incoming[0])
            return incoming.pop(0)
        await asyncio.sleep(3600)                    # the client sends nothing more

    async def send(message):
        sent.append(message)

    asyncio.run(edge(sc, receive, send))
    status = sent[0]["status"]
    body = b"".join(m.get("body", b"") for m in sent[1:])
    return status, body, len(taken), sum(1 for m in sent[1:] if m["type"] == "http.response.body")


def chunks(data: bytes, size: int, last=True):
    pieces = [data[i:i + size] for i in range(0, len(data), size)]
    return [{"type": "http.request", "body": p, "more_body": not (last and i == len(pieces) - 1)}
            for i, p in enumerate(pieces)]


JSON = [(b"content-type", b"application/json")]
FORM = [(b"content-type", b"multipart/form-data; boundary=b")]


def test_a_small_body_reaches_the_app_whole(edge):
    status, _, _, _ = run(edge, scope(headers=JSON), chunks(b"a" * 3000, 100))
    assert status == 200
    assert edge.seen == [{"length": "3000", "body": b"a" * 3000}]


def test_a_large_upload_goes_through_a_file_and_arrives_whole(edge):
    data = bytes(range(256)) * ((MEMORY_BYTES * 3) // 256)
    status, _, _, _ = run(edge, scope(headers=FORM), chunks(data, 65536))
    assert status == 200
    assert edge.seen[0]["length"] == str(len(data)) and edge.seen[0]["body"] == data


def test_reading_stops_one_chunk_past_the_limit(edge):
    messages = chunks(b" " * 100_000, 1000)
    status, _, taken, _ = run(edge, scope(headers=JSON), messages)
    # the app saw a length over its limit and no body (http_policy answers 413 there)
    assert int(edge.seen[0]["length"]) > 4096 and edge.seen[0]["body"] == b""
    assert taken <= 6 + len(messages)      # the rest was only drained, never buffered
    assert status == 200                   # this bare app does not refuse; http_policy does


def test_a_declared_length_over_the_limit_is_not_read_at_all(edge):
    _, _, taken, _ = run(edge, scope(headers=JSON + [(b"content-length", b"999999")]), [])
    assert taken == 0 and edge.seen[0]["length"] == "999999"


def test_a_client_that_leaves_mid_body_gets_408_and_the_app_nothing(edge):
    status, body, _, _ = run(edge, scope(headers=JSON),
                             chunks(b"a" * 500, 100, last=False) + [{"type": "http.disconnect"}])
    assert status == 408 and b"stopped arriving" in body
    assert edge.seen == []


def test_a_large_response_is_sent_in_blocks(edge):
    status, body, _, blocks = run(edge, scope("/big", "GET"), [{"type": "http.request", "body": b""}])
    assert status == 200 and body == b"x" * (3 << 20)
    assert blocks > 2
