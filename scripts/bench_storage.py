"""Memory and time of the Supabase Storage backend moving a large file, against the local
Storage fake running in a child process (so its memory is not counted here).

    .venv/bin/python -m scripts.bench_storage [--mb 200]

Prints the peak Python heap of this process during upload and download: streaming keeps
it far below the file size."""
from __future__ import annotations

import argparse
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
    url = child.stdout.readline().strip()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            src = Path(tmp) / "source.mp4"
            with open(src, "wb") as f:
                for _ in range(args.mb):
                    f.write(os.urandom(1 << 20))
            storage = SupabaseStorage(url, KEY, "media", Path(tmp) / "cache")
            tracemalloc.start()
            t0 = time.perf_counter()
            storage.put("videos/bench/source.mp4", src, "video/mp4")
            up_s, (_, up_peak) = time.perf_counter() - t0, tracemalloc.get_traced_memory()
            tracemalloc.reset_peak()
            fresh = SupabaseStorage(url, KEY, "media", Path(tmp) / "cache2")
            t0 = time.perf_counter()
            path = fresh.local_path("videos/bench/source.mp4")
            down_s, (_, down_peak) = time.perf_counter() - t0, tracemalloc.get_traced_memory()
            tracemalloc.stop()
            assert path.stat().st_size == args.mb << 20
            print(f"file {args.mb} MiB")
            print(f"upload    {up_s:6.2f} s  peak heap {up_peak / (1 << 20):7.1f} MiB")
            print(f"download  {down_s:6.2f} s  peak heap {down_peak / (1 << 20):7.1f} MiB")
    finally:
        child.stdin.close()
        child.wait(10)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
