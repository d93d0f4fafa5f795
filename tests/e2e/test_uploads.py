"""Uploads: one-request and resumable chunked, and everything that is not an acceptable
video refused with a clear error and nothing queued."""
from __future__ import annotations

import hashlib
import io

import psycopg
import pytest


def queued(url) -> int:
    with psycopg.connect(url) as c:
        return c.execute("select count(*) from video_processing_queue").fetchone()[0]


@pytest.fixture
def limited_client(app_config):
    from server import create_app
    app = create_app({**app_config, "max_upload_bytes": 200_000, "max_duration_s": 100.0})
    yield app.test_client()
    app.extensions["services"].db.close()


def post_file(c, data: bytes, name="clip.mp4"):
    return c.post("/public/video", data={"file": (io.BytesIO(data), name)},
                  content_type="multipart/form-data")


def test_multipart_oversize_overlong_and_corrupt(limited_client, clean_db, tiny_video):
    video = tiny_video.read_bytes()
    r = post_file(limited_client, b"\0" * 300_000)
    assert r.status_code == 413 and "larger than 200000" in r.json["error"]
    r = post_file(limited_client, video[: len(video) // 3])          # truncated mp4
    assert r.status_code == 415 and "not a usable video" in r.json["error"]
    r = post_file(limited_client, video[: len(video) * 3 // 4])      # loses its last quarter
    assert r.status_code == 415 and "cut short" in r.json["error"]
    r = post_file(limited_client, b"%PDF-1.4 not a video at all" * 10, name="notes.pdf")
    assert r.status_code == 415
    assert queued(clean_db) == 0


def test_multipart_overlong(app_config, clean_db, tiny_video):
    from server import create_app
    app = create_app({**app_config, "max_duration_s": 3.0})
    try:
        r = post_file(app.test_client(), tiny_video.read_bytes())
        assert r.status_code == 413 and "the limit is 3 s" in r.json["error"]
        assert queued(clean_db) == 0
    finally:
        app.extensions["services"].db.close()


def put(c, upload_id, data: bytes, start: int, size: int):
    return c.put(f"/public/uploads/{upload_id}", data=data,
                 headers={"Content-Range": f"bytes {start}-{start + len(data) - 1}/{size}"})


def test_chunked_upload_out_of_order_with_repeats(client, clean_db, tiny_video):
    video = tiny_video.read_bytes()
    size, step = len(video), 64 << 10
    r = client.post("/public/uploads", json={"filename": "tiny.mp4", "size": size})
    assert r.status_code == 201
    uid = r.json["upload_id"]
    assert len(uid) >= 22
    chunks = [(i, video[i:i + step]) for i in range(0, size, step)]
    for start, data in reversed(chunks[1:]):
        assert put(client, uid, data, start, size).status_code == 200
    again = put(client, uid, chunks[-1][1], chunks[-1][0], size)      # the same chunk twice
    assert again.json["missing"] == [f"0-{step - 1}"]
    r = client.post(f"/public/uploads/{uid}/complete", json={"sha256": hashlib.sha256(video).hexdigest()})
    assert r.status_code == 409 and r.json["missing"] == [f"0-{step - 1}"]
    assert put(client, uid, chunks[0][1], 0, size).json["received_bytes"] == size
    r = client.post(f"/public/uploads/{uid}/complete", json={"sha256": "0" * 64})
    assert r.status_code == 422 and "SHA-256" in r.json["error"]
    assert queued(clean_db) == 0
    r = client.post(f"/public/uploads/{uid}/complete", json={"sha256": hashlib.sha256(video).hexdigest()})
    assert r.status_code == 202
    token = r.json["token"]
    s = client.get(f"/public/video/status?token={token}").json
    assert s["video"]["source"] == "upload" and s["video"]["title"] == "tiny"
    # completing again answers the same token; writing after completion is refused
    again = client.post(f"/public/uploads/{uid}/complete", json={"sha256": hashlib.sha256(video).hexdigest()})
    assert again.json["token"] == token
    assert put(client, uid, chunks[0][1], 0, size).status_code == 409
    assert queued(clean_db) == 1
    with psycopg.connect(clean_db) as c:
        assert c.execute("select source_fingerprint from videos").fetchone()[0] == \
            "sha256:" + hashlib.sha256(video).hexdigest()


def test_chunked_upload_of_a_non_video_is_refused_at_completion(client, clean_db):
    data = b"definitely not a video " * 100
    uid = client.post("/public/uploads", json={"filename": "x.mp4", "size": len(data)}).json["upload_id"]
    put(client, uid, data, 0, len(data))
    r = client.post(f"/public/uploads/{uid}/complete", json={"sha256": hashlib.sha256(data).hexdigest()})
    assert r.status_code == 415 and "not a usable video" in r.json["error"]
    assert client.get(f"/public/uploads/{uid}").json["status"] == "open"
    assert queued(clean_db) == 0


@pytest.mark.parametrize("body, code, fragment", [
    ({"filename": "a.mp4"}, 400, "size"),
    ({"filename": "a.mp4", "size": 0}, 400, "size"),
    ({"filename": "a.mp4", "size": True}, 400, "size"),
    ({"filename": "", "size": 10}, 400, "filename"),
    ({"filename": "a.mp4", "size": 10 << 40}, 413, "larger than"),
    (["a.mp4", 10], 400, "filename"),
])
def test_create_upload_validation(client, body, code, fragment):
    r = client.post("/public/uploads", json=body)
    assert r.status_code == code and fragment in r.json["error"]


@pytest.mark.parametrize("headers, data, fragment", [
    ({}, b"abc", "Content-Range"),
    ({"Content-Range": "bytes=0-2/100"}, b"abc", "Content-Range"),
    ({"Content-Range": "bytes 0-2/99"}, b"abc", "size 99"),
    ({"Content-Range": "bytes 98-100/100"}, b"abc", "outside"),
    ({"Content-Range": "bytes 5-2/100"}, b"abc", "outside"),
    ({"Content-Range": "bytes 0-9/100"}, b"abc", "body has 3 bytes"),
])
def test_chunk_validation(client, headers, data, fragment):
    uid = client.post("/public/uploads", json={"filename": "a.mp4", "size": 100}).json["upload_id"]
    r = client.put(f"/public/uploads/{uid}", data=data, headers=headers)
    assert r.status_code == 400 and fragment in r.json["error"], r.json
    assert client.get(f"/public/uploads/{uid}").json["received_bytes"] == 0


def test_unknown_upload_and_bad_checksum_format(client):
    assert client.get("/public/uploads/nope").status_code == 404
    assert client.put("/public/uploads/nope", data=b"x",
                      headers={"Content-Range": "bytes 0-0/1"}).status_code == 404
    uid = client.post("/public/uploads", json={"filename": "a.mp4", "size": 1}).json["upload_id"]
    r = client.post(f"/public/uploads/{uid}/complete", json={"sha256": "xyz"})
    assert r.status_code == 400 and "sha256" in r.json["error"]
