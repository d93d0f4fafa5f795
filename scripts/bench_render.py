"""Seconds per clip and times real time for each clip format, with and without captions
and enhancement, against a plain full re-encode of the same clip in the same run.

    .venv/bin/python -m scripts.bench_render [--source FILE] [--hd] [--seconds 30] [--clips 2] [--quick]

--hd first builds a 1920x1080, 30 fps version of the sample (H.264, a keyframe every 2 s,
as video sites serve): a smart cut saves most where re-encoding costs most.
--quick runs fewer framed (vertical, square) cases."""
from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

from server.adapters.renderer_ffmpeg import FfmpegRenderer
from server.core.model import RenderOptions
from server.media import loudness
from server.media.ffmpeg import run
from server.media.frames import cut_window
from server.media.smartcut import join, smart_cut_video
from server.core.model import ClipPlan, Segment, Transcript, Word

SAMPLE = ROOT / "scripts" / "samples" / "talk.mp4"


def sample_transcript() -> Transcript:
    """Word times spread evenly over each sentence of the sample's script: what a caption
    costs to draw does not depend on exact timing."""
    segments = []
    for section in json.loads((ROOT / "scripts" / "samples" / "talk.json").read_text())["sections"]:
        for s in section["sentences"]:
            words = s["text"].split()
            step = (s["end_s"] - s["start_s"]) / len(words)
            segments.append(Segment(s["start_s"], s["end_s"], s["text"],
                                    [Word(s["start_s"] + i * step, s["start_s"] + (i + 0.9) * step, w)
                                     for i, w in enumerate(words)]))
    return Transcript("en", 1.0, segments[-1].end, "script", "script", segments)


def build_hd(out: Path, seconds: float) -> Path:
    run(["-loglevel", "error", "-i", str(SAMPLE), "-t", f"{seconds:.0f}", "-vf", "scale=1920:1080,fps=30",
         "-c:v", "libx264", "-preset", "veryfast", "-crf", "20", "-g", "60", "-pix_fmt", "yuv420p",
         "-c:a", "aac", "-ar", "44100", "-ac", "2", str(out)])
    return out


def full_reencode(src: Path, start: float, seconds: float, out: Path) -> None:
    """The reference: a plain frame-exact re-encode of the whole clip, audio as it is."""
    run(["-loglevel", "error", "-ss", f"{start:.3f}", "-i", str(src), "-t", f"{seconds:.3f}",
         "-map", "0:v:0", "-map", "0:a:0", "-c:v", "libx264", "-preset", "veryfast", "-crf", "18",
         "-pix_fmt", "yuv420p", *loudness.AAC, "-movflags", "+faststart", str(out)])


def cut_only(src: Path, start: float, seconds: float, tmp: Path, out: Path) -> None:
    """The smart cut with the source audio merely re-encoded: what the video path costs."""
    w = cut_window(src, start, start + seconds)
    wav = tmp / "plain.wav"
    loudness.decode(["-ss", f"{w.first_pts:.6f}", "-t", f"{w.duration:.6f}", "-i", str(src)], wav)
    join(smart_cut_video(src, w, tmp), wav, loudness.AAC, out, tmp)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--source", type=Path, default=SAMPLE)
    ap.add_argument("--seconds", type=float, default=30.0)
    ap.add_argument("--clips", type=int, default=2)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--hd", action="store_true")
    args = ap.parse_args()
    transcript = sample_transcript() if args.source == SAMPLE else None
    keep = tempfile.TemporaryDirectory()
    if args.hd:
        args.source = build_hd(Path(keep.name) / "talk_1080p.mp4", 20 + args.clips * (args.seconds + 17.3))
    renderer = FfmpegRenderer()
    starts = [20.0 + i * (args.seconds + 17.3) for i in range(args.clips)]
    cases = [("landscape", False, False), ("landscape", False, True),
             ("vertical", False, False), ("vertical", True, False), ("vertical", True, True),
             ("square", True, False)]
    if args.quick:
        cases = [("landscape", False, False), ("landscape", False, True), ("vertical", True, False),
                 ("square", True, False)]
    rows = []
    with tempfile.TemporaryDirectory() as tmpname:
        tmp = Path(tmpname)

        def timed(label: str, fn) -> None:
            took = []
            for i, start in enumerate(starts):
                began = time.perf_counter()
                fn(start, tmp / f"{len(rows)}_{i}.mp4")
                took.append(time.perf_counter() - began)
            per_clip = sum(took) / len(took)
            rows.append((label, per_clip, args.seconds / per_clip))
            print(f"{label:<42} {per_clip:7.2f} s/clip {args.seconds / per_clip:7.1f}x real time", flush=True)

        print(f"source {args.source.name}, {args.clips} clips of {args.seconds:.0f} s each")
        timed("full re-encode (reference)", lambda s, o: full_reencode(args.source, s, args.seconds, o))
        timed("landscape smart cut, video path only", lambda s, o: cut_only(args.source, s, args.seconds, tmp, o))
        for fmt, burn, enhance in cases:
            label = f"{fmt}{' + captions' if burn else ''}{' + enhance' if enhance else ''} (+ loudness)"
            opts = RenderOptions(fmt, burn, enhance)
            timed(label, lambda s, o: renderer.render(args.source, ClipPlan(s, s + args.seconds, "t", "r", 50),
                                                      o, o.with_suffix(".jpg"), transcript, opts))
    reference = rows[0][1]
    print("\nspeed-up over the full re-encode:")
    for label, per_clip, _ in rows[1:]:
        print(f"  {label:<40} {reference / per_clip:5.1f}x")


if __name__ == "__main__":
    main()
