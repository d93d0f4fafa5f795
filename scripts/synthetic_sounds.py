"""Sounds we make for measuring the audio signals (server/analysis/audio.py): laughter,
applause, steady noise and music, all 16 kHz mono float32, built from numbers alone, plus
speech from the piper voice the sample talk uses.

- laughter: "ha" bursts about five a second, each a breath of noise and then a voiced
  vowel (a glottal pulse train at a falling pitch through three vowel formants), fading;
- applause: claps at random times (a Poisson process), each a few milliseconds of noise
  decaying fast, band-limited like hands;
- steady noise: pink-ish noise, as from a fan or a road, or hiss (white noise in the band
  of applause), as from rain;
- music: chords of harmonic notes changing twice a second, with a soft beat.
"""
from __future__ import annotations

import wave
from functools import lru_cache
from pathlib import Path

import numpy as np
from scipy.signal import butter, lfilter, resample_poly, sosfilt

RATE = 16000


def _band(x: np.ndarray, low: float, high: float) -> np.ndarray:
    return sosfilt(butter(4, [low, high], btype="band", fs=RATE, output="sos"), x)


def _resonator(x: np.ndarray, freq: float, bandwidth: float) -> np.ndarray:
    r = np.exp(-np.pi * bandwidth / RATE)
    theta = 2 * np.pi * freq / RATE
    return lfilter([1 - r], [1, -2 * r * np.cos(theta), r * r], x)


def _fade(x: np.ndarray, seconds: float = 0.05) -> np.ndarray:
    n = min(len(x) // 2, int(seconds * RATE))
    ramp = np.linspace(0, 1, n)
    x = x.copy()
    x[:n] *= ramp
    x[len(x) - n:] *= ramp[::-1]
    return x


def _normalise(x: np.ndarray, rms_db: float) -> np.ndarray:
    rms = np.sqrt(np.mean(x ** 2)) or 1.0
    return (x / rms * 10 ** (rms_db / 20)).astype(np.float32)


def laughter(bursts: int = 7, rate_hz: float = 5.0, rms_db: float = -22.0,
             rng: np.random.Generator | None = None) -> np.ndarray:
    rng = rng or np.random.default_rng(0)
    period = int(RATE / rate_hz)
    out = np.zeros(bursts * period + RATE // 10)
    for k in range(bursts):
        f0 = 290.0 - 90.0 * k / max(1, bursts - 1) + rng.normal(0, 8)
        breath = _band(rng.normal(size=int(0.03 * RATE)), 500, 3000) * 0.25
        voiced_n = int(0.10 * RATE)
        pulses = np.zeros(voiced_n)
        t = 0.0
        while t < voiced_n:
            pulses[int(t)] = 1.0
            t += RATE / f0 * (1 + rng.normal(0, 0.02))
        glottal = lfilter([1.0], [1, -1.9, 0.905], pulses)        # soft glottal shape
        # Started from zeros rather than sum()'s 0 so the result is typed as an array.
        vowel: np.ndarray = sum((_resonator(glottal, f, bw) * g
                                 for f, bw, g in ((800, 90, 1.0), (1250, 110, 0.6), (2600, 160, 0.25))),
                                np.zeros(voiced_n))
        vowel = vowel / (np.abs(vowel).max() or 1.0)
        vowel += _band(rng.normal(size=voiced_n), 300, 4000) * 0.08   # breathiness
        vowel *= np.hanning(voiced_n) ** 0.5
        burst = np.concatenate([breath, vowel]) * (0.8 ** k)
        at = k * period
        out[at:at + len(burst)] += burst
    return _normalise(_fade(out), rms_db)


def applause(seconds: float = 3.0, claps_per_s: float = 60.0, rms_db: float = -24.0,
             rng: np.random.Generator | None = None) -> np.ndarray:
    rng = rng or np.random.default_rng(1)
    n = int(seconds * RATE)
    out = np.zeros(n + 200)
    decay = np.exp(-np.arange(100) / (0.0015 * RATE))
    for at in rng.uniform(0, n, rng.poisson(claps_per_s * seconds)).astype(int):
        out[at:at + 100] += rng.normal(size=100) * decay * rng.lognormal(0, 0.5)
    return _normalise(_fade(_band(out[:n], 600, 6000), 0.3), rms_db)


def steady_noise(seconds: float = 3.0, rms_db: float = -30.0,
                 rng: np.random.Generator | None = None, hiss: bool = False) -> np.ndarray:
    """Pink-ish noise that falls with frequency, like a fan or a road; with `hiss`, white
    noise band-limited like applause (rain, a shower, tape hiss)."""
    rng = rng or np.random.default_rng(2)
    white = rng.normal(size=int(seconds * RATE))
    shaped = _band(white, 600, 6000) if hiss else lfilter([1.0], [1, -0.95], white)
    return _normalise(_fade(shaped, 0.2), rms_db)


def music(seconds: float = 4.0, rms_db: float = -24.0,
          rng: np.random.Generator | None = None) -> np.ndarray:
    rng = rng or np.random.default_rng(3)
    n = int(seconds * RATE)
    t = np.arange(n) / RATE
    out = np.zeros(n)
    chords = [(220.0, 277.2, 329.6), (196.0, 246.9, 293.7), (174.6, 220.0, 261.6),
              (246.9, 311.1, 370.0)]
    for k, start in enumerate(range(0, n, RATE // 2)):
        piece = slice(start, min(n, start + RATE // 2))
        tt = t[piece] - t[start]
        env = np.exp(-tt * 3)
        for f in chords[k % len(chords)]:
            out[piece] += sum(np.sin(2 * np.pi * f * h * tt) / h for h in (1, 2, 3)) * env
        beat = np.sin(2 * np.pi * 60 * tt) * np.exp(-tt * 30)
        out[piece] += 2 * beat
    return _normalise(_fade(out, 0.1), rms_db)


@lru_cache(maxsize=256)
def speech(sentence: str) -> np.ndarray:
    """One sentence in the piper voice of the sample talk, at 16 kHz (cached: callers must
    not change the array)."""
    from scripts.make_sample import _speak, _voice
    audio = _speak(sentence)
    return resample_poly(audio, RATE, _voice().config.sample_rate).astype(np.float32)


def write_wav(path: Path, samples: np.ndarray) -> Path:
    """16-bit mono at RATE, clipped to full scale."""
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(RATE)
        w.writeframes((np.clip(samples, -1, 1) * 32767).astype(np.int16).tobytes())
    return path
