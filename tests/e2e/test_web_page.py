"""The web page, end to end in headless Chromium: submit a link, watch the steps, see and
download the clips; upload a file; a failure shown in words; tokens kept per browser."""
from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
from playwright.sync_api import expect, sync_playwright
from werkzeug.serving import make_server

from tests.support import ROOT, copy_to

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = ROOT / "tests" / "artifacts"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--no-first-run", "--disable-dev-shm-usage"]


def wait_until(predicate, timeout_s: float = 30.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not predicate():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.2)


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
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: run scripts/setup.sh (installs Debian chromium)")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        yield b
        b.close()


def test_page_end_to_end(live_server, browser, media_server, media_dir, short_talk, tiny_video):
    ARTIFACTS.mkdir(exist_ok=True)
    context = browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True)
    page = context.new_page()
    errors = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.goto(live_server + "/")
    assert page.locator("#history-empty").is_visible()

    # a link that fails: the reason is shown in words
    page.fill("#url-input", media_server.url("missing.mp4"))
    page.click("#url-submit")
    page.wait_for_selector("#job-failure:not(.hidden)", timeout=120_000)
    assert "not found" in page.text_content("#job-failure")
    assert page.text_content("#job-status") == "failed"

    # a link that works: steps advance, clips appear with titles, reasons and scores
    url = media_server.url(copy_to(media_dir, short_talk[0]))
    page.fill("#url-input", url)
    page.click("#url-submit")
    page.wait_for_selector("#history li:nth-child(2)")
    expect(page.locator("#job-status")).to_have_text("completed", timeout=900_000)
    page.wait_for_selector(".clip video")
    states = page.locator(".step .step-state").all_text_contents()
    assert len(states) == 5 and all(s.startswith("done") for s in states), states
    clips = page.locator(".clip")
    assert clips.count() >= 2
    first = clips.first
    assert first.locator("h3").text_content().strip()
    assert first.locator(".reason").text_content().strip()
    assert 0 <= int(first.locator(".score").text_content()) <= 100
    # the preview really plays: the browser loaded the clip's metadata
    wait_until(lambda: page.evaluate("document.querySelector('.clip video').readyState") >= 1)
    assert page.evaluate("document.querySelector('.clip video').duration") > 5
    page.screenshot(path=str(ARTIFACTS / "web_page.png"), full_page=True)
    with page.expect_download() as dl:
        first.locator("a.button").click()
    assert dl.value.suggested_filename.endswith(".mp4")
    assert Path(dl.value.path()).read_bytes()[4:8] == b"ftyp"

    # a file: chosen, uploaded with progress, then followed like a link
    page.set_input_files("#file-input", str(tiny_video))
    page.wait_for_selector("#history li:nth-child(3)")
    expect(page.locator("#job-source")).to_have_text("Uploaded file", timeout=60_000)
    assert page.locator("#history li").first.locator(".name").text_content() in ("tiny.mp4", "tiny")

    # the browser remembers its own tokens across reloads ...
    page.reload()
    assert page.locator("#history li").count() == 3
    # ... and another browser sees none of them
    stranger = browser.new_context().new_page()
    stranger.goto(live_server + "/")
    assert stranger.locator("#history li").count() == 0
    assert stranger.locator("#history-empty").is_visible()
    assert not [e for e in errors if "Content Security Policy" in e], errors


def test_docs_page_lists_every_operation(live_server, browser):
    page = browser.new_page()
    page.goto(live_server + "/docs")
    page.wait_for_selector(".op")
    rendered = page.locator(".op summary .path").all_text_contents()
    import requests
    paths = requests.get(live_server + "/openapi.json", timeout=10).json()["paths"]
    assert sorted(set(rendered)) == sorted(paths)
    page.screenshot(path=str(ARTIFACTS / "docs_page.png"), full_page=True)
