"""Headlines and reasons (server/analysis/titles.py): pure text rules, no model."""
from __future__ import annotations

import re

import numpy as np

from scripts.synthetic_transcript import make_transcript
from server.analysis.score import Assessment
from server.analysis.titles import TITLE_MAX, fit_title, headline, reason, unique_reasons
from server.pipeline.sentences import split_sentences

LONG = ("Scouts fly out to inspect hollow trees, checking the size of the cavity, the width "
        "of the entrance, and how dry it feels inside.")


def whole_words_of(title: str, source: str) -> bool:
    return set(re.findall(r"[\w'-]+", title.lower())) <= set(re.findall(r"[\w'-]+", source.lower()))


def test_a_long_sentence_is_cut_at_a_clause_never_mid_word_or_with_an_ellipsis():
    title = fit_title(LONG)
    assert title == "Scouts fly out to inspect hollow trees"
    assert len(title) <= TITLE_MAX and not title.endswith(("…", "...", ","))


def test_a_sentence_without_clauses_is_cut_between_words_without_a_dangling_word():
    text = ("Nectar is passed from bee to bee and fanned with their wings until it thickens "
            "into honey that keeps for years without spoiling in the comb")
    title = fit_title(text)
    assert len(title) <= TITLE_MAX and whole_words_of(title, text)
    assert title.split()[-1].lower() not in {"it", "until", "their", "and", "with", "the"}
    no_clauses = " ".join(["Supercalifragilistic"] * 8)
    cut = fit_title(no_clauses)
    assert 0 < len(cut) <= TITLE_MAX and cut.split()[-1] == "Supercalifragilistic"


def test_fillers_and_full_stops_go_questions_stay():
    assert fit_title("So, um, who decides where to go?") == "Who decides where to go?"
    assert fit_title("and the loaf rises high in the oven.") == "The loaf rises high in the oven"
    assert fit_title("A title someone cut short…") == "A title someone cut short"


def _clip(sentences_text: list[str]):
    sentences = split_sentences(make_transcript([sentences_text]))
    vectors = np.eye(len(sentences), 8)[:, :8] + 0.1     # stand-in embeddings
    return sentences, vectors


def test_headline_prefers_the_question_the_clip_answers_and_avoids_taken_titles():
    sentences, vectors = _clip(["Why does sourdough taste sour?",
                                "The bacteria in the starter make lactic acid as they feed.",
                                "The longer the dough rests, the more acid they make."])
    answered = Assessment({"question_answer": 1.0}, {"question": sentences[0].text})
    assert headline(sentences, vectors, ["lactic acid"], answered, set()) == \
        "Why does sourdough taste sour?"
    other = headline(sentences, vectors, ["lactic acid"], answered,
                     {"why does sourdough taste sour?"})
    assert other and other != "Why does sourdough taste sour?" and len(other) <= TITLE_MAX


def test_headline_takes_a_sentence_that_fits_whole_before_one_cut_between_words():
    long = ("The scientists who watch volcanoes are listening for those early warning signals "
            "that come up from deep inside the mountain weeks ahead.")
    sentences, vectors = _clip([long, "Small tremors grow more frequent before an eruption."])
    vectors = np.vstack([np.ones(8), np.ones(8) * 0.5 + np.eye(8)[0]])   # the long one is central
    title = headline(sentences, vectors, [], Assessment({}, {}), set())
    assert title == "Small tremors grow more frequent before an eruption"
    only_long, v = _clip([long])
    cut = headline(only_long, v, [], Assessment({}, {}), set())        # nothing better: cut it
    assert cut.startswith("The scientists who watch volcanoes") and len(cut) <= TITLE_MAX


def test_reasons_name_the_subject_and_the_signals_that_scored():
    found = Assessment(
        {"question_answer": 0.9, "concrete": 1.0, "story": 0.8, "voice": 0.7, "reaction": 1.0},
        {"question": "So why does the loaf rise?", "figures": ["twelve hours", "250 grams"],
         "turn": "But then the oven failed.", "louder": {"db": 7.2, "sentence": "It rose!"},
         "reaction": {"kind": "laughter", "at_s": 75.3}})
    text = reason(["wild yeast", "starter"], found)
    assert text.startswith("About wild yeast and starter: ")
    for part in ('"Why does the loaf rise?"', "twelve hours, 250 grams",
                 '"But then the oven failed"', "7 dB", "laughter at 1:15"):
        assert part in text, (part, text)
    plain = reason(["tides"], Assessment({"cohesion": 0.8, "opening": 1.0},
                                         {"cohesion": 0.61}))
    assert plain.startswith("About tides: ") and "no earlier context" in plain


def test_repeated_reasons_are_made_distinct():
    out = unique_reasons(["About tides: a clean passage."] * 3,
                         ["The moon pulls the sea.", "Two bulges form.", "Sailors plan by it."])
    assert len(set(out)) == 3 and out[0] == "About tides: a clean passage."
    assert '"Two bulges form"' in out[1]
