"""Through the API: a file whose default audio track is silent and whose second track
switches from English to German. The status names the track used, the languages with
their shares and the coverage; the transcript keeps both languages."""
from __future__ import annotations

import time

import pytest

from tests.support import AUTH, copy_to
from tests.support.speech_clips import language_switch, silent_first_track


@pytest.fixture
def app_config(app_config):
    """This worker downloads and transcribes only: the later steps are other tests' business."""
    return {**app_config, "worker_steps": ("download", "transcribe")}


def transcribed(client, url: str, timeout: float = 600) -> dict:
    token = client.post("/public/video", json={"video_url": url}).json["token"]
    assert client.post("/internal/perform-video-processing", headers=AUTH).status_code == 202
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        body = client.get(f"/public/video/status?token={token}").json
        assert body["status"] not in ("failed", "cancelled"), body
        if body["pipeline_step"] == "classify":
            return body
        time.sleep(0.3)
    raise AssertionError(f"not transcribed in {timeout} s: {body}")


def test_status_reports_track_languages_and_coverage(client, clean_db, media_server, media_dir, tmp_path):
    clip = language_switch(tmp_path)
    two_tracks = silent_first_track(clip.path, tmp_path / "two_tracks.mkv")
    body = transcribed(client, media_server.url(copy_to(media_dir, two_tracks)))

    assert body["transcript"]["audio_track"]["index"] == 1
    assert body["transcript"]["audio_track"]["count"] == 2
    assert body["transcript"]["coverage"] >= 0.9 and body["warnings"] == []
    assert body["transcript"]["speech_s"] > clip.english_s + clip.german_s
    languages = {x["language"]: x["share"] for x in body["video"]["languages"]}
    assert set(languages) == {"en", "de"} and abs(sum(languages.values()) - 1) < 0.01
    assert body["video"]["language"] == max(languages, key=languages.__getitem__)

    transcript = client.get(f"/public/video/transcript?token={body['token']}").json
    by_language = {s["language"] for s in transcript["segments"]}
    assert by_language == {"en", "de"}
    german = " ".join(s["text"] for s in transcript["segments"] if s["language"] == "de").lower()
    assert "helium" in german
