"""Laughter and applause detection (server/analysis/audio.py) on sounds built from numbers
(scripts/synthetic_sounds.py): what must be found, and what must not."""
from __future__ import annotations

import numpy as np

from scripts import synthetic_sounds as sounds
from server.analysis.audio import from_samples

RATE = sounds.RATE


def track(*parts: np.ndarray, gap_s: float = 1.0):
    """The parts one after another with silence between; returns samples and each part's span."""
    gap = np.zeros(int(gap_s * RATE), dtype=np.float32)
    pieces, spans, at = [gap], [], gap_s
    for part in parts:
        spans.append((at, at + len(part) / RATE))
        pieces += [part, gap]
        at += len(part) / RATE + gap_s
    return np.concatenate(pieces), spans


def kinds_over(events, span):
    return {e.kind for e in events if e.start < span[1] and e.end > span[0]}


def test_applause_and_laughter_are_found_where_they_are():
    samples, (clap, laugh) = track(sounds.applause(3.0), sounds.laughter(8))
    events = from_samples(samples, []).events
    assert kinds_over(events, clap) == {"applause"}
    assert kinds_over(events, laugh) == {"laughter"}
    assert all(kinds_over([e], clap) or kinds_over([e], laugh) for e in events)


def test_steady_noise_hiss_and_music_are_neither():
    samples, _ = track(sounds.steady_noise(4.0, -20), sounds.steady_noise(4.0, -20, hiss=True),
                       sounds.music(5.0))
    assert from_samples(samples, []).events == []


def test_applause_is_found_under_a_steady_noise_bed():
    samples, (clap,) = track(sounds.applause(3.0, rms_db=-24))
    bed = sounds.steady_noise(len(samples) / RATE, -34)[:len(samples)]
    events = from_samples(samples + bed, []).events
    assert kinds_over(events, clap) == {"applause"}
    assert all(kinds_over([e], clap) for e in events)


def test_sound_inside_transcribed_words_is_not_laughter():
    samples, (laugh,) = track(sounds.laughter(8))
    words = [(t, t + 0.3, "word") for t in np.arange(laugh[0], laugh[1], 0.3)]
    assert from_samples(samples, words).events == []


def test_laughter_and_applause_the_transcript_wrote_down():
    samples = np.zeros(5 * RATE, dtype=np.float32)
    words = [(0.5, 0.9, " That"), (0.9, 1.2, " was"), (1.2, 1.8, " funny."),
             (2.0, 2.6, " (laughs)"), (3.0, 3.4, " Haha"), (3.5, 4.5, " [Applause]")]
    events = from_samples(samples, words).events
    assert [(e.kind, e.start, e.source) for e in events] == [
        ("laughter", 2.0, "transcript"), ("laughter", 3.0, "transcript"),
        ("applause", 3.5, "transcript")]
