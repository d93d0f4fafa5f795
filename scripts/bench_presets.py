"""libx264's presets at equal size: the measurement behind the preset of vertical and square
clips (server/media/encoder.py).

    .venv/bin/python -m scripts.bench_presets [--seconds 10] [--grain 0]

Each preset encodes the same vertical crop (1080x1920) of the benchmark's talking head (with
sensor noise, --grain 3 by default: a clean synthetic picture scores near 100 whatever the
setting) at the CRF that makes it the size the renderer's own setting makes (x264's rule:
6 CRF steps halve the size, three corrections); VMAF (libvmaf in the imageio-ffmpeg build,
against the uncompressed crop of the source) then compares quality at equal size. CPU
seconds are the encoder's, per second of video."""
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

PRESETS = ["ultrafast", "superfast", "veryfast", "faster", "medium"]
START = 20.0
CROP = "crop=608:1080:656:0,scale=1080:1920"


def children_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def encode(src: Path, seconds: float, preset: str, crf: float, out: Path) -> tuple[float, float]:
    """(kbit/s, CPU seconds)"""
    began = children_cpu()
    run(["-loglevel", "error", "-ss", f"{START}", "-i", str(src), "-t", f"{seconds}", "-an", "-vf", CROP,
         "-c:v", "libx264", "-preset", preset, "-crf", f"{crf:g}", "-g", "60", "-pix_fmt", "yuv420p", str(out)])
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
    ap.add_argument("--grain", type=float, default=3.0)
    args = ap.parse_args()
    print(f"load {os.getloadavg()[0]:.2f}; the renderer uses {encoder.X264_PRESET} crf {encoder.X264_CRF}")
    with tempfile.TemporaryDirectory() as tmpname:
        tmp = Path(tmpname)
        src = build_talking_head(tmp / "src.mp4", START + args.seconds + 2, args.grain)
        target, _ = encode(src, args.seconds, encoder.X264_PRESET, encoder.X264_CRF, tmp / "ref.mp4")
        print(f"common size: {target:.0f} kbit/s (the renderer's setting)\n")
        print(f"{'preset':<10} {'crf':>6} {'kbit/s':>8} {'VMAF':>7} {'CPU s per s of video':>22}")
        for preset in PRESETS:
            crf, out = float(encoder.X264_CRF), tmp / f"{preset}.mp4"
            kbps, spent = encode(src, args.seconds, preset, crf, out)
            for _ in range(3):
                if abs(np.log2(kbps / target)) < 0.03:          # within 2%
                    break
                crf = round(crf + 6 * np.log2(kbps / target), 1)
                kbps, spent = encode(src, args.seconds, preset, crf, out)
            print(f"{preset:<10} {crf:>6.1f} {kbps:>8.0f} {vmaf(src, args.seconds, out):>7.2f} "
                  f"{spent / args.seconds:>22.2f}  (load {os.getloadavg()[0]:.2f})", flush=True)


if __name__ == "__main__":
    main()
