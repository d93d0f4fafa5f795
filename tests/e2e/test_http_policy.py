"""Rate limits, body limits, security headers and CORS on the public API."""
from __future__ import annotations

import pytest

from server.api.http_policy import TokenBuckets


@pytest.fixture
def limited_app(app_config):
    from server import create_app
    app = create_app({**app_config, "rate_limit_submit_per_min": 3, "rate_limit_status_per_min": 5,
                      "trusted_proxy_count": 1, "cors_origins": "https://clips.example.org"})
    yield app
    app.extensions["services"].db.close()


def submit(c, ip="198.51.100.7", **headers):
    return c.post("/public/video", json={"video_url": "https://example.com/a.mp4"},
                  headers={"X-Forwarded-For": ip, **headers})


def test_token_bucket_refills_over_time():
    now = [0.0]
    b = TokenBuckets(per_minute=2, clock=lambda: now[0])
    assert b.take("a") == 0 and b.take("a") == 0
    assert b.take("a") == pytest.approx(30.0)          # one token every 30 s
    assert b.take("b") == 0                             # other clients unaffected
    now[0] = 31.0
    assert b.take("a") == 0


def test_submit_rate_limit_is_per_client_with_retry_after(limited_app):
    c = limited_app.test_client()
    assert [submit(c).status_code for _ in range(3)] == [202, 202, 202]
    r = submit(c)
    assert r.status_code == 429 and "too many requests" in r.json["error"]
    assert 1 <= int(r.headers["Retry-After"]) <= 20
    assert submit(c, ip="198.51.100.8").status_code == 202     # a different client
    # only the entry written by the trusted proxy counts, not what the client prepends
    assert submit(c, ip="203.0.113.9, 198.51.100.7").status_code == 429


def test_status_has_its_own_bucket(limited_app):
    c = limited_app.test_client()
    token = submit(c).json["token"]
    codes = [c.get(f"/public/video/status?token={token}", headers={"X-Forwarded-For": "198.51.100.7"}).status_code
             for _ in range(6)]
    assert codes == [200] * 5 + [429]


def test_forwarded_for_is_ignored_without_trusted_proxies(app_config):
    from server import create_app
    app = create_app({**app_config, "rate_limit_submit_per_min": 1})
    try:
        c = app.test_client()
        assert submit(c, ip="198.51.100.1").status_code == 202
        assert submit(c, ip="198.51.100.2").status_code == 429    # same peer, spoofed header
    finally:
        app.extensions["services"].db.close()


def test_oversized_json_body_is_refused_before_parsing(client):
    r = client.post("/public/video", data=b"{" + b" " * 70_000 + b"}", content_type="application/json")
    assert r.status_code == 413 and "larger than 65536" in r.json["error"]


@pytest.mark.parametrize("data, content_type", [
    (b'{"video_url": ', "application/json"),
    (b'["https://example.com/a.mp4"]', "application/json"),
    (b'"https://example.com/a.mp4"', "application/json"),
    (b"video_url=https://example.com/a.mp4", "application/x-www-form-urlencoded"),
    (b"<video_url>https://example.com/a.mp4</video_url>", "application/xml"),
    (b"\xff\xfe\x00garbage", "application/json"),
])
def test_malformed_json_and_wrong_content_types(client, data, content_type):
    r = client.post("/public/video", data=data, content_type=content_type)
    assert r.status_code == 400 and "video_url" in r.json["error"]


def test_security_headers_everywhere(client):
    for path in ("/public/video/status?token=x", "/healthz", "/no/such/page"):
        h = client.get(path).headers
        assert h["X-Content-Type-Options"] == "nosniff"
        assert h["Referrer-Policy"] == "no-referrer"
        assert "frame-ancestors 'none'" in h["Content-Security-Policy"]
        assert "Access-Control-Allow-Origin" not in h      # CORS is off unless configured


def test_cors_only_for_configured_origins(limited_app):
    c = limited_app.test_client()
    ok = c.options("/public/video", headers={"Origin": "https://clips.example.org",
                                             "Access-Control-Request-Method": "POST"})
    assert ok.headers["Access-Control-Allow-Origin"] == "https://clips.example.org"
    assert "Content-Type" in ok.headers["Access-Control-Allow-Headers"]
    other = c.options("/public/video", headers={"Origin": "https://evil.example"})
    assert "Access-Control-Allow-Origin" not in other.headers


def test_control_characters_never_reach_the_database(client, clean_db):
    r = client.get("/public/video/status?token=abc%00def")
    assert r.status_code == 400 and "malformed" in r.json["error"]
    r = client.post("/public/video/cancel", json={"token": "a\x00b"})
    assert r.status_code == 400 and "token is malformed" in r.json["error"]
    r = client.post("/public/video", json={"video_url": "https://example.com/a.mp4"},
                    headers={"Idempotency-Key": "k\x01"})
    assert r.status_code == 400 and "control characters" in r.json["error"]
    r = client.post("/public/uploads", json={"filename": "a\x00.mp4", "size": 10})
    assert r.status_code == 400 and "filename must not contain control characters" in r.json["error"]
    assert client.get("/public/uploads/a%00b").status_code == 404


class EndlessBody:
    """A request body of `size` bytes made up as it is read, counting what was read."""

    def __init__(self, size: int, fill: bytes = b" "):
        self.size = size
        self.fill = fill
        self.read_bytes = 0

    def read(self, n: int = -1) -> bytes:
        left = self.size - self.read_bytes
        n = left if n is None or n < 0 else min(n, left)
        self.read_bytes += n
        return self.fill * n

    def tell(self) -> int:               # the test client measures the stream; with
        return self.read_bytes           # Transfer-Encoding: chunked the length is unused

    def seek(self, offset: int, whence: int = 0) -> None:
        self.read_bytes = self.size if whence == 2 else offset


def chunked(client, path: str, body: EndlessBody, content_type: str):
    """A request framed as gunicorn hands over a chunked one: no Content-Length, and the
    server marks the stream as terminated."""
    return client.post(path, input_stream=body, content_type=content_type,
                       headers={"Transfer-Encoding": "chunked"},
                       environ_overrides={"wsgi.input_terminated": True})


def test_chunked_json_is_counted_as_it_is_read(client, clean_db):
    body = EndlessBody(20 << 20)
    r = chunked(client, "/public/video", body, "application/json")
    assert r.status_code == 413
    assert r.json["error"] == "the request body is larger than 65536 bytes (MAX_REQUEST_BYTES)"
    assert body.read_bytes <= 1 << 20          # stopped reading just past the limit


@pytest.fixture
def small_limits(app_config):
    from server import create_app
    app = create_app({**app_config, "max_upload_bytes": 200_000})
    yield app.test_client()
    app.extensions["services"].db.close()


def test_oversize_upload_names_its_limit(small_limits):
    import io
    r = small_limits.post("/public/video", content_type="multipart/form-data",
                          data={"file": (io.BytesIO(b"\0" * (2 << 20)), "big.mp4")})
    assert r.status_code == 413
    assert r.json["error"] == "the file is larger than 200000 bytes (MAX_UPLOAD_BYTES)"
    body = EndlessBody(20 << 20, fill=b"x")
    r = chunked(small_limits, "/public/video", body, "multipart/form-data; boundary=b")
    assert r.status_code == 413 and "MAX_UPLOAD_BYTES" in r.json["error"]
    assert body.read_bytes <= 200_000 + (2 << 20)


def test_multipart_does_not_lift_the_limit_of_other_endpoints(client):
    r = client.post("/public/video/cancel", data=b"x" * 100_000,
                    content_type="multipart/form-data; boundary=b")
    assert r.status_code == 413 and "MAX_REQUEST_BYTES" in r.json["error"]
