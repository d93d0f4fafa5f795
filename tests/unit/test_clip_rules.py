"""The rules every analyzer's clips obey (server/pipeline/sentences.py), on synthetic
transcripts: no models, no database."""
from __future__ import annotations

from scripts.synthetic_transcript import make_transcript
from server.core.model import ClipBounds, ClipPlan
from server.pipeline.sentences import snap_and_bound, split_sentences


def plan(start: float, end: float, score: float = 50.0) -> ClipPlan:
    return ClipPlan(start, end, "t", "r", score)


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
