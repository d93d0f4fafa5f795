"""Finding clips offline: segment the talk by topic, score each segment, snap the best to
sentence boundaries and the length bounds, then score, title and explain the clips as
they finally are."""
from __future__ import annotations

import logging
from dataclasses import replace
from pathlib import Path

import numpy as np

from server.analysis import audio as audio_signals
from server.analysis.embeddings import MODEL_NAME, embed, unit
from server.analysis.score import EDGE_SENTENCES, Assessment, assess, weights_for
from server.analysis.segment import fit_segments, texttile
from server.analysis.terms import closest_in_meaning, key_terms
from server.analysis.titles import headline, reason, unique_reasons
from server.analysis.topic import about, relevance
from server.core.model import (ClipAnalysis, ClipBounds, ClipPlan, Classification, Progress,
                               Transcript)
from server.pipeline.sentences import (Sentence, clip_budget, rank, shortfall_notice,
                                       snap_and_bound, split_sentences)

log = logging.getLogger(__name__)

AUDIO_SHARE = 0.2       # of the progress bar: reading the soundtrack
EMBED_SHARE = 0.6       # embedding the sentences


def find_clips(transcript: Transcript, classification: Classification, bounds: ClipBounds,
               progress: Progress, media: Path | None = None,
               analyzer: str = "offline") -> ClipAnalysis:
    progress(0.0)
    sentences = split_sentences(transcript)
    if not sentences:
        progress(1.0)
        return ClipAnalysis([], analyzer, raw={"sentences": 0},
                            notice=shortfall_notice(sentences, bounds, []))
    audio = _read_audio(media, transcript, progress) if media else None
    vectors = embed([s.text for s in sentences], progress, AUDIO_SHARE, EMBED_SHARE)
    tiling = texttile(vectors, sentences)
    segments = fit_segments(tiling, vectors, sentences, bounds)
    weights = weights_for(classification.content_type)
    # With a topic asked for, the passages about it rank first (server/analysis/topic.py).
    closeness = (relevance(bounds.topic, [vectors[a:b + 1] for a, b in segments])
                 if bounds.topic else [])
    on_topic = about(closeness) if bounds.topic else [None] * len(segments)
    candidates, details = [], []
    for (first, last), wanted in zip(segments, on_topic):
        found = _assess(first, last, sentences, vectors, weights, audio)
        start, end = sentences[first].start, sentences[last].end
        candidates.append(ClipPlan(start, end, "", "", found.score, on_topic=wanted))
        details.append({"start_s": start, "end_s": end, "score": found.score,
                        "signals": {k: round(v, 3) for k, v in found.signals.items()}})
    for detail, close in zip(details, closeness):
        detail["topic_relevance"] = close
    progress(0.9)
    clips = _finish(snap_and_bound(candidates, sentences, bounds), sentences, vectors, segments,
                    weights, audio)
    progress(1.0)
    return ClipAnalysis(clips, analyzer, notice=shortfall_notice(sentences, bounds, clips),
                        raw={
        "topic": bounds.topic,
        "model": MODEL_NAME,
        "sentences": len(sentences),
        "window": tiling.window,
        "gap_similarity": [round(float(x), 3) for x in tiling.similarity[1:]],
        "depth": [round(float(x), 3) for x in tiling.depth[1:]],
        "valleys_s": [sentences[g].start for g in tiling.boundaries],
        "boundaries_s": [sentences[a].start for a, _ in segments[1:]],
        "candidates": details,
        "clip_budget": clip_budget(sentences, bounds),
        "weights": weights,
        "audio": audio.summary() if audio else None,
    })


def _read_audio(media: Path, transcript: Transcript,
                progress: Progress) -> audio_signals.AudioFeatures | None:
    """The soundtrack's features, or None when it cannot be read (clips then come from the
    words alone)."""
    try:
        return audio_signals.analyse(media, transcript,
                                     lambda done: progress(AUDIO_SHARE * done))
    except (RuntimeError, OSError) as exc:
        log.warning("audio signals unavailable, scoring from the transcript alone: %s", exc)
        return None


def _finish(clips: list[ClipPlan], sentences: list[Sentence], vectors: np.ndarray,
            segments: list[tuple[int, int]], weights: dict[str, int],
            audio: audio_signals.AudioFeatures | None) -> list[ClipPlan]:
    """Each snapped clip scored again as it now is (snapping may have moved its edges), then
    titled and given its reason; best first (about the topic asked for, then by score)."""
    spans = [_sentence_span(c, sentences) for c in clips]
    found = [_assess(a, b, sentences, vectors, weights, audio) for a, b in spans]
    docs = [_text(sentences, a, b) for a, b in spans] + [_text(sentences, a, b) for a, b in segments]
    candidates = key_terms(docs, per_doc=8)[:len(clips)]
    term_vectors = embed([t for terms in candidates for t in terms])   # one call for all
    offsets = np.cumsum([0] + [len(terms) for terms in candidates])
    terms = [closest_in_meaning(candidates[k], term_vectors[offsets[k]:offsets[k + 1]],
                                unit(vectors[a:b + 1].mean(axis=0)))
             for k, (a, b) in enumerate(spans)]
    order = sorted(range(len(clips)), key=lambda k: rank(replace(clips[k], score=found[k].score)),
                   reverse=True)
    taken: set[str] = set()
    titled: list[tuple[ClipPlan, Assessment]] = []
    for k in order:
        a, b = spans[k]
        title = headline(sentences[a:b + 1], vectors[a:b + 1], terms[k], found[k], taken)
        taken.add(title.lower())
        titled.append((ClipPlan(clips[k].start_s, clips[k].end_s, title,
                                reason(terms[k], found[k]), found[k].score, clips[k].hook,
                                clips[k].on_topic),
                       found[k]))
    reasons = unique_reasons([c.reason for c, _ in titled], [c.hook for c, _ in titled])
    return [replace(c, reason=r) for (c, _), r in zip(titled, reasons)]


def _assess(first: int, last: int, sentences: list[Sentence], vectors: np.ndarray,
            weights: dict[str, int], audio: audio_signals.AudioFeatures | None) -> Assessment:
    edge = EDGE_SENTENCES
    return assess(sentences[first:last + 1], vectors[first:last + 1], weights, audio,
                  before=vectors[max(0, first - edge):first], after=vectors[last + 1:last + 1 + edge])


def _sentence_span(clip: ClipPlan, sentences: list[Sentence]) -> tuple[int, int]:
    """The sentences a clip holds (those it overlaps, for a clip cut inside a sentence)."""
    inside = [s.index for s in sentences if s.end > clip.start_s and s.start < clip.end_s]
    return inside[0], inside[-1]


def _text(sentences: list[Sentence], first: int, last: int) -> str:
    return " ".join(s.text for s in sentences[first:last + 1])
