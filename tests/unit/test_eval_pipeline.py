"""The figures of scripts/eval_pipeline.py on small made-up talks: boundary precision and
recall, clips crossing a topic, the share on sentences, and the title checks."""
from __future__ import annotations

import pytest

from scripts.eval_pipeline import (Found, Script, boundary_figures, chance_precision,
                                   first_inside, mostly_inside, on_sentences, title_figures,
                                   title_ok, topic_picks)


def talk(sections: int = 3, sentences: int = 4) -> dict:
    """Sentence k runs from 10k to 10k + 8 s; each section has `sentences` sentences."""
    out, k = [], 0
    for n in range(sections):
        said = [{"text": f"Sentence {k + j}.", "start_s": 10.0 * (k + j),
                 "end_s": 10.0 * (k + j) + 8} for j in range(sentences)]
        out.append({"title": f"Topic {n}", "language": "en", "start_s": said[0]["start_s"],
                    "end_s": said[-1]["end_s"], "sentences": said})
        k += sentences
    return {"id": "made-up", "sections": out}


SCRIPT = Script.of(talk())      # topics start at sentences 0, 4 and 8 (0, 40 and 80 s)


def test_the_script_knows_its_topic_boundaries():
    assert SCRIPT.boundaries == [4, 8]
    assert len(SCRIPT.starts) == 12
    assert SCRIPT.section_of(5) == 1


def test_a_clip_holding_one_whole_topic_finds_both_its_boundaries():
    figures = boundary_figures([(40.0, 78.0)], SCRIPT)
    assert figures == {"precision": 1.0, "recall": 1.0, "crossing": 0.0}


def test_word_timings_a_little_off_the_script_still_count_as_on_the_edge():
    assert boundary_figures([(40.3, 77.6)], SCRIPT)["recall"] == 1.0


def test_a_clip_in_the_middle_of_two_topics_is_off_every_edge_and_crosses_one():
    # sentences 2-5: gaps 2 and 6, two sentences from every topic edge
    figures = boundary_figures([(20.0, 58.0)], SCRIPT)
    assert figures == {"precision": 0.0, "recall": 0.0, "crossing": 1.0}


def test_an_edge_one_sentence_from_a_topic_edge_counts_two_do_not():
    # starts one sentence after topic 1's start (gap 5), ends two after it ends (gap 10)
    figures = boundary_figures([(50.0, 98.0)], SCRIPT)
    assert figures["precision"] == 0.5
    assert figures["recall"] == 0.5       # boundary 4 found (by gap 5), boundary 8 not
    assert figures["crossing"] == 1.0     # sentences 5-7 of topic 1, then 8-9 of topic 2
    # one sentence over the boundary is an edge a sentence off, not a crossing
    assert boundary_figures([(50.0, 88.0)], SCRIPT)["crossing"] == 0.0


def test_recall_counts_each_topic_boundary_once_and_precision_each_edge():
    # two clips both ending on boundary 4 and starting on the talk's start / one off
    figures = boundary_figures([(0.0, 38.0), (10.0, 38.0)], SCRIPT)
    assert figures["precision"] == 1.0
    assert figures["recall"] == 0.5
    assert figures["crossing"] == 0.0


def test_no_clips_find_no_boundary_and_have_no_precision():
    assert boundary_figures([], SCRIPT) == {"precision": None, "recall": 0.0, "crossing": None}
    assert on_sentences([], SCRIPT) is None


def test_chance_precision_is_the_share_of_gaps_near_a_topic_edge():
    # 13 gaps (0..12); near an edge (0, 4, 8, 12) within one: 0,1,3,4,5,7,8,9,11,12
    assert chance_precision(SCRIPT) == pytest.approx(10 / 13)
    assert chance_precision(Script.of(talk(2, 10))) == pytest.approx(7 / 21)


def test_on_sentences_wants_both_edges_on_a_script_sentence():
    assert on_sentences([(40.0, 78.0)], SCRIPT) == 1.0
    assert on_sentences([(40.3, 77.7)], SCRIPT) == 1.0          # within EDGE_S
    assert on_sentences([(44.0, 78.0)], SCRIPT) == 0.0          # starts mid-sentence
    assert on_sentences([(40.0, 75.0)], SCRIPT) == 0.0          # ends mid-sentence
    assert on_sentences([(40.0, 78.0), (44.0, 88.0)], SCRIPT) == 0.5


def test_mostly_inside_is_more_than_half_of_the_clip_in_the_section():
    manifest = talk()
    assert mostly_inside((40.0, 78.0), manifest, 1)
    assert mostly_inside((30.0, 78.0), manifest, 1)       # 38 of 48 s
    assert not mostly_inside((20.0, 58.0), manifest, 1)   # 18 of 38 s
    assert mostly_inside((90.0, 130.0), manifest, 2)      # the last section runs to the end


def test_topic_requests_spread_over_the_talk_and_look_at_the_first_clip_only():
    assert topic_picks(talk(5), 3) == [0, 2, 4]
    assert topic_picks(talk(2), 3) == [0, 1]
    assert topic_picks(talk(5), 0) == [] and topic_picks(talk(1), 3) == []
    found = Found([{"start_s": 80.0, "end_s": 118.0}, {"start_s": 40.0, "end_s": 78.0}], 0.1)
    assert first_inside(found, talk(), 2)
    assert not first_inside(found, talk(), 1)
    assert not first_inside(Found([], 0.1), talk(), 0)


CLIP = "Why does the sea have tides? The moon pulls the water towards it, twice a day."


def test_a_title_of_whole_words_from_the_clip_is_ok():
    assert title_ok("Why does the sea have tides?", CLIP)
    assert title_ok("  The moon pulls the water  ", CLIP)


def test_a_title_cut_mid_word_or_with_an_ellipsis_is_not():
    assert not title_ok("Why does the sea have ti", CLIP)
    assert not title_ok("Why does the sea have tides…", CLIP)
    assert not title_ok("Why does the sea have tides...", CLIP)


def test_a_title_longer_than_70_characters_or_empty_is_not():
    fits = "The moon pulls " + "the water " * 4 + "towards it"      # 65 characters
    too_long = "The moon pulls " + "the water " * 5 + "towards it"  # 75
    assert len(fits) <= 70 < len(too_long)
    assert title_ok(fits, CLIP)
    assert not title_ok(too_long, CLIP)
    assert not title_ok("", CLIP)
    assert not title_ok("?!", CLIP)


def test_title_figures_count_long_cut_and_duplicate_titles():
    figures = title_figures(["Why does the sea have tides?", "why does the sea have tides? ",
                             "The moon pulls…", "x" * 71], [CLIP] * 4)
    assert figures == {"titles_ok": 0.5, "dup_titles": True, "too_long": 1, "cut": 1}
    assert title_figures(["Why does the sea have tides?", "The moon pulls the water"],
                         [CLIP, CLIP])["dup_titles"] is False
    assert title_figures([], [])["titles_ok"] is None
