"""The rules every analyzer's clips obey (server/pipeline/sentences.py), on synthetic
transcripts: no models, no database."""
from __future__ import annotations

import pytest

from scripts.synthetic_transcript import make_transcript
from server.core.model import ClipBounds, ClipPlan, Segment, Transcript, Word
from server.pipeline.sentences import Sentence, clip_budget, snap_and_bound, split_sentences
from tests.support.talks import TOPICS


def plan(start: float, end: float, score: float = 50.0) -> ClipPlan:
    return ClipPlan(start, end, "t", "r", score)


@pytest.fixture(scope="module")
def topics_transcript():
    return make_transcript(TOPICS)


def test_split_sentences_follows_punctuation_not_segments(topics_transcript):
    # Segments cut sentences in the middle, and "Mount St. Helens" must not end one.
    sentences = split_sentences(topics_transcript)
    assert [s.text for s in sentences] == [s for p in TOPICS for s in p]
    assert all(s.words and s.start == s.words[0].start and s.end == s.words[-1].end
               for s in sentences)
    assert [s.index for s in sentences] == list(range(len(sentences)))


def test_split_sentences_on_long_pause_and_without_word_timings():
    transcript = Transcript("en", 1.0, 20.0, "x", "x", [
        Segment(0.0, 3.0, "no punctuation here",
                [Word(0.0, 1.0, " no"), Word(1.0, 2.0, " punctuation"), Word(2.0, 3.0, " here")]),
        Segment(5.0, 9.0, "Words were not timed. Two sentences?"),
    ])
    texts = [s.text for s in split_sentences(transcript)]
    assert texts == ["no punctuation here", "Words were not timed.", "Two sentences?"]


def test_snap_and_bound_empty_transcript():
    assert snap_and_bound([plan(0, 30)], [], ClipBounds()) == []
    assert clip_budget([], ClipBounds()) == 0


def test_snap_and_bound_one_sentence():
    short = split_sentences(make_transcript([["Just one short sentence here."]]))
    assert snap_and_bound([plan(0, 30)], short, ClipBounds()) == []
    long_one = split_sentences(make_transcript([[" ".join(["word"] * 50) + "."]]))
    (clip,) = snap_and_bound([plan(3, 7)], long_one, ClipBounds())
    assert (clip.start_s, clip.end_s) == (long_one[0].start, long_one[0].end)
    assert clip.hook == long_one[0].text


def test_snap_and_bound_splits_a_sentence_longer_than_max():
    # 100 words is 40 s of speech; with max 15 s it must be cut at word boundaries.
    sentences = split_sentences(make_transcript([[" ".join(["word"] * 100) + "."]]))
    bounds = ClipBounds(min_s=5, max_s=15, max_clips=10)
    clips = snap_and_bound([plan(0, 40)], sentences, bounds)
    word_starts = {w.start for w in sentences[0].words}
    word_ends = {w.end for w in sentences[0].words}
    assert len(clips) == 1
    assert 5 <= clips[0].end_s - clips[0].start_s <= 15
    assert clips[0].start_s in word_starts and clips[0].end_s in word_ends


def test_snap_and_bound_snaps_to_sentence_edges(topics_transcript):
    sentences = split_sentences(topics_transcript)
    s = sentences[3]
    # Start mid-sentence 3, end mid-sentence 6: snap out to their edges.
    (clip,) = snap_and_bound([plan(s.start + 1.0, sentences[6].start + 1.0)], sentences,
                             ClipBounds(min_s=5))
    assert clip.start_s == s.start and clip.end_s == sentences[6].end
    # Start in the pause after sentence 3 moves to sentence 4.
    (clip,) = snap_and_bound([plan(s.end + 0.1, sentences[7].end)], sentences,
                             ClipBounds(min_s=5))
    assert clip.start_s == sentences[4].start


def test_snap_and_bound_enforces_length(topics_transcript):
    sentences = split_sentences(topics_transcript)
    bounds = ClipBounds(min_s=15, max_s=30, max_clips=10)
    # One 5 s sentence grows by whole following sentences.
    (grown,) = snap_and_bound([plan(sentences[2].start, sentences[2].end)], sentences, bounds)
    assert grown.start_s == sentences[2].start and 15 <= grown.end_s - grown.start_s <= 30
    assert any(grown.end_s == s.end for s in sentences)
    # 200 s shrinks from the end, keeping its opening.
    (trimmed,) = snap_and_bound([plan(0, 200)], sentences, bounds)
    assert trimmed.start_s == sentences[0].start and 15 <= trimmed.end_s - trimmed.start_s <= 30
    # Near the end of the talk there is nothing after it, so it grows backwards.
    last = sentences[-1]
    (backwards,) = snap_and_bound([plan(last.start, last.end)], sentences, bounds)
    assert backwards.end_s == last.end and 15 <= backwards.end_s - backwards.start_s <= 30


def test_snap_and_bound_resolves_overlaps_by_score(topics_transcript):
    sentences = split_sentences(topics_transcript)
    bounds = ClipBounds(min_s=10, max_s=90, max_clips=10)
    better = plan(sentences[0].start, sentences[5].end, score=80)
    worse = plan(sentences[3].start, sentences[10].end, score=60)    # shrinks to 6..10
    hidden = plan(sentences[1].start, sentences[4].end, score=70)    # wholly inside: dropped
    clips = snap_and_bound([worse, hidden, better], sentences, bounds)
    assert [c.score for c in clips] == [80, 60]
    assert clips[1].start_s == sentences[6].start and clips[1].end_s == sentences[10].end


def test_clip_budget_grows_with_speech():
    def speech(seconds):
        return [Sentence(0, 0.0, seconds, "x.", [])]
    bounds = ClipBounds(max_clips=10)
    assert clip_budget(speech(30), bounds) == 1
    assert clip_budget(speech(600), bounds) > clip_budget(speech(200), bounds) > 1
    assert clip_budget(speech(3 * 3600), bounds) == 10


def test_equal_scores_spread_over_the_talk_rather_than_favour_its_start():
    # Six 20 s passages, all scored alike; room for two clips. Equal scores say nothing
    # about position, so the second clip goes as far from the first as it can.
    paragraphs = [["Here " + " ".join(["word"] * 44) + "."] for _ in range(6)]
    sentences = split_sentences(make_transcript(paragraphs))
    candidates = [plan(s.start, s.end, 80.0) for s in sentences]
    clips = snap_and_bound(candidates, sentences, ClipBounds(min_s=15, max_s=30, max_clips=2))
    assert [c.start_s for c in clips] == [sentences[0].start, sentences[-1].start]


def test_a_better_score_still_wins_over_position():
    paragraphs = [["Here " + " ".join(["word"] * 44) + "."] for _ in range(6)]
    sentences = split_sentences(make_transcript(paragraphs))
    scores = [80.0, 90.0, 80.0, 80.0, 80.0, 70.0]
    candidates = [plan(s.start, s.end, score) for s, score in zip(sentences, scores)]
    clips = snap_and_bound(candidates, sentences, ClipBounds(min_s=15, max_s=30, max_clips=2))
    # 90 first; then, among the 80s, the one farthest from it. The 70 lies farther still
    # but scores less.
    assert [(c.start_s, c.score) for c in clips] == [(sentences[1].start, 90.0),
                                                     (sentences[4].start, 80.0)]
