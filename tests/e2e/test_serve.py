"""`python -m server serve` for real: gunicorn boots the app, cron-style calls claim work,
and the claimed job runs in the web process after the response."""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time

import requests

from tests.support import INTERNAL_TOKEN, ROOT, copy_to


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_gunicorn_serves_and_processes_cron_claims(clean_db, data_dir, media_server, media_dir, tiny_video):
    port = free_port()
    env = {**os.environ, "DATABASE_URL": clean_db, "DATA_DIR": str(data_dir), "BIND": f"127.0.0.1:{port}",
           "GUNICORN_WORKERS": "1", "GUNICORN_THREADS": "2", "INTERNAL_API_TOKEN": INTERNAL_TOKEN,
           "ALLOW_PRIVATE_URLS": "1", "WHISPER_MODEL": "tiny.en", "ACCESS_LOG": "0",
           "LOG_LEVEL": "WARNING", "PYTHONPATH": str(ROOT),
           "RATE_LIMIT_STATUS_PER_MIN": "0"}   # it polls twice a second for minutes
    proc = subprocess.Popen([sys.executable, "-m", "server", "serve"], env=env, cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(150):
            try:
                if requests.get(base + "/healthz", timeout=1).status_code == 200:
                    break
            except requests.ConnectionError:
                time.sleep(0.2)
        else:
            raise AssertionError("gunicorn did not come up")
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
    finally:
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=60)
    assert proc.returncode == 0, out
