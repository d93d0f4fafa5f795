"""API validation: bad input gets a 4xx with a JSON body naming the problem, and nothing is
queued for it."""
from __future__ import annotations

import io

import psycopg
import pytest

from tests.support import INTERNAL_TOKEN


def queued(url) -> int:
    with psycopg.connect(url) as c:
        return c.execute("select count(*) from video_processing_queue").fetchone()[0]


def test_submit_url_returns_token_and_queues(client, clean_db):
    r = client.post("/public/video", json={"video_url": "https://example.com/talk.mp4"})
    assert r.status_code == 202, r.json
    token = r.json["token"]
    assert len(token) >= 22                      # >= 128 bits in URL-safe base64
    with psycopg.connect(clean_db) as c:
        row = c.execute("""select q.status, q.pipeline_step, v.source_url from videos v
                           join video_processing_queue q on q.video_id = v.id
                           where v.token = %s""", (token,)).fetchone()
    assert row == ("queued", "download", "https://example.com/talk.mp4")
    s = client.get(f"/public/video/status?token={token}")
    assert s.status_code == 200
    body = s.json
    assert body["status"] == "queued" and body["pipeline_step"] == "download"
    assert [st["name"] for st in body["steps"]] == ["download", "transcribe", "classify", "find_clips", "render"]
    assert body["steps"][0]["state"] == "pending" and body["progress"] == 0
    assert body["video"]["title"] is None and "clips" not in body


def test_tokens_are_unrelated(client):
    tokens = {client.post("/public/video", json={"video_url": f"https://example.com/{i}.mp4"}).json["token"]
              for i in range(5)}
    assert len(tokens) == 5
    assert len({t[:6] for t in tokens}) == 5     # no shared prefix as an id-derived token would have


@pytest.mark.parametrize("payload, fragment", [
    ({}, "video_url is required"),
    ({"video_url": ""}, "video_url: String should have at least 1 character"),
    ({"video_url": 42}, "video_url: Input should be a valid string"),
    ({"video_url": "https://example.com/a\u0000.mp4"}, "video_url must not contain control characters"),
    ({"video_url": "ftp://example.com/a.mp4"}, "http or https"),
    ({"video_url": "file:///etc/passwd"}, "http or https"),
    ({"video_url": "https://"}, "no host"),
    ({"video_url": "https://user:pw@example.com/a.mp4"}, "credentials"),
    ({"video_url": "https://example.com:99999/a"}, "malformed"),
    ({"video_url": "https://example.com/" + "a" * 3000}, "at most 2048 characters"),
    ({"video_url": "https://example.com/a.mp4", "priority": "high"}, "priority: Input should be a valid integer"),
    ({"video_url": "https://example.com/a.mp4", "priority": 1.9}, "priority: Input should be a valid integer"),
    ({"video_url": "https://example.com/a.mp4", "priority": True}, "priority: Input should be a valid integer"),
    ({"video_url": "https://example.com/a.mp4", "priority": 101}, "priority: Input should be less than or equal to 100"),
    ({"video_url": "https://example.com/a.mp4", "fromat": "vertical"}, "fromat is not a known field"),
])
def test_bad_json_submissions(client, clean_db, payload, fragment):
    r = client.post("/public/video", json=payload)
    assert r.status_code == 400
    assert fragment in r.json["error"]
    assert queued(clean_db) == 0


@pytest.mark.parametrize("raw", [
    b'{"video_url": "https://example.com/a.mp4", "priority": 1e400}',
    b'{"video_url": "https://example.com/a.mp4", "priority": Infinity}',
    b'{"video_url": "https://example.com/a.mp4", "priority": 1.0}',
    b'{"video_url": "https://example.com/a\\ud800.mp4"}',             # a lone surrogate
    b'{"video_url": "https://example.com/a.mp4", "force": "true"}',
])
def test_json_types_are_strict(client, clean_db, raw):
    r = client.post("/public/video", data=raw, content_type="application/json")
    assert r.status_code == 400, r.json
    assert "priority" in r.json["error"] or "JSON" in r.json["error"] or "force" in r.json["error"]
    assert queued(clean_db) == 0


def test_not_json_at_all(client, clean_db):
    r = client.post("/public/video", data="video_url=x", content_type="text/plain")
    assert r.status_code == 400 and "video_url" in r.json["error"]
    r = client.post("/public/video", data="{not json", content_type="application/json")
    assert r.status_code == 400
    assert queued(clean_db) == 0


def test_private_addresses_refused_unless_allowed(app_config):
    from server import create_app
    app = create_app({**app_config, "allow_private_urls": False})
    try:
        c = app.test_client()
        for url in ("http://127.0.0.1/a.mp4", "http://localhost/a.mp4", "http://10.0.0.5/a.mp4",
                    "http://169.254.169.254/latest/meta-data", "http://[::1]/a.mp4"):
            r = c.post("/public/video", json={"video_url": url})
            assert r.status_code == 400 and "non-public" in r.json["error"], url
    finally:
        app.extensions["services"].db.close()


def test_upload_validation(client, clean_db, tiny_video):
    r = client.post("/public/video", data={}, content_type="multipart/form-data")
    assert r.status_code == 400 and "'file'" in r.json["error"]
    r = client.post("/public/video", data={"file": (io.BytesIO(b""), "empty.mp4")},
                    content_type="multipart/form-data")
    assert r.status_code == 400 and "empty" in r.json["error"]
    r = client.post("/public/video", data={"file": (io.BytesIO(b"hello, not a video" * 100), "x.mp4")},
                    content_type="multipart/form-data")
    assert r.status_code == 415 and "not a usable video" in r.json["error"]
    assert queued(clean_db) == 0
    r = client.post("/public/video", data={"file": (open(tiny_video, "rb"), "tiny.mp4")},
                    content_type="multipart/form-data")
    assert r.status_code == 202
    s = client.get(f"/public/video/status?token={r.json['token']}").json
    assert s["video"]["source"] == "upload" and s["video"]["title"] == "tiny"


def test_status_and_transcript_unknown_token(client):
    assert client.get("/public/video/status").status_code == 400
    r = client.get("/public/video/status?token=nope")
    assert r.status_code == 404 and r.json["error"]
    assert client.get("/public/video/transcript?token=nope").status_code == 404
    assert client.get("/public/media/videos/nope/clips/00.mp4").status_code == 404
    assert client.get("/public/media/../../etc/passwd").status_code == 404


def test_internal_endpoint_needs_the_bearer_token(client):
    assert client.post("/internal/perform-video-processing").status_code == 401
    r = client.post("/internal/perform-video-processing", headers={"Authorization": "Bearer wrong"})
    assert r.status_code == 401 and "Bearer" in r.json["error"]
    for bad in ({"limit": 0}, {"limit": True}, {"limit": 1.5}, {"lmit": 1}):
        r = client.post("/internal/perform-video-processing",
                        headers={"Authorization": f"Bearer {INTERNAL_TOKEN}"}, json=bad)
        assert r.status_code == 400 and next(iter(bad)) in r.json["error"], bad
    r = client.post("/internal/perform-video-processing",
                    headers={"Authorization": f"Bearer {INTERNAL_TOKEN}"})
    assert r.status_code == 202 and r.json["claimed"] == []


def test_idempotency_key_returns_same_token(client, clean_db):
    h = {"Idempotency-Key": "abc-123"}
    a = client.post("/public/video", json={"video_url": "https://example.com/a.mp4"}, headers=h)
    b = client.post("/public/video", json={"video_url": "https://example.com/a.mp4"}, headers=h)
    assert a.status_code == b.status_code == 202
    assert a.json["token"] == b.json["token"]
    assert queued(clean_db) == 1


def test_unknown_route_and_method_are_json(client):
    r = client.get("/nope")
    assert r.status_code == 404 and "error" in r.json
    r = client.get("/public/video")
    assert r.status_code == 405 and "error" in r.json


def test_healthz(client):
    r = client.get("/healthz")
    assert r.status_code == 200 and r.json == {"ok": True, "database": "ok"}
