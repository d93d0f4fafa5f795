"""Fixtures of the browser tests: the app on a real port with a worker, and Chromium."""
from __future__ import annotations

import threading
from pathlib import Path

import pytest

from tests.support import app_in_thread
from tests.support.browser import ARGS, CHROMIUM


@pytest.fixture
def live_server(app):
    """The app on a real port, with a worker processing its jobs."""
    from server.worker import Worker
    worker = Worker(app.extensions["services"], concurrency=1)
    threading.Thread(target=worker.run_forever, kwargs={"poll_s": 0.3}, daemon=True).start()
    with app_in_thread(app) as url:
        yield url
    worker.shutdown(grace_s=10)


@pytest.fixture
def browser():
    from playwright.sync_api import sync_playwright
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: run scripts/setup.sh (installs Debian chromium)")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        yield b
        b.close()
