"""Running a video through the whole pipeline over HTTP, and checking its clips."""
from __future__ import annotations

import re
import time

from tests.support import AUTH


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
    # The status lists clips by index, and the index is the rank: best score first.
    assert [c["index"] for c in clips] == list(range(len(clips)))
    scores = [c["score"] for c in clips]
    assert scores == sorted(scores, reverse=True), scores
