"""Helpers for queue tests that run real worker processes on the no-op pipeline."""
from __future__ import annotations

import os
import subprocess
import sys
import time

import psycopg

from tests.support import ROOT


def start_noop_worker(db_url, data_dir, *, steps="download,transcribe,classify,find_clips,render",
                      concurrency=2, lease_s="2", step_seconds="0.01,0.05", extra_env=None):
    env = {**os.environ, "DATABASE_URL": db_url, "DATA_DIR": str(data_dir), "LEASE_SECONDS": lease_s,
           "WORKER_POLL_SECONDS": "0.05", "NOOP_STEP_SECONDS": step_seconds, "LOG_LEVEL": "INFO",
           "PYTHONPATH": str(ROOT), **(extra_env or {})}
    return subprocess.Popen([sys.executable, "-m", "server", "worker", "--pipeline", "noop",
                             "--steps", steps, "--concurrency", str(concurrency), "--grace", "5"],
                            env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            text=True)


def enqueue_noop_jobs(db_url, n, *, max_attempts=5, priority=0) -> list[str]:
    """Jobs straight into the tables (the no-op pipeline never looks at the source)."""
    tokens = []
    with psycopg.connect(db_url) as c:
        for i in range(n):
            token = f"noop-{time.monotonic_ns()}-{i}"
            row = c.execute("""insert into videos (token, source_kind, source_url, source_fingerprint)
                               values (%s, 'url', %s, %s) returning id""",
                            (token, f"http://example.invalid/{token}", token)).fetchone()
            assert row is not None                      # `returning` gives the inserted row
            vid = row[0]
            c.execute("""insert into video_processing_queue (video_id, max_attempts, priority)
                         values (%s, %s, %s)""", (vid, max_attempts, priority))
            tokens.append(token)
    return tokens


def claim(services, steps, limit, lease_s, step_lease_s=None, job_id=None):
    """A claim straight through the queue's store, as a worker's would be."""
    return services.jobs.claim(tuple(steps), limit, lease_s, step_lease_s or {}, job_id=job_id)


def wait_for(predicate, timeout=120, interval=0.2):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError("condition not met in time")


def scalar(db_url, sql, *args):
    with psycopg.connect(db_url) as c:
        return c.execute(sql, args).fetchone()[0]


def rows(db_url, sql, *args):
    with psycopg.connect(db_url) as c:
        return c.execute(sql, args).fetchall()
