"""Concurrent submissions of one source do the work once (issue 11, item 14), on the real
queue: worker processes claiming at the same moment, a leader that fails, is cancelled or
dies, and forced submissions. The no-op pipeline writes real checkpoints, so reuse runs
exactly as it does with media."""
from __future__ import annotations

import signal
import threading
import time

import psycopg
import pytest

from server.api.presenters import status_out
from server.core.failures import fatal
from server.core.steps import Step
from server.pipeline import noop
from server.usecases import videos, work
from server.usecases.submit import SubmitOptions, submit_url
from server.worker import Worker
from tests.support.noop_workers import claim, rows, scalar, start_noop_worker, wait_for

SOURCE = "https://example.com/one-talk.mp4"


def submit_same_source(services, n, *, force=False) -> list[str]:
    """n submissions of one source through the submit use case (the no-op pipeline never
    fetches the URL)."""
    return [submit_url(services, SOURCE, SubmitOptions(force=force)) for _ in range(n)]


def work_done(db_url) -> dict[tuple[str, str], int]:
    return {(step, outcome): n for step, outcome, n in rows(
        db_url, "select step, outcome, count(*) from step_runs group by 1, 2")}


def past_transcribe(db_url) -> int:
    return scalar(db_url, """select count(*) from video_processing_queue
                             where pipeline_step not in ('download', 'transcribe')""")


def stop(procs) -> None:
    for p in procs:
        p.send_signal(signal.SIGTERM)
    for p in procs:
        _, err = p.communicate(timeout=60)
        assert p.returncode == 0, err[-3000:]


def test_concurrent_submissions_of_one_source_are_downloaded_and_transcribed_once(services, clean_db, data_dir):
    """Three worker processes of four slots each claim at the same moments; without
    coalescing each claim takes up to four jobs of the source and does the work again."""
    tokens = submit_same_source(services, 24)
    procs = [start_noop_worker(clean_db, data_dir, steps="download,transcribe", concurrency=4,
                               lease_s="5", step_seconds="0.5,0.5") for _ in range(3)]
    try:
        wait_for(lambda: past_transcribe(clean_db) == len(tokens), timeout=120)
    finally:
        stop(procs)
    done = work_done(clean_db)
    assert done[("download", "succeeded")] == 1 and done[("transcribe", "succeeded")] == 1, done
    assert done[("download", "reused")] == done[("transcribe", "reused")] == len(tokens) - 1, done
    assert set(done) == {("download", "succeeded"), ("download", "reused"),
                         ("transcribe", "succeeded"), ("transcribe", "reused")}, done
    # Every job ends with the one stored file and transcript.
    assert scalar(clean_db, "select count(distinct storage_key) from video_media") == 1
    assert scalar(clean_db, "select count(*) from video_transcripts") == len(tokens)


@pytest.mark.parametrize("ending", ["fails", "is_cancelled"])
def test_when_the_running_job_fails_or_is_cancelled_another_takes_over(client, services, clean_db, ending):
    services.cfg.lease_s = 0.9                     # heartbeats every 0.3 s: a cancel is seen quickly
    services.cfg.noop_step_seconds = "0.3,0.3"
    tokens = submit_same_source(services, 6)
    first_call: list[str] = []
    lock = threading.Lock()

    def download(ctx):
        with lock:
            first = not first_call
            first_call.append(ctx.job.token)
        if first:                                  # the first job to run the step
            if ending == "fails":
                raise fatal("not_found", "the source answered 404 this time")
            client.post("/public/video/cancel", json={"token": ctx.job.token})
            time.sleep(1.5)                        # the heartbeat finds the cancel meanwhile
            ctx.progress(0.5)
        return noop.download(ctx)

    workers = [Worker(services, steps=("download", "transcribe"), concurrency=3, pipeline="noop")
               for _ in range(2)]
    for w in workers:
        w.step_impls = {**w.step_impls, Step.DOWNLOAD: download}
        threading.Thread(target=w.run_forever, args=(0.05,), daemon=True).start()
    try:
        wait_for(lambda: past_transcribe(clean_db) == len(tokens) - 1, timeout=60, interval=0.1)
    finally:
        for w in workers:
            w.shutdown(5)
    done = work_done(clean_db)
    ended = "failed" if ending == "fails" else "cancelled"
    assert done[("download", ended)] == 1 and done[("download", "succeeded")] == 1, done
    assert done[("download", "reused")] == len(tokens) - 2, done
    assert len(first_call) == 2                    # the step ran twice: the one that ended, and one more
    assert rows(clean_db, """select v.token, q.status from videos v join video_processing_queue q
                             on q.video_id = v.id where q.status in ('failed', 'cancelled')""") == \
        [(first_call[0], ended)]


def test_a_job_whose_worker_died_is_taken_over_after_its_lease_expires(services, clean_db, data_dir):
    tokens = submit_same_source(services, 4)
    [dead] = work.claim(services, ("download",), 4)           # claimed, then the worker vanishes
    with psycopg.connect(clean_db, autocommit=True) as c:
        c.execute("update video_processing_queue set lease_expires_at = now() + interval '2 seconds' where id = %s",
                  (dead.id,))
    assert work.claim(services, ("download",), 4) == []       # the others wait while its lease lives
    procs = [start_noop_worker(clean_db, data_dir, steps="download,transcribe", concurrency=2,
                               lease_s="5", step_seconds="0.1,0.1")]
    try:
        wait_for(lambda: past_transcribe(clean_db) == len(tokens), timeout=60)   # nobody waits forever
    finally:
        stop(procs)
    done = work_done(clean_db)
    assert done[("download", "succeeded")] == 1 and done[("download", "reused")] == len(tokens) - 1, done


def test_forced_submissions_redo_the_work_and_neither_wait_nor_are_waited_for(services, clean_db):
    plain = submit_same_source(services, 2)
    forced = submit_same_source(services, 2, force=True)
    claimed = work.claim(services, ("download",), 10)
    # The forced jobs run at once, beside the first plain one; the second plain one waits.
    assert sorted(j.token for j in claimed) == sorted(forced + plain[:1])
    assert work.claim(services, ("download",), 10) == []
    w = Worker(services, steps=("download", "transcribe"), concurrency=4, pipeline="noop")
    try:
        for job in claimed:
            assert w.run_step(job) == "transcribe"
        while jobs := work.claim(services, ("download", "transcribe"), 10):
            for job in jobs:
                w.run_step(job)
    finally:
        w.shutdown(1)
    by_token: dict[str, list] = {}
    for token, step, outcome in rows(clean_db, """select v.token, r.step, r.outcome from step_runs r
                                                  join videos v on v.id = r.video_id order by r.id"""):
        by_token.setdefault(token, []).append((step, outcome))
    for t in forced + plain[:1]:
        assert by_token[t] == [("download", "succeeded"), ("transcribe", "succeeded")], by_token
    assert by_token[plain[1]] == [("download", "reused"), ("transcribe", "reused")], by_token


def test_two_claims_that_cannot_see_each_other_still_do_the_work_once(services, clean_db):
    """Two workers' claims at the same moment (each claim's snapshot predates the other's
    commit): both win, and the step's check under the source's lock hands one back."""
    a, b = submit_same_source(services, 2)
    ids = dict(rows(clean_db, "select v.token, q.id from videos v join video_processing_queue q on q.video_id = v.id"))
    [job_a] = claim(services, ("download",), 1, 30, job_id=ids[a])     # no coalescing: the race
    [job_b] = claim(services, ("download",), 1, 30, job_id=ids[b])
    w = Worker(services, steps=("download",), concurrency=2, pipeline="noop")
    try:
        assert w.run_step(job_a) is None                        # saw b running: handed back
        assert rows(clean_db, "select status, attempts from video_processing_queue where id = %s", job_a.id) == \
            [("queued", 0)]
        assert scalar(clean_db, "select count(*) from step_runs") == 0     # nothing recorded for it
        assert w.run_step(job_b) == "transcribe"                # saw nobody else: did the work
        [again] = wait_for(lambda: work.claim(services, ("download",), 2), timeout=10, interval=0.2)
        assert again.id == job_a.id and w.run_step(again) == "transcribe"
    finally:
        w.shutdown(1)
    assert work_done(clean_db) == {("download", "succeeded"): 1, ("download", "reused"): 1}


def test_a_job_passed_over_for_its_source_says_why_in_its_status(services, clean_db):
    first, second = submit_same_source(services, 2)
    [leader] = claim(services, ["download"], 1, lease_s=30)
    waiting = second if leader.token == first else first
    body = status_out(videos.status(services, waiting), services.storage, "http://h")
    assert body.status == "queued"
    assert [w for w in body.warnings if "waiting for another submission of the same source" in w] == [
        "waiting for another submission of the same source, which is at download now: this job "
        "reuses its download instead of making its own"]
    assert work.claim(services, ("download",), 1) == []                    # and it is passed over
    led = status_out(videos.status(services, leader.token), services.storage, "http://h")
    assert led.status == "running" and led.warnings == []
    forced = submit_url(services, SOURCE, SubmitOptions(force=True))          # forced: waits for no one
    assert status_out(videos.status(services, forced), services.storage, "http://h").warnings == []
