"""Faults on purpose: a misbehaving HTTP server, steps raising every failure class, backoff
under a seeded clock of jitter, priorities, cancellation, reuse and retention."""
from __future__ import annotations

import hashlib
import random
import shutil

import psycopg
import pytest

from scripts.faulty_server import FaultyServer
from tests.support.noop_workers import claim, enqueue_noop_jobs, rows, scalar, wait_for
from server.adapters.downloader_ytdlp import YtDlpDownloader
from server.core.failures import CAUSES, StepError, backoff_s, fatal, retryable
from server.worker import Worker


@pytest.fixture
def faulty(tmp_path, tiny_video):
    shutil.copyfile(tiny_video, tmp_path / "v.mp4")
    with FaultyServer(tmp_path, drop_at=(0.25, 0.6), stall_s=4, retry_after=7) as srv:
        yield srv


def test_download_resumes_from_the_partial_file_after_dropped_connections(faulty, tmp_path, tiny_video):
    media = YtDlpDownloader(1 << 30, 3600, socket_timeout_s=2).download(
        faulty.url("drop", "v.mp4"), tmp_path / "work", lambda p: None)
    assert hashlib.sha256(media.path.read_bytes()).digest() == hashlib.sha256(tiny_video.read_bytes()).digest()
    # The body was cut short, and the client asked for the rest from what it had kept
    # (yt-dlp writes in blocks, so it resumes at or a little before the cut).
    starts = [int(r[6:-1]) for _, _, r in faulty.requests if r and r.endswith("-")]
    assert faulty.cuts and any(0 < s <= max(faulty.cuts) for s in starts), (faulty.cuts, faulty.requests)


@pytest.mark.parametrize("fault, cause, is_retryable, retry_after", [
    ("404", "not_found", False, None),
    ("503", "http_5xx", True, 7.0),
    ("stall", "network", True, None),
])
def test_download_failures_become_failure_causes(faulty, tmp_path, fault, cause, is_retryable, retry_after):
    with pytest.raises(StepError) as e:
        YtDlpDownloader(1 << 30, 3600, socket_timeout_s=0.5).download(
            faulty.url(fault, "v.mp4"), tmp_path / "work", lambda p: None)
    assert (e.value.cause, e.value.retryable, e.value.retry_after_s) == (cause, is_retryable, retry_after)


def queue(db_url):
    return rows(db_url, """select status, attempts, failure_cause, failure_details,
                                  extract(epoch from run_after - updated_at)
                           from video_processing_queue""")[0]


def raising(exc):
    def step(ctx):
        raise exc
    return step


@pytest.mark.parametrize("exc, cause", [
    (fatal("corrupt_media", "moov atom not found"), "corrupt_media"),
    (fatal("too_long", "the video lasts 99999 s"), "too_long"),
    (fatal("not_found", "HTTP Error 404"), "not_found"),
])
def test_a_fatal_failure_fails_the_job_at_once(services, clean_db, exc, cause):
    enqueue_noop_jobs(clean_db, 1)
    w = Worker(services, steps=("download",), concurrency=1, pipeline="noop")
    w.step_impls = {"download": raising(exc)}
    try:
        [job] = claim(services, ("download",), 1, 30)
        assert w.run_step(job) is None
    finally:
        w.shutdown(1)
    status, attempts, got, details, _ = queue(clean_db)
    assert (status, attempts, got, details) == ("failed", 1, cause, str(exc))
    assert CAUSES[cause][0] is False


@pytest.mark.parametrize("exc, cause", [
    (retryable("llm_unavailable", "502 from the provider"), "llm_unavailable"),
    (ConnectionResetError("peer reset"), "network"),
    (psycopg.OperationalError("server closed the connection"), "database"),
    (KeyError("surprise"), "internal_error"),
])
def test_retryable_failures_back_off_exponentially_then_give_up(services, clean_db, exc, cause):
    """Backoff is checked against the same seeded jitter, with time moved on in the
    database rather than slept through."""
    cfg = services.cfg
    cfg.backoff_base_s, cfg.backoff_max_s = 10.0, 35.0
    enqueue_noop_jobs(clean_db, 1, max_attempts=4)
    w = Worker(services, steps=("download",), concurrency=1, pipeline="noop")
    w.step_impls = {"download": raising(exc)}
    w.rng, twin = random.Random(7), random.Random(7)
    try:
        for attempt in (1, 2, 3):
            [job] = claim(services, ("download",), 1, 30)
            assert job.attempts == attempt
            assert w.run_step(job) is None
            status, attempts, got, details, delay = queue(clean_db)
            assert (status, got) == ("retrying", cause)
            assert float(delay) == pytest.approx(backoff_s(attempt, 10.0, 35.0, twin), abs=1e-3)
            assert claim(services, ("download",), 1, 30) == []          # not due yet
            with psycopg.connect(clean_db, autocommit=True) as c:          # the clock moves on
                c.execute("update video_processing_queue set run_after = now()")
        [job] = claim(services, ("download",), 1, 30)
        w.run_step(job)
    finally:
        w.shutdown(1)
    status, attempts, got, details, _ = queue(clean_db)
    assert (status, attempts, got) == ("failed", 4, cause)
    assert details.startswith("gave up after 4 attempts")
    if not isinstance(exc, StepError):       # unexpected errors keep the traceback's tail
        assert "Traceback" in details or "line " in details
    outcomes = [r[0] for r in rows(clean_db, "select outcome from step_runs order by id")]
    assert outcomes == ["retrying", "retrying", "retrying", "failed"]


def test_backoff_grows_exponentially_is_capped_and_honours_retry_after():
    rng = random.Random(3)
    delays = [backoff_s(n, 10, 100, rng) for n in range(1, 7)]
    for n, d in enumerate(delays, start=1):
        ceiling = min(100, 10 * 2 ** (n - 1))
        assert ceiling / 2 <= d <= ceiling
    assert backoff_s(1, 10, 100, rng, retry_after_s=60) >= 60
    assert backoff_s(1, 10, 100, rng, retry_after_s=500) == 500     # a server's wish beats our cap


def test_retry_after_from_a_provider_sets_the_next_attempt(services, clean_db):
    services.cfg.backoff_base_s, services.cfg.backoff_max_s = 1.0, 5.0
    enqueue_noop_jobs(clean_db, 1)
    w = Worker(services, steps=("download",), concurrency=1, pipeline="noop")
    w.step_impls = {"download": raising(retryable("rate_limited", "HTTP 429", retry_after_s=120))}
    try:
        [job] = claim(services, ("download",), 1, 30)
        w.run_step(job)
    finally:
        w.shutdown(1)
    status, _, cause, _, delay = queue(clean_db)
    assert (status, cause, float(delay)) == ("retrying", "rate_limited", pytest.approx(120, abs=1e-3))


def test_claims_follow_priority_then_age(services, clean_db):
    order = []
    for p in (0, 5, -3, 5, 10, 0):
        order += enqueue_noop_jobs(clean_db, 1, priority=p)
    claimed = []
    while jobs := claim(services, ("download",), 1, 30):
        claimed.append(jobs[0].token)
    expected = [order[i] for i in (4, 1, 3, 0, 5, 2)]
    assert claimed == expected


def test_per_step_lease_lengths(services, clean_db):
    enqueue_noop_jobs(clean_db, 1)
    [job] = claim(services, ("download",), 1, 30, step_lease_s={"download": 300})
    assert job.lease_s == 300
    left = scalar(clean_db, "select extract(epoch from lease_expires_at - now()) from video_processing_queue")
    assert 250 < float(left) <= 300


def test_cancel_stops_a_running_step_within_a_heartbeat(client, services, clean_db, monkeypatch):
    services.cfg.noop_step_seconds = "60,60"
    services.cfg.lease_s = 0.6                     # heartbeat every 0.2 s
    [token] = enqueue_noop_jobs(clean_db, 1)
    w = Worker(services, steps=("download",), concurrency=1, pipeline="noop")
    try:
        [job] = w.claim_and_dispatch()
        wait_for(lambda: scalar(clean_db, "select count(*) from step_runs"), timeout=10, interval=0.05)
        r = client.post("/public/video/cancel", json={"token": token})
        assert r.status_code == 200 and r.json["status"] == "cancelled"
        assert w.wait_idle(10), "the step kept running after the cancel"
        assert client.post("/public/video/cancel", json={"token": token}).status_code == 409
        assert claim(services, ("download",), 1, 30) == []            # never resumed
    finally:
        w.shutdown(1)
    assert rows(clean_db, "select outcome from step_runs") == [("cancelled",)]
    assert rows(clean_db, "select status from video_processing_queue") == [("cancelled",)]
    assert scalar(clean_db, "select count(*) from video_media") == 0


def run_until(services, clean_db, token, step, steps=("download", "transcribe")):
    w = Worker(services, steps=steps, concurrency=1, pipeline="noop")
    try:
        job_id = scalar(clean_db, """select q.id from video_processing_queue q
                                     join videos v on v.id = q.video_id where v.token = %s""", token)
        assert w.claim_and_dispatch(job_id=job_id)
        wait_for(lambda: scalar(clean_db, """select q.pipeline_step from video_processing_queue q
                                              join videos v on v.id = q.video_id where v.token = %s""",
                                token) == step, timeout=30, interval=0.05)
    finally:
        w.shutdown(5)


def outcomes(db_url, token):
    return rows(db_url, """select r.step, r.outcome from step_runs r join videos v on v.id = r.video_id
                           where v.token = %s order by r.id""", token)


def test_resubmitting_a_source_reuses_its_checkpoints_unless_forced(client, services, clean_db):
    url = "http://127.0.0.1:9/talk.mp4"
    first = client.post("/public/video", json={"video_url": url}, headers={"Idempotency-Key": "k1"}).json["token"]
    again = client.post("/public/video", json={"video_url": url}, headers={"Idempotency-Key": "k1"}).json["token"]
    assert again == first
    run_until(services, clean_db, first, "classify")

    reuse = client.post("/public/video", json={"video_url": url}).json["token"]
    forced = client.post("/public/video", json={"video_url": url, "force": True}).json["token"]
    for t in (reuse, forced):
        run_until(services, clean_db, t, "classify")
    assert outcomes(clean_db, reuse) == [("download", "reused"), ("transcribe", "reused")]
    assert outcomes(clean_db, forced) == [("download", "succeeded"), ("transcribe", "succeeded")]
    keys = dict(rows(clean_db, """select v.token, m.storage_key from video_media m
                                  join videos v on v.id = m.video_id"""))
    assert keys[reuse] == keys[first] != keys[forced]
    assert client.post("/public/video", json={"video_url": url, "force": "yes"}).status_code == 400


def test_old_attempt_history_is_pruned(services, clean_db):
    enqueue_noop_jobs(clean_db, 1)
    w = Worker(services, steps=("download",), concurrency=1, pipeline="noop")
    try:
        for _ in range(2):
            [job] = claim(services, ("download",), 1, 30)
            services.jobs.release(job)
            services.jobs.start_attempt(job, "x")
            services.jobs.finish_attempt(job, "released", None, None)
        with psycopg.connect(clean_db, autocommit=True) as c:
            c.execute("update step_runs set finished_at = now() - interval '40 days' where id = 1")
        services.cfg.step_runs_retention_days = 30.0
        assert w.prune_history() == 1
    finally:
        w.shutdown(1)
    assert scalar(clean_db, "select array_agg(id) from step_runs") == [2]
