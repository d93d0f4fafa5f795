"""What a person reads about a clip: a headline, and the reason it was picked.

The headline comes from the clip's own words: a question the clip asks and answers, or
else its most representative sentence (closest to the clip's meaning, carrying its key
phrases, transcribed with confidence), shortened at a clause boundary when it is long.
It never runs past TITLE_MAX characters, never stops mid-word and never ends in "…"; the
clip's key phrases are the fallback. The reason names what the clip is about and the
signals behind its score, quoting the clip, so two clips of one video do not share one.
"""
from __future__ import annotations

import re

import numpy as np

from server.analysis.embeddings import unit
from server.analysis.score import CONNECTIVES, DANGLING, Assessment, words_of
from server.pipeline.sentences import Sentence

TITLE_MAX = 70
TITLE_PREFERRED = 60
QUOTE_MAX = 60
MIN_TITLE_WORDS = 4

# Fillers a headline drops from the front of a spoken sentence.
_LEADING = re.compile(r"^(?:(?:so|and|but|well|now|okay|ok|yeah|um|uh|then|also|right|"
                      r"look|see|anyway)\b[,.]?\s+)+", re.I)
# Where a long sentence may be cut and still read as a phrase.
_CLAUSE = re.compile(r"(?:,|;|:|\s[-–—])\s+|\s+(?=(?:which|because|while|whereas|although|"
                     r"so that|and|but|until|when|where)\s)")


def fit_title(text: str, limit: int = TITLE_MAX) -> str:
    """`text` as a headline: leading fillers dropped, capitalised, no closing full stop,
    and if too long, its longest opening run of clauses that fits (preferring
    TITLE_PREFERRED), else its longest run of whole words. Never ends in an ellipsis, a
    comma or a dangling "and"."""
    return _fit(text, limit)[0]


def _fit(text: str, limit: int = TITLE_MAX) -> tuple[str, bool]:
    """fit_title's headline, and whether it reads as a phrase: the whole sentence or a run
    of its clauses (False: cut between two words that belong together)."""
    phrase = True
    text = _LEADING.sub("", " ".join(text.split())).strip()
    text = re.sub(r"(?:\.\.\.|…)+$", "", text).rstrip(" ,;:-–—.")
    if len(text) > limit:
        pieces = _CLAUSE.split(text)
        prefixes = []
        for k in range(1, len(pieces) + 1):
            head = _join_clauses(text, pieces[:k])
            if head and len(head) <= limit:
                prefixes.append(head)
        good = [p for p in prefixes if len(p.split()) >= MIN_TITLE_WORDS]
        short = [p for p in good if len(p) <= TITLE_PREFERRED]
        if short or good:
            text = (short or good)[-1]
        else:
            text, phrase = text[:limit + 1].rsplit(" ", 1)[0], False
        text = _drop_dangling_end(text)
    return text[:1].upper() + text[1:], phrase


def _drop_dangling_end(text: str) -> str:
    """Without the function words a cut leaves at the end ("... until it")."""
    from server.analysis.terms import stop_words
    words = text.rstrip(" ,;:-–—").split(" ")
    while len(words) > MIN_TITLE_WORDS and words[-1].lower().strip(",;:") in stop_words():
        words.pop()
    return " ".join(words).rstrip(" ,;:-–—")


def _join_clauses(text: str, pieces: list[str]) -> str:
    """The opening of `text` that holds `pieces` (the separators kept as written)."""
    end = 0
    for piece in pieces:
        end = text.index(piece, end) + len(piece)
    return text[:end].rstrip(" ,;:-–—")


def headline(sentences: list[Sentence], vectors: np.ndarray, terms: list[str],
             assessment: Assessment, taken: set[str]) -> str:
    """The clip's title, different from every title in `taken` (earlier clips')."""
    options: list[str] = []
    question = assessment.evidence.get("question")
    if isinstance(question, str) and assessment.signals.get("question_answer", 0) >= 0.5:
        options.append(question)
    options += [sentences[k].text for k in _representative(sentences, vectors, terms)]
    fitted = [_fit(option) for option in options]
    # A sentence that fits whole, or at a clause, before one cut between two words: "The
    # scientists who watch volcanoes are listening for those early" reads as cut off.
    for phrases_only in (True, False):
        for title, phrase in fitted:
            if (phrase or not phrases_only) and len(title.split()) >= MIN_TITLE_WORDS \
                    and title.lower() not in taken:
                return title
    label = fit_title(" and ".join(terms[:2])) if terms else fit_title(sentences[0].text)
    return label if label.lower() not in taken else fit_title(" ".join(terms) or label)


def _representative(sentences: list[Sentence], vectors: np.ndarray,
                    terms: list[str]) -> list[int]:
    """Sentence indices, best headline material first: close to the clip's centroid, holding
    its key phrases, heard clearly (Whisper's word probabilities), standing on its own."""
    centre = unit(vectors.mean(axis=0))
    term_words = {w for t in terms for w in t.split()}
    ranked = []
    for k, s in enumerate(sentences):
        words = words_of(_LEADING.sub("", s.text))
        if len(words) < MIN_TITLE_WORDS:
            continue
        value = float(vectors[k] @ centre)
        value += 0.1 * len(term_words & set(words))
        # One word Whisper was unsure of is enough to misspell a headline.
        value -= 0.5 * (1.0 - min((w.probability for w in s.words), default=1.0))
        if words[0] in DANGLING or words[0] in CONNECTIVES:
            value -= 0.15
        ranked.append((value, k))
    return [k for _, k in sorted(ranked, reverse=True)]


def reason(terms: list[str], assessment: Assessment) -> str:
    """What the clip is about and what made it score, in one sentence."""
    signals, evidence = assessment.signals, assessment.evidence
    about = _about(terms)
    found: list[str] = []
    if signals.get("question_answer", 0) >= 0.5 and "question" in evidence:
        found.append(f'answers the question "{_quote(evidence["question"])}"')
    if signals.get("concrete", 0) >= 0.5:
        figures, names = evidence.get("figures") or [], evidence.get("names") or []
        if figures:
            found.append("gives figures (" + ", ".join(figures) + ")")
        elif names:
            found.append("names " + _and(names))
        else:
            found.append("makes definite claims")
    if signals.get("story", 0) >= 0.5 and "turn" in evidence:
        found.append(f'tells a story that turns at "{_quote(evidence["turn"], trim=False)}"')
    if signals.get("voice", 0) >= 0.5:
        louder, faster = evidence.get("louder"), evidence.get("faster")
        if louder:
            found.append(f'the voice rises {louder["db"]:.0f} dB at "{_quote(louder["sentence"])}"')
        elif faster:
            found.append(f'the pace quickens at "{_quote(faster["sentence"])}"')
    if signals.get("reaction", 0) >= 1.0 and "reaction" in evidence:
        event = evidence["reaction"]
        minutes, seconds = divmod(int(event["at_s"]), 60)
        what = "laughter" if event["kind"] == "laughter" else "applause"
        found.append(f"{what} at {minutes}:{seconds:02d}")
    if not found:
        found.append(_structure(assessment))
    return f"About {about}: {_and(found)}."


def _about(terms: list[str]) -> str:
    return _and(terms[:2]) if terms else "one subject throughout"


def _structure(assessment: Assessment) -> str:
    """For a clip with no particular hook: what makes it sound on its own."""
    s, evidence = assessment.signals, assessment.evidence
    parts = []
    if s.get("cohesion", 0) >= 0.5:
        parts.append(f"stays on its subject (cohesion {evidence.get('cohesion', 0):.2f})")
    if s.get("opening", 0) >= 1.0:
        parts.append("needs no earlier context")
    if s.get("density", 0) >= 0.5:
        parts.append(f"{evidence.get('words_per_s', 0):.1f} words a second")
    return _and(parts) if parts else "the best remaining passage, though no signal stood out"


def _quote(text: str, trim: bool = True) -> str:
    """A sentence short enough to quote: its first clause, or its first words; `trim` drops
    the fillers in front ("So, why ...")."""
    text = " ".join(text.split()).rstrip(".")
    if trim:
        text = _LEADING.sub("", text)
    text = text[:1].upper() + text[1:]
    if len(text) <= QUOTE_MAX:
        return text
    first = _CLAUSE.split(text)[0]
    if len(first) <= QUOTE_MAX and len(first.split()) >= 3:
        return first + " …"
    return text[:QUOTE_MAX].rsplit(" ", 1)[0] + " …"


def _and(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def unique_reasons(reasons: list[str], hooks: list[str]) -> list[str]:
    """Reasons made distinct: a repeated one also quotes how its clip opens."""
    seen: set[str] = set()
    out = []
    for text, hook in zip(reasons, hooks):
        if text in seen:
            text = text[:-1] + f'; it opens with "{_quote(hook)}".'
        seen.add(text)
        out.append(text)
    return out
