"""Transcription stretch by stretch of speech, each stretch in its own language, for any
Whisper engine.

Whisper decodes in one language at a time. Told "English" for a talk that switches to
German half-way, it turns the German into invented English, or into nothing. So:

1. Voice activity detection gives the stretches of speech (`speech_audio`).
2. They are grouped into windows of up to 30 s of speech (Whisper's window), and each
   window is heard at its end: the language of its last stretch (4 to 10 s of speech).
3. The languages are decided as a path (`language_path`): a change of language must be
   7 times likelier than staying, so one odd detection does not split a talk, while a
   switch does. A window where the path changes language is heard stretch by stretch
   (those of 2 s or more), and the path is decided again, stretch by stretch. A language
   that holds less than 6 s between stretches of another is taken as a slip.
4. Consecutive stretches of one language form a run. Each run's speech is concatenated
   (silence out, as faster-whisper's own VAD mode does), decoded in its language, and the
   times are mapped back to the source.

A forced language, or an English-only model, skips 2 and 3: one run, one language.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from server.adapters.speech_audio import SAMPLE_RATE, VAD_RULE, SpeechAudio
from server.core.model import Progress, Segment, Transcript, Word
from server.core.speech import (WHISPER_LANGUAGES, ConcatMap, Interval, coverage, language_path,
                                language_shares, split_at_sentences, total, windows)

log = logging.getLogger(__name__)

DETECT_SHARE = 0.05      # of the progress bar: detection takes one short encoder pass per window
MIN_DETECT_S = 2.0       # shorter stretches are too short to tell a language reliably
TAIL_S = 4.0             # a window is labelled by (at least) this much speech at its end
DETECT_S = 10.0          # detection hears at most this much speech: enough, and cheaper
DETECT_LEN = int(DETECT_S * SAMPLE_RATE)
MIN_RUN_S = 6.0          # less speech than this in a language of its own is taken as a slip


class Engine(Protocol):
    multilingual: bool

    def detect(self, samples: np.ndarray) -> dict[str, float]:
        """The probability of each language in (up to 30 s of) speech."""

    def decode(self, samples: np.ndarray, language: str, windows: list[Interval],
               progress: Progress) -> list[Segment]:
        """Segments with word timings, times in seconds of `samples`. `windows` are the
        spans of up to 30 s the speech was grouped into, for engines that batch them."""


@dataclass
class Unit:
    """Stretches (indices into the speech intervals) decided on one language."""
    stretches: list[int]
    language: str | None
    probability: float
    heard: dict[str, float] = field(default_factory=dict)   # what detection said, if asked


@dataclass
class Result:
    segments: list[Segment]
    language: str
    language_probability: float
    languages: list[dict]

    def transcript(self, audio: SpeechAudio, engine: str, model: str) -> Transcript:
        return Transcript(self.language, self.language_probability, round(audio.duration_s, 3),
                          engine, model, self.segments, self.languages, round(total(audio.speech), 3),
                          coverage(audio.speech, self.segments, VAD_RULE), audio.track)


def transcribe(audio: SpeechAudio, engine: Engine, forced: str | None, progress: Progress) -> Result:
    if forced and forced not in WHISPER_LANGUAGES:
        raise ValueError(f"{forced!r} is not a language code Whisper knows")
    if forced and not engine.multilingual and forced != "en":
        log.warning("an English-only model cannot transcribe %r; transcribing as English", forced)
        forced = "en"
    speech = audio.speech
    if not speech:
        progress(0.999)
        return Result([], forced or "", 1.0, [])
    detect = not forced and engine.multilingual
    if detect:
        units = _detect_units(audio, engine, progress)
    else:
        units = [Unit(list(range(len(speech))), forced or "en", 1.0)]
    runs = _runs(units, speech)
    seconds = [_seconds(speech, run) for run in runs]
    spoken, done = sum(seconds), 0.0
    start_at = DETECT_SHARE if detect else 0.0
    segments: list[Segment] = []
    for run, secs in zip(runs, seconds):
        def report(p: float, done: float = done, secs: float = secs) -> None:
            progress(min(0.999, start_at + (1 - start_at) * (done + p * secs) / spoken))
        segments.extend(_decode_run(audio, engine, run, report))
        done += secs
    shares = language_shares((run.language or "", secs) for run, secs in zip(runs, seconds))
    main = shares[0]["language"]
    weights = [(u.probability, _seconds(speech, u)) for u in units if u.language == main]
    probability = sum(p * s for p, s in weights) / max(1e-9, sum(s for _, s in weights))
    return Result(segments, main, round(probability, 4), shares)


def _seconds(speech: list[Interval], unit: Unit) -> float:
    return sum(speech[i][1] - speech[i][0] for i in unit.stretches)


def _samples(audio: SpeechAudio, stretches: list[int]) -> np.ndarray:
    return np.concatenate([audio.cut(*audio.speech[i]) for i in stretches])


def _end(audio: SpeechAudio, stretches: list[int], from_start: bool) -> list[int]:
    """The stretches at one end of a window: whole ones, at least TAIL_S of speech."""
    picked: list[int] = []
    for i in (stretches if from_start else reversed(stretches)):
        picked.append(i)
        if _seconds(audio.speech, Unit(picked, None, 0.0)) >= TAIL_S:
            break
    return sorted(picked)


def _detect_units(audio: SpeechAudio, engine: Engine, progress: Progress) -> list[Unit]:
    """A window is heard at its end (its last 4 to 10 s of speech), so that a window that
    switches shows a language different from the window before it; the first window is
    also heard at its start. (Heard whole, Whisper labels a mixed window by its more
    familiar language.) `language_path` then decides the windows' languages, and windows
    where the language changes are heard stretch by stretch to find where."""
    groups = windows(audio.speech)
    head = _samples(audio, _end(audio, groups[0], from_start=True))[:DETECT_LEN]
    first = engine.detect(head)
    tails = []
    for n, group in enumerate(groups):
        tail = _samples(audio, _end(audio, group, from_start=False))[-DETECT_LEN:]
        heard = first if n == 0 and len(tail) == len(head) and np.array_equal(tail, head) else engine.detect(tail)
        if n == 0 and len(group) == 1:      # one long stretch: what both ends say
            heard = {k: (heard.get(k, 0.0) + first.get(k, 0.0)) / 2 for k in heard.keys() | first.keys()}
        tails.append(heard)
        progress(DETECT_SHARE * 0.75 * (n + 1) / len(groups))
    labels = language_path(tails)
    units: list[Unit] = []
    for n, (group, dist) in enumerate(zip(groups, tails)):
        before = labels[n - 1] if n else _top(first)
        if labels[n] == before or len(group) == 1:
            units.append(Unit(group, labels[n], dist.get(labels[n], 0.0), dist))
            continue
        for i in group:                 # where in this window does the language change?
            start, end = audio.speech[i]
            heard = engine.detect(audio.cut(start, end)[-DETECT_LEN:]) if end - start >= MIN_DETECT_S else {}
            units.append(Unit([i], None, 0.0, heard))
    progress(DETECT_SHARE)
    for unit, label in zip(units, language_path([u.heard for u in units])):
        unit.language, unit.probability = label, unit.heard.get(label, 0.0)
    return units


def _top(dist: dict[str, float]) -> str:
    return max(dist, key=dist.__getitem__) if dist else ""


def _runs(units: list[Unit], speech: list[Interval]) -> list[Unit]:
    """Consecutive units of one language, joined. A run shorter than MIN_RUN_S whose
    neighbours agree on another language (or whose only neighbour has one) joins them:
    seconds of French over music heard as Thai are French."""
    runs: list[Unit] = []
    for unit in units:
        if runs and runs[-1].language == unit.language:
            runs[-1] = Unit(runs[-1].stretches + unit.stretches, unit.language,
                            min(runs[-1].probability, unit.probability))
        else:
            runs.append(Unit(list(unit.stretches), unit.language, unit.probability))
    for n, run in enumerate(runs):
        around = {runs[k].language for k in (n - 1, n + 1) if 0 <= k < len(runs)}
        if _seconds(speech, run) < MIN_RUN_S and len(around) == 1:
            run.language = around.pop()
    if any(a.language == b.language for a, b in zip(runs, runs[1:])):
        return _runs(runs, speech)
    return runs


def _decode_run(audio: SpeechAudio, engine: Engine, run: Unit, progress: Progress) -> list[Segment]:
    cuts = [audio.cut(*audio.speech[i]) for i in run.stretches]
    # piece lengths from the samples actually cut, so the windows never outrun the audio
    pieces = [(audio.speech[i][0], audio.speech[i][0] + len(c) / SAMPLE_RATE)
              for i, c in zip(run.stretches, cuts)]
    concat = ConcatMap(pieces)
    # Window edges in whole samples, each half a sample inside its window: faster-whisper
    # turns seconds back into samples by truncating, and asserts that the windows' samples
    # do not outnumber the audio's.
    at = np.concatenate([[0], np.cumsum([len(c) for c in cuts])])
    spans = [(float(at[g[0]] + 0.5) / SAMPLE_RATE, float(at[g[-1] + 1] - 0.5) / SAMPLE_RATE)
             for g in windows(pieces)]
    samples = np.concatenate(cuts)
    language = run.language or "en"
    segments = engine.decode(samples, language, spans, lambda p: progress(min(1.0, p)))
    return split_at_sentences(
        Segment(round(concat.to_source(s.start), 3), round(concat.to_source(s.end, True), 3),
                s.text, [Word(round(concat.to_source(w.start), 3),
                              round(concat.to_source(w.end, True), 3), w.word, w.probability)
                         for w in s.words], language)
        for s in segments)
