"""Where to crop a landscape frame for a narrower format: follow the main speaker's face.

Faces are detected a few times a second with the Haar cascade that ships inside the
opencv-python-headless wheel. The crop centre then goes through a dead zone (small
movements of the face do not move the crop, so it holds still while the speaker does)
and a centred moving average (no jitter, no sudden jumps), and is interpolated to every
frame. With no face at all there is no path, and the caller fits the whole frame over a
blurred copy of itself instead."""
from __future__ import annotations

from functools import lru_cache

import cv2
import numpy as np

SAMPLES_PER_S = 3.0
DETECT_WIDTH = 480            # frames are scaled down to this width for detection
DEAD_ZONE = 0.04              # of the frame width
SMOOTH_S = 1.0                # moving-average window


@lru_cache(maxsize=1)
def _cascade() -> cv2.CascadeClassifier:
    return cv2.CascadeClassifier(cv2.data.haarcascades + "haarcascade_frontalface_default.xml")  # type: ignore[attr-defined]


def detect_face_x(rgb: np.ndarray) -> float | None:
    """Centre x (pixels of `rgb`) of the largest face, or None."""
    scale = min(1.0, DETECT_WIDTH / rgb.shape[1])
    gray = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    if scale < 1.0:
        gray = cv2.resize(gray, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    faces = _cascade().detectMultiScale(gray, scaleFactor=1.1, minNeighbors=5,
                                        minSize=(max(24, gray.shape[0] // 10),) * 2)
    if len(faces) == 0:
        return None
    x, _, w, _ = max(faces, key=lambda f: f[2] * f[3])
    return (x + w / 2) / scale


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
