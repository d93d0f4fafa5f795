"""Loudness normalisation to a streaming target: -14 LUFS integrated, true peak at most -1 dBTP.

Done in memory with numpy: the integrated loudness is measured as ITU-R BS.1770 defines
it (K-weighting, 400 ms blocks, absolute and relative gates), a gain brings it to the
target, and a look-ahead limiter holds the peaks under the ceiling. The limiter takes
loudness off speech with sharp peaks, so the result is measured again and the gain
corrected (secant steps), a few rounds at most. ffmpeg's ebur128 filter is the
independent check (`ebur128()`, used by the tests)."""
from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import soundfile
from scipy.ndimage import minimum_filter1d, uniform_filter1d
from scipy.signal import lfilter

from server.media.ffmpeg import run

TARGET_LUFS = -14.0
# Sample peaks held at -2.5 dBFS keep true peaks under -1 dBTP after AAC encoding, which
# overshoots the limited waveform by up to about 1 dB.
CEILING = 10 ** (-2.5 / 20)
RATE = 48000
ROUNDS = 8
CLOSE_ENOUGH_LU = 0.2
SILENCE_LUFS = -70.0
MAX_GAIN_DB = 40.0
LIMITER_WINDOW_S = 0.005
AAC = ["-c:a", "aac", "-aac_coder", "fast", "-b:a", "192k"]

# BS.1770 K-weighting at 48 kHz: a high shelf (the head's effect), then a high pass.
_SHELF = ([1.53512485958697, -2.69169618940638, 1.19839281085285], [1.0, -1.69065929318241, 0.73248077421585])
_HIGHPASS = ([1.0, -2.0, 1.0], [1.0, -1.99004745483398, 0.99007225036621])


def integrated_lufs(x: np.ndarray) -> float:
    """BS.1770 integrated loudness of 48 kHz samples shaped (n, channels), floats in [-1, 1]."""
    k = lfilter(*_HIGHPASS, lfilter(*_SHELF, x, axis=0), axis=0)
    block, hop = int(0.4 * RATE), int(0.1 * RATE)
    if len(k) < block:
        return float("-inf")
    power = np.cumsum(np.concatenate([np.zeros((1, k.shape[1])), k ** 2]), axis=0)
    starts = np.arange(0, len(k) - block + 1, hop)
    z = ((power[starts + block] - power[starts]) / block).sum(axis=1)   # channel weights are 1
    loud = -0.691 + 10 * np.log10(np.maximum(z, 1e-20))
    z = z[loud > SILENCE_LUFS]
    if not len(z):
        return float("-inf")
    relative = -0.691 + 10 * np.log10(z.mean()) - 10
    z = z[-0.691 + 10 * np.log10(z) > relative]
    return float(-0.691 + 10 * np.log10(z.mean()))


def limit(x: np.ndarray) -> np.ndarray:
    """Look-ahead peak limiter: the gain each sample needs, spread by a minimum over a
    window and smoothed by a mean over the same window, so it is never above what any
    sample needs and changes without clicks."""
    peak = np.abs(x).max(axis=1)
    need = np.minimum(1.0, CEILING / np.maximum(peak, 1e-9))
    size = 2 * int(LIMITER_WINDOW_S * RATE) + 1
    gain = uniform_filter1d(minimum_filter1d(need, size), size)
    return x * np.minimum(gain, need)[:, None]


def ebur128(input_args: list[str]) -> tuple[float, float]:
    """(integrated loudness in LUFS, true peak in dBTP) as ffmpeg's ebur128 measures them."""
    err = run(["-loglevel", "info", *input_args, "-map", "0:a:0",
               "-af", "ebur128=peak=true", "-f", "null", "-"])
    summary = err[err.rfind("Summary:"):]
    integrated = re.search(r"I:\s+(-?[\d.]+|-inf) LUFS", summary)
    peak = re.search(r"Peak:\s+(-?[\d.]+|-inf) dBFS", summary)
    if integrated is None or peak is None:
        raise RuntimeError(f"ffmpeg's ebur128 printed no summary: {err[-500:]}")
    return float(integrated.group(1)), float(peak.group(1))


def decode(input_args: list[str], out_wav: Path, channels: int | None = None) -> None:
    """The audio of `input_args` as 48 kHz 16-bit WAV."""
    layout = ["-ac", str(channels)] if channels else []
    run(["-loglevel", "error", *input_args, "-map", "0:a:0", "-ar", str(RATE), *layout,
         "-c:a", "pcm_s16le", str(out_wav)])


def normalise(wav: Path, out_wav: Path) -> float | None:
    """Writes the 48 kHz `wav` normalised to `out_wav`; returns the loudness reached (None
    for silence, which is copied unchanged)."""
    x, rate = soundfile.read(str(wav), dtype="float32", always_2d=True)
    assert rate == RATE, rate
    loudness = integrated_lufs(x)
    if not loudness > SILENCE_LUFS:
        soundfile.write(str(out_wav), x, rate, subtype="PCM_16")
        return None
    tried: list[tuple[float, float]] = []
    gain = TARGET_LUFS - loudness
    for _ in range(ROUNDS):
        y = limit(x * 10 ** (gain / 20))
        result = integrated_lufs(y)
        tried.append((gain, result))
        if abs(result - TARGET_LUFS) <= CLOSE_ENOUGH_LU:
            break
        if len(tried) == 1:
            gain += TARGET_LUFS - result
        else:
            (g0, r0), (g1, r1) = tried[-2], tried[-1]
            slope = (r1 - r0) / (g1 - g0) if abs(g1 - g0) > 1e-3 else 1.0
            gain = g1 + (TARGET_LUFS - r1) / max(slope, 0.05)
        gain = min(gain, MAX_GAIN_DB)
    soundfile.write(str(out_wav), y, rate, subtype="PCM_16")
    return result
