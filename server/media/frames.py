"""Frame timing of a source around a cut, read from packets with PyAV (no decoding), and
the decoded frames of a cut."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import av

from server.core.failures import fatal


@dataclass
class CutWindow:
    first_pts: float             # time of the first frame at or after the requested start
    end_pts: float               # time of the first frame at or after the requested end (exclusive)
    frame_times: list[float]     # every frame time in [first_pts, end_pts)
    keyframes: list[float]       # keyframe times in [first_pts, end_pts)
    fps: float
    codec: str
    pix_fmt: str | None
    width: int
    height: int

    @property
    def duration(self) -> float:
        return self.end_pts - self.first_pts


def seconds_per_tick(stream) -> float:
    """The stream's time base as a float (a stream without one cannot be cut)."""
    if stream.time_base is None:
        raise fatal("corrupt_media", "the video stream has no time base")
    return float(stream.time_base)


def cut_window(path: Path, start_s: float, end_s: float) -> CutWindow:
    """Frames are located from the keyframe before `start_s` up to the first frame at or
    past `end_s`, so only the part of the file around the clip is read."""
    with av.open(str(path)) as c:
        v = c.streams.video[0]
        tb = seconds_per_tick(v)
        fps = float(v.average_rate or v.guessed_rate or 25)
        c.seek(int(max(0.0, start_s - 1.0) / tb), stream=v, backward=True, any_frame=False)
        times, keys, end_pts = [], [], None
        for pkt in c.demux(v):
            if pkt.pts is None:
                continue
            t = pkt.pts * tb
            if t >= end_s - 0.25 / fps:
                end_pts = t if end_pts is None else min(end_pts, t)
                # packets arrive in decode order: keep reading a little past the end so a
                # frame shown before `end_s` but stored after it is not missed.
                if t > end_s + 2.0:
                    break
                continue
            if t >= start_s - 0.25 / fps:
                times.append(t)
                if pkt.is_keyframe:
                    keys.append(t)
        times.sort()
        if not times:
            raise fatal("corrupt_media", f"the video has no frames between {start_s:.2f} s and {end_s:.2f} s")
        if end_pts is None:                      # the clip runs to the end of the file
            end_pts = times[-1] + 1.0 / fps
        cc = v.codec_context
        return CutWindow(times[0], end_pts, times, sorted(keys), fps,
                         cc.name, cc.format.name if cc.format else None, cc.width, cc.height)


def frames_of(src: Path, w: CutWindow, every_s: float = 0.0, skip_unreferenced: bool = False
              ) -> Iterator[tuple[float, av.VideoFrame]]:
    """(clip time, decoded frame) for the frames of `w`; with `every_s`, about one frame per
    `every_s` seconds. `skip_unreferenced` leaves undecoded the frames that no other frame
    refers to (which may then be missing)."""
    eps, next_t = 0.25 / w.fps, 0.0
    with av.open(str(src)) as c:
        v = c.streams.video[0]
        v.thread_type = "AUTO"
        if skip_unreferenced:
            v.codec_context.skip_frame = "NONREF"
        c.seek(int(w.first_pts / seconds_per_tick(v)), stream=v, backward=True)
        for frame in c.decode(v):
            if frame.time is None or frame.time < w.first_pts - eps:
                continue
            if frame.time >= w.end_pts - eps:
                break
            t = frame.time - w.first_pts
            if every_s and t + eps < next_t:
                continue
            next_t = t + every_s
            yield t, frame
