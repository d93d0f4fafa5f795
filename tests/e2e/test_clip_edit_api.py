"""Through HTTP with real Whisper, the offline analyzer and ffmpeg on a short talk: clip
controls and caption style at submit, a clip rendered again through the queue (the video's
status untouched), downloads named after the video and the clip, everything as a zip, the
history's batch status, and the source to preview."""
from __future__ import annotations

import io
import time
import zipfile

import pytest
from werkzeug.http import parse_options_header

from server.adapters.media_probe import probe
from tests.support import AUTH, copy_to

OPTIONS = {"format": "vertical", "captions": True, "caption_style": {"preset": "bold"},
           "min_clip_s": 2, "max_clip_s": 10, "max_clips": 2}


@pytest.fixture
def app_config(app_config):
    """This talk lasts seconds: the server allows clips from 1 s."""
    return {**app_config, "clip_min_s": 1.0}


def wait(client, token, done, timeout=600):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        body = client.get(f"/public/video/status?token={token}").json
        if done(body):
            return body
        time.sleep(0.3)
    raise AssertionError(f"not done in time: {body}")


def test_a_clip_edited_rendered_again_and_taken_away(client, services, media_server, media_dir, tiny_video):
    url = media_server.url(copy_to(media_dir, tiny_video, "tides talk.mp4"))
    token = client.post("/public/video", json={"video_url": url, **OPTIONS}).json["token"]
    client.post("/internal/perform-video-processing", headers=AUTH)
    body = wait(client, token, lambda b: b["status"] in ("completed", "failed"))
    assert body["status"] == "completed", body
    [clip, *_] = body["clips"]
    assert clip["format"] == "vertical" and clip["captions"] is True
    assert clip["caption_style"] == {"preset": "bold", "size": "large", "highlight": "#22D3EE",
                                     "position": "middle"}
    assert 2 <= clip["duration_s"] <= 10.5 and len(body["clips"]) <= 2
    assert "render" not in clip

    # move the end three words earlier, on the transcript's word boundaries
    transcript = client.get(f"/public/video/transcript?token={token}").json
    words = [w for s in transcript["segments"] for w in s["words"]
             if clip["start_s"] <= (w["start"] + w["end"]) / 2 <= clip["end_s"]]
    assert len(words) >= 5, words
    new_end = words[-4]["end"]
    r = client.post("/public/video/clips/render", json={"token": token, "index": clip["index"],
                                                        "start_s": clip["start_s"], "end_s": new_end,
                                                        "format": "square"})
    assert r.status_code == 202, r.json
    assert r.json["status"] == "queued" and r.json["end_s"] == round(new_end, 3)
    queued = client.get(f"/public/video/status?token={token}").json
    assert queued["status"] == "completed"                       # the video's own status holds
    assert queued["clips"][0]["render"]["status"] == "queued"
    again = client.post("/public/video/clips/render", json={"token": token, "index": clip["index"],
                                                            "start_s": 0, "end_s": 5})
    assert again.status_code == 409 and "already being rendered" in again.json["error"]

    claimed = client.post("/internal/perform-video-processing", headers=AUTH).json["claimed"]
    assert claimed == [{"token": r.json["token"], "step": "render_clip", "attempt": 1}]
    body = wait(client, token, lambda b: b["clips"][0]["render"]["status"] in ("completed", "failed"))
    edited = body["clips"][0]
    assert edited["render"]["status"] == "completed", edited["render"]
    assert body["status"] == "completed" and body["pipeline_step"] == "done"
    assert edited["end_s"] == round(new_end, 3) and edited["format"] == "square"
    assert edited["url"] != clip["url"]                          # a new URL: no cache serves the old file
    rendered = services.storage.local_path(edited["url"].split("/public/media/", 1)[1])
    info = probe(rendered)
    assert (info.width, info.height) == (1080, 1080)
    assert abs(info.duration_s - edited["duration_s"]) < 0.15
    assert info.duration_s < clip["duration_s"] - 0.3
    steps = client.get(f"/public/video/status?token={token}").json["steps"]
    assert [s["attempts"] for s in steps] == [1] * 5             # nothing before the render ran again

    # one file, named after the video and the clip
    d = client.get(edited["downloads"]["video"])
    assert d.status_code == 200 and d.data[4:8] == b"ftyp"
    kind, params = parse_options_header(d.headers["Content-Disposition"])
    first_word = edited["title"].split()[0].strip(".,!?:;")
    assert kind == "attachment" and params["filename"].startswith(f"tides-talk-01-{first_word}")
    assert params["filename"].endswith(".mp4") and " " not in params["filename"]
    srt = client.get(edited["downloads"]["srt"])
    assert srt.mimetype == "application/x-subrip" and "-->" in srt.get_data(as_text=True)
    t = client.get(f"/public/video/transcript?token={token}&format=vtt&download=true")
    assert t.headers["Content-Disposition"] == 'attachment; filename="tides-talk-transcript.vtt"'
    assert client.get(f"/public/video/transcript?token={token}").headers["Content-Disposition"] == \
        'inline; filename="tides-talk-transcript.json"'

    # everything as one zip, streamed
    z = client.get(body["archive_url"], buffered=False)
    assert z.status_code == 200 and z.mimetype == "application/zip" and z.content_length is None
    assert z.headers["Content-Disposition"] == 'attachment; filename="tides-talk-clips.zip"'
    with zipfile.ZipFile(io.BytesIO(z.get_data())) as zf:
        assert zf.testzip() is None
        names = zf.namelist()
        n = len(body["clips"])
        assert len([x for x in names if x.endswith(".mp4")]) == n
        assert {x.rsplit(".", 1)[1] for x in names} == {"mp4", "jpg", "srt", "vtt", "json"}
        assert {"tides-talk-transcript.srt", "tides-talk-transcript.vtt", "tides-talk-transcript.json"} <= set(names)
        mp4 = next(x for x in names if x.startswith("tides-talk-01-") and x.endswith(".mp4"))
        assert zf.read(mp4) == rendered.read_bytes()

    # the history's badges, in one request
    other = client.post("/public/video", json={"video_url": url + "?again"}).json["token"]
    s = client.get(f"/public/video/statuses?tokens={token},{other},{'x' * 32}").json
    assert [v["token"] for v in s["videos"]] == [token, other] and s["unknown"] == ["x" * 32]
    assert (s["videos"][0]["status"], s["videos"][0]["clips"], s["videos"][0]["title"]) == \
        ("completed", len(body["clips"]), "tides talk")
    assert s["videos"][1]["status"] == "queued" and s["videos"][1]["overall_progress"] == 0

    # the stored source, to preview, by the video's own token (with Range)
    src = client.get(body["video"]["media_url"], headers={"Range": "bytes=0-99"})
    assert src.status_code == 206 and len(src.data) == 100 and src.mimetype == "video/mp4"


def test_batch_status_and_rerender_refuse_bad_input(client):
    assert client.get("/public/video/statuses?tokens=").status_code == 400
    r = client.get("/public/video/statuses?tokens=" + ",".join(["a"] * 51))
    assert r.status_code == 400 and "1 to 50 tokens" in r.json["error"]
    r = client.post("/public/video/clips/render", json={"token": "x" * 32, "index": 0, "start_s": 1, "end_s": 5})
    assert r.status_code == 404
    r = client.post("/public/video/clips/render", json={"token": "x" * 32, "index": -1, "start_s": 1, "end_s": 5})
    assert r.status_code == 400 and "index" in r.json["error"]
    r = client.post("/public/video/clips/render", data='{"token": "%s", "index": 0, "start_s": 0, "end_s": 1e400}'
                    % ("x" * 32), content_type="application/json")
    assert r.status_code == 400 and "end_s" in r.json["error"] and "finite" in r.json["error"]
    r = client.post("/public/video", json={"video_url": "https://example.com/a.mp4",
                                           "caption_style": {"highlight": "yellow"}})
    assert r.status_code == 400 and "#RRGGBB" in r.json["error"]
    r = client.post("/public/video", json={"video_url": "https://example.com/a.mp4", "language": "xx"})
    assert r.status_code == 400 and "language" in r.json["error"] and "Whisper" in r.json["error"]
    r = client.post("/public/video", json={"video_url": "https://example.com/a.mp4", "min_clip_s": 50,
                                           "max_clip_s": 20})
    assert r.status_code == 400 and "min_clip_s" in r.json["error"]
    assert client.get("/public/video/download?token=" + "x" * 32).status_code == 404
    assert client.get("/favicon.ico").mimetype == "image/x-icon"
