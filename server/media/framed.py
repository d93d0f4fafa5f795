"""Vertical and square clips: decode, crop around the speaker (or fit over a blurred
background), burn in captions, and encode, frame by frame in one pipe to ffmpeg."""
from __future__ import annotations

import subprocess
from pathlib import Path

import av
import cv2
import numpy as np

from server.media import reframe
from server.media.captions import CaptionPainter
from server.media.ffmpeg import FFMPEG
from server.media.frames import CutWindow
from server.media.loudness import AAC
from server.core.failures import fatal

SIZES = {"vertical": (1080, 1920), "square": (1080, 1080)}


def _frames(src: Path, w: CutWindow, every_s: float = 0.0):
    """(clip time, RGB frame) for the clip's frames; with `every_s`, about one frame per
    `every_s` seconds."""
    eps = 0.25 / w.fps
    next_t = 0.0
    with av.open(str(src)) as c:
        v = c.streams.video[0]
        v.thread_type = "AUTO"
        c.seek(int(w.first_pts / float(v.time_base or 1)), stream=v, backward=True)
        for frame in c.decode(v):
            if frame.time is None or frame.time < w.first_pts - eps:
                continue
            if frame.time >= w.end_pts - eps:
                break
            t = frame.time - w.first_pts
            if every_s and t + eps < next_t:
                continue
            next_t = t + every_s
            yield t, frame.to_ndarray(format="rgb24")


def face_samples(src: Path, w: CutWindow) -> list[tuple[float, float | None]]:
    return [(t, reframe.detect_face_x(rgb)) for t, rgb in _frames(src, w, 1.0 / reframe.SAMPLES_PER_S)]


def _blurred_fit(rgb: np.ndarray, out_w: int, out_h: int) -> np.ndarray:
    h, w = rgb.shape[:2]
    cover = max(out_w / w, out_h / h)
    bg = cv2.resize(rgb, (max(1, round(w * cover / 8)), max(1, round(h * cover / 8))), interpolation=cv2.INTER_AREA)
    bg = cv2.GaussianBlur(bg, (0, 0), 4)
    bg = cv2.resize(bg, (round(w * cover), round(h * cover)), interpolation=cv2.INTER_LINEAR)
    y0, x0 = (bg.shape[0] - out_h) // 2, (bg.shape[1] - out_w) // 2
    canvas = np.ascontiguousarray(bg[y0:y0 + out_h, x0:x0 + out_w] // 2)   # darkened
    fit = min(out_w / w, out_h / h)
    fg = cv2.resize(rgb, (round(w * fit), round(h * fit)), interpolation=cv2.INTER_AREA)
    fy, fx = (out_h - fg.shape[0]) // 2, (out_w - fg.shape[1]) // 2
    canvas[fy:fy + fg.shape[0], fx:fx + fg.shape[1]] = fg
    return canvas


def render_framed(src: Path, w: CutWindow, fmt: str, audio_wav: Path, out: Path,
                  painter_cues: list | None, threads: int = 0) -> list[float] | None:
    """Renders the clip; returns the crop's left edge per frame (None: blurred fit)."""
    out_w, out_h = SIZES[fmt]
    crop_w = min(w.width, round(w.height * out_w / out_h))
    path = reframe.crop_path(face_samples(src, w), [t - w.first_pts for t in w.frame_times], w.width, crop_w)
    painter = CaptionPainter(painter_cues, out_w, out_h) if painter_cues else None
    proc = subprocess.Popen(
        [FFMPEG, "-hide_banner", "-nostdin", "-y", "-loglevel", "error",
         "-f", "rawvideo", "-pix_fmt", "rgb24", "-s", f"{out_w}x{out_h}", "-r", f"{w.fps:.6f}", "-i", "-",
         "-i", str(audio_wav), "-map", "0:v:0", "-map", "1:a:0",
         "-c:v", "libx264", "-preset", "veryfast", "-crf", "21", "-pix_fmt", "yuv420p",
         "-threads", str(threads), *AAC, "-movflags", "+faststart", str(out)],
        stdin=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdin is not None and proc.stderr is not None
    try:
        for i, (t, rgb) in enumerate(_frames(src, w)):
            if path is None:
                frame = _blurred_fit(rgb, out_w, out_h)
            else:
                x = int(round(path[min(i, len(path) - 1)]))
                frame = cv2.resize(rgb[:, x:x + crop_w], (out_w, out_h), interpolation=cv2.INTER_LINEAR)
            if painter is not None:
                frame = painter.paint(frame, t)
            proc.stdin.write(np.ascontiguousarray(frame).tobytes())
        proc.stdin.close()
    except BrokenPipeError:
        pass
    err = proc.stderr.read().decode("utf-8", "replace")
    if proc.wait() != 0:
        raise fatal("corrupt_media", f"ffmpeg failed while encoding the {fmt} clip: {err.strip()[-800:]}")
    return path
