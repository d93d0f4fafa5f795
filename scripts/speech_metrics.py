"""Word error rate of a transcript against the script of a talk from `make_talks`, per
topic and per language.

Text is normalised the same way on both sides: Unicode NFKC, lower case, every character
that is not a letter, a digit or an apostrophe becomes a space. Numbers are not spelled
out, so "8" heard for "eight" counts as an error (Whisper writes digits, the scripts
words): the rates are a little pessimistic.

The transcript's words are assigned to a topic by the middle of their timing, from half
a second before the topic's first sentence to the start of the next topic; each topic
is then aligned on its own (Levenshtein over words), which keeps the alignment small.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from server.core.model import Transcript


def normalise(text: str) -> list[str]:
    text = unicodedata.normalize("NFKC", text).lower()
    return re.sub(r"[^\w']+|_", " ", text).replace(" '", " ").replace("' ", " ").split()


def edit_distance(ref: list[str], hyp: list[str]) -> int:
    """Word-level Levenshtein distance (substitutions, insertions, deletions)."""
    previous = list(range(len(hyp) + 1))
    for i, r in enumerate(ref, 1):
        current = [i] + [0] * len(hyp)
        for j, h in enumerate(hyp, 1):
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (r != h))
        previous = current
    return previous[-1]


@dataclass
class Errors:
    edits: int = 0
    words: int = 0

    def add(self, other: "Errors") -> None:
        self.edits += other.edits
        self.words += other.words

    @property
    def rate(self) -> float:
        return self.edits / self.words if self.words else 0.0


def talk_errors(manifest: dict, transcript: Transcript) -> tuple[Errors, dict[str, Errors]]:
    """(whole talk, per language) word errors of `transcript` against the talk's script."""
    words = [(w.start + w.end) / 2 for s in transcript.segments for w in s.words]
    texts = [w.word for s in transcript.segments for w in s.words]
    sections = manifest["sections"]
    overall, by_language = Errors(), dict[str, Errors]()
    for n, sec in enumerate(sections):
        lo = sec["start_s"] - 0.5
        hi = sections[n + 1]["start_s"] - 0.5 if n + 1 < len(sections) else float("inf")
        heard = normalise(" ".join(t for t, mid in zip(texts, words) if lo <= mid < hi))
        said = normalise(" ".join(s["text"] for s in sec["sentences"]))
        errors = Errors(edit_distance(said, heard), len(said))
        overall.add(errors)
        by_language.setdefault(sec["language"], Errors()).add(errors)
    return overall, by_language
