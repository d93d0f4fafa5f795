"""The status of a video whose clips were searched: `clips` is always there (empty when
none were found) and `notice` says why there are fewer than asked."""
from __future__ import annotations

from server.api.presenters import status_out
from server.usecases.videos import VideoState
from tests.unit.test_presenters import Storage, job_row


def body(row: dict) -> dict:
    return status_out(VideoState(row, [], []), Storage(), "http://h").model_dump(
        mode="json", by_alias=True, exclude_unset=True)


def test_a_completed_video_without_clips_has_an_empty_list_and_says_why():
    told = "The speech lasts 11 s, shorter than the 15 s a clip must last."
    view = body(job_row(clips_searched=True, clip_notice=told))
    assert view["clips"] == [] and view["notice"] == told


def test_no_notice_when_there_is_nothing_to_say_and_no_list_before_the_search():
    assert "notice" not in body(job_row(clips_searched=True, clip_notice=None))
    before = body(job_row(status="running", pipeline_step="find_clips", finished_at=None,
                          clips_searched=False, clip_notice=None))
    assert "clips" not in before and "notice" not in before
