"""Frame-exact landscape cuts that keep the source encoding.

Only the frames from the cut to the first keyframe (the head) and from the last keyframe
to the end (the tail) are re-encoded; the whole GOPs between are copied packet for packet.
The three pieces are joined as MPEG-TS, whose H.264 stream carries its parameter sets
in-band, so the re-encoded pieces and the copied ones each decode with their own.
Anything the copy cannot handle exactly (not H.264, not 4:2:0, open GOPs) gets a full
re-encode instead."""
from __future__ import annotations

from pathlib import Path

import av

from server.media.ffmpeg import run
from server.media.frames import CutWindow

ENCODE = ["-c:v", "libx264", "-preset", "veryfast", "-crf", "18", "-pix_fmt", "yuv420p"]


class CannotCopy(Exception):
    """The stream does not allow a copy that is exact to the frame."""


def _encode_piece(src: Path, w: CutWindow, start: float, frames: int, out: Path, threads: int) -> None:
    # Seeking a quarter frame early, then counting frames, makes the piece exact even when
    # the seek time is rounded: the frame before `start` lies before the seek point.
    run(["-loglevel", "error", "-ss", f"{max(0.0, start - 0.25 / w.fps):.6f}", "-i", str(src),
         "-map", "0:v:0", "-frames:v", str(frames), *ENCODE, "-threads", str(threads),
         "-fps_mode", "passthrough", "-an", "-f", "mpegts", str(out)])


def _copy_gops(src: Path, key_from: float, key_to: float, expected: int, out: Path) -> None:
    """Copies packets in decode order from the keyframe at `key_from` up to the keyframe at
    `key_to`. With closed GOPs that is exactly the frames shown in [key_from, key_to)."""
    with av.open(str(src)) as inp, av.open(str(out), "w", format="mpegts") as dst:
        v = inp.streams.video[0]
        tb = float(v.time_base or 0)
        ov = dst.add_stream_from_template(v)
        inp.seek(int(key_from / tb), stream=v, backward=True)
        copying, count = False, 0
        for pkt in inp.demux(v):
            if pkt.pts is None:
                continue
            t = pkt.pts * tb
            if not copying:
                if pkt.is_keyframe and abs(t - key_from) < 1e-6:
                    copying = True
                else:
                    continue
            elif pkt.is_keyframe and abs(t - key_to) < 1e-6:
                break
            if not key_from - 1e-6 <= t < key_to - 1e-6:
                raise CannotCopy("a frame of the copied GOPs lies outside them (open GOP)")
            pkt.stream = ov
            dst.mux(pkt)
            count += 1
    if count != expected:
        raise CannotCopy(f"copied {count} frames, expected {expected}")


def smart_cut_video(src: Path, w: CutWindow, workdir: Path, threads: int = 0) -> list[tuple[Path, float]]:
    """The pieces of the clip's video as (file, duration), to be joined in order."""
    if w.codec != "h264" or w.pix_fmt not in ("yuv420p", "yuvj420p"):
        raise CannotCopy(f"{w.codec}/{w.pix_fmt} is not stream-copied")
    keys = [k for k in w.keyframes if w.first_pts <= k < w.end_pts]
    if not keys:
        raise CannotCopy("no keyframe inside the clip")
    first_key, last_key = keys[0], keys[-1]
    frames_before = lambda t: sum(1 for f in w.frame_times if f < t - 1e-6)
    pieces = []
    head_frames = frames_before(first_key)
    if head_frames:
        _encode_piece(src, w, w.first_pts, head_frames, workdir / "head.ts", threads)
        pieces.append((workdir / "head.ts", first_key - w.first_pts))
    if last_key > first_key:
        _copy_gops(src, first_key, last_key, frames_before(last_key) - head_frames, workdir / "mid.ts")
        pieces.append((workdir / "mid.ts", last_key - first_key))
    _encode_piece(src, w, last_key, len(w.frame_times) - frames_before(last_key), workdir / "tail.ts", threads)
    pieces.append((workdir / "tail.ts", w.end_pts - last_key))
    return pieces


def full_encode_video(src: Path, w: CutWindow, workdir: Path, threads: int = 0) -> list[tuple[Path, float]]:
    out = workdir / "full.ts"
    _encode_piece(src, w, w.first_pts, len(w.frame_times), out, threads)
    return [(out, w.duration)]


def join(pieces: list[tuple[Path, float]], audio: Path, audio_codec: list[str], out: Path,
         workdir: Path) -> None:
    """Joins the video pieces with the concat demuxer (durations given, so every piece
    starts exactly where the previous ends) and adds the prepared audio."""
    listing = workdir / "pieces.txt"
    listing.write_text("ffconcat version 1.0\n" + "".join(
        f"file '{p.resolve()}'\nduration {d:.6f}\n" for p, d in pieces))
    run(["-loglevel", "error", "-f", "concat", "-safe", "0", "-i", str(listing), "-i", str(audio),
         "-map", "0:v:0", "-map", "1:a:0", "-c:v", "copy", *audio_codec,
         "-movflags", "+faststart", str(out)])
