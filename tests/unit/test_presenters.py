"""The status presenter: caption files and the manifest appear as URLs, and the
response model holds exactly what the contract declares."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest
from pydantic import ValidationError

from server.api.presenters import status_out
from server.usecases.videos import VideoState


class Storage:
    """Counts what it is asked to sign, as a remote store would answer each request."""

    def __init__(self, leaves_out: tuple[str, ...] = ()):
        self.requests: list[list[str]] = []
        self.leaves_out = leaves_out

    def url(self, key):
        self.requests.append([key])
        return "/public/media/" + key

    def urls(self, keys):
        self.requests.append(list(keys))
        return {k: "/public/media/" + k for k in keys if k not in self.leaves_out}


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


def test_a_reused_source_is_previewed_through_the_videos_own_token():
    # The stored source of a resubmitted file sits under the first submitter's token: the
    # status must not hand that token out.
    body = status_out(VideoState(job_row(media_key="videos/FIRSTSUBMITTER/source.mp4"), [], []),
                      Storage(), "http://h").model_dump(mode="json", exclude_unset=True)
    assert body["video"]["media_url"] == "http://h/public/video/source?token=t"
    assert "FIRSTSUBMITTER" not in str(body)


def test_each_clip_has_named_downloads_and_its_latest_rerender():
    now = datetime.now(timezone.utc)
    renders = [{"token": f"r{i}", "status": status, "progress": 0.5, "attempts": 1, "run_after": now,
                "failure_cause": None, "failure_details": None, "created_at": now, "finished_at": None,
                "payload": {"clip_index": 0, "start_s": 2.0, "end_s": 9.0 + i}}
               for i, status in enumerate(("completed", "running"))]
    base = "videos/t/clips/00"
    clip = clip_row(srt=base + ".srt", vtt=base + ".vtt", manifest=base + ".json", captions=True,
                    caption_style={"preset": "bold", "size": "large", "highlight": "#22D3EE", "position": "middle"})
    body = status_out(VideoState(job_row(), [], [clip], renders=renders), Storage(), "http://h").model_dump(
        mode="json", by_alias=True, exclude_unset=True)
    view = body["clips"][0]
    assert view["render"]["token"] == "r1" and view["render"]["status"] == "running"   # the latest
    assert view["render"]["end_s"] == 10.0
    assert view["downloads"]["video"] == "http://h/public/video/clips/download?token=t&index=0&file=mp4"
    assert view["downloads"]["manifest"].endswith("file=json")
    assert view["caption_style"]["preset"] == "bold"
    assert body["archive_url"] == "http://h/public/video/download?token=t"


def test_a_brief_counts_finished_steps_whole():
    from server.api.presenters import brief_out
    now = datetime.now(timezone.utc)
    row = {"token": "t", "status": "running", "pipeline_step": "classify", "progress": 0.5, "title": None,
           "source_kind": "url", "source_url": "https://e.com/a.mp4", "failure_cause": None, "clips": 0,
           "rendering": 0, "created_at": now, "finished_at": None}
    assert brief_out(row).overall_progress == 0.5          # two of five done, the third half done
    assert brief_out({**row, "status": "completed", "pipeline_step": "done", "progress": 0}).overall_progress == 1


def test_every_file_of_a_status_is_signed_in_one_request():
    clips = [{**clip_row(srt=f"videos/t/clips/0{i}.srt", vtt=f"videos/t/clips/0{i}.vtt",
                         manifest=f"videos/t/clips/0{i}.json"), "clip_index": i,
              "video_key": f"videos/t/clips/0{i}.mp4", "thumbnail_key": f"videos/t/clips/0{i}.jpg"}
             for i in range(3)]
    storage = Storage()
    body = status_out(VideoState(job_row(), [], clips), storage, "http://h").model_dump(mode="json")
    assert len(storage.requests) == 1 and len(storage.requests[0]) == 15
    assert [c["vtt_url"] for c in body["clips"]] == [f"http://h/public/media/videos/t/clips/0{i}.vtt"
                                                      for i in range(3)]
    missing = Storage(leaves_out=("videos/t/clips/01.jpg",))       # the batch left one out
    body = status_out(VideoState(job_row(), [], clips), missing, "http://h").model_dump(mode="json")
    assert missing.requests[1:] == [["videos/t/clips/01.jpg"]]
    assert body["clips"][1]["thumbnail_url"] == "http://h/public/media/videos/t/clips/01.jpg"
