"""What the audio says beyond the words: loudness over time, and laughter and applause.

The soundtrack is decoded once by ffmpeg to 16 kHz mono and read as a stream, so memory
stays flat however long the video. Every 10 ms frame (25 ms window) keeps four numbers:

- power: mean square in dB full scale (the loudness of a sentence is the mean power of its
  frames, in dB; score.py compares a sentence only with the others of its passage);
- flatness: how noise-like the spectrum is between 250 Hz and 6 kHz (geometric over
  arithmetic mean of the power spectrum): near 0 for a vowel or a note, near 0.5 for hiss;
- voicing: the highest normalised autocorrelation at a pitch between 80 and 400 Hz;
- peakiness: the loudest 1 ms of the window over its mean, high for claps and clicks, low
  for steady noise.

Applause is a second or more in which most frames are loud, noise-like, unvoiced and
peaky: many claps, each a click. Laughter is a second or more outside the transcribed
words where the loudness rises and falls 3.5 to 7 times a second ("ha-ha-ha") over voiced
frames; it is also taken from the transcript when Whisper writes it ("haha", "(laughs)",
"[Laughter]", "[Applause]"). Both rules are cheap heuristics: scripts/eval_audio_signals.py
measures them on audio we make (speech, synthetic laughter and applause, steady noise,
music).
"""
from __future__ import annotations

import logging
import re
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from server.core.model import Progress, Transcript

log = logging.getLogger(__name__)

RATE = 16000
HOP = 160                 # 10 ms
WINDOW = 400              # 25 ms
HOP_S = HOP / RATE
SILENT_DB = -90.0
CHUNK_FRAMES = 6000       # a minute of frames per read
_BAND = (250.0, 6000.0)   # flatness is measured over this band (Hz)
_PITCH_LAGS = (RATE // 400, RATE // 80)   # autocorrelation lags for 80..400 Hz

# Applause: per 1 s window, the share of frames that look like claps.
APPLAUSE_SHARE = 0.6
APPLAUSE_FLATNESS = 0.25
APPLAUSE_VOICING = 0.5
APPLAUSE_PEAKINESS = 4.0
# Laughter: the envelope's autocorrelation at 3.5-7 Hz, over mostly voiced, loud frames,
# in a window that the transcript's words cover for at most LAUGH_WORD_SHARE of its time.
LAUGH_RHYTHM = 0.45
LAUGH_VOICED_SHARE = 0.3
LAUGH_WORD_SHARE = 0.3
LOUD_BELOW_SPEECH_DB = 25.0   # a frame is "loud" within this much of the speech level
EVENT_WINDOW_S = 1.0
EVENT_STEP_S = 0.5

_LAUGH_WORDS = re.compile(r"^[\[(]?(?:laugh\w*|(?:ha)+h?|(?:he)+h?|chuckles?)[\])]?$", re.I)
_APPLAUSE_WORDS = re.compile(r"^[\[(]?(?:applause|clapping|cheers?|cheering)[\])]?$", re.I)


@dataclass
class AudioEvent:
    kind: str            # laughter or applause
    start: float
    end: float
    source: str          # sound or transcript


@dataclass
class AudioFeatures:
    power_db: np.ndarray                     # per frame
    flatness: np.ndarray
    voicing: np.ndarray
    peakiness: np.ndarray
    events: list[AudioEvent] = field(default_factory=list)

    @property
    def duration_s(self) -> float:
        return len(self.power_db) * HOP_S

    def loudness_db(self, start: float, end: float) -> float | None:
        """Mean power between two times, in dB; None where there is too little audio."""
        frames = self.power_db[int(start / HOP_S):int(end / HOP_S)]
        if len(frames) < 10:
            return None
        return float(10 * np.log10(np.mean(10 ** (frames / 10)) + 1e-12))

    def summary(self) -> dict:
        return {"duration_s": round(self.duration_s, 2),
                "events": [{"kind": e.kind, "start_s": round(e.start, 2),
                            "end_s": round(e.end, 2), "source": e.source}
                           for e in self.events]}


def analyse(media: Path, transcript: Transcript, progress: Progress | None = None) -> AudioFeatures:
    """Frame features of the media's soundtrack and the laughter and applause in it.
    Raises RuntimeError when ffmpeg cannot decode an audio stream."""
    features = _frame_features(media, transcript.duration_s, progress)
    words = [(w.start, w.end, w.word.strip()) for seg in transcript.segments for w in seg.words]
    features.events = detect_events(features, words)
    return features


def from_samples(samples: np.ndarray, words: list[tuple[float, float, str]]) -> AudioFeatures:
    """The same analysis on 16 kHz mono float samples already in memory (tests, evaluation)."""
    features = _features_of(samples.astype(np.float32))
    features.events = detect_events(features, words)
    return features


def _frame_features(media: Path, duration_s: float, progress: Progress | None) -> AudioFeatures:
    import imageio_ffmpeg
    cmd = [imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-nostdin", "-loglevel", "error",
           "-i", str(media), "-vn", "-ac", "1", "-ar", str(RATE), "-f", "s16le", "-"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdout is not None
    parts: list[AudioFeatures] = []
    carry = np.zeros(0, dtype=np.float32)
    chunk_bytes = CHUNK_FRAMES * HOP * 2
    read_s = 0.0
    try:
        while True:
            data = proc.stdout.read(chunk_bytes)
            if not data:
                break
            samples = np.frombuffer(data[:len(data) // 2 * 2], dtype="<i2").astype(np.float32)
            samples = np.concatenate([carry, samples / 32768.0])
            usable = (len(samples) - WINDOW) // HOP + 1 if len(samples) >= WINDOW else 0
            if usable > 0:
                parts.append(_features_of(samples[:(usable - 1) * HOP + WINDOW]))
                carry = samples[usable * HOP:]
            else:
                carry = samples
            read_s += len(data) / 2 / RATE
            if progress and duration_s > 0:
                progress(min(1.0, read_s / duration_s))
    finally:
        proc.stdout.close()
        err = proc.stderr.read().decode("utf-8", "replace") if proc.stderr else ""
        proc.wait()
    if proc.returncode != 0 or not parts:
        raise RuntimeError(f"no audio could be decoded: {err.strip()[-300:] or 'empty stream'}")
    return AudioFeatures(np.concatenate([p.power_db for p in parts]),
                         np.concatenate([p.flatness for p in parts]),
                         np.concatenate([p.voicing for p in parts]),
                         np.concatenate([p.peakiness for p in parts]))


def _features_of(samples: np.ndarray) -> AudioFeatures:
    """Frame features of samples holding whole frames (hop HOP, window WINDOW)."""
    if len(samples) < WINDOW:
        empty = np.zeros(0, dtype=np.float32)
        return AudioFeatures(empty, empty, empty, empty)
    frames = np.lib.stride_tricks.sliding_window_view(samples, WINDOW)[::HOP]
    power = (frames ** 2).mean(axis=1)
    power_db = np.maximum(10 * np.log10(power + 1e-12), SILENT_DB)
    windowed = frames * np.hanning(WINDOW)
    spectrum = np.abs(np.fft.rfft(windowed, n=1024, axis=1)) ** 2
    freqs = np.fft.rfftfreq(1024, 1 / RATE)
    band = spectrum[:, (freqs >= _BAND[0]) & (freqs <= _BAND[1])] + 1e-12
    flatness = np.exp(np.log(band).mean(axis=1)) / band.mean(axis=1)
    autocorr = np.fft.irfft(spectrum, axis=1)[:, :_PITCH_LAGS[1] + 1]
    voicing = autocorr[:, _PITCH_LAGS[0]:].max(axis=1) / (autocorr[:, 0] + 1e-12)
    blocks = (frames[:, :WINDOW // 16 * 16] ** 2).reshape(len(frames), -1, 16).mean(axis=2)
    peakiness = blocks.max(axis=1) / (blocks.mean(axis=1) + 1e-12)
    return AudioFeatures(power_db.astype(np.float32), flatness.astype(np.float32),
                         voicing.astype(np.float32), peakiness.astype(np.float32))


def detect_events(features: AudioFeatures,
                  words: list[tuple[float, float, str]]) -> list[AudioEvent]:
    """Laughter and applause, from the sound and from what the transcript wrote for them."""
    events = _from_transcript(words)
    n = len(features.power_db)
    if n == 0:
        return events
    in_words = np.zeros(n, dtype=bool)
    for start, end, _ in words:
        in_words[int(start / HOP_S):int(end / HOP_S) + 1] = True
    speech = features.power_db[in_words[:n]] if in_words.any() else features.power_db
    speech_level = float(np.percentile(speech, 75))
    loud = features.power_db >= speech_level - LOUD_BELOW_SPEECH_DB
    clap = (loud & (features.flatness >= APPLAUSE_FLATNESS)
            & (features.voicing < APPLAUSE_VOICING)
            & (features.peakiness >= APPLAUSE_PEAKINESS))
    voiced = loud & (features.voicing >= APPLAUSE_VOICING)
    width, step = int(EVENT_WINDOW_S / HOP_S), int(EVENT_STEP_S / HOP_S)
    applause, laughter = [], []
    for a in range(0, max(1, n - width + 1), step):
        b = min(n, a + width)
        if clap[a:b].mean() >= APPLAUSE_SHARE:
            applause.append((a, b))
        elif (in_words[a:b].mean() <= LAUGH_WORD_SHARE and voiced[a:b].mean() >= LAUGH_VOICED_SHARE
              and _rhythm(features.power_db[a:b]) >= LAUGH_RHYTHM):
            laughter.append((a, b))
    events += _merge(applause, "applause") + _merge(laughter, "laughter")
    return sorted(events, key=lambda e: e.start)


def _rhythm(envelope_db: np.ndarray) -> float:
    """How regularly the loudness rises and falls 3.5-7 times a second: the envelope's
    highest normalised autocorrelation at those periods."""
    x = envelope_db - envelope_db.mean()
    energy = float(x @ x)
    if energy <= 1e-9:
        return 0.0
    lags = range(int(1 / 7.0 / HOP_S), int(1 / 3.5 / HOP_S) + 1)
    return max(float(x[:-lag] @ x[lag:]) / energy * len(x) / (len(x) - lag) for lag in lags)


def _merge(windows: list[tuple[int, int]], kind: str) -> list[AudioEvent]:
    events: list[AudioEvent] = []
    for a, b in windows:
        if events and a * HOP_S <= events[-1].end:
            events[-1].end = b * HOP_S
        else:
            events.append(AudioEvent(kind, a * HOP_S, b * HOP_S, "sound"))
    return events


def _from_transcript(words: list[tuple[float, float, str]]) -> list[AudioEvent]:
    events = []
    for start, end, text in words:
        token = text.strip(" .,!?")
        kind = ("laughter" if _LAUGH_WORDS.match(token)
                else "applause" if _APPLAUSE_WORDS.match(token) else None)
        if kind:
            events.append(AudioEvent(kind, start, end, "transcript"))
    return events
