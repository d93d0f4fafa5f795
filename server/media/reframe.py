"""Where to crop a landscape frame for a narrower format: follow the main speaker's face.

Faces are detected a few times a second with the Haar cascade that ships inside the
opencv-python-headless wheel, on the luma of the sampled frames scaled down (frames that no
other frame refers to are not even decoded; a thread decodes while the caller detects).
The crop centre then goes through a dead zone (small
movements of the face do not move the crop, so it holds still while the speaker does)
and a centred moving average (no jitter, no sudden jumps), and is interpolated to every
frame. With no face at all there is no path, and the caller fits the whole frame over a
blurred copy of itself instead."""
from __future__ import annotations

import queue
import threading
from functools import lru_cache
from pathlib import Path
from typing import Callable

import av
import cv2
import numpy as np

from server.media.frames import CutWindow, frames_of

SAMPLES_PER_S = 3.0
DETECT_WIDTH = 480            # frames are scaled down to this width for detection
DEAD_ZONE = 0.04              # of the frame width
SMOOTH_S = 1.0                # moving-average window
FULL_SEARCH_S = 1.0           # between whole-frame searches, a face is followed where it was
FOLLOWED_SHARE = 0.75         # those searches look for faces at least this share of the followed one


@lru_cache(maxsize=1)
def _cascade() -> cv2.CascadeClassifier:
    # cv2.data is the wheel's folder of cascades (its stubs do not declare it)
    return cv2.CascadeClassifier(cv2.data.haarcascades + "haarcascade_frontalface_default.xml")  # type: ignore[attr-defined]


Box = tuple[int, int, int, int]              # x, y, width, height


def _largest(faces) -> Box | None:
    if len(faces) == 0:
        return None
    x, y, w, h = max(faces, key=lambda f: f[2] * f[3])
    return int(x), int(y), int(w), int(h)


def detect_face(gray: np.ndarray, at_least: int = 0) -> Box | None:
    """The largest face in the whole of `gray` at least `at_least` pixels wide, or None."""
    return _largest(_cascade().detectMultiScale(gray, scaleFactor=1.1, minNeighbors=5,
                                                minSize=(max(24, gray.shape[0] // 10, at_least),) * 2))


def detect_face_near(gray: np.ndarray, last: Box) -> Box | None:
    """The face of about the size of `last` within a face's width or height of it."""
    x, y, w, h = last
    x0, y0 = max(0, x - w), max(0, y - h)
    region = np.ascontiguousarray(gray[y0:y + 2 * h, x0:x + 2 * w])
    found = _largest(_cascade().detectMultiScale(region, scaleFactor=1.1, minNeighbors=5,
                                                 minSize=(max(24, int(w * 0.75)),) * 2,
                                                 maxSize=(int(w * 1.34) + 1,) * 2))
    return None if found is None else (found[0] + x0, found[1] + y0, found[2], found[3])


class FaceTracker:
    """The speaker's face, sample after sample. While a face is followed, it is looked for
    only near where it was, at about its size, which costs a fraction of a whole-frame
    search; once per FULL_SEARCH_S the whole frame is searched too, but only for faces at
    least about as large as the followed one (small windows are most of a search's cost,
    and a smaller face would not be taken anyway). A larger face appearing elsewhere is
    therefore taken up within FULL_SEARCH_S, which the crop's one-second smoothing spans.
    With no face followed, the whole frame is searched at every size."""

    def __init__(self) -> None:
        self.last: Box | None = None
        self.searched_at = float("-inf")

    def find(self, gray: np.ndarray, t: float) -> Box | None:
        if self.last is not None:
            if t - self.searched_at >= FULL_SEARCH_S:
                self.searched_at = t
                larger = detect_face(gray, at_least=int(self.last[2] * FOLLOWED_SHARE))
                if larger is not None:
                    self.last = larger
                    return larger
            near = detect_face_near(gray, self.last)
            if near is not None:
                self.last = near
                return near
        self.last, self.searched_at = detect_face(gray), t
        return self.last


# 8-bit formats whose first plane is the luma: their grey is that plane, scaled down
_LUMA_FIRST = {"yuv420p", "yuvj420p", "yuv422p", "yuvj422p", "yuv444p", "yuvj444p", "nv12", "nv21"}
_FULL_RANGE = 2                # AVCOL_RANGE_JPEG
QUEUED_FRAMES = 8              # decoded samples waiting for the detector
_END = object()


def _grey(frame: av.VideoFrame, size: tuple[int, int]) -> np.ndarray:
    """The frame scaled down to `size`, grey, full range. Resizing the luma plane with
    OpenCV costs a tenth of a swscale conversion of the whole frame."""
    if frame.format.name not in _LUMA_FIRST:
        return frame.reformat(width=size[0], height=size[1], format="gray", interpolation="AREA").to_ndarray()
    plane = frame.planes[0]
    luma = np.frombuffer(memoryview(plane), np.uint8).reshape(plane.height, plane.line_size)[:, :plane.width]
    grey = cv2.resize(luma, size, interpolation=cv2.INTER_AREA)
    if frame.format.name.startswith("yuvj") or frame.color_range == _FULL_RANGE:
        return grey
    return cv2.convertScaleAbs(grey, alpha=255 / 219, beta=-16 * 255 / 219)   # 16..235 to 0..255


def _decode_samples(src: Path, w: CutWindow, size: tuple[int, int], out: queue.Queue, stop: threading.Event) -> None:
    """Puts (clip time, grey frame) about SAMPLES_PER_S times a second into `out`, then
    _END; or the exception that stopped it. Gives up as soon as `stop` is set."""
    def put(item) -> bool:
        while not stop.is_set():
            try:
                out.put(item, timeout=0.05)
                return True
            except queue.Full:
                pass
        return False

    try:
        for t, frame in frames_of(src, w, 1.0 / SAMPLES_PER_S, skip_unreferenced=True):
            if not put((t, _grey(frame, size))):
                return
    except BaseException as e:                        # handed over to the detecting thread
        put(e)
        return
    put(_END)


def face_samples(src: Path, w: CutWindow, progress: Callable[[float], None] = lambda f: None
                 ) -> list[tuple[float, float | None]]:
    """(clip time, face centre x in source pixels, or None) about SAMPLES_PER_S times a
    second. A thread decodes while this one detects: both mostly run in native code that
    lets go of the GIL, so the two overlap."""
    scale = min(1.0, DETECT_WIDTH / w.width)
    size = (max(2, round(w.width * scale / 2) * 2), max(2, round(w.height * scale / 2) * 2))
    samples: queue.Queue = queue.Queue(maxsize=QUEUED_FRAMES)
    stop = threading.Event()
    decoder = threading.Thread(target=_decode_samples, args=(src, w, size, samples, stop),
                               name="face-samples", daemon=True)
    decoder.start()
    out: list[tuple[float, float | None]] = []
    tracker = FaceTracker()
    try:
        while (item := samples.get()) is not _END:
            if isinstance(item, BaseException):
                raise item
            t, grey = item
            box = tracker.find(grey, t)
            out.append((t, None if box is None else (box[0] + box[2] / 2) * w.width / size[0]))
            progress(t / w.duration)
    finally:
        stop.set()
        decoder.join()
    return out


def crop_path(samples: list[tuple[float, float | None]], frame_times: list[float],
              frame_w: int, crop_w: int) -> list[float] | None:
    """Left edge of the crop for each frame time, from (time, face centre x) samples;
    None when no sample found a face."""
    found = [(t, x) for t, x in samples if x is not None]
    if not found:
        return None
    times = np.array([t for t, _ in found])
    xs = np.array([x for _, x in found], dtype=float)
    # Dead zone: the target moves only when the face leaves a band around it.
    held, band = xs.copy(), DEAD_ZONE * frame_w
    for i in range(1, len(held)):
        held[i] = held[i - 1] if abs(xs[i] - held[i - 1]) < band else xs[i]
    # Centred moving average over SMOOTH_S on a regular grid (linear between detections,
    # constant before the first and after the last), then interpolated to every frame.
    grid = np.arange(min(times[0], frame_times[0]), max(times[-1], frame_times[-1]) + 1e-9,
                     1.0 / SAMPLES_PER_S)
    on_grid = np.interp(grid, times, held)
    k = max(1, int(round(SMOOTH_S * SAMPLES_PER_S)) | 1)
    smooth = np.convolve(np.pad(on_grid, k // 2, mode="edge"), np.ones(k) / k, mode="valid")
    centre = np.interp(frame_times, grid, smooth)
    return [float(x) for x in np.clip(centre - crop_w / 2, 0, frame_w - crop_w)]
