"""Which audio track is transcribed, and what the status says about the transcript."""
from __future__ import annotations

import numpy as np

from server.adapters.speech_audio import Track, choose
from server.api.presenters import warnings_of


def track(index: int, *, default: bool = False, speech_s: float = 0.0, level: float = 0.1) -> Track:
    samples = np.full(16_000, level, np.float32)
    return Track(index, default, None, None, samples, [(0.0, speech_s)] if speech_s else [])


def test_a_single_track_is_taken_as_it_is():
    only = track(0, speech_s=0.0)
    assert choose([only]) == (only, "the only audio track")


def test_the_default_track_wins_when_it_has_speech():
    picked, reason = choose([track(0, speech_s=50, level=0.01), track(1, default=True, speech_s=40),
                             track(2, speech_s=60, level=0.5)])
    assert picked.index == 1 and "default" in reason


def test_a_silent_default_gives_way_to_the_loudest_track_with_speech():
    picked, reason = choose([track(0, default=True), track(1, speech_s=30, level=0.05),
                             track(2, speech_s=28, level=0.2), track(3, level=0.9)])
    assert picked.index == 2 and "loudest" in reason and "default track (0)" in reason


def test_a_few_false_detections_do_not_make_a_music_track_a_speech_track():
    # the default track holds music that VAD mistook for 3 s of speech; the commentary has 300 s
    picked, _ = choose([track(0, default=True, speech_s=3, level=0.5), track(1, speech_s=300, level=0.1)])
    assert picked.index == 1


def test_without_speech_anywhere_the_default_track_stays():
    picked, reason = choose([track(0), track(1, default=True)])
    assert picked.index == 1 and reason == "no audio track has speech"


def test_low_coverage_is_a_warning_and_good_coverage_is_not():
    [warning] = warnings_of({"coverage": 0.72})
    assert "72%" in warning and "speech" in warning
    assert warnings_of({"coverage": 0.9}) == []
    assert warnings_of({"coverage": None}) == []     # not transcribed yet, or no speech


def test_a_few_seconds_in_another_language_between_runs_are_a_slip():
    from server.adapters.speech_runs import Unit, _runs
    speech = [(0, 20), (21, 24.8), (26, 50), (51, 58.5)]      # 20 s, 3.8 s, 24 s, 7.5 s
    units = [Unit([0], "fr", 0.99), Unit([1], "th", 0.9), Unit([2], "fr", 0.98), Unit([3], "de", 0.8)]
    runs = _runs(units, speech)
    assert [(r.language, r.stretches) for r in runs] == [("fr", [0, 1, 2]), ("de", [3])]
