"""The scoring signals (server/analysis/score.py) on text and timings we control, with
stand-in embeddings: no model."""
from __future__ import annotations

import numpy as np
import pytest

from scripts.synthetic_transcript import make_transcript
from server.analysis import score
from server.analysis.audio import HOP_S, AudioEvent, AudioFeatures
from server.pipeline.sentences import split_sentences


def sentences_of(*texts: str):
    return split_sentences(make_transcript([list(texts)]))


def vectors_for(n: int) -> np.ndarray:
    v = np.ones((n, 4)) + np.eye(n, 4) * 0.2
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def audio_with_levels(sentences, levels_db, events=()):
    frames = int((sentences[-1].end + 10) / HOP_S)
    power = np.full(frames, -80.0, dtype=np.float32)
    for s, level in zip(sentences, levels_db):
        power[int(s.start / HOP_S):int(s.end / HOP_S)] = level
    zeros = np.zeros(frames, dtype=np.float32)
    return AudioFeatures(power, zeros, zeros, zeros, list(events))


def test_concrete_finds_figures_with_what_they_count_and_names():
    evidence: dict = {}
    value = score._concrete(sentences_of(
        "One thousand dollars invested at seven percent a year grows in ten years.",
        "Mount St. Helens erupted in 1980, as Augustin Fresnel never saw."), evidence)
    assert evidence["figures"] == ["One thousand dollars", "seven percent", "ten years"]
    assert "Augustin Fresnel" in evidence["names"] and value == 1.0
    assert score._concrete(sentences_of("It is nice when it is warm outside."), {}) == 0.0


def test_story_needs_a_past_told_and_a_turn():
    told = sentences_of("We signed a lease on an old bakery with no money left.",
                        "For six months I cooked and washed the dishes myself.",
                        "We had ten customers some weeks.",
                        "Then one night a food critic wandered in and wrote about us.")
    evidence: dict = {}
    assert score._story(told, evidence) == 1.0 and "critic" in evidence["turn"]
    flat = sentences_of("Heat flows from hot to cold.", "Entropy grows in a closed system.",
                        "The second law states this.", "It holds everywhere.")
    assert score._story(flat, {}) < 0.1    # "closed" reads as past tense; no turn


def test_voice_hears_a_louder_sentence_whatever_the_recording_level():
    sentences = sentences_of(*[f"Sentence number {w} has a few words in it." for w in
                               ("one", "two", "three", "four", "five")])
    flat = score._voice(sentences, audio_with_levels(sentences, [-30] * 5), {})
    lifted = [-30, -30, -22, -30, -30]
    evidence: dict = {}
    loud = score._voice(sentences, audio_with_levels(sentences, lifted), evidence)
    quiet = score._voice(sentences, audio_with_levels(sentences, [x - 20 for x in lifted]), {})
    assert flat == 0.0 and loud == pytest.approx(1.0) and quiet == pytest.approx(loud)
    assert evidence["louder"]["db"] == 8.0 and "three" in evidence["louder"]["sentence"]


def test_reaction_counts_laughter_just_after_the_passage():
    sentences = sentences_of("A joke with a setup and a punchline.", "And here it lands.")
    end = sentences[-1].end
    after = audio_with_levels(sentences, [-30, -30], [AudioEvent("laughter", end + 1, end + 3, "sound")])
    later = audio_with_levels(sentences, [-30, -30], [AudioEvent("laughter", end + 9, end + 11, "sound")])
    assert score._reaction(sentences, after, {}) == 1.0
    assert score._reaction(sentences, later, {}) == 0.0


def test_the_score_is_the_weighted_share_of_the_signals_that_could_be_measured():
    sentences = sentences_of("Why do tides rise twice a day?", "The moon pulls the near side.",
                             "A second bulge forms on the far side.",
                             "So most coasts see two high tides.")
    vectors = vectors_for(len(sentences))
    text_only = score.assess(sentences, vectors, score.WEIGHTS)
    with_audio = score.assess(sentences, vectors, score.WEIGHTS,
                              audio_with_levels(sentences, [-30] * 4))
    assert "reaction" not in text_only.signals and with_audio.signals["reaction"] == 0.0
    weights = {k: w for k, w in score.WEIGHTS.items() if k != "reaction"}
    expected = 100 * sum(w * text_only.signals[k] for k, w in weights.items()) / sum(weights.values())
    assert text_only.score == round(expected, 1)
    assert 0 <= with_audio.score <= text_only.score <= 100
