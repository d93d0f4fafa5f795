"""The vertical and square render as it was before the one-pass ffmpeg render: every frame
decoded to RGB in Python, cropped or fitted over a blurred background with OpenCV, the
caption painted with Pillow, and piped to one ffmpeg encode.

It is not a production path. It stays as the reference that the one-pass render is held
to: `tests/integration/test_render.py` compares frames of both, and
`scripts/bench_render.py` times both in the same run."""
from __future__ import annotations

import subprocess
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageDraw

from server.core.failures import fatal
from server.media import reframe
from server.media.captions import HIGHLIGHT, OUTLINE, WHITE, Cue, Layout, active, font
from server.media.ffmpeg import FFMPEG
from server.media.framed import SIZES
from server.media.frames import CutWindow, frames_of
from server.media.loudness import aac_args


def _frames(src: Path, w: CutWindow, every_s: float = 0.0):
    """(clip time, RGB frame) for the clip's frames; with `every_s`, about one frame per
    `every_s` seconds."""
    for t, frame in frames_of(src, w, every_s):
        yield t, frame.to_ndarray(format="rgb24")


def _detect_face_x(rgb: np.ndarray) -> float | None:
    scale = min(1.0, reframe.DETECT_WIDTH / rgb.shape[1])
    gray = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    if scale < 1.0:
        gray = cv2.resize(gray, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    box = reframe.detect_face(gray)
    return None if box is None else (box[0] + box[2] / 2) / scale


def face_samples(src: Path, w: CutWindow) -> list[tuple[float, float | None]]:
    return [(t, _detect_face_x(rgb)) for t, rgb in _frames(src, w, 1.0 / reframe.SAMPLES_PER_S)]


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


class CaptionPainter:
    """Blends the caption of clip time t into RGB frames of a fixed size."""

    def __init__(self, cs: list[Cue], width: int, height: int):
        self.cues, self.layout = cs, Layout(width, height)
        self._cache: dict[tuple[int, int], tuple[int, np.ndarray, np.ndarray]] = {}

    def _band(self, ci: int, wi: int) -> tuple[int, np.ndarray, np.ndarray]:
        words, size = self.cues[ci].words, self.layout.size
        f = font(size)
        lines = self.layout.lines([w.text.upper() for w in words], size)
        line_h = round(size * 1.25)
        stroke = max(2, size // 12)
        band_h = line_h * len(lines) + 2 * stroke
        img = Image.new("RGBA", (self.layout.width, band_h), (0, 0, 0, 0))
        draw = ImageDraw.Draw(img)
        space = f.getlength(" ")
        for li, idxs in enumerate(lines):
            texts = [words[i].text.upper() for i in idxs]
            total = sum(f.getlength(t) for t in texts) + space * (len(texts) - 1)
            x = (self.layout.width - total) / 2
            for i, t in zip(idxs, texts):
                draw.text((x, stroke + li * line_h), t, font=f, fill=(HIGHLIGHT if i == wi else WHITE) + (255,),
                          stroke_width=stroke, stroke_fill=OUTLINE + (255,))
                x += f.getlength(t) + space
        rgba = np.asarray(img, dtype=np.float32)
        top = min(max(0, self.layout.centre_y - band_h // 2), self.layout.height - band_h)
        return top, rgba[..., :3], rgba[..., 3:] / 255.0

    def paint(self, frame: np.ndarray, t: float) -> np.ndarray:
        state = active(self.cues, t)
        if state is None:
            return frame
        if state not in self._cache:
            self._cache[state] = self._band(*state)
        top, rgb, alpha = self._cache[state]
        region = frame[top:top + rgb.shape[0]].astype(np.float32)
        frame[top:top + rgb.shape[0]] = (region * (1 - alpha) + rgb * alpha).astype(np.uint8)
        return frame


def render_frame_pipe(src: Path, w: CutWindow, fmt: str, audio_wav: Path, out: Path,
                      cues: list[Cue] | None, threads: int = 0) -> list[float] | None:
    """Renders the clip; returns the crop's left edge per frame (None: blurred fit)."""
    out_w, out_h = SIZES[fmt]
    crop_w = min(w.width, round(w.height * out_w / out_h))
    path = reframe.crop_path(face_samples(src, w), [t - w.first_pts for t in w.frame_times], w.width, crop_w)
    painter = CaptionPainter(cues, out_w, out_h) if cues else None
    proc = subprocess.Popen(
        [FFMPEG, "-hide_banner", "-nostdin", "-y", "-loglevel", "error",
         "-f", "rawvideo", "-pix_fmt", "rgb24", "-s", f"{out_w}x{out_h}", "-r", f"{w.fps:.6f}", "-i", "-",
         "-i", str(audio_wav), "-map", "0:v:0", "-map", "1:a:0",
         "-c:v", "libx264", "-preset", "veryfast", "-crf", "21", "-pix_fmt", "yuv420p",
         "-threads", str(threads), *aac_args(audio_wav), "-movflags", "+faststart", str(out)],
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
