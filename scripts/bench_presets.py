"""libx264's presets at equal size: the measurement behind the preset of vertical and square
clips (server/media/encoder.py).

    .venv/bin/python -m scripts.bench_presets [--seconds 10] [--grain 0]

Each preset encodes the same vertical crop (1080x1920) of the benchmark's talking head at
three CRFs; VMAF (libvmaf in the imageio-ffmpeg build, against the uncompressed crop of the
source) and the bitrate of each give VMAF as a function of size, read at one common
bitrate: the one the renderer's own setting produces. CPU seconds are the encoder's."""
from __future__ import annotations

import argparse
import os
import re
import resource
import tempfile
from pathlib import Path

import numpy as np

from scripts.bench_render import build_talking_head
from server.media import encoder
from server.media.ffmpeg import run

PRESETS = ["ultrafast", "superfast", "veryfast", "faster", "fast", "medium"]
CRFS = [18, 22, 26]
START = 20.0
CROP = "crop=608:1080:656:0,scale=1080:1920"


def children_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def encode(src: Path, seconds: float, preset: str, crf: int, out: Path) -> tuple[float, float]:
    """(kbit/s, CPU seconds)"""
    began = children_cpu()
    run(["-loglevel", "error", "-ss", f"{START}", "-i", str(src), "-t", f"{seconds}", "-an", "-vf", CROP,
         "-c:v", "libx264", "-preset", preset, "-crf", str(crf), "-g", "60", "-pix_fmt", "yuv420p", str(out)])
    return out.stat().st_size * 8 / seconds / 1000, children_cpu() - began


def vmaf(src: Path, seconds: float, encoded: Path) -> float:
    err = run(["-loglevel", "info", "-i", str(encoded), "-ss", f"{START}", "-t", f"{seconds}", "-i", str(src),
               "-lavfi", f"[1:v]{CROP}[ref];[0:v][ref]libvmaf=n_subsample=3:n_threads={os.cpu_count() or 1}",
               "-f", "null", "-"])
    found = re.search(r"VMAF score: ([\d.]+)", err)
    if found is None:
        raise RuntimeError(err[-500:])
    return float(found.group(1))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--grain", type=float, default=0.0)
    args = ap.parse_args()
    print(f"load {os.getloadavg()[0]:.2f}; the renderer uses {encoder.X264_PRESET} crf {encoder.X264_CRF}")
    with tempfile.TemporaryDirectory() as tmpname:
        tmp = Path(tmpname)
        src = build_talking_head(tmp / "src.mp4", START + args.seconds + 2, args.grain)
        ref_kbps, _ = encode(src, args.seconds, encoder.X264_PRESET, encoder.X264_CRF, tmp / "ref.mp4")
        print(f"common size: {ref_kbps:.0f} kbit/s (the renderer's setting)\n")
        print(f"{'preset':<10} {'VMAF at that size':>18} {'CPU s per s of video (crf 22)':>31}  points (crf: kbit/s VMAF)")
        for preset in PRESETS:
            points, cpu = [], 0.0
            for crf in CRFS:
                out = tmp / f"{preset}_{crf}.mp4"
                kbps, spent = encode(src, args.seconds, preset, crf, out)
                if crf == 22:
                    cpu = spent / args.seconds
                points.append((crf, kbps, vmaf(src, args.seconds, out)))
            # VMAF against log(bitrate) is close to a straight line over a few CRF steps
            logs = np.log([p[1] for p in points])[::-1]
            scores = np.array([p[2] for p in points])[::-1]
            at_size = float(np.interp(np.log(ref_kbps), logs, scores))
            print(f"{preset:<10} {at_size:>18.2f} {cpu:>31.2f}  "
                  + ", ".join(f"{c}: {k:.0f} {v:.1f}" for c, k, v in points)
                  + f"  (load {os.getloadavg()[0]:.2f})", flush=True)


if __name__ == "__main__":
    main()
