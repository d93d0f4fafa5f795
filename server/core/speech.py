"""Arithmetic over stretches of speech: how much of the detected speech a transcript
covers, each language's share of the speech, and the mapping from concatenated speech
back to source time. Pure Python, no media libraries: the adapters feed it intervals.

An interval is `(start_s, end_s)`, in seconds of the source.
"""
from __future__ import annotations

import bisect
import math
from dataclasses import dataclass
from typing import Iterable, Sequence

from server.core.model import Segment

Interval = tuple[float, float]

# Below this share of the detected speech, the status carries a warning.
COVERAGE_WARNING = 0.9

# Every language code Whisper knows (multilingual models; `yue` needs large-v3). The one
# list the settings, the transcriber and the API validate against.
WHISPER_LANGUAGES = (
    "af", "am", "ar", "as", "az", "ba", "be", "bg", "bn", "bo", "br", "bs", "ca", "cs", "cy",
    "da", "de", "el", "en", "es", "et", "eu", "fa", "fi", "fo", "fr", "gl", "gu", "ha", "haw",
    "he", "hi", "hr", "ht", "hu", "hy", "id", "is", "it", "ja", "jw", "ka", "kk", "km", "kn",
    "ko", "la", "lb", "ln", "lo", "lt", "lv", "mg", "mi", "mk", "ml", "mn", "mr", "ms", "mt",
    "my", "ne", "nl", "nn", "no", "oc", "pa", "pl", "ps", "pt", "ro", "ru", "sa", "sd", "si",
    "sk", "sl", "sn", "so", "sq", "sr", "su", "sv", "sw", "ta", "te", "tg", "th", "tk", "tl",
    "tr", "tt", "uk", "ur", "uz", "vi", "yi", "yo", "zh", "yue",
)


def merge(intervals: Iterable[Interval], bridge_s: float = 0.0) -> list[Interval]:
    """Sorted, non-overlapping intervals; gaps shorter than `bridge_s` are filled."""
    out: list[Interval] = []
    for start, end in sorted(i for i in intervals if i[1] > i[0]):
        if out and (start <= out[-1][1] or start - out[-1][1] < bridge_s):
            out[-1] = (out[-1][0], max(out[-1][1], end))
        else:
            out.append((start, end))
    return out


def total(intervals: Iterable[Interval]) -> float:
    return sum(end - start for start, end in intervals)


def overlap(a: Sequence[Interval], b: Sequence[Interval]) -> float:
    """Length of the intersection of two sorted, non-overlapping interval lists."""
    i = j = 0
    shared = 0.0
    while i < len(a) and j < len(b):
        lo, hi = max(a[i][0], b[j][0]), min(a[i][1], b[j][1])
        if hi > lo:
            shared += hi - lo
        if a[i][1] < b[j][1]:
            i += 1
        else:
            j += 1
    return shared


@dataclass(frozen=True)
class VadRule:
    """How voice activity detection turns voiced frames into speech intervals: each voiced
    stretch is widened by `pad_s` on both sides, and pauses shorter than `min_silence_s`
    are bridged. Coverage applies the same rule to the transcript's words, so that a
    transcript that has a word wherever there is speech covers it all."""
    pad_s: float = 0.4
    min_silence_s: float = 1.0


def transcript_intervals(segments: Iterable, rule: VadRule = VadRule()) -> list[Interval]:
    """Where the transcript says someone speaks: its words (a segment without word timings
    counts as a whole), under the same padding and bridging as the speech intervals."""
    spans: list[Interval] = []
    for seg in segments:
        if seg.words:
            spans.extend((w.start, w.end) for w in seg.words)
        else:
            spans.append((seg.start, seg.end))
    return merge(((s - rule.pad_s, e + rule.pad_s) for s, e in spans), rule.min_silence_s)


def coverage(speech: Sequence[Interval], segments: Iterable, rule: VadRule = VadRule()) -> float | None:
    """Share of the voice-activity time that the transcript covers, or None without speech."""
    speech = merge(speech)
    spoken = total(speech)
    if spoken <= 0:
        return None
    return round(min(1.0, float(overlap(speech, transcript_intervals(segments, rule)) / spoken)), 4)


def language_shares(labelled: Iterable[tuple[str, float]]) -> list[dict]:
    """[(language, seconds of speech)] -> [{"language", "share", "speech_s"}], largest
    first, shares summing to 1."""
    seconds: dict[str, float] = {}
    for language, secs in labelled:
        seconds[language] = seconds.get(language, 0.0) + secs
    spoken = sum(seconds.values())
    if spoken <= 0:
        return []
    return [{"language": lang, "share": round(secs / spoken, 4), "speech_s": round(secs, 2)}
            for lang, secs in sorted(seconds.items(), key=lambda kv: -kv[1])]


def windows(intervals: Sequence[Interval], max_s: float = 30.0) -> list[list[int]]:
    """Groups consecutive intervals (by index) so that each group holds at most `max_s`
    of speech: Whisper's 30 s window. An interval longer than `max_s` is a group alone."""
    groups: list[list[int]] = []
    held = 0.0
    for n, (start, end) in enumerate(intervals):
        if groups and held + (end - start) <= max_s:
            groups[-1].append(n)
            held += end - start
        else:
            groups.append([n])
            held = end - start
    return groups


SWITCH_COST = 2.0      # nats: a change of language must be e^2 = 7.4 times likelier
FLOOR = 1e-4           # a language Whisper gave (almost) no chance is still possible


def language_path(dists: Sequence[dict[str, float]], switch_cost: float = SWITCH_COST) -> list[str]:
    """The most likely language of each stretch, in order, given the language distribution
    Whisper detected for each (an empty one: not detected), where every change of language
    costs `switch_cost` nats (Viterbi). One unsure or odd detection between stretches of
    another language does not switch (robotic German read as Latin once is still German),
    a clear quote does (the likelihood ratio must beat two switches), and so does a talk
    that moves to another language for good (one switch)."""
    candidates = {lang for d in dists for lang, _ in sorted(d.items(), key=lambda kv: -kv[1])[:3]}
    states = sorted(candidates) or ["en"]
    emit = [{s: math.log(max(d.get(s, 0.0), FLOOR)) if d else 0.0 for s in states} for d in dists]
    if not emit:
        return []
    score = dict(emit[0])
    back: list[dict[str, str]] = []
    for e in emit[1:]:
        leader = max(states, key=score.__getitem__)
        came, new = {}, {}
        for s in states:
            came[s] = s if score[s] >= score[leader] - switch_cost else leader
            new[s] = score[came[s]] - (switch_cost if came[s] != s else 0.0) + e[s]
        back.append(came)
        score = new
    path = [max(states, key=score.__getitem__)]
    for came in reversed(back):
        path.append(came[path[-1]])
    return path[::-1]


SENTENCE_END = (".", "?", "!", "。", "？", "！", "…")


def split_at_sentences(segments: Iterable[Segment]) -> list[Segment]:
    """Segments cut where a word ends a sentence, so that a transcript's cues are sentences
    whatever window the decoder worked in (batched decoding gives one segment per 30 s).
    Segments without word timings are kept whole."""
    out: list[Segment] = []
    for seg in segments:
        words, start = seg.words, 0
        for n, word in enumerate(words):
            if n + 1 == len(words) or word.word.strip().endswith(SENTENCE_END):
                part = words[start:n + 1]
                out.append(Segment(part[0].start, part[-1].end, "".join(w.word for w in part).strip(),
                                   list(part), seg.language))
                start = n + 1
        if not words:
            out.append(seg)
    return out


class ConcatMap:
    """Times in audio made by concatenating source pieces back to source times."""

    def __init__(self, pieces: Sequence[Interval]):
        self.pieces = list(pieces)
        self.offsets: list[float] = []
        at = 0.0
        for start, end in self.pieces:
            self.offsets.append(at)
            at += end - start
        self.length = at

    def to_source(self, t: float, is_end: bool = False) -> float:
        """An end time exactly at a junction belongs to the piece before it."""
        if not self.pieces:
            return t
        find = bisect.bisect_left if is_end else bisect.bisect_right
        n = max(0, min(len(self.pieces) - 1, find(self.offsets, t) - 1))
        start, end = self.pieces[n]
        return min(end, max(start, start + t - self.offsets[n]))
