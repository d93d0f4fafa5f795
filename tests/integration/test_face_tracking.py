"""Following the speaker's face: which face the tracker takes when others appear, and the
decoding thread that feeds it (stopped with the caller, its errors passed on)."""
from __future__ import annotations

import threading

import av
import cv2
import numpy as np
import pytest
from skimage.data import astronaut

from server.media import reframe
from server.media.frames import cut_window
from tests.support.render_media import moving_face_video

W, H = 480, 270
PORTRAIT = cv2.cvtColor(astronaut()[30:290, 120:340], cv2.COLOR_RGB2GRAY)   # head and shoulders


def _frame(*faces: tuple[int, int]) -> np.ndarray:
    """A grey frame with the portrait pasted at each (left edge, width)."""
    f = np.full((H, W), 90, np.uint8)
    for left, width in faces:
        p = cv2.resize(PORTRAIT, (width, round(width * PORTRAIT.shape[0] / PORTRAIT.shape[1])),
                       interpolation=cv2.INTER_AREA)
        f[20:20 + p.shape[0], left:left + width] = p[:H - 20]
    return f


def _follow(frames: list[tuple[float, np.ndarray]]) -> list[tuple[float, reframe.Box | None]]:
    tracker = reframe.FaceTracker()
    return [(t, tracker.find(f, t)) for t, f in frames]


def _centre(box: reframe.Box | None) -> float | None:
    return None if box is None else box[0] + box[2] / 2


def _times(seconds: float) -> list[float]:
    return [i / reframe.SAMPLES_PER_S for i in range(int(seconds * reframe.SAMPLES_PER_S))]


def test_a_larger_face_appearing_elsewhere_is_taken_within_a_search_interval():
    small, large = (20, 110), (260, 200)
    seen = _follow([(t, _frame(small) if t < 2.0 else _frame(small, large)) for t in _times(5.0)])
    assert all(_centre(b) is not None and _centre(b) < W / 3 for t, b in seen if t < 2.0)
    taken = [t for t, b in seen if _centre(b) is not None and _centre(b) > W / 2]
    assert taken and taken[0] <= 2.0 + reframe.FULL_SEARCH_S + 1e-6
    assert all(_centre(b) > W / 2 for t, b in seen if t >= taken[0])      # and kept


def test_a_smaller_face_appearing_elsewhere_does_not_take_the_crop():
    large, small = (20, 200), (330, 110)
    seen = _follow([(t, _frame(large) if t < 2.0 else _frame(large, small)) for t in _times(5.0)])
    assert all(_centre(b) is not None and _centre(b) < W / 2 for _, b in seen)


def test_when_the_followed_face_leaves_a_smaller_one_is_found():
    large, small = (20, 200), (330, 110)
    seen = _follow([(t, _frame(large) if t < 2.0 else _frame(small)) for t in _times(4.0)])
    after = [b for t, b in seen if t >= 2.0]
    assert all(_centre(b) is not None and _centre(b) > W / 2 for b in after)


def test_the_grey_of_a_frame_matches_swscale(tmp_path):
    src, _ = moving_face_video(tmp_path / "face.mp4", seconds=1)
    with av.open(str(src)) as c:
        frame = next(c.decode(video=0))
    ours = reframe._grey(frame, (W, H)).astype(int)
    theirs = frame.reformat(width=W, height=H, format="gray", interpolation="AREA").to_ndarray().astype(int)
    assert ours.shape == theirs.shape
    assert np.abs(ours - theirs).mean() < 2.0


def _decoder_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "face-samples"]


def test_stopping_the_face_finding_stops_its_decoder(tmp_path):
    src, _ = moving_face_video(tmp_path / "face.mp4", seconds=6)
    w = cut_window(src, 0.0, 6.0)

    class Cancelled(Exception):
        pass

    def progress(f):
        if f > 0.2:
            raise Cancelled()
    with pytest.raises(Cancelled):
        reframe.face_samples(src, w, progress)
    assert _decoder_threads() == []


def test_a_decoding_error_reaches_the_caller(tmp_path, monkeypatch):
    src, _ = moving_face_video(tmp_path / "face.mp4", seconds=3)
    w = cut_window(src, 0.0, 3.0)
    calls = []

    def broken(frame, size):
        calls.append(frame)
        if len(calls) == 3:
            raise av.InvalidDataError(1094995529, "Invalid data found when processing input")
        return np.full((size[1], size[0]), 90, np.uint8)
    monkeypatch.setattr(reframe, "_grey", broken)
    with pytest.raises(av.InvalidDataError):
        reframe.face_samples(src, w)
    assert _decoder_threads() == []
