"""Arithmetic over stretches of speech: how much of the detected speech a transcript
covers, each language's share of the speech, and the mapping from concatenated speech
back to source time. Pure Python, no media libraries: the adapters feed it intervals.

An interval is `(start_s, end_s)`, in seconds of the source.
"""
from __future__ import annotations

import bisect
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


def smooth_labels(labels: Sequence[tuple[str, float, float]], low: float = 0.5,
                  short_s: float = 10.0, sure_short: float = 0.95) -> list[str]:
    """Per stretch (language, probability, seconds) -> language, in order. A stretch whose
    neighbours agree on another language takes theirs when it was detected with less than
    `low` probability; a stretch between two such neighbours and shorter than `short_s`
    needs `sure_short` to stay. So a short "okay" between two English stretches is English
    whatever Whisper guessed, and a few seconds of French over music are not Thai, while a
    clear quote in another language, or a talk that ends in another language, stays."""
    out = [lang for lang, _, _ in labels]
    for n, (lang, prob, seconds) in enumerate(labels):
        around = [labels[k][0] for k in (n - 1, n + 1) if 0 <= k < len(labels)]
        if len(set(around)) != 1 or lang in around:
            continue
        sandwiched = len(around) == 2
        if prob < (sure_short if sandwiched and seconds < short_s else low):
            out[n] = around[0]
    return out


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
