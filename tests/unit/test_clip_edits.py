"""A clip rendered again, over in-memory stores: the edit snaps to words, the job goes
through the queue as its own kind, the new version replaces the clip without touching the
video's job, and nothing is transcribed or looked for again."""
from __future__ import annotations

import random

import pytest

from server.core.edits import BadEdit, snap_to_words, words_of
from server.core.jobs import Lease
from server.core.steps import Kind
from server.pipeline.clip_render import STEPS as RENDER_CLIP
from server.usecases import Refused, clips, work
from server.usecases.submit import SubmitOptions, submit_url
from tests.support.fakes import FakeRenderer, fake_services

# "one two three. four five six." with word i spoken from i to i + 0.8 s
WORDS = ["one", "two", "three.", "four", "five", "six."]
SEGMENTS = [{"start": 0.0, "end": 6.0, "text": " ".join(WORDS),
             "words": [{"start": float(i), "end": i + 0.8, "word": " " + w, "probability": 1.0}
                       for i, w in enumerate(WORDS)]}]


def test_times_inside_words_snap_outwards_to_whole_words():
    words = words_of(SEGMENTS)
    assert snap_to_words(words, 0.9, 4.5) == (1.0, 4.8)       # "two" .. "five"
    assert snap_to_words(words, 1.0, 4.8) == (1.0, 4.8)       # a word's own times keep it
    assert snap_to_words(words, 1.5, 4.3) == (2.0, 3.8)       # a word half outside is left out


@pytest.mark.parametrize("start, end, words", [
    (3.0, 2.0, "end_s must come after start_s"),
    (20.0, 30.0, "no spoken word"),
    (2.0, 2.8, "at least 1 s"),
])
def test_edits_that_cannot_make_a_clip_say_why(start, end, words):
    with pytest.raises(BadEdit) as e:
        snap_to_words(words_of(SEGMENTS), start, end)
    assert words in str(e.value)


@pytest.fixture
def s(tmp_path):
    s = fake_services(tmp_path, allow_private_urls=True)
    s.renderer = FakeRenderer()
    return s


def completed_video(s, **opts) -> str:
    """A video whose five steps are done: stored source, transcript, one rendered clip."""
    token = submit_url(s, "https://example.com/talk.mp4", SubmitOptions(**opts))
    [row] = s.jobs.rows.values()
    vid = row["video_id"]
    source = s.cfg.data_dir / "source.mp4"
    source.parent.mkdir(parents=True, exist_ok=True)
    source.write_bytes(b"MEDIA 6")
    s.storage.put(f"videos/{token}/source.mp4", source, "video/mp4")
    cp = s.checkpoints
    cp.tables["media"][vid] = {"video_id": vid, "storage_key": f"videos/{token}/source.mp4"}
    cp.tables["transcript"][vid] = {"video_id": vid, "language": "en", "language_probability": 1.0,
                                    "duration_s": 6.0, "engine": "e", "model": "m", "segments": SEGMENTS}
    cp.clip_rows[vid] = {0: {"clip_index": 0, "start_s": 0.0, "end_s": 5.8, "title": "Count", "reason": "r",
                             "hook": "", "score": 70.0, "video_key": f"videos/{token}/clips/00.mp4",
                             "thumbnail_key": f"videos/{token}/clips/00.jpg",
                             "outputs": {"format": "vertical", "captions": True}}}
    row.update(status="completed", pipeline_step="done")
    return token


def run_render(s):
    [job] = work.claim(s, ("render_clip",), 1)
    return job, work.run_step(s, job, Lease(job), RENDER_CLIP, "w1", random.Random(1))


def test_a_clip_is_rendered_again_as_its_own_job_and_replaces_the_clip(s):
    token = completed_video(s)
    queued = clips.rerender(s, token, clips.ClipEdit(0, 0.5, 3.9, caption_style={"preset": "bold"}))
    assert (queued.start_s, queued.end_s) == (1.0, 3.8)
    [render] = [r for r in s.jobs.rows.values() if r["kind"] == Kind.CLIP_RENDER]
    assert render["token"] == queued.token and render["pipeline_step"] == "render_clip"
    assert render["payload"]["options"]["format"] == "vertical"          # kept from the clip
    assert render["payload"]["options"]["caption_style"]["size"] == "large"

    job, following = run_render(s)
    assert following == "done"
    [video_job] = [r for r in s.jobs.rows.values() if r["kind"] == Kind.VIDEO]
    assert (video_job["status"], video_job["pipeline_step"]) == ("completed", "done")     # untouched
    assert s.jobs.rows[job.id]["status"] == "completed"
    [clip] = s.checkpoints.clips(video_job["video_id"])
    assert (clip["start_s"], clip["end_s"]) == (1.0, 3.8)
    assert clip["video_key"] == f"videos/{token}/clips/00/{job.id}/00.mp4"
    assert s.storage.local_path(clip["video_key"]).read_bytes() == b"MP4 1.0-3.8 vertical"
    assert clip["outputs"]["caption_style"] == {"preset": "bold", "size": "large", "highlight": "#22D3EE",
                                                "position": "middle"}
    # only the render ran: nothing was downloaded, transcribed or looked for again
    assert [a["step"] for a in s.jobs.attempts] == ["render_clip"]


def test_a_second_render_of_the_same_clip_waits_for_the_first(s):
    token = completed_video(s)
    clips.rerender(s, token, clips.ClipEdit(0, 0.0, 3.0))
    with pytest.raises(Refused) as e:
        clips.rerender(s, token, clips.ClipEdit(0, 1.0, 4.0))
    assert e.value.reason == "conflict" and "already being rendered" in e.value.message
    run_render(s)
    clips.rerender(s, token, clips.ClipEdit(0, 1.0, 4.0))      # once it is done, another may start


def test_versions_no_clip_shows_are_deleted_when_the_next_render_starts(s):
    token = completed_video(s)
    clips.rerender(s, token, clips.ClipEdit(0, 0.0, 3.0))
    first, _ = run_render(s)
    clips.rerender(s, token, clips.ClipEdit(0, 1.0, 4.0))
    second, _ = run_render(s)
    folder = s.storage.root / f"videos/{token}/clips/00"
    # the first was still shown when the second started: kept until the next one starts
    assert sorted(int(p.name) for p in folder.iterdir()) == [first.id, second.id]
    clips.rerender(s, token, clips.ClipEdit(0, 2.0, 5.0))
    third, _ = run_render(s)
    assert sorted(int(p.name) for p in folder.iterdir()) == [second.id, third.id]


@pytest.mark.parametrize("status, index, edit_times, reason, words", [
    ("running", 0, (0.0, 3.0), "conflict", "not ready"),
    ("completed", 3, (0.0, 3.0), "not_found", "no clip with index 3"),
    ("completed", 0, (4.0, 4.5), "invalid", "at least 1 s"),
])
def test_refused_edits_queue_nothing(s, status, index, edit_times, reason, words):
    token = completed_video(s)
    [row] = [r for r in s.jobs.rows.values() if r["kind"] == Kind.VIDEO]
    row["status"] = status
    with pytest.raises(Refused) as e:
        clips.rerender(s, token, clips.ClipEdit(index, *edit_times))
    assert e.value.reason == reason and words in e.value.message
    assert [r for r in s.jobs.rows.values() if r["kind"] == Kind.CLIP_RENDER] == []


def test_unknown_video(s):
    with pytest.raises(Refused) as e:
        clips.rerender(s, "nope", clips.ClipEdit(0, 0.0, 3.0))
    assert e.value.reason == "not_found"
