"""Frame-exact landscape cuts that keep the source encoding.

Only the frames from the cut to the first keyframe (the head) and from the last keyframe
to the end (the tail) are re-encoded; the whole GOPs between are copied packet for packet.
Three ffmpeg runs per clip: one encodes head, tail and thumbnail while another encodes the
audio, and a last one joins.
The three pieces are joined as MPEG-TS, whose H.264 stream carries its parameter sets
in-band, so the re-encoded pieces and the copied ones each decode with their own.
Anything the copy cannot handle exactly (not H.264, not 4:2:0, open GOPs) gets a full
re-encode instead."""
from __future__ import annotations

import bisect
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import av

from server.media.encoder import THUMB_JPEG, THUMB_SCALE
from server.media.ffmpeg import run
from server.media.loudness import aac_args
from server.media.frames import CutWindow, seconds_per_tick

# Head and tail are at most a GOP each: ultrafast at a low CRF spends bytes instead of time
# there (on the benchmark's 2 s tail: 0.68 instead of 1.19 CPU s, 0.7 MB instead of 0.13 MB).
EDGE_ENCODE = ["-c:v", "libx264", "-preset", "ultrafast", "-crf", "17", "-pix_fmt", "yuv420p"]
# a whole clip re-encoded (a source that cannot be copied) is encoded as before
FULL_ENCODE = ["-c:v", "libx264", "-preset", "veryfast", "-crf", "18", "-pix_fmt", "yuv420p"]


class CannotCopy(Exception):
    """The stream does not allow a copy that is exact to the frame."""


@dataclass
class Piece:
    """A stretch of the clip's video: re-encoded (`frames` > 0, from source time `start`)
    or copied packet for packet (`frames` == 0, from keyframe `start` to keyframe `end`)."""
    path: Path
    duration: float
    start: float
    frames: int = 0
    end: float = 0.0
    copied_frames: int = 0
    whole: bool = False          # the whole clip, re-encoded


def _copy_gops(src: Path, key_from: float, key_to: float, expected: int, out: Path) -> None:
    """Copies packets in decode order from the keyframe at `key_from` up to the keyframe at
    `key_to`. With closed GOPs that is exactly the frames shown in [key_from, key_to)."""
    with av.open(str(src)) as inp, av.open(str(out), "w", format="mpegts") as dst:
        v = inp.streams.video[0]
        tb = seconds_per_tick(v)
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


def plan_pieces(w: CutWindow, workdir: Path, copy: bool = True) -> list[Piece]:
    """The clip's video as pieces joined in order: with `copy`, the GOPs inside the clip are
    copied and only the frames before the first and after the last keyframe re-encoded
    (CannotCopy when the stream does not allow an exact copy); otherwise one re-encode."""
    if not copy:
        return [Piece(workdir / "full.ts", w.duration, w.first_pts, len(w.frame_times), whole=True)]
    if w.codec != "h264" or w.pix_fmt not in ("yuv420p", "yuvj420p"):
        raise CannotCopy(f"{w.codec}/{w.pix_fmt} is not stream-copied")
    keys = [k for k in w.keyframes if w.first_pts <= k < w.end_pts]
    if not keys:
        raise CannotCopy("no keyframe inside the clip")
    first_key, last_key = keys[0], keys[-1]
    before = lambda t: bisect.bisect_left(w.frame_times, t - 1e-6)      # frames shown before t
    pieces = []
    if before(first_key):
        pieces.append(Piece(workdir / "head.ts", first_key - w.first_pts, w.first_pts, before(first_key)))
    if last_key > first_key:
        pieces.append(Piece(workdir / "mid.ts", last_key - first_key, first_key, end=last_key,
                            copied_frames=before(last_key) - before(first_key)))
    pieces.append(Piece(workdir / "tail.ts", w.end_pts - last_key, last_key, len(w.frame_times) - before(last_key)))
    return pieces


def _encode_audio(audio_wav: Callable[[], Path], out: Path) -> None:
    wav = audio_wav()
    run(["-loglevel", "error", "-i", str(wav), "-map", "0:a:0", *aac_args(wav), str(out)])


def render_landscape(src: Path, w: CutWindow, pieces: list[Piece], audio_wav: Callable[[], Path],
                     out: Path, thumb: Path, workdir: Path, threads: int = 0) -> None:
    """One ffmpeg run encodes the pieces that need it and the thumbnail while the copied
    GOPs are written here and, in a thread, `audio_wav()` waits for the clip's normalised
    audio (prepared meanwhile by the caller) and another ffmpeg run encodes it; a last run
    joins the pieces and the audio without touching either. (In one run, ffmpeg 9 encoded
    the AAC and the video one after the other: 1.09 s against 0.86 s for a 30 s clip with
    a 2 s tail.)"""
    inputs: list[str] = []
    outputs: list[str] = []
    encoded = [p for p in pieces if p.frames]
    for i, p in enumerate(encoded):
        # Seeking a quarter frame early, then counting frames, makes the piece exact even
        # when the seek time is rounded: the frame before `start` lies before the seek point.
        # -noautorotate: re-encoded frames must stay as stored, like the copied ones
        inputs += ["-noautorotate", "-ss", f"{max(0.0, p.start - 0.25 / w.fps):.6f}", "-i", str(src)]
        outputs += ["-map", f"{i}:v:0", "-frames:v", str(p.frames), *(FULL_ENCODE if p.whole else EDGE_ENCODE),
                    "-threads", str(threads),
                    "-fps_mode", "passthrough", "-an", "-f", "mpegts", str(p.path)]
    n = len(encoded)
    audio = workdir / "audio.m4a"
    inputs += ["-noautorotate", "-ss", f"{w.first_pts + w.duration / 3:.6f}", "-i", str(src)]
    outputs += ["-map", f"{n}:v:0", "-vf", THUMB_SCALE, *THUMB_JPEG, str(thumb)]
    with ThreadPoolExecutor(2) as pool:
        encoding_audio = pool.submit(_encode_audio, audio_wav, audio)
        copies = [pool.submit(_copy_gops, src, p.start, p.end, p.copied_frames, p.path)
                  for p in pieces if not p.frames]
        run(["-loglevel", "error", *inputs, *outputs])
        encoding_audio.result()
        for c in copies:
            c.result()
    listing = workdir / "pieces.txt"
    listing.write_text("ffconcat version 1.0\n" + "".join(
        f"file '{p.path.resolve()}'\nduration {p.duration:.6f}\n" for p in pieces))
    # the concat demuxer with durations given starts every piece exactly where the
    # previous one ends
    run(["-loglevel", "error", "-f", "concat", "-safe", "0", "-i", str(listing), "-i", str(audio),
         "-map", "0:v:0", "-map", "1:a:0", "-c", "copy", "-movflags", "+faststart", str(out)])
