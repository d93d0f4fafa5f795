"""The submitter's clip controls in the shared clip rules (server/pipeline/sentences.py):
a number of clips asked for, a topic that ranks clips about it first, one clip of all of a
short speech when allowed, and the notice that says why there are fewer clips than asked."""
from __future__ import annotations

from scripts.synthetic_transcript import make_transcript
from server.core.model import ClipBounds, ClipPlan
from server.pipeline.sentences import (clip_budget, shortfall_notice, snap_and_bound,
                                       split_sentences)
from server.pipeline.steps import clip_bounds
from server.settings import Settings


def plan(start: float, end: float, score: float = 50.0, on_topic: bool | None = None) -> ClipPlan:
    return ClipPlan(start, end, "t", "r", score, on_topic=on_topic)


def passages(count: int):
    """`count` passages of one 18 s sentence each."""
    return split_sentences(make_transcript([["Here " + " ".join(["word"] * 44) + "."]
                                            for _ in range(count)]))


def test_a_number_asked_for_replaces_the_length_rule():
    sentences = passages(6)        # about 2 minutes: the rule gives 3
    assert clip_budget(sentences, ClipBounds(min_s=15, max_s=30)) == 3
    assert clip_budget(sentences, ClipBounds(min_s=15, max_s=30, max_clips=5, count_asked=True)) == 5
    asked_one = ClipBounds(min_s=15, max_s=30, max_clips=1, count_asked=True)
    assert len(snap_and_bound([plan(s.start, s.end) for s in sentences], sentences, asked_one)) == 1


def test_clips_about_the_topic_come_first_whatever_their_score():
    sentences = passages(6)
    candidates = [plan(s.start, s.end, score, on_topic=k == 4)
                  for k, (s, score) in enumerate(zip(sentences, (90, 80, 85, 70, 40, 60)))]
    bounds = ClipBounds(min_s=15, max_s=30, max_clips=3, topic="bees", count_asked=True)
    clips = snap_and_bound(candidates, sentences, bounds)
    assert [c.score for c in clips] == [40, 90, 85]
    assert [c.on_topic for c in clips] == [True, False, False]
    (only,) = snap_and_bound(candidates, sentences,
                             ClipBounds(min_s=15, max_s=30, max_clips=1, topic="bees", count_asked=True))
    assert only.start_s == sentences[4].start


def test_a_short_speech_gives_one_clip_of_all_of_it_only_when_allowed():
    sentences = split_sentences(make_transcript([["The moon pulls the sea towards it.",
                                                  "That pull makes the tides rise and fall."]]))
    span = sentences[-1].end - sentences[0].start
    assert span < 15
    candidates = [plan(sentences[1].start, sentences[1].end, 60)]
    assert snap_and_bound(candidates, sentences, ClipBounds()) == []
    (whole,) = snap_and_bound(candidates, sentences, ClipBounds(allow_short=True))
    assert (whole.start_s, whole.end_s) == (sentences[0].start, sentences[-1].end)
    assert whole.hook == sentences[0].text
    assert "shorter than the 15 s" in shortfall_notice(sentences, ClipBounds(), [])
    assert "allow_short" in shortfall_notice(sentences, ClipBounds(), [])
    told = shortfall_notice(sentences, ClipBounds(allow_short=True), [whole])
    assert "the one clip is all of it" in told


def test_no_speech_says_so():
    assert "No speech was found" in shortfall_notice([], ClipBounds(), [])


def test_notices_say_why_there_are_fewer_clips_than_asked():
    sentences = passages(6)
    one = [plan(sentences[0].start, sentences[0].end)]
    # Nothing asked: the rule gave its number, and the notice says how to ask for more.
    three = [plan(s.start, s.end) for s in sentences[:3]]
    told = shortfall_notice(sentences, ClipBounds(min_s=15, max_s=30), three)
    assert "makes room for 3 clips by default" in told and "max_clips" in told
    # Asked for 5, got 1.
    told = shortfall_notice(sentences, ClipBounds(min_s=15, max_s=30, max_clips=5, count_asked=True), one)
    assert "room for 1 clip (you asked for up to 5)" in told
    # As many as asked: nothing to say.
    assert shortfall_notice(sentences, ClipBounds(min_s=15, max_s=30, max_clips=1, count_asked=True),
                            one) == ""
    # Nothing stands alone within the bounds.
    told = shortfall_notice(sentences, ClipBounds(min_s=40, max_s=50, max_clips=2, count_asked=True), [])
    assert "No passage of the speech stands alone between 40 and 50 s" in told


def test_notice_says_when_clips_are_off_the_topic():
    sentences = passages(6)
    bounds = ClipBounds(min_s=15, max_s=30, max_clips=2, topic="tides", count_asked=True)
    off = [plan(s.start, s.end, on_topic=False) for s in sentences[:2]]
    assert 'Nothing in the talk is clearly about "tides"' in shortfall_notice(sentences, bounds, off)
    mixed = [plan(sentences[0].start, sentences[0].end, on_topic=True), off[1]]
    assert 'Only 1 clip is clearly about "tides" and comes first' in shortfall_notice(sentences, bounds, mixed)
    on = [plan(s.start, s.end, on_topic=True) for s in sentences[:2]]
    assert shortfall_notice(sentences, bounds, on) == ""


def test_the_step_reads_the_stored_controls_and_the_settings_fill_the_rest():
    cfg = Settings.with_overrides({"clip_min_s": 10, "clip_max_s": 60, "clip_max_count": 7})
    assert clip_bounds({}, cfg) == ClipBounds(10, 60, 7)
    chosen = clip_bounds({"min_clip_s": 20, "max_clips": 2, "topic": "bees", "allow_short": True}, cfg)
    assert chosen == ClipBounds(20, 60, 2, "bees", count_asked=True, allow_short=True)
