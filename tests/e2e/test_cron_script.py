"""scripts/cron.sh, the crontab alternative to pg_cron, against the real app over HTTP."""
from __future__ import annotations

import os
import subprocess

import pytest

from scripts.live_server import free_port
from tests.support import INTERNAL_TOKEN, ROOT, app_in_thread

SCRIPT = ROOT / "scripts" / "cron.sh"


@pytest.fixture
def server_url(app):
    with app_in_thread(app) as url:
        yield url


def cron(url: str, token: str | None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "INTERNAL_API_TOKEN"}
    env.update({"CLIPS_SERVER_URL": url, "CRON_TIMEOUT_SECONDS": "5"})
    if token is not None:
        env["INTERNAL_API_TOKEN"] = token
    return subprocess.run(["bash", str(SCRIPT)], env=env, capture_output=True, text=True, timeout=30)


def test_cron_script_triggers_processing(server_url):
    r = cron(server_url, INTERNAL_TOKEN)
    assert r.returncode == 0, r.stderr
    assert '"claimed"' in r.stdout and '"free_slots"' in r.stdout


def test_cron_script_fails_loudly(server_url):
    wrong = cron(server_url, "not-the-token")
    assert wrong.returncode != 0 and "Bearer" in wrong.stderr   # the 401 body is shown
    missing = cron(server_url, None)
    assert missing.returncode != 0 and "INTERNAL_API_TOKEN" in missing.stderr
    down = cron(f"http://127.0.0.1:{free_port()}", INTERNAL_TOKEN)
    assert down.returncode != 0 and "failed" in down.stderr
