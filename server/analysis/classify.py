"""Content classification: what kind of video this is (podcast, lecture, tutorial, news,
commentary, other).

The transcript's mean embedding is compared with hand-written descriptions of each content
type, and cue phrases (questions, imperatives, "according to", ...) add to the winner's
margin."""
from __future__ import annotations

import re
from functools import lru_cache

import numpy as np

from server.analysis.embeddings import MODEL_NAME, embed, unit
from server.analysis.terms import topics
from server.core.model import CONTENT_TYPES, Classification
from server.pipeline.sentences import Sentence

_DESCRIPTIONS = {
    "podcast": [
        "A relaxed conversation between a podcast host and a guest.",
        "Two people chatting, asking each other questions and telling personal stories.",
        "An interview in which the host asks the guest about their life, work and career.",
    ],
    "lecture": [
        "A university lecture explaining a scientific concept with definitions and examples.",
        "A professor teaching a class, deriving equations and reviewing theory for the exam.",
        "An educational talk that explains how something works and why.",
        "An explainer video about science, nature, history or money.",
    ],
    "tutorial": [
        "A step-by-step tutorial showing how to install, configure and use software.",
        "Instructions: first do this, then click that button, next type the command.",
        "A how-to guide demonstrating how to build, cook or make something by hand.",
    ],
    "news": [
        "A news report on recent events, quoting officials and giving dates and figures.",
        "The government announced today a new policy, according to a spokesperson.",
        "A journalist reporting on politics, the economy, crime and world events.",
    ],
    "commentary": [
        "A personal opinion piece reacting to and criticising something in the news.",
        "A commentator sharing their honest take on a recent controversy.",
        "A review giving an opinion on whether a product, game or film is good or bad.",
    ],
    "other": [
        "A personal vlog about someone's day.",
        "A song with lyrics and music.",
        "Live play-by-play commentary of a sports match or a video game.",
    ],
}

# Cue phrases matched on word boundaries in lower-cased sentences (and in the title).
CUES = {
    "podcast": ("welcome to the show", "welcome back to", "my guest", "thanks for having me",
                "great question", "episode", "podcast", "you know", "tell me about",
                "tell us about"),
    "lecture": ("today we", "in this lecture", "recall", "definition", "theorem", "consider",
                "for example", "equation", "exam", "chapter", "textbook", "lecture",
                "students", "we can show", "let us", "which means", "is called", "are called",
                "known as", "scientists", "researchers", "the reason"),
    "tutorial": ("step", "tutorial", "how to", "make sure", "click",
                 "install", "download", "type in", "select", "press", "open the", "go to"),
    "news": ("according to", "officials", "reported", "announced", "spokesperson",
             "government", "police", "breaking", "percent", "yesterday", "on monday",
             "on tuesday", "on wednesday", "on thursday", "on friday", "news"),
    "commentary": ("i think", "in my opinion", "honestly", "i believe", "to be honest",
                   "my take", "i feel like", "ridiculous", "overrated", "reacts", "review"),
}
_CUE_PATTERNS = {label: re.compile(r"\b(?:" + "|".join(map(re.escape, phrases)) + r")\b")
                 for label, phrases in CUES.items()}

# Sentences that open with one of these verbs (after "now", "then", "first", ...) are
# instructions.
_IMPERATIVES = set(("click install open type run select go add press download copy paste "
                    "create drag choose enter set cut mix take put remove check save turn "
                    "use pour stir bake heat place insert connect tap scroll let's").split())
_SEQUENCERS = {"now", "then", "next", "first", "second", "finally", "so", "and", "just", "also"}
_BACKCHANNELS = {"yeah", "yes", "right", "exactly", "sure", "totally", "wow", "absolutely",
                 "mm-hmm", "uh-huh", "true", "okay", "no", "really", "interesting"}

SIMILARITY_TEMPERATURE = 0.06  # a cosine lead of 0.06 over a rival makes it e times likelier
# Embeddings follow the subject more than the format (a chat about cooking sits near
# "how to cook"), so the format cues weigh as much as a 0.18 lead in similarity.
CUE_WEIGHT = 3.0               # logit added by a saturated cue
CUE_SATURATION = 0.4           # cue hits per sentence that count as "fully present"


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z][a-z'-]*", text.lower())


def _cue_strengths(sentences: list[Sentence],
                   title: str | None) -> tuple[dict[str, float], dict[str, object]]:
    """Per-label cue strength in 0..1, and the evidence behind each, for the rationale."""
    n = len(sentences)
    lowered = [s.text.lower() for s in sentences]
    hits = {label: sum(len(p.findall(t)) for t in lowered) for label, p in _CUE_PATTERNS.items()}
    questions = sum(s.text.rstrip("\"')").endswith("?") for s in sentences)
    backchannels = sum(0 < len(w) <= 3 and all(x in _BACKCHANNELS for x in w)
                       for w in map(_words, lowered))
    imperatives = sum(_is_instruction(_words(t)) for t in lowered)
    rates = {label: hits[label] / n for label in CUES}
    rates["podcast"] += (questions + backchannels) / n
    rates["tutorial"] += imperatives / n
    evidence: dict[str, object] = {
        "questions": round(questions / n, 3),
        "backchannels": round(backchannels / n, 3),
        "imperatives": round(imperatives / n, 3),
        **{f"{label}_phrases": hits[label] for label in CUES},
    }
    strengths = {label: min(1.0, rates.get(label, 0.0) / CUE_SATURATION)
                 for label in CONTENT_TYPES}
    for label, pattern in _CUE_PATTERNS.items():
        if title and pattern.search(title.lower()):
            strengths[label] = 1.0
            evidence["title_cue"] = label
    return strengths, evidence


def _is_instruction(words: list[str]) -> bool:
    k = 0
    while k < len(words) - 1 and words[k] in _SEQUENCERS:
        k += 1
    return bool(words) and words[k] in _IMPERATIVES


def _describe_cues(evidence: dict) -> list[str]:
    notes = []
    if evidence["questions"] >= 0.1:
        notes.append(f"{evidence['questions']:.0%} of sentences are questions")
    if evidence["backchannels"] >= 0.05:
        notes.append(f"{evidence['backchannels']:.0%} are short replies (speaker turns)")
    if evidence["imperatives"] >= 0.1:
        notes.append(f"{evidence['imperatives']:.0%} are instructions")
    for label in CUES:
        if evidence[f"{label}_phrases"] >= 2:
            notes.append(f"{evidence[f'{label}_phrases']} {label}-style phrases")
    if "title_cue" in evidence:
        notes.append(f"the title reads like a {evidence['title_cue']}")
    return notes


@lru_cache(maxsize=1)
def _description_vectors() -> np.ndarray:
    return embed([d for label in _DESCRIPTIONS for d in _DESCRIPTIONS[label]])


def _chunks(sentences: list[Sentence], words_per_chunk: int = 80,
            max_chunks: int = 48) -> list[str]:
    """Sentence runs of about words_per_chunk words (MiniLM reads ~200 words at most),
    evenly sampled down to max_chunks so long videos cost no more than short ones."""
    chunks: list[str] = []
    current: list[str] = []
    count = 0
    for s in sentences:
        current.append(s.text)
        count += len(s.words)
        if count >= words_per_chunk:
            chunks.append(" ".join(current))
            current, count = [], 0
    if current:
        chunks.append(" ".join(current))
    if len(chunks) > max_chunks:
        chunks = [chunks[int(k)] for k in np.linspace(0, len(chunks) - 1, max_chunks)]
    return chunks


def classify(sentences: list[Sentence], title: str | None, language: str,
             analyzer: str = "offline") -> Classification:
    if not sentences:
        return Classification("other", 0.0, "Empty transcript.", [], language, analyzer)
    chunks = _chunks(sentences)
    doc = unit(embed(chunks).mean(axis=0))
    labels = list(_DESCRIPTIONS)
    per_label = np.split(_description_vectors() @ doc,
                         np.cumsum([len(_DESCRIPTIONS[x]) for x in labels])[:-1])
    similarity = {label: float(np.sort(s)[-2:].mean())  # best two descriptions
                  for label, s in zip(labels, per_label)}
    strengths, evidence = _cue_strengths(sentences, title)
    logits = np.array([similarity[x] / SIMILARITY_TEMPERATURE + CUE_WEIGHT * strengths[x]
                       for x in labels])
    probs = np.exp(logits - logits.max())
    probs /= probs.sum()
    best = int(np.argmax(probs))
    confidence = float(probs[best])
    runner_up = labels[int(np.argsort(probs)[-2])]
    rationale = (f"Classified as {labels[best]} (description similarity "
                 f"{similarity[labels[best]]:.2f}; runner-up {runner_up}, "
                 f"{similarity[runner_up]:.2f}).")
    notes = _describe_cues(evidence)
    if notes:
        rationale += " Cues: " + "; ".join(notes) + "."
    if not (language or "").startswith("en"):
        # The embedding model and the cue phrases are English-only.
        confidence *= 0.6
        rationale += f" Transcript language is {language!r}; cues are English."
    return Classification(
        labels[best], round(confidence, 3), rationale, topics(chunks), language, analyzer,
        raw={"similarity": {k: round(v, 4) for k, v in similarity.items()},
             "cue_strength": {k: round(v, 3) for k, v in strengths.items()},
             "probabilities": {x: round(float(p), 4) for x, p in zip(labels, probs)},
             "cues": evidence, "model": MODEL_NAME})
