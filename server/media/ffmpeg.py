"""Running the ffmpeg binary shipped in imageio-ffmpeg."""
from __future__ import annotations

import re
import subprocess
import tempfile
from pathlib import Path
from typing import Callable

import imageio_ffmpeg

from server.core.failures import fatal

FFMPEG = imageio_ffmpeg.get_ffmpeg_exe()


def said(stderr: str) -> str:
    """The end of what ffmpeg said, fit for a client: file paths cut to their names."""
    return re.sub(r"(?:/[^\s/'\":,]+)+/([^\s/'\":,]+)", r"\1", stderr.strip())[-800:]


def run(args: list[str], *, stdin=None) -> str:
    """Runs ffmpeg and returns its stderr (filters such as loudnorm report there)."""
    proc = subprocess.run([FFMPEG, "-hide_banner", "-nostdin", "-y", *args], input=stdin,
                          capture_output=True)
    err = proc.stderr.decode("utf-8", "replace")
    if proc.returncode != 0:
        raise fatal("corrupt_media", f"ffmpeg failed: {said(err)}")
    return err


class FfmpegFailed(Exception):
    """ffmpeg exited with an error; `stderr` holds the end of what it said."""

    def __init__(self, stderr: str):
        super().__init__(stderr[-800:])
        self.stderr = stderr


def run_with_progress(args: list[str], duration_s: float, progress: Callable[[float], None],
                      cwd: Path | None = None) -> None:
    """Runs ffmpeg and reports the fraction of `duration_s` written so far, read from its
    `-progress` output, as it goes. An exception from `progress` (the job was cancelled or
    its lease lost) kills ffmpeg and propagates. Raises FfmpegFailed on a non-zero exit."""
    # stderr goes to a file: a pipe that nobody drains could fill up and stall ffmpeg
    with tempfile.TemporaryFile() as err:
        proc = subprocess.Popen([FFMPEG, "-hide_banner", "-nostdin", "-y", "-nostats",
                                 "-progress", "pipe:1", "-stats_period", "0.25", *args],
                                stdout=subprocess.PIPE, stderr=err, cwd=cwd)
        assert proc.stdout is not None
        try:
            for line in proc.stdout:
                key, _, value = line.decode("ascii", "replace").strip().partition("=")
                if key == "out_time_us" and value.lstrip("-").isdigit() and duration_s > 0:
                    progress(min(1.0, max(0.0, int(value) / 1e6 / duration_s)))
        except BaseException:
            proc.kill()
            raise
        finally:
            proc.stdout.close()
            proc.wait()
        if proc.returncode != 0:
            err.seek(0)
            raise FfmpegFailed(err.read().decode("utf-8", "replace").strip())
