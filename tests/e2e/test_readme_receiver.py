"""The README's 20-line webhook receiver, run as it is written: it accepts a signed event,
reports a retry of the same event once, and refuses a bad signature."""
from __future__ import annotations

import os
import re
import subprocess
import sys
import time

import requests

from server.core import webhooks
from scripts.live_server import free_port
from server.core.keys import new_webhook_secret
from tests.support import ROOT


def test_the_readme_receiver_verifies_and_deduplicates(tmp_path):
    readme = (ROOT / "README.md").read_text()
    [code] = re.findall(r"<!-- receiver-example -->\n```python\n(.*?)```", readme, re.S)
    assert len(code.strip().splitlines()) <= 22
    (tmp_path / "receiver.py").write_text(code)
    secret, port = new_webhook_secret(), free_port()
    proc = subprocess.Popen([sys.executable, str(tmp_path / "receiver.py")], cwd=tmp_path,
                            env={**os.environ, "WEBHOOK_SECRET": secret, "PORT": str(port)},
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        url = f"http://127.0.0.1:{port}/hook"
        body = webhooks.body("video.completed", "2026-12-15T10:00:00+00:00",
                             {"token": "tok123", "status": "completed"})
        for _ in range(100):
            try:
                requests.get(url, timeout=1)
                break
            except requests.ConnectionError:
                time.sleep(0.1)
        codes = [requests.post(url, data=body, timeout=5, headers=webhooks.signed_headers(
                     secret, "msg_1", int(time.time()), body)).status_code for _ in range(2)]
        forged = requests.post(url, data=body, timeout=5, headers=webhooks.signed_headers(
            new_webhook_secret(), "msg_2", int(time.time()), body))
        assert codes == [204, 204] and forged.status_code == 400
    finally:
        proc.terminate()
        out, _ = proc.communicate(timeout=10)
    assert [line for line in out.splitlines() if not line.startswith(" * ")] == [
        "video.completed tok123 completed"]   # Flask's banner aside
