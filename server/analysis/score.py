"""Scoring a passage: explainable signals in 0..1, weighted into a 0..100 score.

Calibration: every signal is a property of the passage alone, on a fixed scale: its own
sentences and their embeddings, its own word timings, its own audio measured against
itself (loudness in dB relative to the passage's own median, so the recording level does
not count), and whether its thought carries on into the two sentences at either edge.
Nothing is ranked or normalised against the rest of the video. The same
passage therefore scores the same in any video, and a 70 means the same thing in a
lecture as in a podcast: a clean, self-contained passage with no particular hook scores
about 55; a question answered inside it, concrete figures or claims, a story that turns,
and a lively delivery or an audience reaction take it towards 100. The weights are ours,
set by reading clips, not fitted to labels we do not have.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from server.analysis.embeddings import unit
from server.pipeline.sentences import Sentence

if TYPE_CHECKING:
    from server.analysis.audio import AudioFeatures

CONNECTIVES = {"and", "so", "but", "which", "because", "or", "then", "also", "plus",
               "anyway", "well", "um", "uh", "like", "yeah", "okay", "though", "however",
               "whereas", "although"}
DANGLING = {"it", "this", "that", "these", "those", "they", "he", "she", "him", "her",
            "them", "there"}

# What makes a clip sound (55 points), what makes it worth watching (35), how it is
# delivered (10). Audio signals count only when the audio could be read.
WEIGHTS = {"cohesion": 5, "complete": 25, "opening": 10, "ending": 5, "density": 10,
           "question_answer": 15, "concrete": 10, "story": 10,
           "voice": 6, "reaction": 4}
# In conversations a question and its answer is the natural unit of a clip.
PODCAST_WEIGHTS = {**WEIGHTS, "complete": 20, "question_answer": 20}
EDGE_SENTENCES = 2   # sentences on each side of a passage that say whether its thought goes on
REACTION_S = 4.0   # laughter or applause this soon after a passage belongs to it

_NUMBER_WORDS = set(("two three four five six seven eight nine ten eleven twelve thirteen "
                     "fourteen fifteen sixteen seventeen eighteen nineteen twenty thirty forty "
                     "fifty sixty seventy eighty ninety hundred thousand million billion "
                     "trillion dozen percent").split())
# Words after a number that are not what it counts ("half of", "seven and").
_NOT_UNITS = {"of", "and", "or", "to", "a", "an", "the", "in", "on", "at", "by", "for",
              "is", "are", "was", "were", "that", "which", "times"}
_CLAIM_WORDS = {"most", "least", "best", "worst", "only", "never", "always", "every",
                "nobody", "everyone", "biggest", "largest", "smallest", "fastest",
                "first", "last"}
_PAST = set(("was were had did went came said told took made got saw found thought knew "
             "began became left felt gave kept ran wrote fell won lost met bought brought sat "
             "stood spent sold heard").split())
_NOT_PAST = {"need", "indeed", "speed", "seed", "feed", "bed", "red", "hundred", "shed"}
_TURNS = re.compile(r"\b(?:but|suddenly|until|instead|turned out|that's when|that is when|"
                    r"except|however|what changed|then one|one day|one night)\b")


def words_of(text: str) -> list[str]:
    return re.findall(r"[a-z][a-z'-]*", text.lower())


def weights_for(content_type: str) -> dict[str, int]:
    return PODCAST_WEIGHTS if content_type == "podcast" else WEIGHTS


@dataclass
class Assessment:
    """A passage's signals (0..1), the evidence behind them (for the reason), its score."""
    signals: dict[str, float]
    evidence: dict[str, Any] = field(default_factory=dict)
    score: float = 0.0


def assess(sentences: list[Sentence], vectors: np.ndarray, weights: dict[str, int],
           audio: "AudioFeatures | None" = None, before: np.ndarray | None = None,
           after: np.ndarray | None = None) -> Assessment:
    """Scores the passage made of `sentences` (consecutive), whose embeddings are `vectors`;
    `before` and `after` are the embeddings of up to EDGE_SENTENCES sentences around it."""
    evidence: dict[str, Any] = {}
    signals = {
        "cohesion": _cohesion(vectors, evidence),
        "complete": _complete(vectors, before, after, evidence),
        "opening": _opening(sentences[0]),
        "ending": 1.0 if sentences[-1].complete else 0.0,
        "density": _density(sentences, evidence),
        "question_answer": _question_answer(sentences, vectors, evidence),
        "concrete": _concrete(sentences, evidence),
        "story": _story(sentences, evidence),
        "voice": _voice(sentences, audio, evidence),
    }
    if audio is not None:
        signals["reaction"] = _reaction(sentences, audio, evidence)
    used = {name: w for name, w in weights.items() if name in signals}
    total = sum(used.values())
    value = 100.0 * sum(w * signals[name] for name, w in used.items()) / total
    return Assessment(signals, evidence, round(value, 1))


def _cohesion(vectors: np.ndarray, evidence: dict) -> float:
    """The sentences agree with each other: mean cosine to the passage's centroid. MiniLM
    gives about 0.35 for a passage that drifts between subjects and 0.6 for one that holds
    a single subject throughout."""
    centre = unit(vectors.mean(axis=0))
    cohesion = float((vectors @ centre).mean())
    evidence["cohesion"] = round(cohesion, 3)
    return float(np.clip((cohesion - 0.35) / 0.25, 0.0, 1.0))


def _complete(vectors: np.ndarray, before: np.ndarray | None, after: np.ndarray | None,
              evidence: dict) -> float:
    """The thought does not carry on past the passage's edges: the sentences just before it
    are about something else than its opening, and those just after than its close.
    Under MiniLM, two sentences against the next two sit at a cosine of about 0.4 (0.2-0.6)
    within one subject and 0.15 (0.0-0.3) across a change of subject, measured on the
    evaluation talks. Nothing before or after (the start or end of the talk) is a clean
    edge."""
    n = EDGE_SENTENCES
    carry = 0.0
    if before is not None and len(before):
        carry = max(carry, float(unit(before.mean(axis=0)) @ unit(vectors[:n].mean(axis=0))))
    if after is not None and len(after):
        carry = max(carry, float(unit(after.mean(axis=0)) @ unit(vectors[-n:].mean(axis=0))))
    evidence["carries_on"] = round(carry, 3)
    return float(np.clip((0.5 - carry) / 0.2, 0.0, 1.0))


def _opening(first: Sentence) -> float:
    """The first sentence stands on its own: 0 if it starts with a connective or filler
    ("and", "so", "but", "which", "um"), 0.6 with a pronoun that points back ("it",
    "they", "this"), else 1."""
    opener = words_of(first.text)[:1]
    if opener and opener[0] in CONNECTIVES:
        return 0.0
    return 0.6 if opener and opener[0] in DANGLING else 1.0


def _density(sentences: list[Sentence], evidence: dict) -> float:
    """Words per second, from 1.2 (0) to 2.4 (1): long silences make poor clips."""
    span = max(sentences[-1].end - sentences[0].start, 1e-6)
    rate = sum(len(s.words) for s in sentences) / span
    evidence["words_per_s"] = round(rate, 2)
    return float(np.clip((rate - 1.2) / 1.2, 0.0, 1.0))


def _question_answer(sentences: list[Sentence], vectors: np.ndarray, evidence: dict) -> float:
    """A question early on, followed by sentences that stay on its subject (an answer, not a
    rhetorical aside)."""
    best = 0.0
    for q in range(len(sentences) - 2):
        if not sentences[q].text.rstrip("\"')").endswith("?"):
            continue
        answer = vectors[q + 1:q + 4]
        relevance = float(unit(answer.mean(axis=0)) @ vectors[q])
        early = 1.0 if q < 2 else 0.6
        # MiniLM puts a question and its answer at a cosine of ~0.2-0.5; near 0 means the
        # sentences after it went elsewhere.
        value = early * float(np.clip((relevance - 0.05) / 0.2, 0.0, 1.0))
        if value > best:
            best = value
            evidence["question"] = sentences[q].text
    return best


def _concrete(sentences: list[Sentence], evidence: dict) -> float:
    """Figures (a number with what it counts), names, and definite claims ("the only",
    "never", "the biggest"): three such things make a passage fully concrete."""
    figures: list[str] = []
    names: list[str] = []
    claims = 0
    for s in sentences:
        tokens = re.findall(r"[\w'%-]+(?:[.,]\d+)*", s.text)
        k = 0
        while k < len(tokens):
            low = tokens[k].lower()
            if _is_number(low) or (low in ("one", "a") and k + 1 < len(tokens)
                                   and tokens[k + 1].lower() in _NUMBER_WORDS):
                end = k + 1
                while end < len(tokens) and (_is_number(tokens[end].lower())
                                             or tokens[end].lower() in ("and", "a")
                                             and end + 1 < len(tokens)
                                             and _is_number(tokens[end + 1].lower())):
                    end += 1
                unit_word = tokens[end] if end < len(tokens) else ""
                counted = unit_word.isalpha() and unit_word.islower() and unit_word not in _NOT_UNITS
                figures.append(" ".join(tokens[k:end + counted]))
                k = end
                continue
            if k > 0 and tokens[k][:1].isupper() and tokens[k] != "I" and tokens[k].isalpha():
                end = k + 1
                while end < len(tokens) and tokens[end][:1].isupper() and tokens[end].isalpha():
                    end += 1
                names.append(" ".join(tokens[k:end]))
                k = end
                continue
            claims += low in _CLAIM_WORDS
            k += 1
    evidence["figures"] = figures[:3]
    evidence["names"] = list(dict.fromkeys(names))[:3]
    amount = len(figures) + 0.5 * len(set(names)) + 0.5 * min(claims, 2)
    return float(min(1.0, amount / 3.0))


def _is_number(word: str) -> bool:
    return bool(re.fullmatch(r"\d[\d,.]*%?", word)) or word in _NUMBER_WORDS


def _story(sentences: list[Sentence], evidence: dict) -> float:
    """A story with a turn: most sentences tell what happened (past tense), and after the
    first third something changes ("but", "suddenly", "until", "turned out")."""
    if len(sentences) < 3:
        return 0.0
    past = [any(w in _PAST or (w.endswith("ed") and w not in _NOT_PAST and len(w) > 4)
                for w in words_of(s.text)) for s in sentences]
    narrative = float(np.clip((sum(past) / len(sentences) - 0.2) / 0.4, 0.0, 1.0))
    turn = next((s.text for s in sentences[len(sentences) // 3:]
                 if _TURNS.search(s.text.lower())), None)
    if narrative and turn:
        evidence["turn"] = turn
    return narrative * (1.0 if turn else 0.3)


def _voice(sentences: list[Sentence], audio: "AudioFeatures | None", evidence: dict) -> float:
    """Energy in the delivery: a sentence clearly louder than the passage's own median
    sentence (2 dB: 0, 8 dB: 1), or clearly faster (25% faster: 0, 75%: 1). Both are
    measured within the passage, so neither the recording level nor the speaker's usual
    pace counts."""
    timed = [s for s in sentences if len(s.words) >= 4 and s.duration > 0.5]
    if len(timed) < 3:
        return 0.0
    lift = 0.0
    if audio is not None:
        known = [(level, s) for level, s in
                 ((audio.loudness_db(s.start, s.end), s) for s in timed) if level is not None]
        if len(known) >= 3:
            median = float(np.median([level for level, _ in known]))
            level, loudest = max(known, key=lambda pair: pair[0])
            if level - median >= 2.0:
                evidence["louder"] = {"db": round(level - median, 1), "sentence": loudest.text}
            lift = float(np.clip((level - median - 2.0) / 6.0, 0.0, 1.0))
    rates = [len(s.words) / s.duration for s in timed]
    change = max(rates) / float(np.median(rates)) - 1.0
    if change >= 0.25:
        fastest = timed[int(np.argmax(rates))]
        evidence["faster"] = {"ratio": round(change + 1.0, 2), "sentence": fastest.text}
    pace = float(np.clip((change - 0.25) / 0.5, 0.0, 1.0))
    return max(lift, pace)


def _reaction(sentences: list[Sentence], audio: "AudioFeatures", evidence: dict) -> float:
    """Laughter or applause during the passage or within REACTION_S after it: the audience
    says it landed."""
    start, end = sentences[0].start, sentences[-1].end + REACTION_S
    events = [e for e in audio.events if e.start < end and e.end > start]
    if events:
        evidence["reaction"] = {"kind": events[0].kind, "at_s": round(events[0].start, 1)}
    return 1.0 if events else 0.0

