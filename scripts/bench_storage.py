"""Memory and time of the Supabase Storage backend moving a large file, against the local
Storage fake running in a child process (so its memory is not counted here).

    .venv/bin/python -m scripts.bench_storage [--mb 200]

Prints, with the load average: the time and peak Python heap of this process for a
one-request upload, a resumable (TUS, 6 MiB chunks) upload and a download (streaming keeps
the heap far below the file size); and the time to sign a status response's URLs (10
clips, 5 files each) one request per file against one request for all."""
from __future__ import annotations

import argparse
import gc
import os
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

from server.adapters.storage_supabase import SupabaseStorage

KEY = "bench-service-key"
CHILD = """
import sys
from scripts.fake_supabase_storage import FakeStorage
with FakeStorage({key!r}, "media", size_limit=8 << 30) as fake:
    print(fake.url, flush=True)
    sys.stdin.read()
"""


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--mb", type=int, default=200)
    args = ap.parse_args()
    child = subprocess.Popen([sys.executable, "-c", CHILD.format(key=KEY)], cwd=ROOT,
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert child.stdin is not None and child.stdout is not None   # both piped above
    url = child.stdout.readline().strip()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            src = Path(tmp) / "source.mp4"
            with open(src, "wb") as f:
                for _ in range(args.mb):
                    f.write(os.urandom(1 << 20))
            print(f"file {args.mb} MiB, load average {os.getloadavg()[0]:.2f}")
            tracemalloc.start()
            for label, above in (("upload, one request", 1 << 62), ("upload, resumable", 64 << 20)):
                storage = SupabaseStorage(url, KEY, "media", Path(tmp) / "cache",
                                          resumable_above_bytes=above)
                copy = Path(tmp) / "copy.mp4"
                os.link(src, copy)                       # put consumes its source
                gc.collect()
                tracemalloc.reset_peak()
                base = tracemalloc.get_traced_memory()[0]
                t0 = time.perf_counter()
                storage.put("videos/bench/source.mp4", copy, "video/mp4")
                secs, peak = time.perf_counter() - t0, tracemalloc.get_traced_memory()[1] - base
                print(f"{label:<22} {secs:6.2f} s  peak heap {peak / (1 << 20):7.1f} MiB")
                (Path(tmp) / "cache" / "videos/bench/source.mp4").unlink()
            gc.collect()
            tracemalloc.reset_peak()
            base = tracemalloc.get_traced_memory()[0]
            fresh = SupabaseStorage(url, KEY, "media", Path(tmp) / "cache2")
            t0 = time.perf_counter()
            path = fresh.local_path("videos/bench/source.mp4")
            down_s, down_peak = time.perf_counter() - t0, tracemalloc.get_traced_memory()[1] - base
            tracemalloc.stop()
            assert path.stat().st_size == args.mb << 20
            print(f"{'download':<22} {down_s:6.2f} s  peak heap {down_peak / (1 << 20):7.1f} MiB")
            sign_status(url, Path(tmp))
    finally:
        child.stdin.close()
        child.wait(10)
    return 0


def sign_status(url: str, tmp: Path) -> None:
    """The URLs of one status response: 10 clips, each an mp4, jpg, srt, vtt and manifest."""
    storage = SupabaseStorage(url, KEY, "media", tmp / "cache3")
    keys = [f"videos/bench/clips/{i:02d}{ext}" for i in range(10)
            for ext in (".mp4", ".jpg", ".srt", ".vtt", ".json")]
    for key in keys:
        small = tmp / "small"
        small.write_bytes(b"x")
        storage.put(key, small, "application/octet-stream")
    for label, sign in (("one request per file", lambda s: [s.url(k) for k in keys]),
                        ("one request for all", lambda s: s.urls(keys))):
        times = []
        for _ in range(5):
            fresh = SupabaseStorage(url, KEY, "media", tmp / "cache4")   # nothing reused
            t0 = time.perf_counter()
            sign(fresh)
            times.append(time.perf_counter() - t0)
        print(f"sign 50 URLs, {label:<21} {min(times) * 1000:7.1f} ms (best of 5)")


if __name__ == "__main__":
    raise SystemExit(main())
