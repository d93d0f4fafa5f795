"""Seconds per clip for each clip format, side by side in one run with today's frame-pipe
render (kept in tests/support as the reference) and with a bare ffmpeg encode of the same
size and duration: the encoder's own speed, the practical limit.

    .venv/bin/python -m scripts.bench_render [--source FILE] [--seconds 30] [--repeat 1] [--quick]

Without --source it builds a 1920x1080, 30 fps talking head (the sample talk's slides with
a photographed face over them that holds still for 7 s and then walks across in 1 s, clean
unless --grain adds sensor noise; H.264 with a keyframe every 2 s, as video sites serve)
long enough for one clip starting at 20 s. A clean source encodes fast, which makes
everything around the encode weigh more: the hard case for the one-pass/bare ratio.

Two bare encodes are printed: with a fixed crop (what the issue asks to compare with), and
with the crop moving exactly as the one-pass render moves it. A moving crop changes every
frame while it moves, which costs the encoder itself more; the second row shows how much.
--quick skips the square rows.
`scripts.bench_presets` measures the libx264 preset, `scripts.bench_faces` the face detectors."""
from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import tempfile
import time
from pathlib import Path

from server.adapters.renderer_ffmpeg import FfmpegRenderer
from server.core.model import ClipPlan, RenderOptions, Segment, Transcript, Word
from server.media import captions, encoder, loudness
from server.media.framed import Framing
from server.media.ffmpeg import FFMPEG, run
from server.media.frames import cut_window

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "scripts" / "samples" / "talk.mp4"


def load() -> str:
    return "load %.2f" % os.getloadavg()[0]


def cpu_seconds() -> float:
    """CPU time of this process and its finished children: steadier than wall time on a
    loaded machine."""
    own, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


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


def build_talking_head(out: Path, seconds: float, grain: float) -> Path:
    from PIL import Image
    from skimage.data import astronaut
    face = out.with_name("face.png")
    Image.fromarray(astronaut()[30:290, 120:340]).save(face)
    run(["-loglevel", "error", "-i", str(SAMPLE), "-loop", "1", "-i", str(face), "-t", f"{seconds:.0f}",
         "-filter_complex", "[0:v]scale=1920:1080,fps=30[bg];[1:v]scale=440:520[f];"
         # the speaker holds still for 7 s, then walks 600 px across in 1 s, and back
         "[bg][f]overlay=x='if(lt(mod(t,16),8),600+600*min(1,mod(t,16)),1200-600*min(1,mod(t,16)-8))'"
         f":y=300:shortest=1{f',noise=alls={grain:g}:allf=t' if grain else ''}",
         "-c:v", "libx264", "-preset", "veryfast", "-crf", "20", "-g", "60", "-pix_fmt", "yuv420p",
         "-c:a", "aac", "-ar", "44100", "-ac", "2", str(out)])
    return out


class StartCounter:
    """Counts ffmpeg processes started while it is active."""

    def __enter__(self):
        self.count, self._popen = 0, subprocess.Popen
        counter = self

        class Counting(subprocess.Popen):
            def __init__(self, args, *a, **kw):
                if args and str(args[0]) == FFMPEG:
                    counter.count += 1
                super().__init__(args, *a, **kw)
        subprocess.Popen = Counting          # type: ignore[misc]
        return self

    def __exit__(self, *exc):
        subprocess.Popen = self._popen       # type: ignore[misc]


def bare_encode(src: Path, start: float, seconds: float, out: Path, threads: int = 0) -> None:
    """What ffmpeg alone takes to crop and scale the same frames to 1080x1920 with the same
    encoder settings: no face finding, no captions, no audio."""
    w = cut_window(src, start, start + seconds)
    crop_w = round(w.height * 1080 / 1920)
    run(["-loglevel", "error", "-ss", f"{start:.3f}", "-i", str(src), "-t", f"{seconds:.3f}", "-an",
         "-vf", f"crop={crop_w}:{w.height},scale=1080:1920",
         *encoder.video_args(encoder.LIBX264, w.fps, threads), str(out)])


def planned_framing(src: Path, start: float, seconds: float) -> Framing:
    """The renderer's crop path for the clip, found once before the timed rows."""
    framing = Framing.find(src, cut_window(src, start, start + seconds), "vertical")
    assert framing.path is not None, "no face found in the source"
    return framing


def bare_encode_following(src: Path, start: float, seconds: float, framing: Framing, out: Path, tmp: Path) -> None:
    """The bare encode with the crop moving along the renderer's planned path (found
    beforehand: the face finding is not timed here)."""
    w = cut_window(src, start, start + seconds)
    assert framing.path is not None
    (tmp / "crop.cmd").write_text(framing.crop_commands([t - w.first_pts for t in w.frame_times]))
    run(["-loglevel", "error", "-ss", f"{max(0.0, w.first_pts - 0.25 / w.fps):.6f}", "-i", str(src),
         "-frames:v", str(len(w.frame_times)), "-an", "-vf",
         f"setpts=PTS-STARTPTS,sendcmd=f={tmp / 'crop.cmd'},crop={framing.crop_w}:{framing.crop_h}:"
         f"{framing.path[0]:.0f}:0,scale=1080:1920", *encoder.video_args(encoder.LIBX264, w.fps), str(out)])


def frame_pipe_render(src: Path, start: float, seconds: float, out: Path, transcript: Transcript | None,
                      fmt: str, tmp: Path) -> None:
    """Today's vertical/square render as the renderer ran it: audio, the frame pipe, a thumbnail."""
    from tests.support.frame_pipe import render_frame_pipe
    w = cut_window(src, start, start + seconds)
    raw, norm = tmp / "fp_audio.wav", tmp / "fp_audio_norm.wav"
    loudness.decode(["-ss", f"{w.first_pts:.6f}", "-t", f"{w.duration:.6f}", "-i", str(src)], raw)
    loudness.normalise(raw, norm)
    words = captions.clip_words(transcript, w.first_pts, w.end_pts) if transcript else []
    render_frame_pipe(src, w, fmt, norm, out, captions.cues(words))
    run(["-loglevel", "error", "-ss", f"{w.duration / 3:.3f}", "-i", str(out), "-frames:v", "1", "-q:v", "3",
         "-vf", "scale='min(640,iw)':-2", str(out.with_suffix(".jpg"))])


def kept_stereo(render):
    """`render` with a dual-mono source's two channels kept (as before 30 Nov): the cost of
    encoding both."""
    def run_it(out: Path) -> None:
        before = loudness.as_mono
        loudness.as_mono = lambda x: None          # type: ignore[assignment]
        try:
            render(out)
        finally:
            loudness.as_mono = before              # type: ignore[assignment]
    return run_it


def full_reencode(src: Path, start: float, seconds: float, out: Path) -> None:
    """A plain re-encode of the whole landscape clip, audio as it is."""
    run(["-loglevel", "error", "-ss", f"{start:.3f}", "-i", str(src), "-t", f"{seconds:.3f}",
         "-map", "0:v:0", "-map", "0:a:0", "-c:v", "libx264", "-preset", "veryfast", "-crf", "18",
         "-pix_fmt", "yuv420p", "-c:a", "aac", "-aac_coder", "fast", "-b:a", "192k", "-movflags", "+faststart",
         str(out)])


def speed_table(args, source: Path) -> None:
    transcript = sample_transcript() if args.source is None else None
    renderer = FfmpegRenderer(video_encoder="libx264")
    start, seconds = 20.0, args.seconds
    rows: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmpname:
        tmp = Path(tmpname)

        def timed(label: str, fn) -> None:
            took, cpu, starts = [], [], 0
            for r in range(args.repeat):
                before = load()
                with StartCounter() as counter:
                    began, began_cpu = time.perf_counter(), cpu_seconds()
                    fn(tmp / f"{len(rows)}_{r}.mp4")
                    took.append(time.perf_counter() - began)
                    cpu.append(cpu_seconds() - began_cpu)
                starts = counter.count
            best = min(took)
            rows[label] = best
            print(f"{label:<50} {best:6.2f} s {seconds / best:6.1f}x real time {min(cpu):6.2f} CPU s "
                  f"{starts} ffmpeg starts ({before}, {load()})", flush=True)

        def render(fmt: str, burn: bool):
            return lambda o: renderer.render(source, ClipPlan(start, start + seconds, "t", "r", 50), o,
                                             o.with_suffix(".jpg"), transcript, RenderOptions(fmt, burn, False))

        print(f"source {source.name}, one clip of {seconds:.0f} s from {start:.0f} s, {os.cpu_count()} cores, "
              f"libx264 {encoder.X264_PRESET} crf {encoder.X264_CRF}, NVENC session opens here: "
              f"{encoder.nvenc_available()}\n")
        timed("bare ffmpeg crop,scale -> 1080x1920 (the limit)", lambda o: bare_encode(source, start, seconds, o))
        timed("face finding alone (part of the one pass)", lambda o: planned_framing(source, start, seconds))
        framing = planned_framing(source, start, seconds)
        timed("bare ffmpeg, crop moving as planned", lambda o: bare_encode_following(source, start, seconds, framing, o, tmp))
        timed("vertical + captions, one pass", render("vertical", True))
        timed("vertical + captions, frame pipe (before)",
              lambda o: frame_pipe_render(source, start, seconds, o, transcript, "vertical", tmp))
        if not args.quick:
            timed("square + captions, one pass", render("square", True))
            timed("square + captions, frame pipe (before)",
                  lambda o: frame_pipe_render(source, start, seconds, o, transcript, "square", tmp))
        timed("landscape full re-encode (reference)", lambda o: full_reencode(source, start, seconds, o))
        timed("landscape smart cut + loudness, kept stereo (before)", kept_stereo(render("landscape", False)))
        timed("landscape smart cut + loudness", render("landscape", False))
    bare = rows["bare ffmpeg crop,scale -> 1080x1920 (the limit)"]
    print("\nratios:")
    print(f"  vertical one pass / bare encode            {rows['vertical + captions, one pass'] / bare:5.2f}  (aim <= 1.5)")
    print(f"  vertical one pass / bare, same moving crop {rows['vertical + captions, one pass'] / rows['bare ffmpeg, crop moving as planned']:5.2f}")
    print(f"  vertical frame pipe / one pass             "
          f"{rows['vertical + captions, frame pipe (before)'] / rows['vertical + captions, one pass']:5.2f}")
    if not args.quick:
        print(f"  square frame pipe / one pass               "
              f"{rows['square + captions, frame pipe (before)'] / rows['square + captions, one pass']:5.2f}")
    print(f"  landscape smart cut                         "
          f"{seconds / rows['landscape smart cut + loudness']:5.1f}x real time (aim >= 50)")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--source", type=Path)
    ap.add_argument("--seconds", type=float, default=30.0)
    ap.add_argument("--repeat", type=int, default=1, help="runs per row; the fastest is printed")
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--grain", type=float, default=0.0,
                    help="sensor noise in the built source (ffmpeg's noise filter strength, 0: clean)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as keep:
        print(f"building the source ({load()})", flush=True)
        source = args.source or build_talking_head(Path(keep) / "talking_head_1080p.mp4",
                                                     20 + args.seconds + 2, args.grain)
        speed_table(args, source)


if __name__ == "__main__":
    main()
