"""Key terms: the words and two-word phrases that set a passage apart from the rest of the
talk (TF-IDF over passages, stop words and spoken fillers removed)."""
from __future__ import annotations

import re
from functools import lru_cache

import numpy as np

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
def stop_words() -> frozenset[str]:
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS
    return ENGLISH_STOP_WORDS.union(_FILLERS)


def _terms(text: str) -> list[str]:
    """Words and adjacent-word bigrams, never across punctuation or a dropped stop word."""
    stop = stop_words()
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
    terms) and terms that repeat a word of one already picked, or its stem ("light" after
    "lighthouses")."""
    terms: list[str] = []
    for idx in np.argsort(-scores):
        if scores[idx] <= 0 or len(terms) >= count:
            break
        words = vocab[idx].split()
        if any(w.endswith("ly") for w in words):
            continue
        picked = [w for t in terms for w in t.split()]
        if any(a.startswith(b) or b.startswith(a) for a in words for b in picked):
            continue
        terms.append(vocab[idx])
    return terms


def key_terms(docs: list[str], per_doc: int = 3) -> list[list[str]]:
    """The terms that set each doc apart from the others."""
    vocab, weights = _term_weights(docs)
    return [_pick_terms(vocab, row, per_doc) for row in weights]


def closest_in_meaning(terms: list[str], vectors: np.ndarray, centre: np.ndarray,
                       count: int = 3) -> list[str]:
    """Of a passage's candidate terms (with their unit embeddings, `vectors`), those whose
    meaning is closest to the passage's (`centre`, its unit mean embedding), each also
    unlike the ones already picked (maximal marginal relevance): "compound interest" rather
    than "months"."""
    relevance = vectors @ centre
    picked: list[int] = []
    while len(picked) < min(count, len(terms)):
        def value(k: int) -> float:
            overlap = max((float(vectors[k] @ vectors[j]) for j in picked), default=0.0)
            return float(relevance[k]) - 0.5 * overlap
        picked.append(max((k for k in range(len(terms)) if k not in picked), key=value))
    return [terms[k] for k in picked]


def topics(docs: list[str], count: int = 5) -> list[str]:
    """The terms that weigh most across all docs together."""
    vocab, weights = _term_weights(docs)
    return _pick_terms(vocab, weights.sum(axis=0), count) if len(vocab) else []
