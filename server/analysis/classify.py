"""Content classification: what kind of video this is (podcast, lecture, tutorial, news,
commentary, other).

Each sentence is compared with typical lines of each format (sentence embeddings), which
hears the format more than the subject; cue phrases ("according to", ...) and the shape of
the sentences (questions and short replies, instructions) add to a format's margin."""
from __future__ import annotations

import re
from functools import lru_cache

import numpy as np

from server.analysis.embeddings import MODEL_NAME, embed
from server.analysis.terms import topics
from server.core.model import CONTENT_TYPES, Classification
from server.pipeline.sentences import Sentence

# What each format sounds like, as lines someone might say in it. A transcript's sentences
# are compared with these one by one, so the comparison hears the format (questions and
# replies, instructions, reports, opinions, explanations) more than the subject, which a
# whole-transcript average would be dominated by. Written for this purpose on subjects that
# the labelled passages in scripts/samples/passages/ do not cover.
_PROTOTYPES = {
    "podcast": [
        "So how did you end up doing this for a living?",
        "That's such a good story, what happened next?",
        "Oh wow, I had no idea.",
        "Yeah, exactly, that's what I keep telling people.",
        "Wait, really?",
        "I remember sitting in my car after that meeting, just laughing.",
        "Do you still keep in touch with him?",
        "It's been a pleasure talking with you.",
        "Ha, no, that was my brother's idea, not mine.",
        "How long did it take before it started paying the bills?",
    ],
    "lecture": [
        "This process works because the molecules move from high concentration to low.",
        "The key idea here is that the total amount stays constant.",
        "Historians divide this period into three phases.",
        "We can describe the motion with a simple model.",
        "Notice that the curve flattens as the value grows.",
        "The structure of the cell explains its function.",
        "In the last session we saw how trade routes shaped these cities.",
        "This principle applies to every system of this kind.",
        "The result depends on two quantities, pressure and volume.",
        "Understanding this mechanism helps us predict what happens next.",
    ],
    "tutorial": [
        "Unscrew the drain plug and let the old oil run into the pan.",
        "Grab a medium needle and cast on twenty stitches.",
        "Wrap the cable twice around the post and tighten the nut.",
        "Once the glue is dry, trim the edges with a sharp blade.",
        "Plug the device in and wait for the light to turn green.",
        "Sprinkle the flour over the butter and whisk until smooth.",
        "Now slide the panel back into place until it clicks.",
        "Leave it to rest for ten minutes before serving.",
        "Fill the tank with water up to the marked line.",
        "If the screen stays blank, hold the button down for five seconds.",
    ],
    "news": [
        "A powerful earthquake struck the coastal region early this morning, damaging hundreds "
        "of buildings.",
        "The court ruled that the merger could go ahead under strict conditions.",
        "Rescue teams are still searching for survivors in the rubble.",
        "The minister resigned hours after the documents were published.",
        "Prices for basic groceries rose for the fourth month in a row.",
        "Three people were taken to hospital after the collision on the motorway.",
        "The company said it would appeal against the fine.",
        "Protesters gathered outside parliament as the vote took place.",
        "The agreement was signed in Geneva after months of talks.",
        "Investigators have not yet identified the cause of the crash.",
    ],
    "commentary": [
        "Frankly, this whole plan is a mistake, and everyone involved should admit it.",
        "I'm sick of hearing that nothing can be done.",
        "This is exactly the kind of decision that makes people lose faith in politics.",
        "Nobody asked for this, and nobody will miss it when it's gone.",
        "Let's be clear about what is really going on here.",
        "I used to defend the app, but I can't any more.",
        "It is a shameful waste of money.",
        "The critics are right, and it's time the owners listened.",
        "If that sounds harsh, good.",
        "What bothers me most is how predictable all of this was.",
    ],
    "other": [
        "Good morning guys, so today I'm taking you along to the market with me.",
        "Okay we just got to the hotel and the view is insane.",
        "And he shoots, and it's saved by the keeper!",
        "Into the final lap now, and the leader is pulling away.",
        "Oh baby, baby, won't you stay with me tonight.",
        "La la la, dancing in the summer rain.",
        "Chat, look at this, I just found a legendary sword.",
        "Don't forget to like and subscribe, see you in the next one.",
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
# instructions; so are sentences whose first word looks like a bare verb followed by its
# object ("Loosen the lever", "Crack three eggs"): see is_instruction.
IMPERATIVES = set(("click install open type run select go add press download copy paste "
                    "create drag choose enter set cut mix take put remove check save turn "
                    "use pour stir bake heat place insert connect tap scroll let's").split())
SEQUENCERS = {"now", "then", "next", "first", "second", "finally", "so", "and", "just", "also"}
_BACKCHANNELS = {"yeah", "yes", "right", "exactly", "sure", "totally", "wow", "absolutely",
                 "mm-hmm", "uh-huh", "true", "okay", "no", "really", "interesting"}

# Words that cannot open an instruction, and words that follow a verb as its object.
_NOT_VERBS = set(("the a an this that these those my your our his her their its some any "
                  "every each no all both to of in on at by for with from into onto over "
                  "under about as and or but if when while because so since then once after "
                  "before until whenever i you we he she they it there here what how why who "
                  "where which").split())
_OBJECTS = set(("the a an this that these those my your our his her their its some any "
                "every each all both it them him me us one two three four five six seven "
                "eight nine ten").split())

SIMILARITY_TEMPERATURE = 0.05  # a mean-cosine lead of 0.05 over a rival makes it e times likelier
CUE_WEIGHT = 3.0               # logit added by a saturated cue
CUE_SATURATION = 0.4           # cue hits per sentence that count as "fully present"
MAX_SENTENCES = 160            # sentences compared with the prototypes, evenly sampled


def words_of(text: str) -> list[str]:
    return re.findall(r"[a-z][a-z'-]*", text.lower())


def _cue_strengths(sentences: list[Sentence],
                   title: str | None) -> tuple[dict[str, float], dict[str, object]]:
    """Per-label cue strength in 0..1, and the evidence behind each, for the rationale."""
    n = len(sentences)
    lowered = [s.text.lower() for s in sentences]
    hits = {label: sum(len(p.findall(t)) for t in lowered) for label, p in _CUE_PATTERNS.items()}
    questions = sum(s.text.rstrip("\"')").endswith("?") for s in sentences)
    backchannels = sum(0 < len(w) <= 3 and all(x in _BACKCHANNELS for x in w)
                       for w in map(words_of, lowered))
    imperatives = sum(is_instruction(words_of(t)) for t in lowered)
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


def _opening(words: list[str]) -> int:
    """Index of the first word after any "now", "then", "first", ..."""
    k = 0
    while k < len(words) - 1 and words[k] in SEQUENCERS:
        k += 1
    return k


def opening_word(words: list[str]) -> str:
    return words[_opening(words)] if words else ""


def is_instruction(words: list[str]) -> bool:
    """The sentence opens (after "now", "then", "first", ...) with a known instruction verb,
    or with a word that is neither a function word nor inflected (-s, -ed, -ing, -ly)
    followed by an object: "Loosen the lever", "Crack three eggs"."""
    if not words:
        return False
    k = _opening(words)
    if words[k] in IMPERATIVES:
        return True
    return (k + 1 < len(words) and words[k] not in _NOT_VERBS
            and not words[k].endswith(("s", "ed", "ing", "ly")) and words[k + 1] in _OBJECTS)


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
def _prototype_vectors() -> dict[str, np.ndarray]:
    return {label: embed(lines) for label, lines in _PROTOTYPES.items()}


def _format_similarity(sentences: list[Sentence]) -> dict[str, float]:
    """Per content type: how close the transcript's sentences come to its prototype lines
    (each sentence's best cosine, averaged over the sentences)."""
    if len(sentences) > MAX_SENTENCES:
        sentences = [sentences[int(k)] for k in np.linspace(0, len(sentences) - 1, MAX_SENTENCES)]
    vectors = embed([s.text for s in sentences])
    return {label: float((vectors @ protos.T).max(axis=1).mean())
            for label, protos in _prototype_vectors().items()}


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
    similarity = _format_similarity(sentences)
    labels = list(CONTENT_TYPES)
    strengths, evidence = _cue_strengths(sentences, title)
    logits = np.array([similarity[x] / SIMILARITY_TEMPERATURE + CUE_WEIGHT * strengths[x]
                       for x in labels])
    probs = np.exp(logits - logits.max())
    probs /= probs.sum()
    best = int(np.argmax(probs))
    confidence = float(probs[best])
    runner_up = labels[int(np.argsort(probs)[-2])]
    rationale = (f"Classified as {labels[best]} (similarity to its typical lines "
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
