"""Seconds and real-time factor per pipeline step, for the sample talk and a 10-minute
input built from it. Runs the real pipeline (embedded Postgres in a temporary DATA_DIR,
local HTTP download) in this process.

    .venv/bin/python -m scripts.bench_pipeline [--model base] [--skip-long]
"""
from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Protocol, runtime_checkable

ROOT = Path(__file__).resolve().parents[1]

from scripts.media_server import MediaServer

SAMPLE = ROOT / "scripts" / "samples" / "talk.mp4"


def build_long(out: Path, seconds: float = 600) -> Path:
    """Loops the sample to `seconds` (stream copy, so it takes a moment)."""
    import imageio_ffmpeg
    subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-loglevel", "error", "-y", "-stream_loop", "3",
                    "-i", str(SAMPLE), "-t", str(seconds), "-c", "copy", str(out)], check=True)
    return out


def run(services, url: str) -> tuple[str, float]:
    from server.usecases import videos
    from server.usecases.submit import SubmitOptions, submit_url
    from server.worker import Worker
    token = submit_url(services, url, SubmitOptions(force=True))     # no reuse between runs
    worker = Worker(services, concurrency=1, worker_id="bench")
    started = time.monotonic()
    worker.claim_and_dispatch()
    while True:
        row = videos.status(services, token).job
        if row["status"] in ("completed", "failed", "cancelled"):
            break
        time.sleep(0.2)
    total = time.monotonic() - started
    worker.shutdown(1)
    if row["status"] != "completed":
        raise SystemExit(f"{row['status']}: {row['failure_cause']}: {row['failure_details']}")
    return token, total


def report(services, token: str, total: float, label: str) -> None:
    from server.usecases import videos
    state = videos.status(services, token)
    row, runs, clips = state.job, state.attempts, state.clips
    duration = row["duration_s"]
    print(f"\n{label}: {duration:.0f} s of video, {len(clips)} clips, "
          f"content type {row['content_type']} (load average {os.getloadavg()[0]:.2f})")
    print(f"  {'step':<11} {'seconds':>8} {'x real time':>12}")
    for r in runs:
        secs = (r["finished_at"] - r["started_at"]).total_seconds()
        print(f"  {r['step']:<11} {secs:8.2f} {duration / secs:12.1f}")
    print(f"  {'total':<11} {total:8.2f} {duration / total:12.1f}")


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model", default=os.environ.get("WHISPER_MODEL", "base"))
    p.add_argument("--engine", default=os.environ.get("WHISPER_ENGINE", "faster-whisper"))
    p.add_argument("--skip-long", action="store_true")
    args = p.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-"))
    os.environ.update({"DATA_DIR": str(work / "data"), "ALLOW_PRIVATE_URLS": "1",
                       "WHISPER_MODEL": args.model, "WHISPER_ENGINE": args.engine, "LOG_LEVEL": "WARNING"})
    from server.db.embedded import stopped_on_exit
    try:
        # The embedded Postgres this run starts in its throwaway DATA_DIR goes with it.
        with stopped_on_exit(work / "data"):
            return bench(args, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)


@runtime_checkable
class _LoadsModel(Protocol):
    # Both Whisper engines can load their model ahead of the first transcription; the
    # Transcriber port does not promise it, so the benchmark checks before timing it.
    def load(self) -> object: ...


def bench(args: argparse.Namespace, work: Path) -> int:
    from server import open_services
    from server.settings import load_settings
    from server.logs import setup_logging
    setup_logging()
    services = open_services(load_settings())
    print(f"engine {args.engine}, model {args.model}, {os.cpu_count()} CPU cores, "
          f"load average {os.getloadavg()[0]:.2f}")
    t = time.monotonic()
    transcriber = services.transcriber
    assert isinstance(transcriber, _LoadsModel), f"{args.engine} cannot load its model ahead"
    transcriber.load()
    print(f"model load: {time.monotonic() - t:.2f} s")
    t = time.monotonic()
    if hasattr(services.analyzer, "warm_up"):
        services.analyzer.warm_up()
    print(f"analyzer load: {time.monotonic() - t:.2f} s")
    inputs = [("sample talk", SAMPLE)]
    if not args.skip_long:
        inputs.append(("10-minute input", build_long(work / "long.mp4")))
    for label, path in inputs:
        with MediaServer(path.parent) as srv:
            token, total = run(services, srv.url(path.name))
        report(services, token, total, label)
    services.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
