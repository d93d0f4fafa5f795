"""Face detectors that ship inside PyPI packages, on faces that can be had offline: hit rate
by face size and pose, false detections, and milliseconds per frame at the size the
reframer detects on (480x270).

    .venv/bin/python -m scripts.bench_faces [haar profile lbp mediapipe]   (default: all)

Faces: the astronaut portrait and the cameraman (a small face turned away) from skimage's
photographs, and 30 of the 100 faces of skimage's LFW subset; each is scaled to a share of the
frame width, turned in the image plane, or squeezed sideways (a crude stand-in for a head
turned towards a profile), and pasted onto a textured photograph. False detections are
counted on the same backgrounds with 30 of the LFW subset's non-face patches pasted instead.

Detectors: OpenCV's Haar cascades from the opencv wheel (frontal, as the reframer uses; and
frontal plus the profile cascade, both ways round), the LBP frontal cascade that skimage
ships, and MediaPipe's BlazeFace when an old enough mediapipe (with the bundled models of
`mediapipe.solutions`) is importable."""
from __future__ import annotations

import os
import sys
import time
from importlib.metadata import version
from pathlib import Path

import cv2
import numpy as np
from skimage import data

W, H = 480, 270
LFW_FACES = 30               # of the subset's 100: enough to rank the detectors in minutes


def _haar(name: str) -> cv2.CascadeClassifier:
    return cv2.CascadeClassifier(os.path.join(cv2.data.haarcascades, name))  # type: ignore[attr-defined]


def cascade_detector(cascades: list[cv2.CascadeClassifier], mirror: bool = False):
    def detect(rgb: np.ndarray) -> list[tuple[int, int, int, int]]:
        gray = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
        found = []
        for c in cascades:
            for img, flip in ((gray, False), (gray[:, ::-1], True)) if mirror else ((gray, False),):
                for x, y, w, h in c.detectMultiScale(np.ascontiguousarray(img), scaleFactor=1.1, minNeighbors=5,
                                                     minSize=(max(24, H // 10),) * 2):
                    found.append((W - x - w if flip else x, y, w, h))
        return found
    return detect


def lbp_detector():
    """skimage's LBP frontal cascade, run by skimage (OpenCV 4 no longer reads that file)."""
    from skimage.feature import Cascade
    cascade = Cascade(str(Path(data.__file__).parent / "lbpcascade_frontalface_opencv.xml"))

    def detect(rgb: np.ndarray) -> list[tuple[int, int, int, int]]:
        gray = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
        return [(d["c"], d["r"], d["width"], d["height"])
                for d in cascade.detect_multi_scale(gray, scale_factor=1.1, step_ratio=1,
                                                    min_size=(max(24, H // 10),) * 2, max_size=(H, H))]
    return detect


def mediapipe_detector():
    try:
        import mediapipe as mp
        fd = mp.solutions.face_detection.FaceDetection(model_selection=1, min_detection_confidence=0.5)
    except Exception:                # not installed, or a version without the bundled models
        return None

    def detect(rgb: np.ndarray) -> list[tuple[int, int, int, int]]:
        out = []
        for d in fd.process(rgb).detections or []:
            b = d.location_data.relative_bounding_box
            out.append((int(b.xmin * W), int(b.ymin * H), int(b.width * W), int(b.height * H)))
        return out
    return detect


def backgrounds() -> list[np.ndarray]:
    return [cv2.resize(img, (W, H), interpolation=cv2.INTER_AREA)
            for img in (data.coffee(), data.rocket(), np.dstack([data.brick()] * 3), data.chelsea())]


def faces() -> list[tuple[str, np.ndarray]]:
    """(name, RGB face with a margin around it): the face fills the middle 60% of the width."""
    astro = data.astronaut()[20:300, 110:350]
    camera = np.dstack([data.camera()[40:200, 170:310]] * 3)
    lfw = [np.dstack([cv2.resize((f * 255).astype(np.uint8), (60, 60))] * 3) for f in data.lfw_subset()[:LFW_FACES]]
    lfw = [cv2.copyMakeBorder(f, 20, 20, 20, 20, cv2.BORDER_REPLICATE) for f in lfw]
    return [("astronaut", astro), ("cameraman", camera)] + [(f"lfw{i}", f) for i, f in enumerate(lfw)]


def non_faces() -> list[np.ndarray]:
    return [cv2.copyMakeBorder(np.dstack([cv2.resize((f * 255).astype(np.uint8), (60, 60))] * 3),
                               20, 20, 20, 20, cv2.BORDER_REPLICATE) for f in data.lfw_subset()[100:100 + LFW_FACES]]


def variant(face: np.ndarray, share: float, roll: float, squeeze: float) -> np.ndarray:
    """The face scaled so its middle 60% spans `share` of the frame width, turned by `roll`
    degrees and squeezed sideways by `squeeze`."""
    h, w = face.shape[:2]
    scale = share * W / (0.6 * w)
    out = cv2.resize(face, (max(8, int(w * scale * squeeze)), max(8, int(h * scale))), interpolation=cv2.INTER_AREA)
    if roll:
        m = cv2.getRotationMatrix2D((out.shape[1] / 2, out.shape[0] / 2), roll, 1.0)
        out = cv2.warpAffine(out, m, (out.shape[1], out.shape[0]), borderMode=cv2.BORDER_REPLICATE)
    return out


def paste(bg: np.ndarray, patch: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, tuple[int, int, int, int]]:
    frame = bg.copy()
    ph, pw = min(patch.shape[0], H), min(patch.shape[1], W)
    x, y = int(rng.integers(0, W - pw + 1)), int(rng.integers(0, H - ph + 1))
    frame[y:y + ph, x:x + pw] = patch[:ph, :pw]
    # the face proper: the middle 60% of the patch
    return frame, (x + int(0.2 * pw), y + int(0.2 * ph), int(0.6 * pw), int(0.6 * ph))


def hit(found, box) -> bool:
    bx, by, bw, bh = box
    return any(bx <= x + w / 2 <= bx + bw and by <= y + h / 2 <= by + bh for x, y, w, h in found)


CASES = [("frontal, 25% of width", 0.25, 0, 1.0), ("frontal, 12%", 0.12, 0, 1.0), ("frontal, 7%", 0.07, 0, 1.0),
         ("tilted 20 degrees, 20%", 0.20, 20, 1.0), ("tilted 35 degrees, 20%", 0.20, 35, 1.0),
         ("squeezed to 60% (turned), 20%", 0.20, 0, 0.6)]


def main() -> None:
    print(f"load {os.getloadavg()[0]:.2f}, opencv {cv2.getVersionString()}, skimage {version('scikit-image')}")
    wanted = set(sys.argv[1:]) or {"haar", "profile", "lbp", "mediapipe"}
    detectors = {}
    if "haar" in wanted:
        detectors["haar frontal (in use)"] = cascade_detector([_haar("haarcascade_frontalface_default.xml")])
    if "profile" in wanted:
        detectors["haar frontal + profile"] = cascade_detector(
            [_haar("haarcascade_frontalface_default.xml"), _haar("haarcascade_profileface.xml")], mirror=True)
    if "lbp" in wanted:
        detectors["lbp frontal (skimage's)"] = lbp_detector()
    if "mediapipe" in wanted:
        mp_detect = mediapipe_detector()
        if mp_detect is not None:
            detectors["mediapipe blazeface (full range)"] = mp_detect
        else:
            print("mediapipe with bundled models: not importable here")
    bgs, fs, nfs = backgrounds(), faces(), non_faces()
    header = f"{'detector':<34}" + "".join(f"{c[0][:22]:>24}" for c in CASES) + f"{'false/frame':>13}{'ms/frame':>10}"
    print(header)
    for name, detect in detectors.items():
        rng = np.random.default_rng(7)
        rates, spent, frames = [], 0.0, 0
        for _, share, roll, squeeze in CASES:
            hits = 0
            for i, (_, face) in enumerate(fs):
                frame, box = paste(bgs[i % len(bgs)], variant(face, share, roll, squeeze), rng)
                began = time.perf_counter()
                found = detect(frame)
                spent += time.perf_counter() - began
                frames += 1
                hits += hit(found, box)
            rates.append(hits / len(fs))
        false = 0
        for i, patch in enumerate(nfs):
            frame, _ = paste(bgs[i % len(bgs)], variant(patch, 0.2, 0, 1.0), rng)
            false += len(detect(frame))
        print(f"{name:<34}" + "".join(f"{r:>24.0%}" for r in rates)
              + f"{false / len(nfs):>13.2f}{spent / frames * 1000:>10.1f}", flush=True)


if __name__ == "__main__":
    main()
