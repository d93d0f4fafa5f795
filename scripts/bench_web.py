"""What the page's two heavier requests cost, each beside the obvious alternative.

    .venv/bin/python -m scripts.bench_web [--videos 50] [--clips 10] [--clip-mb 20] [--fix-a-clip]

1. The history's badges: one batch request (`/public/video/statuses`) for N videos against
   N status requests, through the app with an embedded Postgres in a temporary DATA_DIR.
2. "Download all": the zip streamed a block at a time (server/usecases/downloads.py) against
   the same zip built in memory first: time to the first byte, throughput, peak Python heap.
3. With --fix-a-clip (minutes: the real pipeline on the sample talk): moving one clip's end
   and rendering it again, against what changing a clip took before, submitting the video
   again (its download and transcript reused, classify, find_clips and every clip's render
   run again).

Prints the load average beside the figures."""
from __future__ import annotations

import argparse
import io
import os
import shutil
import tempfile
import time
import tracemalloc
import zipfile
from pathlib import Path


def load() -> str:
    return f"load average {os.getloadavg()[0]:.2f}"


def history(videos: int, tmp: Path) -> None:
    from server import create_app
    app = create_app({"data_dir": tmp / "data", "rate_limit_status_per_min": 0, "log_level": "WARNING"})
    s = app.extensions["services"]
    tokens = [s.videos.create(token=f"bench{i:04d}{'x' * 20}", source_kind="url",
                              source_url=f"https://example.com/{i}.mp4", upload_key=None,
                              fingerprint=f"bench-{time.time_ns()}-{i}", idempotency_key=None,
                              title=f"talk {i}", options={}, priority=0, max_attempts=5)
              for i in range(videos)]
    client = app.test_client()
    one_by_one, batch = [], []
    for _ in range(5):
        t0 = time.perf_counter()
        for t in tokens:
            assert client.get(f"/public/video/status?token={t}").status_code == 200
        one_by_one.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        body = client.get("/public/video/statuses?tokens=" + ",".join(tokens)).json
        batch.append(time.perf_counter() - t0)
        assert body is not None, "the batch status answer is not JSON"
        assert len(body["videos"]) == videos
    print(f"history of {videos} videos ({load()}):")
    print(f"  {videos} status requests   {min(one_by_one) * 1000:8.1f} ms (best of 5), {videos} requests "
          "against the rate limit")
    print(f"  one batch request    {min(batch) * 1000:8.1f} ms (best of 5), 1 request")
    s.close()


def archive(clips: int, clip_mb: int, tmp: Path) -> None:
    from server.usecases.downloads import Archive, Entry, stream_zip
    folder = tmp / "clips"
    folder.mkdir()
    paths = []
    for i in range(clips):
        p = folder / f"{i:02d}.mp4"
        with open(p, "wb") as f:
            for _ in range(clip_mb):
                f.write(os.urandom(1 << 20))       # incompressible, like video
        paths.append(p)
    total = clips * clip_mb

    def entries() -> list[Entry]:
        return [Entry(p.name, open(p, "rb"), p.stat().st_size) for p in paths]

    print(f"download all: {clips} clips of {clip_mb} MiB, {total} MiB ({load()}):")
    tracemalloc.start()
    t0 = time.perf_counter()
    first = None
    with open(os.devnull, "wb") as sink:
        for block in stream_zip(Archive("x.zip", entries())):
            first = first or time.perf_counter() - t0
            sink.write(block)
    secs = time.perf_counter() - t0
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert first is not None, "the zip stream yielded nothing"
    print(f"  streamed             first byte {first * 1000:7.1f} ms, {total / secs:7.1f} MiB/s, "
          f"peak heap {peak / (1 << 20):7.1f} MiB")

    tracemalloc.start()
    t0 = time.perf_counter()
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for e in entries():
            with e.source:
                zf.writestr(zipfile.ZipInfo(e.name), e.source.read())
    data = buf.getvalue()
    first = time.perf_counter() - t0             # nothing can be sent before the zip is whole
    with open(os.devnull, "wb") as sink:
        sink.write(data)
    secs = time.perf_counter() - t0
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    print(f"  built in memory      first byte {first * 1000:7.1f} ms, {total / secs:7.1f} MiB/s, "
          f"peak heap {peak / (1 << 20):7.1f} MiB")


def fix_a_clip(tmp: Path, fmt: str) -> None:
    from scripts.media_server import MediaServer
    from server import create_app
    from server.usecases import clips, videos
    from server.usecases.submit import SubmitOptions, submit_url
    from server.worker import Worker
    sample = Path(__file__).resolve().parent / "samples" / "talk.mp4"
    app = create_app({"data_dir": tmp / "data", "allow_private_urls": True, "log_level": "WARNING"})
    s = app.extensions["services"]
    worker = Worker(s, concurrency=1, worker_id="bench")

    def until(done) -> float:
        t0 = time.monotonic()
        worker.claim_and_dispatch()
        while not done():
            time.sleep(0.2)
            if worker.free_slots():
                worker.claim_and_dispatch()
        return time.monotonic() - t0

    def finished(token: str) -> bool:
        return videos.status(s, token).job["status"] in ("completed", "failed", "cancelled")

    with MediaServer(sample.parent) as srv:
        url = srv.url(sample.name)
        token = submit_url(s, url, SubmitOptions(format=fmt))
        first = until(lambda: finished(token))
        again = submit_url(s, url, SubmitOptions(format=fmt))          # the download and transcript reused
        resubmit = until(lambda: finished(again))
    state = videos.status(s, token)
    clip = state.clips[0]
    words = [w for seg in s.checkpoints.transcript(state.job["video_id"])["segments"] for w in seg["words"]
             if clip["start_s"] <= (w["start"] + w["end"]) / 2 <= clip["end_s"]]
    clips.rerender(s, token, clips.ClipEdit(clip["clip_index"], clip["start_s"], words[-4]["end"]))

    def rendered() -> bool:
        vid = state.job["video_id"]
        latest = clips.latest_renders(s.jobs.clip_renders_of_videos([vid])[vid])[clip["clip_index"]]
        return latest["status"] in ("completed", "failed")
    fix = until(rendered)
    worker.shutdown(5)
    print(f"fix one clip of the sample talk ({len(state.clips)} {fmt} clips; {load()}):")
    print(f"  the first run, all five steps                       {first:7.1f} s")
    print(f"  before: submit again (download, transcript reused)  {resubmit:7.1f} s")
    print(f"  now: render that clip again (end 3 words earlier)   {fix:7.1f} s")
    s.close()


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--videos", type=int, default=50)
    ap.add_argument("--clips", type=int, default=10)
    ap.add_argument("--clip-mb", type=int, default=20)
    ap.add_argument("--fix-a-clip", action="store_true", help="also time a clip's fix on the sample talk")
    ap.add_argument("--format", default="vertical", help="the sample's clips' format for --fix-a-clip")
    args = ap.parse_args()
    from server.db.embedded import stopped_on_exit
    tmp = Path(tempfile.mkdtemp(prefix="bench-web-"))
    try:
        archive(args.clips, args.clip_mb, tmp)
        # the embedded Postgres this run starts in its throwaway DATA_DIR goes with it
        with stopped_on_exit(tmp / "data"):
            history(args.videos, tmp)
            if args.fix_a_clip:
                fix_a_clip(tmp, args.format)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
