"""The subject a submitter asked for (`topic`): how close each passage is to it in meaning,
and which passages are about it.

Relevance is the cosine between the topic's embedding and the mean of the passage's
sentence embeddings (MiniLM, as everywhere in the analysis). Measured on the spoken
corpus's sections (scripts/make_talks.py) with topics such as "bicycles", "sleep",
"volcanoes" or "Eisenbahn": a section about the topic sits at 0.36-0.65, a section about
something else at -0.1-0.3 (a neighbouring subject, such as sourdough for "honeybees",
reaches 0.29). So a passage is about the topic when it reaches ON_TOPIC_MIN and is within
ON_TOPIC_MARGIN of the most relevant passage of the talk: "bridges swaying" then keeps
the bridge section (0.62) and not the bicycle one (0.41).
"""
from __future__ import annotations

from typing import Sequence

import numpy as np

from server.analysis.embeddings import embed, unit

ON_TOPIC_MIN = 0.3
ON_TOPIC_MARGIN = 0.15


def relevance(topic: str, passages: Sequence[np.ndarray]) -> list[float]:
    """Each passage's closeness to `topic`; a passage is given as its sentences' embeddings."""
    wanted = embed([topic])[0]
    return [round(float(unit(v.mean(axis=0)) @ wanted), 3) for v in passages]


def about(relevances: Sequence[float]) -> list[bool]:
    """Which passages are about the topic (see the module's docstring)."""
    best = max(relevances, default=0.0)
    return [r >= ON_TOPIC_MIN and r >= best - ON_TOPIC_MARGIN for r in relevances]
