"""Loudness normalisation to a streaming target: -14 LUFS integrated, true peak at most -1 dBTP.

A gain brings the integrated loudness to the target and a limiter holds the peaks under
the ceiling. The limiter takes loudness off speech with sharp peaks, so the result is
measured again and the gain corrected (secant steps), a few rounds at most."""
from __future__ import annotations

import re
from pathlib import Path

from server.media.ffmpeg import run

TARGET_LUFS = -14.0
# Sample peaks held at -3 dBFS keep true peaks under -1 dBTP after AAC encoding, which
# overshoots the limited waveform by up to about 1.5 dB.
LIMIT = 10 ** (-3 / 20)
RATE = 48000
ROUNDS = 5
CLOSE_ENOUGH_LU = 0.3
SILENCE_LUFS = -70.0
MAX_GAIN_DB = 40.0
AAC = ["-c:a", "aac", "-b:a", "192k"]


def ebur128(input_args: list[str]) -> tuple[float, float]:
    """(integrated loudness in LUFS, true peak in dBTP) as ffmpeg's ebur128 measures them."""
    err = run(["-loglevel", "info", *input_args, "-map", "0:a:0",
               "-af", "ebur128=peak=true", "-f", "null", "-"])
    summary = err[err.rfind("Summary:"):]
    integrated = re.search(r"I:\s+(-?[\d.]+|-inf) LUFS", summary).group(1)
    peak = re.search(r"Peak:\s+(-?[\d.]+|-inf) dBFS", summary).group(1)
    return float(integrated), float(peak)


def decode(input_args: list[str], out_wav: Path, channels: int | None = None) -> None:
    """The audio of `input_args` as 48 kHz 16-bit WAV."""
    layout = ["-ac", str(channels)] if channels else []
    run(["-loglevel", "error", *input_args, "-map", "0:a:0", "-ar", str(RATE), *layout,
         "-c:a", "pcm_s16le", str(out_wav)])


def normalise(wav: Path, out_wav: Path) -> float | None:
    """Writes `wav` normalised to `out_wav`; returns the loudness reached (None for silence,
    which is copied unchanged)."""
    loudness, _ = ebur128(["-i", str(wav)])
    if loudness < SILENCE_LUFS:
        out_wav.write_bytes(wav.read_bytes())
        return None
    tried: list[tuple[float, float]] = []
    gain = TARGET_LUFS - loudness
    for _ in range(ROUNDS):
        run(["-loglevel", "error", "-i", str(wav), "-af",
             f"volume={gain:.2f}dB,alimiter=limit={LIMIT:.4f}:level=disabled:attack=1:release=20",
             "-c:a", "pcm_s16le", str(out_wav)])
        result, _ = ebur128(["-i", str(out_wav)])
        tried.append((gain, result))
        if abs(result - TARGET_LUFS) <= CLOSE_ENOUGH_LU:
            break
        if len(tried) == 1:
            gain += TARGET_LUFS - result
        else:
            (g0, r0), (g1, r1) = tried[-2], tried[-1]
            slope = (r1 - r0) / (g1 - g0) if abs(g1 - g0) > 1e-3 else 1.0
            gain = g1 + (TARGET_LUFS - r1) / max(slope, 0.1)
        gain = min(gain, MAX_GAIN_DB)
    return result
