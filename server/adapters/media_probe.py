"""What a media file holds, read with PyAV (FFmpeg's libraries, no ffprobe binary needed)."""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import av

from server.core.failures import fatal


@dataclass
class Probe:
    duration_s: float
    has_video: bool
    has_audio: bool
    width: int | None
    height: int | None
    fps: float | None


def probe(path: Path) -> Probe:
    try:
        with av.open(str(path)) as c:
            v = c.streams.video[0] if c.streams.video else None
            a = c.streams.audio[0] if c.streams.audio else None
            duration = (c.duration or 0) / 1_000_000
            if not duration:
                for s in (v, a):
                    if s is not None and s.duration and s.time_base:
                        duration = max(duration, float(s.duration * s.time_base))
            fps = float(v.average_rate) if v is not None and v.average_rate else None
            result = Probe(duration, v is not None, a is not None,
                           v.codec_context.width if v is not None else None,
                           v.codec_context.height if v is not None else None, fps)
    except av.error.FFmpegError as e:
        raise fatal("corrupt_media", f"the file could not be read as media: {e}") from e
    if not result.has_audio:
        raise fatal("not_a_video", "the file has no audio stream, so there is no speech to clip")
    if result.duration_s <= 0:
        raise fatal("corrupt_media", "the media has no duration")
    return result


def check_complete(path: Path, duration_s: float) -> None:
    """A truncated file keeps its header, so probe() believes it. Read the packets of the
    last seconds (demuxing only, no decoding) and check they reach the stated end."""
    reached = 0.0
    try:
        with av.open(str(path)) as c:
            c.seek(int(max(0.0, duration_s - 10) * 1_000_000), backward=True)
            for pkt in c.demux():
                if pkt.size and pkt.pts is not None and pkt.time_base:
                    reached = max(reached, float((pkt.pts + (pkt.duration or 0)) * pkt.time_base))
    except av.error.FFmpegError as e:
        raise fatal("corrupt_media", f"the file could not be read to its end: {e}") from e
    if reached < duration_s - (0.25 + 0.01 * duration_s):
        raise fatal("corrupt_media", f"the file is cut short: its media ends at {reached:.1f} s "
                                     f"of {duration_s:.1f} s")


def inspect_media(path: Path) -> Probe:
    """What `probe` reads, once the file has passed every check an upload passes: not
    empty, readable as media with audio, and complete to its stated end."""
    if path.stat().st_size == 0:
        raise fatal("corrupt_media", "the file is empty")
    info = probe(path)
    check_complete(path, info.duration_s)
    return info


def sha256_of(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()
