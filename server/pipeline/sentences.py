"""Sentences from word timings, and the rules every analyzer's clips obey.

An analyzer proposes rough spans (ClipPlans whose start/end may fall anywhere);
`snap_and_bound` turns them into the final list, with the same guarantees whatever the
analyzer: each clip starts where a sentence starts and ends where one ends (never mid-word),
lasts between bounds.min_s and bounds.max_s, overlaps no other clip, and the list is sorted
best first (clips about the topic asked for, then by score) and no longer than
`clip_budget` allows.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass, replace
from typing import Sequence

from server.core.model import ClipBounds, ClipPlan, Transcript, Word

PAUSE_S = 1.0           # a silence this long ends a sentence even without punctuation
MAX_SENTENCE_S = 30.0   # unpunctuated speech (small Whisper models) is cut into pieces this long
SHORT_VIDEO_CLIPS = 3
SPEECH_PER_CLIP_S = 120.0  # one clip allowed per this much speech (silence not counted)

_TERMINAL = re.compile(r"[.?!…][\"'”’)\]]*$")
# A period after these is an abbreviation, not the end of a sentence.
_ABBREVIATIONS = {"mr.", "mrs.", "ms.", "dr.", "prof.", "st.", "vs.", "e.g.", "i.e.", "jr.", "sr."}


@dataclass
class Sentence:
    index: int
    start: float
    end: float
    text: str
    words: list[Word]

    @property
    def duration(self) -> float:
        return self.end - self.start

    @property
    def complete(self) -> bool:
        """Ends with terminal punctuation (not cut by a pause or the length cap)."""
        return bool(_TERMINAL.search(self.text))


def split_sentences(transcript: Transcript) -> list[Sentence]:
    """Cut the transcript's words into sentences.

    A sentence ends at a word ending with . ? ! (unless it is a known abbreviation or the
    next word starts in lower case, as after "e.g." or "3 p.m."), before a pause of PAUSE_S,
    or once it has run MAX_SENTENCE_S.
    """
    words = _all_words(transcript)
    sentences: list[Sentence] = []
    current: list[Word] = []
    for k, word in enumerate(words):
        current.append(word)
        following = words[k + 1] if k + 1 < len(words) else None
        if following is None or _ends_sentence(word, following, current):
            sentences.append(_sentence(len(sentences), current))
            current = []
    return sentences


def _all_words(transcript: Transcript) -> list[Word]:
    words: list[Word] = []
    for seg in transcript.segments:
        words.extend(seg.words if seg.words else _spread_words(seg.start, seg.end, seg.text))
    return sorted((w for w in words if w.word.strip()), key=lambda w: w.start)


def _spread_words(start: float, end: float, text: str) -> list[Word]:
    """Words for a segment transcribed without word timings: time shared by character count."""
    tokens = text.split()
    total = sum(len(t) for t in tokens) or 1
    words, t = [], start
    for token in tokens:
        dt = (end - start) * len(token) / total
        words.append(Word(t, t + dt, " " + token))
        t += dt
    return words


def _ends_sentence(word: Word, following: Word, current: list[Word]) -> bool:
    if following.start - word.end >= PAUSE_S:
        return True
    if word.end - current[0].start >= MAX_SENTENCE_S:
        return True
    token = word.word.strip()
    if not _TERMINAL.search(token) or token.lower() in _ABBREVIATIONS:
        return False
    return not following.word.strip()[:1].islower()


def _sentence(index: int, words: list[Word]) -> Sentence:
    # Whisper words carry their own leading space, so plain concatenation spaces them right.
    text = "".join(w.word for w in words).strip()
    return Sentence(index, words[0].start, words[-1].end, text, list(words))


def speech_seconds(sentences: Sequence[Sentence]) -> float:
    return sum(s.duration for s in sentences)


def clip_budget(sentences: Sequence[Sentence], bounds: ClipBounds) -> int:
    """How many clips a transcript may yield. When the submitter asked for a number
    (bounds.count_asked), that number: as many as stand alone, up to it. Otherwise one per
    SPEECH_PER_CLIP_S of speech, but a short video still gets up to SHORT_VIDEO_CLIPS if it
    holds room for that many (a 90-second piece on three subjects has three clips in it);
    at least one when there is any speech, never more than bounds.max_clips."""
    speech = speech_seconds(sentences)
    if speech <= 0 or bounds.max_clips <= 0:
        return 0
    if bounds.count_asked:
        return bounds.max_clips
    by_length = math.ceil(speech / SPEECH_PER_CLIP_S)
    by_room = min(SHORT_VIDEO_CLIPS, int(speech // (2 * max(bounds.min_s, 1.0))))
    return min(bounds.max_clips, max(1, by_length, by_room))


def shortfall_notice(sentences: Sequence[Sentence], bounds: ClipBounds,
                     clips: Sequence[ClipPlan]) -> str:
    """Why a transcript gave fewer clips than asked (bounds.max_clips), or clips off the
    topic asked for, in words a person understands ("" when there is nothing to say)."""
    notes = [_topic_note(bounds, clips)] if bounds.topic and clips else []
    if len(clips) < bounds.max_clips:
        notes.append(_count_note(sentences, bounds, len(clips)))
    return " ".join(n for n in notes if n)


def _count_note(sentences: Sequence[Sentence], bounds: ClipBounds, clips: int) -> str:
    speech = speech_seconds(sentences)
    if speech <= 0:
        return "No speech was found in the audio, so there is nothing to clip."
    span = sentences[-1].end - sentences[0].start
    if span < bounds.min_s:
        if clips and bounds.allow_short:
            return (f"The speech lasts {span:.0f} s, shorter than the {bounds.min_s:g} s a clip "
                    f"must last: as asked (allow_short), the one clip is all of it.")
        return (f"The speech lasts {span:.0f} s, shorter than the {bounds.min_s:g} s a clip "
                f"must last, so there is no clip; ask with allow_short for one clip of all of it.")
    asked = f" (you asked for up to {bounds.max_clips})" if bounds.count_asked else ""
    budget = clip_budget(sentences, bounds)
    if clips >= budget and not bounds.count_asked:
        return (f"{speech:.0f} s of speech makes room for {budget} clip{'s' * (budget > 1)} by "
                f"default: one per {SPEECH_PER_CLIP_S / 60:.0f} minutes of speech, up to "
                f"{SHORT_VIDEO_CLIPS} in a short video; ask for more with max_clips.")
    if clips == 0:
        return (f"No passage of the speech stands alone between {bounds.min_s:g} and "
                f"{bounds.max_s:g} s{asked}.")
    return (f"The talk had room for {clips} clip{'s' * (clips != 1)}{asked}: only "
            f"{clips} passage{'s' * (clips != 1)} stand{'s' * (clips == 1)} alone between "
            f"{bounds.min_s:g} and {bounds.max_s:g} s without overlapping another.")


def _topic_note(bounds: ClipBounds, clips: Sequence[ClipPlan]) -> str:
    about = sum(1 for c in clips if c.on_topic)
    if about == len(clips):
        return ""
    if about == 0:
        return (f"Nothing in the talk is clearly about \"{bounds.topic}\": the clips are its best "
                f"passages on other subjects.")
    return (f"Only {about} clip{'s' * (about != 1)} {'are' if about != 1 else 'is'} clearly "
            f"about \"{bounds.topic}\" and come{'s' * (about == 1)} first; the others are the "
            f"best passages on other subjects.")


def snap_and_bound(candidates: Sequence[ClipPlan], sentences: Sequence[Sentence],
                   bounds: ClipBounds) -> list[ClipPlan]:
    """Final clips from rough candidates.

    1. Snap: start moves to the start of the sentence containing or following it, end to
       the end of the sentence containing or preceding it.
    2. Bound: a clip over max_s drops sentences from its end (the opening is what hooks);
       one under min_s takes in the following sentence, or else the preceding one, while it
       stays under max_s. A clip that still misses the bounds is dropped.
    3. De-duplicate: best first, a clip overlapping better ones shrinks to its longest
       stretch of free sentences, and is dropped if that is under min_s. Among equal
       scores, the candidate farthest from the clips already kept goes first.
    4. Cap at `clip_budget`. Scores are clamped to 0..100; an empty hook becomes the
       clip's opening sentence.

    "Best" is the higher score, except that with a topic asked for, a clip about it
    (`on_topic`) comes before every clip that is not; the list is in that order.

    A sentence longer than max_s is first split at its longest pauses, so even an
    unpunctuated monologue yields clips; that is the one case where a clip may start or end
    inside a sentence (still only between words). When all the speech is shorter than
    min_s and the submitter allowed it (bounds.allow_short), the best candidate becomes
    one clip of all of it.
    """
    units = _fit_sentences(sentences, bounds.max_s)
    budget = clip_budget(units, bounds)
    if bounds.allow_short and units and candidates and _duration(0, len(units) - 1, units) < bounds.min_s:
        best = max(candidates, key=rank)
        return [_final(best, 0, len(units) - 1, units)]
    taken = [False] * len(units)
    clips: list[ClipPlan] = []
    pending = list(candidates)
    while pending and len(clips) < budget:
        cand = _next_best(pending, clips)
        pending.remove(cand)
        span = _snap(cand, units)
        span = span and _bound(*span, units, bounds)
        span = span and _free_part(*span, units, taken, bounds)
        if not span:
            continue
        first, last = span
        taken[first:last + 1] = [True] * (last - first + 1)
        clips.append(_final(cand, first, last, units))
    return clips


def rank(clip: ClipPlan) -> tuple[bool, float]:
    """What orders clips, best first: about the topic asked for (when one was), then the
    score."""
    return bool(clip.on_topic), clip.score


def _final(cand: ClipPlan, first: int, last: int, units: Sequence[Sentence]) -> ClipPlan:
    return replace(cand, start_s=units[first].start, end_s=units[last].end,
                   score=min(100.0, max(0.0, cand.score)), hook=cand.hook or units[first].text)


def _next_best(pending: list[ClipPlan], clips: list[ClipPlan]) -> ClipPlan:
    """The best candidate (see `rank`); among equals, the one farthest from the clips
    already kept. Models score in round numbers and often tie, and a tie says nothing about
    position: taking the earliest would favour the start of the talk."""
    top = max(rank(c) for c in pending)
    tied = [c for c in pending if rank(c) == top]
    if len(tied) == 1 or not clips:
        return tied[0]

    def distance(c: ClipPlan) -> float:
        middle = (c.start_s + c.end_s) / 2
        return min(abs(middle - (k.start_s + k.end_s) / 2) for k in clips)
    return max(tied, key=distance)


def _fit_sentences(sentences: Sequence[Sentence], max_s: float) -> list[Sentence]:
    pieces: list[list[Word]] = []
    for s in sentences:
        pieces.extend(_split_long(s.words, max_s))
    return [_sentence(i, words) for i, words in enumerate(pieces)]


def _split_long(words: list[Word], max_s: float) -> list[list[Word]]:
    """Split at the longest pause in the middle half (the most central one among equals),
    recursively, until each piece fits."""
    if words[-1].end - words[0].start <= max_s or len(words) < 2:
        return [words]
    mid = len(words) // 2
    lo, hi = max(1, len(words) // 4), max(2, len(words) * 3 // 4)
    cut = max(range(lo, hi),
              key=lambda k: (round(words[k].start - words[k - 1].end, 2), -abs(k - mid)))
    return _split_long(words[:cut], max_s) + _split_long(words[cut:], max_s)


def _snap(cand: ClipPlan, units: Sequence[Sentence]) -> tuple[int, int] | None:
    first = next((u.index for u in units if u.end > cand.start_s), None)
    last = next((u.index for u in reversed(units) if u.start < cand.end_s), None)
    if first is None or last is None:
        return None
    # A span lying wholly in a silence between two sentences becomes the next sentence.
    return first, max(first, last)


def _duration(first: int, last: int, units: Sequence[Sentence]) -> float:
    return units[last].end - units[first].start


def _bound(first: int, last: int, units: Sequence[Sentence],
           bounds: ClipBounds) -> tuple[int, int] | None:
    while last > first and _duration(first, last, units) > bounds.max_s:
        last -= 1
    while _duration(first, last, units) < bounds.min_s:
        if last + 1 < len(units) and _duration(first, last + 1, units) <= bounds.max_s:
            last += 1
        elif first > 0 and _duration(first - 1, last, units) <= bounds.max_s:
            first -= 1
        else:
            break
    if bounds.min_s <= _duration(first, last, units) <= bounds.max_s:
        return first, last
    return None


def _free_part(first: int, last: int, units: Sequence[Sentence], taken: list[bool],
               bounds: ClipBounds) -> tuple[int, int] | None:
    runs: list[tuple[int, int]] = []
    run_start = None
    for k in range(first, last + 2):
        free = k <= last and not taken[k]
        if free and run_start is None:
            run_start = k
        elif not free and run_start is not None:
            runs.append((run_start, k - 1))
            run_start = None
    if not runs:
        return None
    best = max(runs, key=lambda r: _duration(r[0], r[1], units))
    return best if _duration(best[0], best[1], units) >= bounds.min_s else None
