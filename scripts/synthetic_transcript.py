"""Transcripts built from text with known timings, for analyzer tests and the clip
evaluation: words at WORD_S each, a short pause after every sentence, and Whisper-like
segments of a fixed number of words that ignore sentence ends."""
from __future__ import annotations



from server.core.model import Segment, Transcript, Word

WORD_S = 0.4          # 2.5 words per second
SENTENCE_PAUSE_S = 0.5


def make_transcript(paragraphs: list[list[str]], words_per_segment: int = 18) -> Transcript:
    words: list[Word] = []
    t = 0.0
    for paragraph in paragraphs:
        for sentence in paragraph:
            for token in sentence.split():
                words.append(Word(round(t, 2), round(t + WORD_S * 0.8, 2), " " + token))
                t += WORD_S
            t += SENTENCE_PAUSE_S
    segments = [Segment(c[0].start, c[-1].end, "".join(w.word for w in c).strip(), c)
                for c in (words[k:k + words_per_segment]
                          for k in range(0, len(words), words_per_segment))]
    return Transcript("en", 0.99, round(t, 2), "synthetic", "none", segments)
