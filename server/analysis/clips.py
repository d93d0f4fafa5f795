"""Finding clips offline: segment the talk by topic, score each segment, snap the best to
sentence boundaries and the length bounds."""
from __future__ import annotations

from server.analysis import score as scoring
from server.analysis.embeddings import MODEL_NAME, embed
from server.analysis.segment import fit_segments, texttile
from server.analysis.terms import key_terms
from server.analysis.titles import reason, title
from server.core.model import ClipAnalysis, ClipBounds, ClipPlan, Classification, Progress
from server.pipeline.sentences import Sentence, clip_budget, snap_and_bound


def find_clips(sentences: list[Sentence], classification: Classification, bounds: ClipBounds,
               progress: Progress, analyzer: str = "offline") -> ClipAnalysis:
    progress(0.0)
    if not sentences:
        progress(1.0)
        return ClipAnalysis([], analyzer, raw={"sentences": 0})
    vectors = embed([s.text for s in sentences], progress, 0.0, 0.7)
    tiling = texttile(vectors, sentences)
    segments = fit_segments(tiling, vectors, sentences, bounds)
    progress(0.8)
    weights = scoring.weights_for(classification.content_type)
    docs = [" ".join(s.text for s in sentences[a:b + 1]) for a, b in segments]
    candidates, details = [], []
    for k, (seg, terms) in enumerate(zip(segments, key_terms(docs))):
        neighbours = segments[max(0, k - 1):k] + segments[k + 1:k + 2]
        signals = scoring.signals(seg, neighbours, vectors, sentences)
        value = scoring.score(signals, weights)
        start, end = sentences[seg[0]].start, sentences[seg[1]].end
        headline = title(sentences[seg[0]].text, signals["opening"] == 1.0, terms)
        # The hook is left empty: snap_and_bound fills in the final opening sentence.
        candidates.append(ClipPlan(start, end, headline, reason(signals), value))
        details.append({"start_s": start, "end_s": end, "terms": terms, "score": value,
                        "signals": {name: round(v, 3) for name, v in signals.items()}})
    progress(0.9)
    clips = snap_and_bound(candidates, sentences, bounds)
    progress(1.0)
    return ClipAnalysis(clips, analyzer, raw={
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
    })
