"""The web page, end to end in headless Chromium: submit a link, watch the steps, see and
download the clips; upload a file; a failure shown in words; tokens kept per browser."""
from __future__ import annotations

from pathlib import Path

from playwright.sync_api import expect

from tests.support import copy_to
from tests.support.browser import ARTIFACTS, wait_until


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
    # (landscape: the creator's flow in vertical is tests/e2e/test_web_creator.py)
    url = media_server.url(copy_to(media_dir, short_talk[0]))
    page.check("input[name=format][value=landscape]")
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
    assert 0 <= int(first.locator(".score strong").text_content()) <= 100
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
