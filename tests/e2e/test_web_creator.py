"""The page as a creator uses it, in Chromium at desktop and phone sizes: choose vertical
with captions and the clip length, wait for the clips, check a clip previews in 9:16 with
its caption track, move one clip's end a few words earlier and render it again, take
everything away as one zip, cancel a second job; axe-core finds no serious or critical
problem on any view, and the page never scrolls sideways. Screenshots of every stage go to
tests/artifacts/creator-<device>/."""
from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path

import pytest
from playwright.sync_api import expect

from scripts.faulty_server import FaultyServer
from tests.support import copy_to
from tests.support.browser import DESKTOP, NARROW_PHONE, PHONE, Shots, axe_violations, sideways_overflow, wait_until

DEVICES = {"desktop": dict(viewport=DESKTOP),
           "phone": dict(viewport=PHONE, is_mobile=True, has_touch=True, device_scale_factor=2)}


@pytest.fixture
def app_config(app_config):
    """This talk lasts seconds: the server allows clips from 1 s."""
    return {**app_config, "clip_min_s": 1.0}


def checked_view(page, shots: Shots, stage: str) -> None:
    """A screenshot, then axe-core and the sideways-scroll check on the view as it is."""
    shots(page, stage)
    assert axe_violations(page) == [], stage
    assert sideways_overflow(page) == 0, stage


def seconds(text: str) -> float:
    return float(re.search(r"([0-9.]+) s", text).group(1))


@pytest.mark.parametrize("device", list(DEVICES))
def test_a_creator_makes_fixes_and_takes_away_clips(device, live_server, browser, media_server, media_dir,
                                                     tiny_video, tmp_path):
    context = browser.new_context(accept_downloads=True, **DEVICES[device])
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    shots = Shots(f"creator-{device}")
    page.goto(live_server + "/")
    checked_view(page, shots, "empty")

    # the options a creator picks: vertical with captions in a style, short clips
    page.check("input[name=format][value=vertical]")
    page.check("#opt-captions")
    page.select_option("#opt-style", "bold")
    assert page.input_value("#opt-position") == "middle"          # the preset fills its parts
    page.fill("#opt-min", "2")
    page.fill("#opt-max", "10")
    page.fill("#opt-count", "2")
    page.fill("#url-input", media_server.url(copy_to(media_dir, tiny_video, "tides talk.mp4")))
    checked_view(page, shots, "options")
    page.click("#url-submit")
    expect(page.locator("#job-status")).to_have_text("completed", timeout=600_000)
    clip = page.locator(".clip").first
    expect(clip.locator("video")).to_be_visible()
    wait_until(lambda: page.evaluate("document.querySelector('.clip video').readyState") >= 1, 60)
    expect(page.locator("#announce")).to_contain_text("Completed")
    checked_view(page, shots, "clips")

    # the preview is 9:16, with the clip's caption track
    shape = page.evaluate("""() => { const v = document.querySelector('.clip video');
        const r = v.getBoundingClientRect();
        return {w: v.videoWidth, h: v.videoHeight, boxW: r.width, boxH: r.height}; }""")
    assert (shape["w"], shape["h"]) == (1080, 1920)
    assert abs(shape["boxW"] / shape["boxH"] - 9 / 16) < 0.02, shape
    track = clip.locator("video track")
    assert track.get_attribute("kind") == "captions" and track.get_attribute("src").endswith(".vtt")
    page.evaluate("document.querySelector('.clip video').textTracks[0].mode = 'hidden'")
    wait_until(lambda: page.evaluate("(document.querySelector('.clip video').textTracks[0].cues || []).length") > 0)
    assert clip.locator(".score").text_content().replace("\xa0", " ").startswith("Score ")
    assert "/100" in clip.locator(".score").text_content()

    # the transcript view marks the clip's lines; choosing one plays it in the clip
    page.wait_for_selector("#transcript-lines li.in-clip")
    page.locator("#transcript-lines li.in-clip .line").first.click()
    wait_until(lambda: page.evaluate("!document.querySelector('.clip video').paused"), 20)

    # move the end three words earlier and render the clip again
    before = seconds(clip.locator(".duration").text_content())
    clip.locator(".edit").click()
    expect(page.locator("#editor")).to_be_visible()
    for _ in range(3):
        page.click("#editor [data-move=end][data-by='-1']")
    edited = seconds(page.text_content("#edit-length"))
    assert edited < before - 0.3
    checked_view(page, shots, "editor")
    page.click("#rerender")
    expect(page.locator("#editor")).to_be_hidden()
    expect(page.locator(".clip").first.locator(".render-state")).to_contain_text("Rendered again", timeout=300_000)
    clip = page.locator(".clip").first
    after = seconds(clip.locator(".duration").text_content())
    assert abs(after - edited) < 0.05 and after < before - 0.3
    wait_until(lambda: page.evaluate("document.querySelector('.clip video').readyState") >= 1, 60)
    played = page.evaluate("document.querySelector('.clip video').duration")
    assert abs(played - after) < 0.3, (played, after)
    assert page.text_content("#job-status") == "completed"          # the video's own status held
    checked_view(page, shots, "rendered-again")

    # everything in one zip, named after the video
    with page.expect_download() as dl:
        page.click("#download-all")
    assert dl.value.suggested_filename == "tides-talk-clips.zip"
    with zipfile.ZipFile(io.BytesIO(Path(dl.value.path()).read_bytes())) as zf:
        assert zf.testzip() is None
        got = zf.namelist()
    assert {n.rsplit(".", 1)[1] for n in got if n.startswith("tides-talk-01-")} == {"mp4", "jpg", "srt", "vtt", "json"}
    assert {"tides-talk-transcript.srt", "tides-talk-transcript.vtt", "tides-talk-transcript.json"} <= set(got)
    with page.expect_download() as one:
        clip.locator("a.button").click()
    assert re.fullmatch(r"tides-talk-01-[\w-]+\.mp4", one.value.suggested_filename)

    # a second job, whose download stalls: the creator cancels it
    with FaultyServer(media_dir, stall_s=60) as faulty:
        page.fill("#url-input", faulty.url("stall", copy_to(media_dir, tiny_video, "slow.mp4")))
        page.click("#url-submit")
        expect(page.locator("#cancel-job")).to_be_visible(timeout=30_000)
        expect(page.locator("#history .entry")).to_have_count(2)
        checked_view(page, shots, "second-job")
        page.click("#cancel-job")
        expect(page.locator("#job-status")).to_have_text("cancelled", timeout=30_000)
        expect(page.locator("#history .entry").first.locator(".badge")).to_have_text("cancelled")
        expect(page.locator("#job-failure")).to_contain_text("You cancelled")
        expect(page.locator("#cancel-job")).to_be_hidden()
        checked_view(page, shots, "cancelled")

    # both entries tell apart: the first keeps its title and its finished badge
    first_entry = page.locator("#history .entry").nth(1)
    assert first_entry.locator(".name").text_content() == "tides talk"
    expect(first_entry.locator(".badge")).to_have_text("completed")
    assert not [e for e in errors if "Content Security Policy" in e], errors


def test_phones_keyboards_and_the_api_page(live_server, browser, tiny_video):
    """No sideways scrolling at 360 px on / and /docs (with long names in the history);
    the drop zone opens the file chooser with Enter and with Space; an upload says it is
    checking the file once every byte is sent; /docs passes axe-core."""
    context = browser.new_context(viewport=NARROW_PHONE, is_mobile=True, has_touch=True)
    page = context.new_page()
    page.goto(live_server + "/")
    long_name = "a-very-long-file-name-that-refuses-to-wrap-" * 3 + ".mp4"
    page.evaluate("""(name) => localStorage.setItem('clips.tokens', JSON.stringify([
        {token: 'x'.repeat(32), label: name, kind: 'upload', status: 'completed', created: new Date().toISOString()}]))""",
                  long_name)
    page.reload()
    expect(page.locator("#history .entry")).to_have_count(1)
    shots = Shots("narrow-phone")
    shots(page, "home")
    assert sideways_overflow(page) == 0
    assert axe_violations(page) == []

    zone = page.locator("#drop-zone")
    # A listener from here on has Chromium intercept file choosers before the first key is
    # pressed; enabled only inside expect_file_chooser, the interception can lose the race
    # with the key on a loaded machine.
    page.on("filechooser", lambda chooser: None)
    for key in ("Enter", " "):
        zone.focus()
        with page.expect_file_chooser() as chooser:
            page.keyboard.press(key)
        assert chooser.value.element.get_attribute("id") == "file-input"

    # what the upload's label says, every time it changes
    page.evaluate("""() => { window.labels = [];
        new MutationObserver(() => window.labels.push(document.getElementById('upload-label').textContent))
            .observe(document.getElementById('upload-label'), {childList: true, characterData: true, subtree: true}); }""")
    page.set_input_files("#file-input", str(tiny_video))
    expect(page.locator("#history .entry")).to_have_count(2, timeout=60_000)
    labels = page.evaluate("window.labels")
    checking = [i for i, text in enumerate(labels) if text.startswith("Checking the file")]
    assert checking, labels
    assert not any(text.startswith("Uploading") for text in labels[checking[0]:]), labels

    page.goto(live_server + "/docs")
    page.wait_for_selector(".op")
    page.locator(".op summary").nth(0).click()
    shots(page, "docs")
    assert sideways_overflow(page) == 0
    assert axe_violations(page) == []
    assert page.request.get(live_server + "/favicon.ico").headers["content-type"] == "image/x-icon"
