"""The whole pipeline for real: local HTTP download, Whisper, the offline analyzer, ffmpeg."""
from __future__ import annotations

import re
import time

import psycopg

from conftest import INTERNAL_TOKEN, ROOT, copy_to
from server.adapters.media_probe import probe

AUTH = {"Authorization": f"Bearer {INTERNAL_TOKEN}"}


def words(text: str) -> list[str]:
    return re.findall(r"[a-z']+", text.lower())


def recall(spoken: str, heard: str) -> float:
    """Share of the script's distinct words that the transcript contains."""
    want, got = set(words(spoken)), set(words(heard))
    return len(want & got) / len(want)


def run_through_api(client, url: str, timeout: float = 900) -> dict:
    token = client.post("/public/video", json={"video_url": url}).json["token"]
    r = client.post("/internal/perform-video-processing", headers=AUTH)
    assert r.status_code == 202
    assert r.json["claimed"] == [{"token": token, "step": "download", "attempt": 1}]
    deadline = time.monotonic() + timeout
    seen_steps = set()
    while time.monotonic() < deadline:
        body = client.get(f"/public/video/status?token={token}").json
        seen_steps.add(body["pipeline_step"])
        assert 0 <= body["progress"] <= 1
        if body["status"] in ("completed", "failed", "cancelled"):
            break
        time.sleep(0.5)
    assert body["status"] == "completed", body
    body["seen_steps"] = seen_steps
    return body


def check_clips(client, body: dict, transcript: dict) -> None:
    clips = body["clips"]
    all_words = [w for s in transcript["segments"] for w in s["words"]]
    word_starts = {round(w["start"], 3) for s in transcript["segments"] for w in s["words"]}
    word_ends = {round(w["end"], 3) for s in transcript["segments"] for w in s["words"]}
    spans = sorted((c["start_s"], c["end_s"]) for c in clips)
    for (a0, a1), (b0, b1) in zip(spans, spans[1:]):
        assert a1 <= b0, "clips overlap"
    for c in clips:
        assert 15 <= c["end_s"] - c["start_s"] <= 90, c
        assert c["start_s"] in word_starts and c["end_s"] in word_ends, "clip cut mid-word"
        assert c["title"] and c["reason"] and 0 <= c["score"] <= 100
        video = client.get(c["url"].replace("http://localhost", ""))
        assert video.status_code == 200 and video.mimetype == "video/mp4"
        partial = client.get(c["url"].replace("http://localhost", ""), headers={"Range": "bytes=0-99"})
        assert partial.status_code == 206 and len(partial.data) == 100
        thumb = client.get(c["thumbnail_url"].replace("http://localhost", ""))
        assert thumb.status_code == 200 and thumb.data[:3] == b"\xff\xd8\xff"   # JPEG
        assert c["format"] == "landscape" and c["method"] == "smart_cut"
        srt = client.get(c["srt_url"].replace("http://localhost", ""))
        vtt = client.get(c["vtt_url"].replace("http://localhost", ""))
        assert srt.status_code == 200 and srt.data.startswith(b"1\n00:00:0")
        assert vtt.status_code == 200 and vtt.data.startswith(b"WEBVTT")
        manifest = client.get(c["manifest_url"].replace("http://localhost", "")).json
        assert manifest["title"] == c["title"] and manifest["source"]["start_s"] <= c["start_s"] + 0.1
        # the clip's words, timed from its start, are the transcript's words inside it
        inside = [w for w in all_words if c["start_s"] <= (w["start"] + w["end"]) / 2 < c["end_s"]]
        assert [w["word"] for w in manifest["words"]] == [w["word"].strip() for w in inside]
        assert all(abs(m["source_start"] - w["start"]) < 0.002 for m, w in zip(manifest["words"], inside))
    scores = [c["score"] for c in clips]
    assert scores == sorted(scores, reverse=True) or [c["index"] for c in clips] == list(range(len(clips)))


def test_sample_talk_end_to_end(client, services, clean_db, media_server, media_dir, sample_video):
    body = run_through_api(client, media_server.url(copy_to(media_dir, sample_video)))
    token = body["token"]
    assert body["pipeline_step"] == "done" and body["progress"] == 0
    assert [s["state"] for s in body["steps"]] == ["done"] * 5
    assert body["video"]["language"] == "en"
    assert abs(body["video"]["duration_s"] - probe(sample_video).duration_s) < 0.5
    assert body["video"]["content_type"] in ("podcast", "lecture", "tutorial", "news", "commentary", "other")

    transcript = client.get(f"/public/video/transcript?token={token}").json
    heard = " ".join(s["text"] for s in transcript["segments"])
    script = (ROOT / "scripts" / "samples" / "talk.txt").read_text()
    script = "\n".join(l for l in script.splitlines() if not l.startswith("# "))
    assert recall(script, heard) > 0.85

    assert len(body["clips"]) >= 2
    check_clips(client, body, transcript)
    # The rendered clip lasts what the plan says (exact cut, not the previous keyframe).
    first = body["clips"][0]
    path = services.storage.local_path(f"videos/{token}/clips/{first['index']:02d}.mp4")
    assert abs(probe(path).duration_s - first["duration_s"]) < 0.15

    with psycopg.connect(clean_db) as c:
        runs = c.execute("select step, outcome from step_runs order by id").fetchall()
    assert runs == [(s, "succeeded") for s in ("download", "transcribe", "classify", "find_clips", "render")]


def test_a_different_speech_video(client, clean_db, media_server, media_dir, short_talk):
    path, manifest = short_talk
    body = run_through_api(client, media_server.url(copy_to(media_dir, path)))
    transcript = client.get(f"/public/video/transcript?token={body['token']}").json
    heard = " ".join(s["text"] for s in transcript["segments"])
    spoken = " ".join(sent["text"] for sec in manifest["sections"] for sent in sec["sentences"])
    assert recall(spoken, heard) > 0.85
    # It is not the sample talk: bees are nowhere in it.
    assert "bees" not in words(heard)
    assert len(body["clips"]) >= 2
    check_clips(client, body, transcript)
