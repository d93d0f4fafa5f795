"""Scoring a candidate passage: explainable signals in 0..1, weighted into 0..100."""
from __future__ import annotations

import re

import numpy as np

from server.analysis.embeddings import unit
from server.analysis.segment import Span, span_s
from server.pipeline.sentences import Sentence

_CONNECTIVES = {"and", "so", "but", "which", "because", "or", "then", "also", "plus",
                "anyway", "well", "um", "uh", "like", "yeah", "okay", "though", "however",
                "whereas", "although"}
_DANGLING = {"it", "this", "that", "these", "those", "they", "he", "she", "him", "her",
             "them", "there"}

WEIGHTS = {"self_contained": 35, "question_answer": 15, "opening": 20, "density": 15,
           "ending": 15}
# In conversations a question and its answer is the natural unit of a clip.
PODCAST_WEIGHTS = {**WEIGHTS, "self_contained": 25, "question_answer": 25}


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z][a-z'-]*", text.lower())


def weights_for(content_type: str) -> dict[str, int]:
    return PODCAST_WEIGHTS if content_type == "podcast" else WEIGHTS


def signals(seg: Span, neighbours: list[Span], vectors: np.ndarray,
            sentences: list[Sentence]) -> dict[str, float]:
    """Each signal in 0..1:

    - self_contained: the segment's sentences agree with each other (cohesion: mean cosine
      to the segment centroid) more than the segment agrees with the segments around it.
    - question_answer: a question early on, followed by at least two sentences that stay
      on its subject (an answer, not a rhetorical aside).
    - opening: the first sentence stands on its own: 0 if it starts with a connective or
      filler ("and", "so", "but", "which", "um"), 0.6 if with a pronoun that points back
      ("it", "they", "this"), else 1.
    - density: words per second, from 1.2 (0) to 2.4 (1); long silences make poor clips.
    - ending: the last sentence ends with . ? or ! rather than being cut by a pause.
    """
    first, last = seg
    block = vectors[first:last + 1]
    centre = unit(block.mean(axis=0))
    cohesion = float((block @ centre).mean())
    spill = max((float(unit(vectors[a:b + 1].mean(axis=0)) @ centre) for a, b in neighbours),
                default=0.0)
    words = [w for s in sentences[first:last + 1] for w in s.words]
    span = max(span_s(seg, sentences), 1e-6)
    opener = _words(sentences[first].text)[:1]
    opening = 0.0 if opener and opener[0] in _CONNECTIVES else (
        0.6 if opener and opener[0] in _DANGLING else 1.0)
    return {
        "self_contained": float(np.clip(0.5 + cohesion - spill, 0.0, 1.0)),
        "question_answer": _question_answer(first, last, vectors, sentences),
        "opening": opening,
        "density": float(np.clip((len(words) / span - 1.2) / 1.2, 0.0, 1.0)),
        "ending": 1.0 if sentences[last].complete else 0.0,
        "cohesion": cohesion,
        "neighbour_similarity": spill,
        "words_per_s": len(words) / span,
    }


def _question_answer(first: int, last: int, vectors: np.ndarray,
                     sentences: list[Sentence]) -> float:
    best = 0.0
    for q in range(first, last - 1):
        if not sentences[q].text.rstrip("\"')").endswith("?"):
            continue
        answer = vectors[q + 1:min(q + 4, last + 1)]
        relevance = float(unit(answer.mean(axis=0)) @ vectors[q])
        early = 1.0 if q - first < 2 else 0.6
        # MiniLM puts a question and its answer at a cosine of ~0.2-0.5; near 0 means the
        # sentences after it went elsewhere (a rhetorical aside).
        best = max(best, early * float(np.clip((relevance - 0.05) / 0.2, 0.0, 1.0)))
    return best


def score(signals: dict[str, float], weights: dict[str, int]) -> float:
    return round(sum(w * signals[name] for name, w in weights.items()), 1)
