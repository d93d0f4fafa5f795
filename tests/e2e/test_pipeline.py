"""The whole pipeline for real: local HTTP download, Whisper, the offline analyzer, ffmpeg."""
from __future__ import annotations

import psycopg

from server.adapters.media_probe import probe
from tests.support import ROOT, copy_to
from tests.support.pipeline_checks import check_clips, recall, run_through_api, words


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
