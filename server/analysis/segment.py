"""Topic segmentation: TextTiling over sentence embeddings cuts a talk into topic segments,
which are then split or merged until each fits the clip length bounds."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from server.analysis.embeddings import unit
from server.core.model import ClipBounds
from server.pipeline.sentences import Sentence

WINDOW_S = 20.0  # each side of a gap compares about this much speech

Span = tuple[int, int]   # (first, last) sentence indices, inclusive


@dataclass
class Tiling:
    window: int                # sentences on each side of a gap
    similarity: np.ndarray     # raw cosine between the windows around gap g (g = 1..n-1)
    smoothed: np.ndarray
    depth: np.ndarray
    boundaries: list[int]      # sentence indices that start a new topic


def texttile(vectors: np.ndarray, sentences: list[Sentence]) -> Tiling:
    """TextTiling (Hearst 1997) on sentence embeddings.

    For every gap between sentences, compare the mean embedding of the `window` sentences
    before it with the `window` after it; smooth that curve; a gap's depth is how far the
    curve climbs on both sides before turning down. Valleys deeper than mean - std/2 of all
    valley depths (Hearst's cutoff) are topic boundaries, at least two sentences apart.
    """
    n = len(sentences)
    median_s = float(np.median([max(s.duration, 0.5) for s in sentences])) if n else 1.0
    window = int(np.clip(round(WINDOW_S / median_s), 2, 8))
    weights = np.array([np.sqrt(len(s.words)) for s in sentences])  # "Yeah." counts less
    sim = np.ones(n)  # sim[0] is unused: there is no gap before the first sentence
    for g in range(1, n):
        left = slice(max(0, g - window), g)
        right = slice(g, min(n, g + window))
        a = unit(weights[left] @ vectors[left])
        b = unit(weights[right] @ vectors[right])
        sim[g] = float(a @ b)
    smoothed = sim.copy()
    if n > 3:
        padded = np.concatenate([sim[1:2], sim[1:], sim[-1:]])
        smoothed[1:] = np.convolve(padded, np.ones(3) / 3, mode="valid")
    depth = np.zeros(n)
    for g in range(1, n):
        left_peak = right_peak = smoothed[g]
        k = g
        while k > 1 and smoothed[k - 1] >= left_peak:
            left_peak, k = smoothed[k - 1], k - 1
        k = g
        while k < n - 1 and smoothed[k + 1] >= right_peak:
            right_peak, k = smoothed[k + 1], k + 1
        depth[g] = (left_peak - smoothed[g]) + (right_peak - smoothed[g])
    valleys = [g for g in range(1, n) if depth[g] > 0]
    boundaries: list[int] = []
    if valleys:
        cutoff = depth[valleys].mean() - depth[valleys].std() / 2
        for g in sorted(valleys, key=lambda g: -depth[g]):
            if depth[g] <= cutoff:
                break
            # Smoothing can shift a valley by a gap; the raw curve says where it is.
            g = min(range(max(1, g - 1), min(n, g + 2)), key=lambda k: sim[k])
            # Two valleys a sentence apart are one topic change: the deeper one places it.
            if all(abs(g - b) >= 2 for b in boundaries):
                boundaries.append(g)
    return Tiling(window, sim, smoothed, depth, sorted(boundaries))


def fit_segments(tiling: Tiling, vectors: np.ndarray, sentences: list[Sentence],
                 bounds: ClipBounds) -> list[Span]:
    """Topic segments as (first, last) sentence indices, each split until it fits max_s
    (at its weakest gap) and, where a neighbour has room, merged until it reaches min_s
    (into the more similar neighbour)."""
    starts = [0] + tiling.boundaries
    segments = [(a, b - 1) for a, b in zip(starts, starts[1:] + [len(sentences)])]
    segments = [piece for seg in segments for piece in _split(seg, tiling, sentences, bounds)]
    return _merge_short(segments, vectors, sentences, bounds)


def span_s(seg: Span, sentences: list[Sentence]) -> float:
    return sentences[seg[1]].end - sentences[seg[0]].start


def _split(seg: Span, tiling: Tiling, sentences: list[Sentence],
           bounds: ClipBounds) -> list[Span]:
    first, last = seg
    if span_s(seg, sentences) <= bounds.max_s or first == last:
        return [seg]
    gaps = range(first + 1, last + 1)
    # Prefer cuts that leave both halves at least min_s long.
    roomy = [g for g in gaps if span_s((first, g - 1), sentences) >= bounds.min_s
             and span_s((g, last), sentences) >= bounds.min_s]
    cut = min(roomy or gaps, key=lambda g: tiling.smoothed[g])
    return (_split((first, cut - 1), tiling, sentences, bounds)
            + _split((cut, last), tiling, sentences, bounds))


def _merge_short(segments: list[Span], vectors: np.ndarray, sentences: list[Sentence],
                 bounds: ClipBounds) -> list[Span]:
    def centroid(seg: Span) -> np.ndarray:
        return unit(vectors[seg[0]:seg[1] + 1].mean(axis=0))

    merged = True
    while merged and len(segments) > 1:
        merged = False
        for k in sorted(range(len(segments)), key=lambda k: span_s(segments[k], sentences)):
            if span_s(segments[k], sentences) >= bounds.min_s:
                break
            options = [j for j in (k - 1, k + 1) if 0 <= j < len(segments)
                       and span_s((min(segments[k][0], segments[j][0]),
                                   max(segments[k][1], segments[j][1])), sentences)
                       <= bounds.max_s]
            if not options:
                continue
            here = centroid(segments[k])
            j = max(options, key=lambda j: float(centroid(segments[j]) @ here))
            lo, hi = min(k, j), max(k, j)
            segments[lo:hi + 1] = [(segments[lo][0], segments[hi][1])]
            merged = True
            break
    return segments
