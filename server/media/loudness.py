"""Loudness normalisation to a streaming target: -14 LUFS integrated, true peak at most -1 dBTP.

Done in memory with numpy: the integrated loudness is measured as ITU-R BS.1770 defines
it (K-weighting, 400 ms blocks, absolute and relative gates), a gain brings it to the
target, and a look-ahead limiter holds the peaks under the ceiling. The limiter takes
loudness off speech with sharp peaks, so the result is measured again and the gain
corrected (secant steps), a few rounds at most. ffmpeg's ebur128 filter is the
independent check (`ebur128()`, used by the tests).

The audio is K-weighted once. K-weighting is linear, so the weighted signal of gain * x is
gain times that of x, and a limited version differs from it only around the limited peaks:
each round filters those stretches alone. Where the limiter has nothing to do, the first
measurement gives the answer with no second pass.

A stereo track whose channels carry the same signal (a mono recording stored as stereo,
as most talks and podcasts are) is kept as one channel: it sounds the same and encodes in
a quarter of the time. Mono is measured as dual mono (its channel counted twice, as EBU
R 128 s1 and ffmpeg's `ebur128=dualmono=true` do), since phones play it from both
speakers; so it gets the same gain as the stereo it came from."""
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
AAC_KBPS_PER_CHANNEL = 96       # 192 kbit/s for stereo
DUAL_MONO_SIDE_DB = -40.0       # channels this close to their mean are one signal

# BS.1770 K-weighting at 48 kHz: a high shelf (the head's effect), then a high pass.
_SHELF = ([1.53512485958697, -2.69169618940638, 1.19839281085285], [1.0, -1.69065929318241, 0.73248077421585])
_HIGHPASS = ([1.0, -2.0, 1.0], [1.0, -1.99004745483398, 0.99007225036621])


def _k_weighted(x: np.ndarray) -> np.ndarray:
    return lfilter(*_HIGHPASS, lfilter(*_SHELF, x, axis=0), axis=0)


def _gated(power: np.ndarray) -> float:
    """Integrated loudness from the K-weighted power of each sample (summed over channels,
    whose weights are all 1): 400 ms blocks every 100 ms, absolute then relative gate."""
    block, hop = int(0.4 * RATE), int(0.1 * RATE)
    if len(power) < block:
        return float("-inf")
    cum = np.concatenate([[0.0], np.cumsum(power)])
    starts = np.arange(0, len(power) - block + 1, hop)
    z = (cum[starts + block] - cum[starts]) / block
    loud = -0.691 + 10 * np.log10(np.maximum(z, 1e-20))
    z = z[loud > SILENCE_LUFS]
    if not len(z):
        return float("-inf")
    relative = -0.691 + 10 * np.log10(z.mean()) - 10
    z = z[-0.691 + 10 * np.log10(z) > relative]
    return float(-0.691 + 10 * np.log10(z.mean()))


def integrated_lufs(x: np.ndarray) -> float:
    """BS.1770 integrated loudness of 48 kHz samples shaped (n, channels), floats in [-1, 1]."""
    return Meter(x).lufs(1.0)


def _stretches(indexes: np.ndarray, pad: int, n: int) -> list[tuple[int, int]]:
    """[start, end) stretches covering each index and `pad` samples after it, merged."""
    if not len(indexes):
        return []
    breaks = np.flatnonzero(np.diff(indexes) > pad) + 1
    firsts, lasts = indexes[np.r_[0, breaks]], indexes[np.r_[breaks - 1, len(indexes) - 1]]
    return [(int(a), int(min(n, b + pad + 1))) for a, b in zip(firsts, lasts)]


def _channel_sum(x: np.ndarray) -> np.ndarray:
    total = x[:, 0].copy()
    for c in range(1, x.shape[1]):      # channel by channel: far faster than sum(axis=1)
        total += x[:, c]
    return total


class Meter:
    """Integrated loudness of x scaled by a gain and then limited, filtering x only once."""
    # the K-weighting's slowest pole (radius 0.995) has decayed below 1e-6 after this long
    TAIL = int(0.06 * RATE)

    def __init__(self, x: np.ndarray):
        self.x = x
        self.k = _k_weighted(x)
        self.weight = 2.0 if x.shape[1] == 1 else 1.0       # mono is heard as dual mono
        self.power = _channel_sum(self.k ** 2) * self.weight

    def lufs(self, gain: float, limiter: np.ndarray | None = None) -> float:
        """Loudness of x * gain, then times the limiter's per-sample gain if given."""
        power = self.power * gain ** 2
        if limiter is not None:
            changed = np.flatnonzero(limiter < 1.0)
            for a, b in _stretches(changed, self.TAIL, len(power)):
                # what the limiter took off is zero before `a`: filtering it from rest is exact
                taken = self.x[a:b] * (gain * (1.0 - limiter[a:b]))[:, None]
                power[a:b] = _channel_sum((self.k[a:b] * gain - _k_weighted(taken)) ** 2) * self.weight
        return _gated(power)


def _peaks(x: np.ndarray) -> np.ndarray:
    peak = np.abs(x[:, 0])
    for c in range(1, x.shape[1]):
        np.maximum(peak, np.abs(x[:, c]), out=peak)
    return peak


def limiter_gain(x: np.ndarray) -> np.ndarray | None:
    """Look-ahead peak limiter: the gain each sample needs, spread by a minimum over a
    window and smoothed by a mean over the same window, so it is never above what any
    sample needs and changes without clicks. None when no peak is over the ceiling.
    The gain is 1 beyond two windows from any peak over the ceiling, so only the stretches
    around those peaks are filtered (their edges are then all ones, as in the whole)."""
    peak = _peaks(x)
    over = np.flatnonzero(peak > CEILING)
    if not len(over):
        return None
    size = 2 * int(LIMITER_WINDOW_S * RATE) + 1
    reach = 2 * size
    gain = np.ones(len(peak), dtype=peak.dtype)
    for a, b in _stretches(np.maximum(over - reach, 0), 2 * reach, len(peak)):
        need = np.minimum(1.0, CEILING / np.maximum(peak[a:b], 1e-9))
        gain[a:b] = np.minimum(uniform_filter1d(minimum_filter1d(need, size), size), need)
    return gain


def ebur128(input_args: list[str]) -> tuple[float, float]:
    """(integrated loudness in LUFS, true peak in dBTP) as ffmpeg's ebur128 measures them."""
    err = run(["-loglevel", "info", *input_args, "-map", "0:a:0",
               "-af", "ebur128=peak=true:dualmono=true", "-f", "null", "-"])
    summary = err[err.rfind("Summary:"):]
    integrated = re.search(r"I:\s+(-?[\d.]+|-inf) LUFS", summary)
    peak = re.search(r"Peak:\s+(-?[\d.]+|-inf) dBFS", summary)
    if integrated is None or peak is None:
        raise RuntimeError(f"ebur128 printed no summary: {err[-300:]}")
    return float(integrated.group(1)), float(peak.group(1))


def decode(input_args: list[str], out_wav: Path, channels: int | None = None) -> None:
    """The audio of `input_args` as 48 kHz 16-bit WAV."""
    layout = ["-ac", str(channels)] if channels else []
    run(["-loglevel", "error", *input_args, "-map", "0:a:0", "-ar", str(RATE), *layout,
         "-c:a", "pcm_s16le", str(out_wav)])


def as_mono(x: np.ndarray) -> np.ndarray | None:
    """The mean of x's channels, shaped (n, 1), when every channel is that mean to within
    DUAL_MONO_SIDE_DB (one signal stored in several channels); otherwise None."""
    if x.shape[1] < 2:
        return None
    mid = _channel_sum(x) / x.shape[1]
    allowed = float(np.dot(mid, mid)) * 10 ** (DUAL_MONO_SIDE_DB / 10)
    for c in range(x.shape[1]):
        side = x[:, c] - mid
        if float(np.dot(side, side)) > allowed:
            return None
    return mid[:, None]


def aac_args(wav: Path) -> list[str]:
    """AAC-LC for the channels of `wav`, at the same rate per channel whatever their number."""
    channels = soundfile.info(str(wav)).channels
    return ["-c:a", "aac", "-aac_coder", "fast", "-b:a", f"{AAC_KBPS_PER_CHANNEL * channels}k"]


def normalise(wav: Path, out_wav: Path) -> float | None:
    """Writes the 48 kHz `wav` normalised to `out_wav`, as one channel if its channels are
    the same; returns the loudness reached (None for silence, which is copied unchanged)."""
    x, rate = soundfile.read(str(wav), dtype="float32", always_2d=True)
    assert rate == RATE, rate
    mono = as_mono(x)
    if mono is not None:
        x = mono
    meter = Meter(x)
    loudness = meter.lufs(1.0)
    if not loudness > SILENCE_LUFS:
        soundfile.write(str(out_wav), x, rate, subtype="PCM_16")
        return None
    tried: list[tuple[float, float]] = []
    gain = TARGET_LUFS - loudness
    for _ in range(ROUNDS):
        linear = 10 ** (gain / 20)
        limiter = limiter_gain(x * linear)
        result = loudness + gain if limiter is None else meter.lufs(linear, limiter)
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
    y = x * linear if limiter is None else x * (linear * limiter)[:, None]
    soundfile.write(str(out_wav), y, rate, subtype="PCM_16")
    return result
