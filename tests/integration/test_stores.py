"""The Postgres stores keep the contracts the use cases (and the in-memory fakes of the
unit tests) rely on: an advance is all or nothing, fenced by the lease; kinds without a
video have their own handle; the claim returns each job's kind and payload."""
from __future__ import annotations

import pytest

from server.core.steps import Step
from tests.support.noop_workers import claim, enqueue_noop_jobs, rows, scalar


def test_an_advance_whose_checkpoint_fails_writes_nothing_and_keeps_the_lease(services, clean_db):
    enqueue_noop_jobs(clean_db, 1)
    [job] = claim(services, ("download",), 1, 30)

    def save(w):
        w.save_media(video_id=job.video_id, storage_key="k", bytes=1, sha256="x", duration_s=1.0,
                     width=None, height=None)
        raise KeyError("a bug after the first write")
    with pytest.raises(KeyError):
        services.jobs.advance(job, "transcribe", save)
    assert scalar(clean_db, "select count(*) from video_media") == 0
    assert rows(clean_db, "select pipeline_step, status, lease_owner::text from video_processing_queue") == [
        ("download", "running", job.lease_owner)]
    assert services.jobs.heartbeat(job, 0.5)                  # still this worker's


def test_an_advance_without_the_lease_writes_nothing(services, clean_db):
    enqueue_noop_jobs(clean_db, 1)
    [job] = claim(services, ("download",), 1, 30)
    assert services.jobs.release(job)
    called = []
    assert services.jobs.advance(job, "transcribe", called.append) is False
    assert called == [] and scalar(clean_db, "select count(*) from video_media") == 0


def test_reuse_finds_nothing_for_a_new_source(services, clean_db):
    enqueue_noop_jobs(clean_db, 1)
    [job] = claim(services, ("download",), 1, 30)
    with services.db.tx() as tx:
        assert services.checkpoints.writer(tx).reuse(Step.DOWNLOAD, job.video_id) is False


def test_an_audio_job_has_its_own_token_payload_and_checkpoint(services, clean_db):
    services.jobs.enqueue_audio("audiotoken", {"input_key": "audio/audiotoken/input.wav"}, 3)
    assert services.jobs.audio_job("audiotoken")["status"] == "queued"
    assert claim(services, ("download",), 5, 30) == []       # a video worker does not take it
    [job] = claim(services, tuple(Step), 5, 30)
    assert (job.kind, job.token, job.video_id, job.payload, job.max_attempts) == (
        "audio_enhance", "audiotoken", None, {"input_key": "audio/audiotoken/input.wav"}, 3)
    assert services.jobs.start_attempt(job, "w") is None     # no video to read
    assert services.jobs.advance(job, "done", lambda w: w.save_audio_output(
        job_id=job.id, storage_key="audio/audiotoken/enhanced.wav", duration_s=2.0, bytes=10))
    row = services.jobs.audio_job("audiotoken")
    assert (row["status"], row["output_key"]) == ("completed", "audio/audiotoken/enhanced.wav")
    assert rows(clean_db, "select step, outcome, job_id = %s, video_id from step_runs", job.id) == [
        ("enhance_audio", "succeeded", True, None)]
    assert services.videos.status("audiotoken") is None      # not a video
    assert services.jobs.cancel("audiotoken") is False
