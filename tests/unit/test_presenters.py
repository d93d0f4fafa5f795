"""The status presenter: caption files and the manifest appear as URLs, and the
response model holds exactly what the contract declares."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest
from pydantic import ValidationError

from server.api.presenters import status_out
from server.usecases.videos import VideoState


class Storage:
    def url(self, key):
        return "/public/media/" + key


def job_row(**over):
    now = datetime.now(timezone.utc)
    return {"token": "t", "status": "completed", "pipeline_step": "done", "progress": 0, "attempts": 1,
            "max_attempts": 5, "run_after": now, "failure_cause": None, "failure_details": None,
            "title": "x", "source_kind": "upload", "source_url": None, "duration_s": 10, "language": "en",
            "content_type": "lecture", "content_confidence": 1, "analysis_tokens": 0, "clip_tokens": 0,
            "cost_usd": 0, "created_at": now, "finished_at": now, **over}


def clip_row(**outputs):
    base = "videos/t/clips/00"
    return {"clip_index": 0, "start_s": 1, "end_s": 20, "title": "c", "reason": "r", "hook": "", "score": 50,
            "video_key": base + ".mp4", "thumbnail_key": base + ".jpg", "outputs": outputs}


def test_status_lists_caption_files_and_manifest():
    base = "videos/t/clips/00"
    clip = clip_row(format="vertical", method="reframe", captions_burned_in=True, enhanced=False,
                    srt=base + ".srt", vtt=base + ".vtt", manifest=base + ".json")
    body = status_out(VideoState(job_row(), [], [clip]), Storage(), "http://h").model_dump(
        mode="json", by_alias=True, exclude_unset=True)
    view = body["clips"][0]
    assert view["srt_url"] == "http://h/public/media/videos/t/clips/00.srt"
    assert view["vtt_url"].endswith("00.vtt") and view["manifest_url"].endswith("00.json")
    assert view["format"] == "vertical" and view["method"] == "reframe"
    assert body["transcript"]["json"] == "http://h/public/video/transcript?token=t"
    assert [s["state"] for s in body["steps"]] == ["done"] * 5


def test_a_queued_video_has_no_transcript_or_clips_yet():
    body = status_out(VideoState(job_row(status="queued", pipeline_step="download", finished_at=None), [], []),
                      Storage(), "http://h").model_dump(mode="json", by_alias=True, exclude_unset=True)
    assert "transcript" not in body and "clips" not in body
    assert body["steps"][0]["state"] == "pending" and body["overall_progress"] == 0


def test_an_undeclared_clip_output_breaks_the_contract_loudly():
    # The response models forbid undeclared properties: a new output must be added to the
    # contract (and so to /openapi.json) before clients see it.
    with pytest.raises(ValidationError):
        status_out(VideoState(job_row(), [], [clip_row(format="wide")]), Storage(), "http://h")
