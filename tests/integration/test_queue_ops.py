"""Operating the queue: metrics, graceful shutdown, the claim plan on a big table, caps
set from the command line."""
from __future__ import annotations

import os
import signal
import subprocess
import sys

import psycopg

from tests.support import ROOT
from tests.support.noop_workers import enqueue_noop_jobs, rows, scalar, start_noop_worker, wait_for
from server.queue import claim
from server.worker import Worker


def connection_reset(ctx):
    raise ConnectionResetError("reset by peer")


def test_metrics_report_jobs_failures_rescues_and_durations(client, services, clean_db):
    enqueue_noop_jobs(clean_db, 3)
    w = Worker(services, steps=("download",), concurrency=2, pipeline="noop")
    try:
        jobs = claim(services.db, ("download",), 2, 30)
        for job in jobs:
            assert w.run_step(job) == "transcribe"
        with psycopg.connect(clean_db, autocommit=True) as c:   # the third job's worker dies
            c.execute("update video_processing_queue set status = 'running', lease_owner = gen_random_uuid(), "
                      "lease_expires_at = now() - interval '1 second' where status = 'queued' "
                      "and pipeline_step = 'download'")
            c.execute("insert into step_runs (video_id, step, attempt, worker_id, lease_owner) "
                      "select video_id, 'download', 1, 'dead', lease_owner from video_processing_queue "
                      "where pipeline_step = 'download'")
        [rescued] = claim(services.db, ("download",), 1, 30)
        w.step_impls = {"download": connection_reset}
        w.run_step(rescued)
    finally:
        w.shutdown(1)
    r = client.get("/metrics")
    assert r.status_code == 200 and r.mimetype == "text/plain"
    lines = set(r.text.splitlines())
    assert 'clips_jobs{step="transcribe",status="queued"} 2' in lines
    assert 'clips_jobs{step="download",status="retrying"} 1' in lines
    assert 'clips_step_failures_total{step="download",cause="network",outcome="retrying"} 1' in lines
    assert 'clips_step_failures_total{step="download",cause="worker_lost",outcome="lease_lost"} 1' in lines
    assert "clips_lease_rescues_total 1" in lines
    assert 'clips_step_duration_seconds_count{step="download"} 2' in lines
    assert 'clips_step_duration_seconds_bucket{step="download",le="+Inf"} 2' in lines
    assert 'clips_step_duration_seconds_bucket{step="download",le="60"} 2' in lines
    assert "# TYPE clips_step_duration_seconds histogram" in lines


def test_sigterm_releases_a_step_that_outlives_the_grace_period(clean_db, data_dir):
    enqueue_noop_jobs(clean_db, 1)
    p = start_noop_worker(clean_db, data_dir, steps="download", concurrency=1, lease_s="30",
                          step_seconds="60,60")
    wait_for(lambda: scalar(clean_db, "select count(*) from step_runs"), timeout=60, interval=0.05)
    p.send_signal(signal.SIGTERM)       # --grace 5 in the helper
    _, err = p.communicate(timeout=60)
    assert p.returncode == 0, err[-2000:]
    # Released at once for another worker, and the interrupted attempt does not count.
    assert rows(clean_db, "select status, attempts, lease_owner from video_processing_queue") == [
        ("queued", 0, None)]
    assert rows(clean_db, "select outcome from step_runs") == [("released",)]


def test_claim_is_served_by_the_partial_index_with_100k_finished_jobs(clean_db):
    with psycopg.connect(clean_db, autocommit=True) as c:
        c.execute("""insert into videos (token, source_kind, source_url, source_fingerprint)
                     select 'done-' || g, 'url', 'http://x.invalid/' || g, 'fp' || g
                     from generate_series(1, 100000) g""")
        c.execute("""insert into video_processing_queue (video_id, pipeline_step, status, finished_at)
                     select id, 'done', 'completed', now() from videos""")
        c.execute("analyze video_processing_queue")
        enqueue_noop_jobs(clean_db, 5)
        plan = "\n".join(r[0] for r in c.execute(
            """explain select id from video_processing_queue
               where pipeline_step = any(array['download']) and status in ('queued', 'retrying', 'running')
                 and ((status in ('queued', 'retrying') and run_after <= now())
                      or (status = 'running' and lease_expires_at < now()))
               order by priority desc, run_after, id limit 4 for update skip locked"""))
    assert "video_processing_queue_claim_idx" in plan, plan
    assert "Seq Scan" not in plan, plan


def test_step_limit_command_sets_and_clears_a_cap(clean_db, data_dir):
    env = {**os.environ, "DATABASE_URL": clean_db, "DATA_DIR": str(data_dir), "PYTHONPATH": str(ROOT)}

    def cli(*args):
        return subprocess.run([sys.executable, "-m", "server", "step-limit", *args], env=env, cwd=ROOT,
                              capture_output=True, text=True, timeout=120)
    assert cli("transcribe", "2").returncode == 0
    assert rows(clean_db, "select step, max_running from step_limits") == [("transcribe", 2)]
    bad = cli("transcribe", "0")
    assert bad.returncode == 2 and "at least 1" in bad.stderr
    assert cli("transcribe").returncode == 0
    assert rows(clean_db, "select step from step_limits") == []
