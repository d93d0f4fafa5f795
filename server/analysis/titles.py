"""What a person reads about a clip: its title and the reason it was picked."""
from __future__ import annotations

_REASONS = {
    "self_contained": "stays on one topic, distinct from what comes before and after",
    "question_answer": "asks a question and answers it",
    "opening": "opens with a line that needs no earlier context",
    "density": "dense speech ({words_per_s:.1f} words/s)",
    "ending": "ends on a complete sentence",
}


def reason(signals: dict[str, float]) -> str:
    strong = [text.format(**signals) for name, text in _REASONS.items() if signals[name] >= 0.7]
    if not strong:
        return "Best remaining passage; no signal stood out."
    return (", ".join(strong[:-1]) + " and " + strong[-1] if len(strong) > 1
            else strong[0]).capitalize() + "."


def title(first_sentence: str, clean_opening: bool, terms: list[str]) -> str:
    """An opening sentence that stands on its own makes the best title (a question keeps
    its mark); otherwise the clip's key terms. At most 60 characters, cut between words."""
    if clean_opening or not terms:
        phrase = first_sentence if first_sentence.endswith("?") else first_sentence.rstrip(".!")
    else:
        phrase = ", ".join(terms[:-1]) + " and " + terms[-1] if len(terms) > 1 else terms[0]
    phrase = phrase[:1].upper() + phrase[1:]
    return phrase if len(phrase) <= 60 else phrase[:59].rsplit(" ", 1)[0].rstrip(",;:") + "…"
