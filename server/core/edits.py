"""A person's edit of a clip's start and end, snapped to the transcript's words, so a clip
never starts or ends mid-word (the rule every analyzer's clips obey too)."""
from __future__ import annotations

from typing import Iterable

# An edited clip may be this short or this long (the analyzers' bounds are for finding
# clips; a person who moves the ends knows what they want, within reason).
EDIT_MIN_S = 1.0
EDIT_MAX_S = 600.0


class BadEdit(ValueError):
    """The edit cannot make a clip; the message says why, in words."""


def words_of(segments: Iterable[dict]) -> list[tuple[float, float]]:
    """(start, end) of every spoken word of stored transcript segments, in order."""
    return sorted((float(w["start"]), float(w["end"])) for s in segments
                  for w in s.get("words") or [] if str(w.get("word", "")).strip())


def snap_to_words(words: list[tuple[float, float]], start_s: float, end_s: float) -> tuple[float, float]:
    """The clip from the start of its first word to the end of its last. A word belongs to
    the clip when its middle lies within [start_s, end_s], so sending a word's own start
    and end times keeps exactly that word."""
    if end_s <= start_s:
        raise BadEdit("end_s must come after start_s")
    inside = [(a, b) for a, b in words if start_s <= (a + b) / 2 <= end_s]
    if not inside:
        raise BadEdit("no spoken word lies between start_s and end_s")
    start, end = inside[0][0], inside[-1][1]
    if end - start < EDIT_MIN_S:
        raise BadEdit(f"the clip would last {end - start:.1f} s; it must last at least {EDIT_MIN_S:.0f} s")
    if end - start > EDIT_MAX_S:
        raise BadEdit(f"the clip would last {end - start:.0f} s; it may last at most {EDIT_MAX_S:.0f} s")
    return round(start, 3), round(end, 3)
