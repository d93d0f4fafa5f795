"""Operating the queue: metrics, graceful shutdown, the claim plan on a big table, caps
set from the command line."""
from __future__ import annotations

import os
import signal
import subprocess
import sys

import psycopg

from tests.support import ROOT
from tests.support.noop_workers import claim, enqueue_noop_jobs, rows, scalar, start_noop_worker, wait_for
from server.db import Tx
from server.usecases import work
from server.worker import Worker


def connection_reset(ctx):
    raise ConnectionResetError("reset by peer")


def _metrics(client) -> dict[str, float]:
    r = client.get("/metrics")
    assert r.status_code == 200 and r.mimetype == "text/plain"
    return {line.rsplit(" ", 1)[0]: float(line.rsplit(" ", 1)[1])
            for line in r.text.splitlines() if line and not line.startswith("#")}


def test_metrics_report_jobs_failures_rescues_and_durations(client, services, clean_db):
    enqueue_noop_jobs(clean_db, 3)
    w = Worker(services, steps=("download",), concurrency=2, pipeline="noop")
    try:
        jobs = claim(services, ("download",), 2, 30)
        for job in jobs:
            assert w.run_step(job) == "transcribe"
        with psycopg.connect(clean_db, autocommit=True) as c:   # the third job's worker dies
            c.execute("update video_processing_queue set status = 'running', lease_owner = gen_random_uuid(), "
                      "lease_expires_at = now() - interval '1 second' where status = 'queued' "
                      "and pipeline_step = 'download'")
            c.execute("insert into step_runs (job_id, video_id, step, attempt, worker_id, lease_owner) "
                      "select id, video_id, 'download', 1, 'dead', lease_owner from video_processing_queue "
                      "where pipeline_step = 'download'")
        [rescued] = claim(services, ("download",), 1, 30)
        w.step_impls = {"download": connection_reset}
        w.run_step(rescued)
    finally:
        w.shutdown(1)
    m = _metrics(client)
    assert m['clips_jobs{kind="video",status="queued",step="transcribe"}'] == 2
    assert m['clips_jobs{kind="video",status="retrying",step="download"}'] == 1
    assert m['clips_step_failures_total{cause="network",outcome="retrying",step="download"}'] == 1
    assert m['clips_step_failures_total{cause="worker_lost",outcome="lease_lost",step="download"}'] == 1
    assert m['clips_step_attempts_total{outcome="succeeded",step="download"}'] == 2
    assert m["clips_lease_rescues_total"] == 1
    assert m['clips_step_duration_seconds_count{step="download"}'] == 2
    assert m['clips_step_duration_seconds_bucket{le="+Inf",step="download"}'] == 2
    assert m['clips_step_duration_seconds_bucket{le="60",step="download"}'] == 2
    assert m['clips_step_duration_seconds_bucket{le="0.01",step="download"}'] <= 2


def test_counters_never_go_down_when_history_is_pruned(client, services, clean_db):
    enqueue_noop_jobs(clean_db, 2)
    w = Worker(services, steps=("download",), concurrency=1, pipeline="noop")
    try:
        for job in claim(services, ("download",), 2, 30):
            w.run_step(job)
        before = _metrics(client)
        with psycopg.connect(clean_db, autocommit=True) as c:   # the history grows old
            c.execute("update step_runs set finished_at = now() - interval '400 days'")
        services.cfg.step_runs_retention_days = 30.0
        assert w.prune_history() == 2
    finally:
        w.shutdown(1)
    after = _metrics(client)
    counters = [k for k in before if "_total" in k or "_count" in k or "_bucket" in k or "_sum" in k]
    assert counters and all(after[k] >= before[k] for k in counters), \
        {k: (before[k], after.get(k)) for k in counters}
    assert after['clips_step_attempts_total{outcome="succeeded",step="download"}'] == 2


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


def test_claim_is_served_by_the_partial_index_with_100k_finished_jobs(clean_db, services, monkeypatch):
    with psycopg.connect(clean_db, autocommit=True) as c:
        c.execute("""insert into videos (token, source_kind, source_url, source_fingerprint)
                     select 'done-' || g, 'url', 'http://x.invalid/' || g, 'fp' || g
                     from generate_series(1, 100000) g""")
        c.execute("""insert into video_processing_queue (video_id, pipeline_step, status, finished_at)
                     select id, 'done', 'completed', now() from videos""")
        c.execute("analyze video_processing_queue")
    enqueue_noop_jobs(clean_db, 5)
    # Capture the statement and parameters the queue store really sends for a claim...
    sent = []
    real_run = Tx._run

    def recording(self, name, params):
        sent.append((self._queries[name], params))
        return real_run(self, name, params)
    monkeypatch.setattr(Tx, "_run", recording)
    assert len(work.claim(services, ("download",), 4)) == 4     # what a worker sends, coalescing included
    monkeypatch.undo()
    [(sql, params)] = [(q, p) for q, p in sent if "skip locked" in q]
    # ... and ask Postgres how it runs that very statement (EXPLAIN alone does not execute it).
    with psycopg.connect(clean_db, autocommit=True) as c:
        plan = "\n".join(r[0] for r in c.execute("explain " + sql, params))
    assert "video_processing_queue_claim_idx" in plan, plan
    assert "Seq Scan on video_processing_queue" not in plan, plan


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
