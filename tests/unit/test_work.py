"""The worker's use cases over in-memory stores: claim, advance with the checkpoint,
reuse, retry, fail, release, and the fence that stops a worker without its lease."""
from __future__ import annotations

import random

import pytest

from server.core.failures import backoff_s, fatal, retryable
from server.core.jobs import Lease
from server.core.steps import Step
from server.usecases import Refused, audio, videos, work
from server.usecases.submit import SubmitOptions, submit_url
from tests.support.fakes import fake_services


@pytest.fixture
def s(tmp_path):
    return fake_services(tmp_path, allow_private_urls=True)


def download_ok(ctx):
    key = f"noop/{ctx.job.lease_owner}"
    return lambda w: w.save_media(video_id=ctx.video_id, storage_key=key, bytes=1, sha256="x",
                                  duration_s=1.0, width=None, height=None)


def transcribe_ok(ctx):
    ctx.media()                                  # reads the earlier checkpoint
    return lambda w: w.save_transcript(video_id=ctx.video_id, engine="e", model="m", language="en",
                                       language_probability=1.0, duration_s=1.0, segments=[],
                                       transcribe_seconds=0.1)


def raising(exc):
    def step(ctx):
        raise exc
    return step


IMPLS = {Step.DOWNLOAD: download_ok, Step.TRANSCRIBE: transcribe_ok}


def run(s, job, impls=IMPLS, rng=None, lease=None):
    return work.run_step(s, job, lease or Lease(job), impls, "w1", rng or random.Random(1))


def queue_row(s):
    [row] = [r for r in s.jobs.rows.values()]
    return row


def test_a_step_advances_with_its_checkpoint_and_its_attempt(s):
    token = submit_url(s, "https://example.com/a.mp4", SubmitOptions())
    [job] = work.claim(s, ("download",), 5)
    assert (job.token, job.attempts, job.lease_s) == (token, 1, s.cfg.lease_s)
    assert run(s, job) == "transcribe"
    assert s.checkpoints.media(job.video_id)["storage_key"] == f"noop/{job.lease_owner}"
    assert (queue_row(s)["pipeline_step"], queue_row(s)["status"], queue_row(s)["attempts"]) == \
        ("transcribe", "queued", 0)
    assert [(a["step"], a["outcome"], a["worker_id"]) for a in s.jobs.attempts] == [("download", "succeeded", "w1")]


def test_a_worker_whose_lease_was_taken_writes_nothing(s):
    submit_url(s, "https://example.com/a.mp4", SubmitOptions())
    [stale] = work.claim(s, ("download",), 1)
    s.jobs.clock.now += s.cfg.lease_s + 1            # it stalls past its lease...
    [fresh] = work.claim(s, ("download",), 1)        # ... and another worker rescues the job
    assert fresh.attempts == 2 and fresh.lease_owner != stale.lease_owner
    assert run(s, stale) is None
    assert s.checkpoints.media(stale.video_id) is None
    assert run(s, fresh) == "transcribe"
    assert [(a["outcome"], a["cause"]) for a in s.jobs.attempts] == [
        ("lease_lost", "lease_lost"), ("succeeded", None)]


def test_retryable_failures_back_off_then_give_up(s):
    submit_url(s, "https://example.com/a.mp4", SubmitOptions())
    queue_row(s)["max_attempts"] = 3
    twin = random.Random(7)
    rng = random.Random(7)
    for attempt in (1, 2):
        [job] = work.claim(s, ("download",), 1)
        run(s, job, {Step.DOWNLOAD: raising(retryable("http_5xx", "503"))}, rng)
        row = queue_row(s)
        assert (row["status"], row["failure_cause"]) == ("retrying", "http_5xx")
        assert row["run_after"] - s.jobs.clock.now == pytest.approx(backoff_s(attempt, 1.0, 8.0, twin))
        assert work.claim(s, ("download",), 1) == []                  # not due yet
        s.jobs.clock.now = row["run_after"]
    [job] = work.claim(s, ("download",), 1)
    run(s, job, {Step.DOWNLOAD: raising(ConnectionResetError("reset"))}, rng)
    row = queue_row(s)
    assert (row["status"], row["failure_cause"]) == ("failed", "network")
    assert row["failure_details"].startswith("gave up after 3 attempts")
    assert [a["outcome"] for a in s.jobs.attempts] == ["retrying", "retrying", "failed"]


def test_a_fatal_failure_fails_at_once(s):
    submit_url(s, "https://example.com/a.mp4", SubmitOptions())
    [job] = work.claim(s, ("download",), 1)
    run(s, job, {Step.DOWNLOAD: raising(fatal("too_long", "the video lasts 99999 s"))})
    row = queue_row(s)
    assert (row["status"], row["failure_cause"], row["failure_details"]) == \
        ("failed", "too_long", "the video lasts 99999 s")


def test_a_checkpoint_that_fails_to_save_leaves_nothing_behind(s):
    submit_url(s, "https://example.com/a.mp4", SubmitOptions())
    [job] = work.claim(s, ("download",), 1)

    def half_saved(ctx):
        def save(w):
            w.save_media(video_id=ctx.video_id, storage_key="k", bytes=1, sha256="x", duration_s=1.0,
                         width=None, height=None)
            raise KeyError("bug after the first write")
        return save
    assert run(s, job, {Step.DOWNLOAD: half_saved}) is None
    assert s.checkpoints.media(job.video_id) is None
    assert (queue_row(s)["pipeline_step"], queue_row(s)["status"]) == ("download", "retrying")


def test_steps_that_keep_losing_their_worker_end_attempts_exhausted(s):
    submit_url(s, "https://example.com/a.mp4", SubmitOptions())
    queue_row(s)["max_attempts"] = 2
    for _ in range(2):                               # two workers die mid-step
        [job] = work.claim(s, ("download",), 1)
        s.jobs.start_attempt(job, "dead")
        s.jobs.clock.now += s.cfg.lease_s + 1
    [job] = work.claim(s, ("download",), 1)
    assert job.attempts == 3 and run(s, job) is None
    assert (queue_row(s)["status"], queue_row(s)["failure_cause"]) == ("failed", "attempts_exhausted")


def test_a_resubmitted_source_reuses_the_checkpoints_unless_forced(s):
    first = submit_url(s, "https://example.com/a.mp4", SubmitOptions())
    for step in ("download", "transcribe"):
        [job] = work.claim(s, (step,), 1)
        assert run(s, job)
    again = submit_url(s, "https://example.com/a.mp4?", SubmitOptions())
    forced = submit_url(s, "https://example.com/a.mp4", SubmitOptions(force=True))
    for token in (again, forced):
        for step in ("download", "transcribe"):
            [job] = work.claim(s, (step,), 1, job_id=s.videos.job_id(token))
            run(s, job)
    outcomes = {t: [a["outcome"] for a in s.jobs.attempts if s.videos.token_of(a["video_id"]) == t]
                for t in (first, again, forced)}
    assert outcomes == {first: ["succeeded"] * 2, again: ["reused"] * 2, forced: ["succeeded"] * 2}
    keys = {t: s.checkpoints.media(s.videos.status(t)["video_id"])["storage_key"] for t in (first, again, forced)}
    assert keys[again] == keys[first] != keys[forced]


def test_nothing_to_reuse_runs_the_step_and_keeps_the_lease(s):
    submit_url(s, "https://example.com/a.mp4", SubmitOptions())
    [job] = work.claim(s, ("download",), 1)
    lease = Lease(job)
    assert run(s, job, lease=lease) == "transcribe"
    assert [a["outcome"] for a in s.jobs.attempts] == ["succeeded"]


def test_cancel_and_shutdown_end_a_running_step(s):
    token = submit_url(s, "https://example.com/a.mp4", SubmitOptions())
    [job] = work.claim(s, ("download",), 1)
    lease = Lease(job)

    def long_step(ctx):
        lease.state = "shutdown"            # what Worker.shutdown does after its grace period
        ctx.progress(0.5)
    run(s, job, {Step.DOWNLOAD: long_step}, lease=lease)
    assert (queue_row(s)["status"], queue_row(s)["attempts"]) == ("queued", 0)   # released, not counted
    [job] = work.claim(s, ("download",), 1)
    lease = Lease(job)

    def cancelled(ctx):
        s.jobs.cancel(token)
        lease.state = "cancelled"           # what the heartbeat finds
        ctx.progress(0.5)
    run(s, job, {Step.DOWNLOAD: cancelled}, lease=lease)
    assert queue_row(s)["status"] == "cancelled"
    assert [a["outcome"] for a in s.jobs.attempts] == ["released", "cancelled"]
    assert work.claim(s, ("download",), 1) == []


def test_caps_limit_running_jobs_of_a_step(s):
    for i in range(3):
        submit_url(s, f"https://example.com/{i}.mp4", SubmitOptions())
    s.jobs.set_step_limit("download", 2)
    assert len(work.claim(s, ("download",), 3)) == 2
    assert work.claim(s, ("download",), 3) == []


def test_audio_enhancement_is_a_job_like_any_other(s, tmp_path):
    source = tmp_path / "episode.mp3"
    source.write_bytes(b"MEDIA 3 noisy speech")
    token = audio.submit(s, source, "episode.mp3")
    assert audio.state(s, token).output is None and audio.state(s, token).job["status"] == "queued"
    [job] = work.claim(s, tuple(Step), 5)
    assert (job.kind, job.pipeline_step, job.video_id, job.token) == ("audio_enhance", "enhance_audio", None, token)

    def enhance(ctx):
        assert ctx.video is None
        src = ctx.services.storage.local_path(ctx.job.payload["input_key"])
        out = tmp_path / "clean.wav"
        out.write_bytes(src.read_bytes().upper())
        ctx.services.storage.put(f"audio/{ctx.job.token}/enhanced.wav", out, "audio/wav")
        return lambda w: w.save_audio_output(job_id=ctx.job.id, storage_key=f"audio/{ctx.job.token}/enhanced.wav",
                                             duration_s=3.0, bytes=20)
    assert run(s, job, {Step.ENHANCE_AUDIO: enhance}) == "done"
    state = audio.state(s, token)
    assert state.job["status"] == "completed" and state.output.read_bytes() == b"MEDIA 3 NOISY SPEECH"
    assert [(a["step"], a["outcome"]) for a in s.jobs.attempts] == [("enhance_audio", "succeeded")]


def test_a_cancel_that_lands_while_the_step_commits_is_recorded_as_cancelled(s):
    """The heartbeat has not seen the cancel yet: the fenced advance is what finds it."""
    token = submit_url(s, "https://example.com/a.mp4", SubmitOptions())
    [job] = work.claim(s, ("download",), 1)

    def cancelled_at_the_end(ctx):
        save = download_ok(ctx)
        videos.cancel(s, token)
        return save
    assert run(s, job, {Step.DOWNLOAD: cancelled_at_the_end}) is None
    assert [(a["outcome"], a["cause"]) for a in s.jobs.attempts] == [("cancelled", "cancelled")]
    assert s.checkpoints.media(job.video_id) is None


def test_a_cancel_that_lands_while_a_failure_is_written_is_recorded_as_cancelled(s):
    token = submit_url(s, "https://example.com/a.mp4", SubmitOptions())
    [job] = work.claim(s, ("download",), 1)

    def cancelled_then_failing(ctx):
        videos.cancel(s, token)
        raise retryable("network", "connection reset")
    run(s, job, {Step.DOWNLOAD: cancelled_then_failing})
    assert [a["outcome"] for a in s.jobs.attempts] == ["cancelled"]
    assert queue_row(s)["status"] == "cancelled"


def test_a_lease_taken_by_another_worker_is_still_recorded_as_lost(s):
    submit_url(s, "https://example.com/a.mp4", SubmitOptions())
    [job] = work.claim(s, ("download",), 1)

    def overtaken(ctx):
        s.jobs.rows[job.id]["lease_owner"] = "another-worker"
        return download_ok(ctx)
    run(s, job, {Step.DOWNLOAD: overtaken})
    assert [(a["outcome"], a["cause"]) for a in s.jobs.attempts] == [("lease_lost", "lease_lost")]


def test_cancelling_twice_says_the_job_is_already_cancelled(s):
    token = submit_url(s, "https://example.com/a.mp4", SubmitOptions())
    videos.cancel(s, token)
    with pytest.raises(Refused, match="already cancelled"):
        videos.cancel(s, token)
    other = submit_url(s, "https://example.com/b.mp4", SubmitOptions())
    for step in ("download", "transcribe"):
        [job] = work.claim(s, (step,), 1)
        run(s, job)
    s.jobs.rows[s.videos.job_id(other)]["status"] = "completed"
    with pytest.raises(Refused, match="already completed"):
        videos.cancel(s, other)
