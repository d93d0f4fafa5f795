"""The Postgres stores keep the contracts the use cases (and the in-memory fakes of the
unit tests) rely on: an advance is all or nothing, fenced by the lease; kinds without a
video have their own handle; the claim returns each job's kind and payload."""
from __future__ import annotations

import psycopg
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


def _video_with_clip(clean_db) -> tuple[str, int]:
    [token] = enqueue_noop_jobs(clean_db, 1)
    vid = scalar(clean_db, "select id from videos where token = %s", token)
    with psycopg.connect(clean_db) as c:
        c.execute("""insert into video_clips (video_id, clip_index, start_s, end_s, title, reason, hook, score,
                                              video_key)
                     values (%s, 0, 1, 9, 't', 'r', '', 50, 'old.mp4'),
                            (%s, 1, 10, 19, 'u', 'r', '', 40, 'old1.mp4')""", (vid, vid))
        c.execute("update video_processing_queue set status = 'completed', pipeline_step = 'done' "
                  "where video_id = %s", (vid,))
    return token, vid


def test_one_live_render_per_clip_and_the_video_job_stays_as_it_was(services, clean_db):
    token, vid = _video_with_clip(clean_db)
    enqueue = services.jobs.enqueue_clip_render
    assert enqueue(video_id=vid, token="r1", payload={"clip_index": 0, "start_s": 2, "end_s": 8},
                   priority=10, max_attempts=3)
    assert not enqueue(video_id=vid, token="r2", payload={"clip_index": 0, "start_s": 1, "end_s": 8},
                       priority=10, max_attempts=3)                  # clip 0 already has one waiting
    assert enqueue(video_id=vid, token="r3", payload={"clip_index": 1, "start_s": 11, "end_s": 18},
                   priority=10, max_attempts=3)                      # another clip may
    assert [r["token"] for r in services.jobs.clip_renders_of_videos([vid])[vid]] == ["r1", "r3"]
    [job] = claim(services, ("render_clip",), 1, 30)
    assert (job.kind, job.token, job.video_id, job.priority) == ("clip_render", "r1", vid, 10)
    assert services.jobs.start_attempt(job, "w")["token"] == token    # the step reads its video
    assert services.jobs.advance(job, "done", lambda w: w.save_clip_version(
        video_id=vid, clip_index=0, start_s=2.0, end_s=8.0, video_key="new.mp4", thumbnail_key="new.jpg",
        outputs={"format": "square"}))
    assert rows(clean_db, "select clip_index, start_s, end_s, video_key, outputs->>'format' from video_clips "
                          "order by clip_index") == [(0, 2.0, 8.0, "new.mp4", "square"),
                                                     (1, 10.0, 19.0, "old1.mp4", None)]
    status = services.videos.status(token)
    assert (status["status"], status["pipeline_step"]) == ("completed", "done")
    assert enqueue(video_id=vid, token="r4", payload={"clip_index": 0, "start_s": 1, "end_s": 8},
                   priority=10, max_attempts=3)                      # the first is done: another may start
    assert services.jobs.cancel(token) is False                      # the video is finished; renders aside


def test_briefs_of_several_videos_in_one_query(services, clean_db):
    token, vid = _video_with_clip(clean_db)
    [other] = enqueue_noop_jobs(clean_db, 1)
    services.jobs.enqueue_clip_render(video_id=vid, token="r1", payload={"clip_index": 1, "start_s": 11,
                                                                         "end_s": 18},
                                      priority=10, max_attempts=3)
    briefs = {b["token"]: b for b in services.videos.briefs([token, other, "nobody"])}
    assert set(briefs) == {token, other}
    assert (briefs[token]["status"], briefs[token]["clips"], briefs[token]["rendering"]) == ("completed", 2, 1)
    assert (briefs[other]["status"], briefs[other]["clips"], briefs[other]["rendering"]) == ("queued", 0, 0)
