"""Breaking workers on purpose: SIGKILL mid-step, SIGSTOP past the lease, a global cap
under concurrent workers. All on the no-op pipeline, in real worker processes."""
from __future__ import annotations

import json
import random
import signal
import time

from tests.support.noop_workers import enqueue_noop_jobs, rows, scalar, start_noop_worker, wait_for

STEPS = ("download", "transcribe", "classify", "find_clips", "render")
CHECKPOINTS = ("video_media", "video_transcripts", "video_analyses", "video_clip_searches")
KILLS = 8


def stop_all(procs) -> list[str]:
    for p in procs:
        p.send_signal(signal.SIGTERM)
    errs = []
    for p in procs:
        _, err = p.communicate(timeout=60)
        assert p.returncode == 0, err[-3000:]
        errs.append(err)
    return errs


def running_steps_of(db_url, pid) -> int:
    return scalar(db_url, """select count(*) from step_runs
                             where finished_at is null and worker_id like %s""", f"%:{pid}:%")


def test_chaos_sigkill_mid_step_every_job_completes_each_checkpoint_once(clean_db, data_dir):
    """KILLS workers die mid-step whatever the machine's speed: when the queue runs dry
    before that, more jobs are queued, so the number of kills never depends on how fast
    the workers are (the assertions below count the jobs actually queued)."""
    rng = random.Random(1234)
    tokens = enqueue_noop_jobs(clean_db, 30, max_attempts=20)
    start = lambda: start_noop_worker(clean_db, data_dir, lease_s="1.5", step_seconds="0.1,0.4")  # noqa: E731
    procs = [start() for _ in range(3)]
    kills = 0
    try:
        while kills < KILLS:
            if not scalar(clean_db, "select count(*) from video_processing_queue where status <> 'completed'"):
                tokens += enqueue_noop_jobs(clean_db, 10, max_attempts=20)
            i = rng.randrange(len(procs))
            if running_steps_of(clean_db, procs[i].pid):      # only ever kill during a step
                procs[i].send_signal(signal.SIGKILL)
                procs[i].wait(10)
                procs[i].stderr.close()
                procs[i] = start()
                kills += 1
            time.sleep(rng.uniform(0.1, 0.5))
        wait_for(lambda: scalar(clean_db, "select count(*) from video_processing_queue "
                                          "where status = 'completed'") == len(tokens), timeout=240)
    finally:
        stop_all(procs)

    assert rows(clean_db, "select distinct pipeline_step, status from video_processing_queue") == [("done", "completed")]
    # Checkpoint tables have video_id as primary key: a second write would have failed the
    # step (and shown up as an error in the history), never added a row.
    for table in CHECKPOINTS:
        assert scalar(clean_db, f"select count(*) from {table}") == len(tokens), table
    assert scalar(clean_db, "select count(*) from video_clips where video_key is not null") == len(tokens)
    succeeded = rows(clean_db, """select video_id, step, count(*) from step_runs where outcome = 'succeeded'
                                  group by 1, 2""")
    assert len(succeeded) == len(tokens) * len(STEPS) and {r[2] for r in succeeded} == {1}
    # The stored checkpoint is the one the succeeding attempt wrote, not a killed one's.
    assert scalar(clean_db, """select count(*) from video_media m join step_runs r
                               on r.video_id = m.video_id and r.step = 'download' and r.outcome = 'succeeded'
                               where m.storage_key = 'noop/' || r.lease_owner""") == len(tokens)
    assert scalar(clean_db, "select count(*) from step_runs where failure_cause in ('internal_error', 'database')") == 0
    # Every attempt is closed, and the killed ones are recorded as rescues.
    assert scalar(clean_db, "select count(*) from step_runs where finished_at is null") == 0
    rescues = scalar(clean_db, "select count(*) from step_runs where failure_cause = 'worker_lost'")
    assert rescues >= 1
    assert scalar(clean_db, """select count(*) from step_runs r where failure_cause = 'worker_lost'
                               and exists (select 1 from step_runs s where s.video_id = r.video_id
                                           and s.step = r.step and s.attempt > r.attempt)""") == rescues


def test_worker_paused_past_its_lease_writes_nothing(clean_db, data_dir, services, monkeypatch):
    from tests.support.noop_workers import claim
    from server.worker import Worker
    [token] = enqueue_noop_jobs(clean_db, 1)
    a = start_noop_worker(clean_db, data_dir, steps="download", concurrency=1, lease_s="1",
                          step_seconds="2.5,2.5")
    try:
        wait_for(lambda: running_steps_of(clean_db, a.pid), timeout=60, interval=0.05)
        a.send_signal(signal.SIGSTOP)
        services.cfg.noop_step_seconds = "0.01,0.01"
        b = Worker(services, steps=("download",), concurrency=1, worker_id="B", pipeline="noop")
        try:
            job = wait_for(lambda: claim(services, ("download",), 1, 30), timeout=30, interval=0.1)[0]
            assert b.run_step(job) == "transcribe"
        finally:
            b.shutdown(1)
        a.send_signal(signal.SIGCONT)
        # A wakes up mid-step: its next heartbeat or progress report finds the lease gone.
        wait_for(lambda: running_steps_of(clean_db, a.pid) == 0, timeout=30)
    finally:
        a.send_signal(signal.SIGCONT)
        [err] = stop_all([a])
    logs = [json.loads(line) for line in err.splitlines() if line.startswith("{")]
    assert any(r["msg"] == "lease lost; abandoning the step" and r.get("job") == token for r in logs), err[-2000:]
    assert rows(clean_db, "select pipeline_step, status, lease_owner from video_processing_queue") == [
        ("transcribe", "queued", None)]
    history = rows(clean_db, "select worker_id, outcome, failure_cause, lease_owner::text from step_runs order by id")
    assert [(h[1], h[2]) for h in history] == [("lease_lost", "worker_lost"), ("succeeded", None)]
    assert f":{a.pid}:" in history[0][0] and history[1][0] == "B"
    assert rows(clean_db, "select storage_key from video_media") == [(f"noop/{history[1][3]}",)]


def test_global_cap_holds_across_concurrent_workers(clean_db, data_dir, services):
    services.jobs.set_step_limit("transcribe", 1)
    tokens = enqueue_noop_jobs(clean_db, 8)
    procs = [start_noop_worker(clean_db, data_dir, concurrency=3, lease_s="10", step_seconds="0.15,0.25")
             for _ in range(3)]
    try:
        wait_for(lambda: scalar(clean_db, "select count(*) from video_processing_queue "
                                          "where status = 'completed'") == len(tokens), timeout=180)
    finally:
        stop_all(procs)

    def overlaps(step):
        return scalar(clean_db, """select count(*) from step_runs a join step_runs b
                                   on a.step = b.step and a.id < b.id
                                   and a.started_at < b.finished_at and b.started_at < a.finished_at
                                   where a.step = %s and a.outcome = 'succeeded' and b.outcome = 'succeeded'""", step)
    assert overlaps("transcribe") == 0
    assert overlaps("download") > 0          # uncapped steps did run side by side
    assert scalar(clean_db, "select count(distinct worker_id) from step_runs where step = 'transcribe'") >= 2
