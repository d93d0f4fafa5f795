"""The H.264 encoder of rendered clips: NVENC when a GPU offers it, libx264 otherwise, with
the same keyframe interval, pixel format and audio either way.

NVENC is detected at run time with a tiny trial encode (the ffmpeg build always lists
h264_nvenc; whether a session opens depends on the driver and the card). A render whose
NVENC session fails (no card, no driver, the card's session limit reached) is done again
with libx264, so a GPU never makes a clip fail."""
from __future__ import annotations

import logging
import subprocess
from functools import lru_cache

from server.media.ffmpeg import FFMPEG

log = logging.getLogger(__name__)

LIBX264, NVENC = "libx264", "h264_nvenc"
ENCODERS = ("auto", LIBX264, NVENC)
KEYFRAME_S = 2.0             # what platforms ask for; also makes clips seekable in the page
# libx264's preset and quality, chosen with `scripts/bench_render.py --presets` (README)
X264_PRESET, X264_CRF = "veryfast", 21
# the thumbnail beside each clip: one frame, at most 640 wide, as JPEG
THUMB_SCALE = "scale='min(640,iw)':-2"
THUMB_JPEG = ["-frames:v", "1", "-q:v", "3", "-update", "1"]
# NVENC's middle preset at a constant-quality target near the x264 setting (unmeasured here)
NVENC_ARGS = ["-preset", "p4", "-tune", "hq", "-rc", "vbr", "-cq", "23", "-b:v", "0"]


@lru_cache(maxsize=1)
def nvenc_available() -> bool:
    """Whether an NVENC session opens on this machine (tried once per process)."""
    try:
        proc = subprocess.run([FFMPEG, "-hide_banner", "-nostdin", "-loglevel", "error", "-f", "lavfi",
                               "-i", "color=s=256x256:r=25:d=0.2", "-c:v", NVENC, "-f", "null", "-"],
                              capture_output=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return proc.returncode == 0


def candidates(requested: str) -> list[str]:
    """The encoders to try in order: `auto` means NVENC when a session opens here, and
    libx264 is always the last resort."""
    if requested not in ENCODERS:
        raise ValueError(f"encoder must be one of {', '.join(ENCODERS)}")
    if requested == NVENC or (requested == "auto" and nvenc_available()):
        return [NVENC, LIBX264]
    return [LIBX264]


def video_args(encoder: str, fps: float, threads: int = 0) -> list[str]:
    gop = str(max(1, round(KEYFRAME_S * fps)))
    common = ["-g", gop, "-pix_fmt", "yuv420p"]
    if encoder == NVENC:
        return ["-c:v", NVENC, *NVENC_ARGS, *common]
    return ["-c:v", LIBX264, "-preset", X264_PRESET, "-crf", str(X264_CRF),
            "-threads", str(threads), *common]
