"""Short spoken clips built at test time: English (piper) that switches to German
(espeak-ng), and files with more than one audio track."""
from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path

import imageio_ffmpeg
import numpy as np

ENGLISH = ["The moon pulls the sea towards it, and that pull makes the tides rise and fall twice a day.",
           "Sailors have watched the tides for thousands of years."]
GERMAN = ["Die Sonne ist ein Stern in der Mitte unseres Sonnensystems.",
          "Sie besteht vor allem aus Wasserstoff und Helium.",
          "Ihr Licht braucht etwa acht Minuten bis zur Erde."]


@dataclass
class SwitchClip:
    path: Path
    switch_s: float          # where the German starts
    english_s: float         # seconds of English speech
    german_s: float


def language_switch(folder: Path) -> SwitchClip:
    """About 9 s of English, a 1.5 s pause, then about 10 s of German, as audio-only mp4.
    (espeak-ng's German is robotic: Whisper base is less sure of it than of a person.)"""
    from scripts.make_talks import SR, speak, write_media
    silence = lambda s: np.zeros(int(s * SR), np.float32)  # noqa: E731
    en = [speak(s, "en") for s in ENGLISH]
    de = [speak(s, "de") for s in GERMAN]
    parts = [silence(0.5), en[0], silence(0.6), en[1], silence(1.5),
             de[0], silence(0.6), de[1], silence(0.6), de[2], silence(0.5)]
    switch_s = sum(len(p) for p in parts[:5]) / SR
    path = write_media(np.concatenate(parts), folder / "switch.mp4", video=False)
    return SwitchClip(path, switch_s, sum(len(a) for a in en) / SR, sum(len(a) for a in de) / SR)


def silent_first_track(speech: Path, out: Path) -> Path:
    """A video whose first (default) audio track is silent and whose second holds `speech`."""
    subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-y", "-loglevel", "error",
                    "-f", "lavfi", "-i", "color=c=black:s=160x120:r=5",
                    "-f", "lavfi", "-i", "anullsrc=r=44100:cl=stereo",
                    "-i", str(speech),
                    "-map", "0:v", "-map", "1:a", "-map", "2:a", "-shortest",
                    "-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p", "-c:a", "aac",
                    "-disposition:a:0", "default", "-disposition:a:1", "0",
                    "-metadata:s:a:0", "title=silence", "-metadata:s:a:1", "title=speech",
                    str(out)], check=True)
    return out
