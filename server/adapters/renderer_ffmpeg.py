"""Cuts clips with the ffmpeg binary shipped in imageio-ffmpeg (no system package needed)."""
from __future__ import annotations

import subprocess
from pathlib import Path

import imageio_ffmpeg

from server.adapters.media_probe import probe
from server.pipeline.failures import fatal
from server.ports import ClipPlan, Transcript


class FfmpegRenderer:
    def __init__(self, threads: int = 0, preset: str = "veryfast", crf: int = 20):
        self.ffmpeg = imageio_ffmpeg.get_ffmpeg_exe()
        self.threads = threads
        self.preset = preset
        self.crf = crf

    def _run(self, args: list[str]) -> None:
        proc = subprocess.run([self.ffmpeg, "-hide_banner", "-nostdin", "-loglevel", "error", "-y", *args],
                              capture_output=True, text=True)
        if proc.returncode != 0:
            raise fatal("corrupt_media", f"ffmpeg failed: {proc.stderr.strip()[-800:]}")

    def render(self, media: Path, clip: ClipPlan, out_video: Path, out_thumb: Path,
               transcript: Transcript | None = None) -> None:
        info = probe(media)
        start = max(0.0, clip.start_s)
        duration = max(0.1, min(clip.end_s, info.duration_s) - start)
        # -ss before -i with re-encoding is frame-exact: ffmpeg decodes from the previous
        # keyframe and drops frames up to the cut, so the clip starts at the exact time.
        inputs = ["-ss", f"{start:.3f}", "-i", str(media)]
        if not info.has_video:   # an audio-only source still yields a postable mp4
            inputs += ["-f", "lavfi", "-i", "color=c=0x202040:s=1280x720:r=25"]
            maps = ["-map", "1:v", "-map", "0:a"]
        else:
            maps = ["-map", "0:v:0", "-map", "0:a:0"]
        self._run([*inputs, "-t", f"{duration:.3f}", *maps,
                   "-c:v", "libx264", "-preset", self.preset, "-crf", str(self.crf),
                   "-pix_fmt", "yuv420p", "-c:a", "aac", "-b:a", "128k",
                   "-threads", str(self.threads), "-movflags", "+faststart", "-shortest",
                   str(out_video)])
        # The thumbnail comes from the clip itself, a third of the way in.
        self._run(["-ss", f"{duration / 3:.3f}", "-i", str(out_video), "-frames:v", "1",
                   "-q:v", "3", "-vf", "scale='min(640,iw)':-2", str(out_thumb)])
