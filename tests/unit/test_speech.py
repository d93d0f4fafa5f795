"""The arithmetic of speech coverage, language shares and concatenated-time mapping."""
from __future__ import annotations

import pytest

from server.core.model import Segment, Word
from server.core.speech import (ConcatMap, VadRule, coverage, language_shares, merge, overlap,
                                language_path, split_at_sentences, total, transcript_intervals,
                                windows)

NO_PAD = VadRule(pad_s=0.0, min_silence_s=0.0)


def seg(start: float, end: float, *words: tuple[float, float]) -> Segment:
    return Segment(start, end, "x", [Word(s, e, "w") for s, e in words])


def test_merge_sorts_joins_overlaps_and_bridges_short_gaps():
    assert merge([(5, 6), (0, 2), (1, 3)]) == [(0, 3), (5, 6)]
    assert merge([(0, 1), (1, 2)]) == [(0, 2)]                       # touching
    assert merge([(0, 1), (1.5, 2), (4, 5)], bridge_s=1.0) == [(0, 2), (4, 5)]
    assert merge([(3, 3), (4, 2)]) == []                             # empty and reversed dropped


def test_overlap_of_interval_lists():
    assert overlap([(0, 10)], [(2, 3), (5, 7), (9, 12)]) == pytest.approx(4.0)
    assert overlap([(0, 1), (2, 3)], [(1, 2)]) == 0.0
    assert overlap([], [(0, 1)]) == 0.0


def test_full_transcript_covers_all_speech():
    speech = [(0.0, 10.0)]
    words = [(i + 0.1, i + 0.9) for i in range(10)]      # 0.2 s between words
    assert coverage(speech, [seg(0, 10, *words)]) == 1.0
    assert coverage(speech, [seg(0, 10, *words)], NO_PAD) == pytest.approx(0.8)


def test_missing_stretch_lowers_coverage_by_its_length():
    """27 s of a 60 s talk without words: coverage is what is left, not rounded up."""
    speech = [(0.0, 30.0), (31.0, 61.0)]
    english = [seg(0, 30, *[(t, t + 1.0) for t in range(30)])]
    result = coverage(speech, english + [seg(31, 34, (31, 34))], NO_PAD)
    assert result == pytest.approx(33 / 60)


def test_segment_without_words_counts_as_a_whole():
    assert coverage([(0, 10)], [Segment(0, 5, "untimed words")], NO_PAD) == pytest.approx(0.5)


def test_words_outside_speech_do_not_add_coverage():
    assert coverage([(0, 2)], [seg(0, 9, (0, 1), (5, 9))], NO_PAD) == pytest.approx(0.5)


def test_padding_and_bridging_follow_the_vad_rule():
    rule = VadRule(pad_s=0.4, min_silence_s=1.0)
    # two words 0.9 s apart are one stretch, 1.5 s apart (after padding: 0.7 s) too,
    # 3 s apart two stretches
    got = transcript_intervals([seg(0, 9, (1.0, 1.5), (2.4, 3.0), (4.5, 5.0), (8.0, 8.5))], rule)
    assert got == [(pytest.approx(0.6), pytest.approx(5.4)), (pytest.approx(7.6), pytest.approx(8.9))]


def test_no_speech_has_no_coverage():
    assert coverage([], [seg(0, 1, (0, 1))]) is None


def test_language_shares_add_up_and_sort():
    shares = language_shares([("en", 30.0), ("de", 10.0), ("en", 20.0)])
    assert [s["language"] for s in shares] == ["en", "de"]
    assert [s["share"] for s in shares] == [pytest.approx(50 / 60, abs=1e-4), pytest.approx(10 / 60, abs=1e-4)]
    assert shares[0]["speech_s"] == 50.0
    assert language_shares([]) == []


def test_windows_hold_at_most_thirty_seconds_of_speech():
    stretches = [(0, 10), (11, 21), (22, 32), (40, 75), (80, 85)]
    assert windows(stretches) == [[0, 1, 2], [3], [4]]
    assert total(stretches) == 70


def d(**probs: float) -> dict[str, float]:
    return probs


def test_one_odd_detection_does_not_switch_language():
    # robotic German once heard as Latin, once as Thai, is still German
    heard = [d(de=0.9, la=0.05), d(la=0.7, de=0.2), d(de=0.95), d(th=0.7, de=0.1), d(de=0.8, la=0.1)]
    assert language_path(heard) == ["de"] * 5


def test_a_switch_for_good_is_kept_even_with_modest_confidence():
    # 9 s of English, then German heard at 0.79 against English at 0.07
    assert language_path([d(en=0.997, nn=0.001), d(de=0.79, en=0.07)]) == ["en", "de"]
    heard = [d(en=0.99), d(en=0.98), d(de=0.9, en=0.03), d(de=0.95, en=0.01), d(de=0.6, en=0.3)]
    assert language_path(heard) == ["en", "en", "de", "de", "de"]


def test_a_clear_quote_stays_and_a_vague_one_does_not():
    assert language_path([d(en=0.99), d(fr=0.98, en=0.01), d(en=0.99)]) == ["en", "fr", "en"]
    assert language_path([d(en=0.99), d(fr=0.6, en=0.2), d(en=0.99)]) == ["en", "en", "en"]


def test_stretches_not_heard_follow_their_neighbours():
    assert language_path([d(es=0.9), {}, d(es=0.8), {}]) == ["es"] * 4
    assert language_path([]) == []


def test_concatenated_times_map_back_to_the_source():
    m = ConcatMap([(2.0, 5.0), (10.0, 12.0), (20.0, 30.0)])   # offsets 0, 3, 5
    assert m.length == 15
    assert m.to_source(0.0) == 2.0
    assert m.to_source(4.0) == 11.0
    assert m.to_source(3.0) == 10.0                  # a start at a junction opens the next piece
    assert m.to_source(3.0, is_end=True) == 5.0      # an end there closes the previous one
    assert m.to_source(14.0) == 29.0
    assert m.to_source(99.0) == 30.0                 # clamped to the last piece


def test_long_segments_are_cut_at_sentence_ends():
    words = [Word(0.0, 0.4, " Tides"), Word(0.5, 0.9, " rise."), Word(1.5, 1.9, " Why?"),
             Word(2.5, 2.9, " Gravity"), Word(3.0, 3.3, " pulls")]
    parts = split_at_sentences([Segment(0.0, 3.5, "Tides rise. Why? Gravity pulls", words, "en"),
                                Segment(4.0, 5.0, "untimed")])
    assert [(p.start, p.end, p.text, p.language) for p in parts] == [
        (0.0, 0.9, "Tides rise.", "en"), (1.5, 1.9, "Why?", "en"), (2.5, 3.3, "Gravity pulls", "en"),
        (4.0, 5.0, "untimed", None)]
    assert [len(p.words) for p in parts] == [2, 1, 2, 0]
