"""The labelled passages the classifier is measured on (scripts/samples/passages/) must be
text it has not seen: none of its cue phrases, no sentence opening with one of the verbs it
reads as an instruction. If the cue lists grow, this keeps the measurement honest."""
from __future__ import annotations

import re

import pytest

from scripts.eval_classifier import SETS, load_passages
from server.analysis import classify
from server.core.model import CONTENT_TYPES


@pytest.mark.parametrize("set_name", SETS)
def test_passages_share_no_cue_phrase_with_the_classifier(set_name):
    passages = load_passages(set_name)
    assert {p.label for p in passages} == set(CONTENT_TYPES) - {"other"}
    assert all(len(p.sentences) >= 6 for p in passages)
    for p in passages:
        for sentence in p.sentences:
            lowered = sentence.lower()
            for label, phrases in classify.CUES.items():
                found = [c for c in phrases if re.search(rf"\b{re.escape(c)}\b", lowered)]
                assert not found, (p.title, sentence, label, found)
            opener = classify.opening_word(classify.words_of(lowered))
            assert opener not in classify.IMPERATIVES, (p.title, sentence)


def test_the_sets_do_not_overlap():
    dev = {s for p in load_passages("dev") for s in p.sentences}
    heldout = {s for p in load_passages("heldout") for s in p.sentences}
    assert not dev & heldout
