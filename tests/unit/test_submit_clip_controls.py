"""The clip controls at submission: stored with the video's options when chosen, refused
(naming the field) outside this server's bounds, before anything is stored."""
from __future__ import annotations

import pytest

from server.usecases import Refused
from server.usecases.submit import SubmitOptions, submit_file, submit_url
from tests.support.fakes import fake_services


@pytest.fixture
def s(tmp_path):
    return fake_services(tmp_path, allow_private_urls=True, max_duration_s=100.0,
                         clip_min_s=10.0, clip_max_s=60.0, clip_max_count=6)


def media(tmp_path):
    path = tmp_path / "talk.mp4"
    path.write_bytes(b"MEDIA 30 rest of the file")
    return path


def test_chosen_controls_are_stored_and_unset_ones_left_to_the_settings(s):
    submit_url(s, "https://example.com/a.mp4", SubmitOptions(
        min_clip_s=20, max_clip_s=40, max_clips=2, topic="  tides ", allow_short=True, language="de"))
    submit_url(s, "https://example.com/b.mp4", SubmitOptions(topic="   "))
    first, second = s.videos.rows.values()
    assert {k: first["options"][k] for k in ("min_clip_s", "max_clip_s", "max_clips", "topic",
                                             "allow_short", "language")} \
        == {"min_clip_s": 20, "max_clip_s": 40, "max_clips": 2, "topic": "tides", "allow_short": True,
            "language": "de"}
    assert not {"min_clip_s", "max_clip_s", "max_clips", "topic", "allow_short", "language"} \
        & set(second["options"])


@pytest.mark.parametrize("opts, field, words", [
    (SubmitOptions(min_clip_s=5), "min_clip_s", "min_clip_s must be between 10 and 60 s on this server"),
    (SubmitOptions(max_clip_s=61), "max_clip_s", "max_clip_s must be between 10 and 60 s"),
    (SubmitOptions(min_clip_s=30, max_clip_s=20), "min_clip_s", "min_clip_s (30 s) is longer than max_clip_s (20 s)"),
    (SubmitOptions(max_clip_s=12, min_clip_s=15), "min_clip_s", "longer than max_clip_s"),
    (SubmitOptions(max_clips=7), "max_clips", "max_clips must be between 1 and 6 on this server"),
    (SubmitOptions(max_clips=0), "max_clips", "max_clips must be between 1 and 6"),
])
def test_controls_outside_the_servers_bounds_are_refused_before_anything_is_stored(
        s, tmp_path, opts, field, words):
    with pytest.raises(Refused) as e:
        submit_url(s, "https://example.com/a.mp4", opts)
    assert e.value.reason == "invalid" and words in e.value.message
    assert e.value.extra["field"] == field and e.value.message.startswith(("min_clip_s", "max_clip"))
    with pytest.raises(Refused):
        submit_file(s, media(tmp_path), filename="talk.mp4", opts=opts)
    assert s.jobs.rows == {} and not (tmp_path / "storage").exists()


def test_other_controls_make_another_request_for_an_idempotency_key(s):
    token = submit_url(s, "https://example.com/a.mp4", SubmitOptions(idempotency_key="k", max_clips=2))
    assert submit_url(s, "https://example.com/a.mp4", SubmitOptions(idempotency_key="k", max_clips=2)) == token
    with pytest.raises(Refused) as e:
        submit_url(s, "https://example.com/a.mp4", SubmitOptions(idempotency_key="k", max_clips=3))
    assert e.value.reason == "mismatch"
