"""Running the ffmpeg binary shipped in imageio-ffmpeg."""
from __future__ import annotations

import subprocess

import imageio_ffmpeg

from server.core.failures import fatal

FFMPEG = imageio_ffmpeg.get_ffmpeg_exe()


def run(args: list[str], *, stdin=None) -> str:
    """Runs ffmpeg and returns its stderr (filters such as loudnorm report there)."""
    proc = subprocess.run([FFMPEG, "-hide_banner", "-nostdin", "-y", *args], input=stdin,
                          capture_output=True)
    err = proc.stderr.decode("utf-8", "replace")
    if proc.returncode != 0:
        raise fatal("corrupt_media", f"ffmpeg failed: {err.strip()[-800:]}")
    return err
