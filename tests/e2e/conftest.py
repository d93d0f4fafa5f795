"""Fixtures of the browser tests: the app on a real port with a worker, and Chromium."""
from __future__ import annotations

import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from tests.support.browser import ARGS, CHROMIUM


@pytest.fixture
def live_server(app):
    """The app on a real port, with a worker processing its jobs."""
    from server.worker import Worker
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    worker = Worker(app.extensions["services"], concurrency=1)
    threading.Thread(target=worker.run_forever, kwargs={"poll_s": 0.3}, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}"
    worker.shutdown(grace_s=10)
    server.shutdown()


@pytest.fixture
def browser():
    from playwright.sync_api import sync_playwright
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: run scripts/setup.sh (installs Debian chromium)")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        yield b
        b.close()
