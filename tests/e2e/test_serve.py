"""`python -m server serve` for real: gunicorn boots the app, cron-style calls claim work,
and the claimed job runs in the web process after the response."""
from __future__ import annotations

import time

import requests

from scripts.live_server import live_server
from tests.support import INTERNAL_TOKEN, copy_to


def test_gunicorn_serves_and_processes_cron_claims(clean_db, data_dir, media_server, media_dir, tiny_video):
    with live_server(data_dir, clean_db, GUNICORN_WORKERS="1", GUNICORN_THREADS="2",
                     INTERNAL_API_TOKEN=INTERNAL_TOKEN, WHISPER_MODEL="tiny.en") as server:
        base = server.url
        token = requests.post(base + "/public/video", timeout=5,
                              json={"video_url": media_server.url(copy_to(media_dir, tiny_video))}).json()["token"]
        r = requests.post(base + "/internal/perform-video-processing", timeout=5,
                          headers={"Authorization": f"Bearer {INTERNAL_TOKEN}"})
        assert r.status_code == 202 and r.json()["claimed"][0]["token"] == token
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            body = requests.get(base + "/public/video/status", params={"token": token}, timeout=5).json()
            if body["status"] in ("completed", "failed"):
                break
            time.sleep(0.5)
        assert body["status"] == "completed", body
        assert body["steps"][-1]["state"] == "done"
