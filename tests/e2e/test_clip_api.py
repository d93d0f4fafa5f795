"""Clip options at submit time, the caption files in the status, and the stand-alone
speech enhancement endpoint."""
from __future__ import annotations

import io
import subprocess
import time

import numpy as np
import psycopg
import pytest
import soundfile

from server.media.ffmpeg import FFMPEG
from tests.support import AUTH


def stored_options(url, token):
    with psycopg.connect(url) as c:
        return c.execute("select options from videos where token = %s", (token,)).fetchone()[0]


def test_options_are_checked_and_stored_with_defaults(client, clean_db):
    r = client.post("/public/video", json={"video_url": "https://example.com/a.mp4", "format": "vertical"})
    assert r.status_code == 202
    assert stored_options(clean_db, r.json["token"]) == {"format": "vertical", "captions": True, "enhance": False}
    r = client.post("/public/video", json={"video_url": "https://example.com/b.mp4", "enhance": True,
                                           "captions": False})
    assert stored_options(clean_db, r.json["token"]) == {"format": "landscape", "captions": False, "enhance": True}


@pytest.mark.parametrize("extra,fragment", [
    ({"format": "portrait"}, "format: Input should be 'landscape', 'vertical' or 'square'"),
    ({"captions": "maybe"}, "captions: Input should be a valid boolean"),
    ({"enhance": 3}, "enhance: Input should be a valid boolean"),
    ({"force": "yes"}, "force: Input should be a valid boolean"),
])
def test_bad_options_are_refused(client, clean_db, extra, fragment):
    r = client.post("/public/video", json={"video_url": "https://example.com/a.mp4", **extra})
    assert r.status_code == 400 and fragment in r.json["error"]
    with psycopg.connect(clean_db) as c:
        assert c.execute("select count(*) from videos").fetchone()[0] == 0


def test_upload_form_fields_set_options(client, clean_db, tiny_video):
    r = client.post("/public/video", data={"file": (open(tiny_video, "rb"), "tiny.mp4"), "format": "square",
                                           "enhance": "yes"}, content_type="multipart/form-data")
    assert r.status_code == 202
    assert stored_options(clean_db, r.json["token"]) == {"format": "square", "captions": True, "enhance": True}
    r = client.post("/public/video", data={"file": (open(tiny_video, "rb"), "tiny.mp4"), "format": "wide"},
                    content_type="multipart/form-data")
    assert r.status_code == 400 and "format" in r.json["error"]


def _noisy_speechlike_wav(path, seconds=3.0, rate=48000):
    t = np.arange(int(seconds * rate)) / rate
    tone = 0.3 * np.sin(2 * np.pi * 200 * t) * (np.sin(2 * np.pi * 0.5 * t) > 0)
    noise = np.random.default_rng(1).normal(0, 0.05, len(t))
    soundfile.write(str(path), (tone + noise).astype(np.float32), rate, subtype="PCM_16")
    return t


def test_audio_enhancement_runs_through_the_queue(client, clean_db, tmp_path):
    t = _noisy_speechlike_wav(tmp_path / "noisy.wav")
    mp3 = tmp_path / "noisy.mp3"
    subprocess.run([FFMPEG, "-loglevel", "error", "-i", str(tmp_path / "noisy.wav"), str(mp3)], check=True)
    r = client.post("/public/audio/enhance", data={"file": (open(mp3, "rb"), "noisy.mp3")},
                    content_type="multipart/form-data")
    assert r.status_code == 202, r.json
    token = r.json["token"]
    waiting = client.get(f"/public/audio/enhance?token={token}")
    assert waiting.status_code == 202 and waiting.json["status"] == "queued"   # nothing runs it yet
    claimed = client.post("/internal/perform-video-processing", headers=AUTH).json["claimed"]
    assert claimed == [{"token": token, "step": "enhance_audio", "attempt": 1}]
    for _ in range(300):
        got = client.get(f"/public/audio/enhance?token={token}")
        if got.status_code != 202:
            break
        time.sleep(0.2)
    assert got.status_code == 200 and got.mimetype == "audio/wav"
    with psycopg.connect(clean_db) as c:    # an attempt in the history like any step's
        assert c.execute("select step, outcome from step_runs").fetchall() == [("enhance_audio", "succeeded")]
    out, rate = soundfile.read(io.BytesIO(got.data))
    assert rate == 48000 and abs(len(out) / rate - t[-1]) < 0.2
    gaps = np.sin(2 * np.pi * 0.5 * np.arange(len(out)) / rate) < -0.2     # where only noise plays
    assert out[gaps].std() < 0.3 * 0.05                                       # the noise is mostly gone


@pytest.mark.parametrize("name,body,code,fragment", [
    ("notes.txt", b"hello", 415, ".wav, .flac or .mp3"),
    ("fake.wav", b"RIFF not really a wav" * 50, 415, "not usable audio"),
])
def test_audio_enhancement_refuses_bad_uploads(client, name, body, code, fragment):
    r = client.post("/public/audio/enhance", data={"file": (io.BytesIO(body), name)},
                    content_type="multipart/form-data")
    assert r.status_code == code and fragment in r.json["error"]


def test_audio_enhancement_unknown_token(client):
    assert client.get("/public/audio/enhance?token=" + "a" * 32).status_code == 404
    assert client.get("/public/audio/enhance?token=../../etc").status_code == 400
    assert "'file'" in client.post("/public/audio/enhance", json={}).json["error"]


def test_a_failed_enhancement_says_why(app_config, tmp_path):
    from server import create_app
    app = create_app({**app_config, "max_attempts": 1})
    try:
        client = app.test_client()
        _noisy_speechlike_wav(tmp_path / "noisy.wav")
        r = client.post("/public/audio/enhance", data={"file": (open(tmp_path / "noisy.wav", "rb"), "noisy.wav")},
                        content_type="multipart/form-data")
        token = r.json["token"]
        # The stored input goes bad before a worker gets to it.
        services = app.extensions["services"]
        stored = services.storage.local_path(f"audio/{token}/input.wav")
        stored.write_bytes(b"RIFF" + b"\0" * 100)
        client.post("/internal/perform-video-processing", headers=AUTH)
        for _ in range(300):
            got = client.get(f"/public/audio/enhance?token={token}")
            if got.status_code != 202:
                break
            time.sleep(0.2)
        assert got.status_code == 422, got.json
        assert got.json["failure_cause"] == "corrupt_media" and "Invalid data" in got.json["error"]
    finally:
        worker = app.extensions.get("worker")
        if worker is not None:
            worker.shutdown(grace_s=5)
        app.extensions["services"].db.close()
