"""Accuracy of the content-type classifier on labelled passages it was not built from.

The passages (scripts/samples/passages/) are our own prose: short podcasts, lectures,
tutorials, news reports and commentaries on varied subjects, written without the
classifier's cue phrases (a unit test keeps it so), so the score says how well it
generalises rather than whether it recognises its own vocabulary. `dev.txt` is the set
the classifier may be tuned on; `heldout.txt` is only measured.

Each passage becomes a synthetic transcript (scripts/synthetic_transcript.py) and goes
through the offline analyzer's classify; with OPENAI_API_KEY set, through the OpenAI
analyzer too. Prints per-set accuracy and the confusions.

Run: .venv/bin/python -m scripts.eval_classifier
"""
from __future__ import annotations

import argparse
import os
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from server.core.ports import Analyzer

PASSAGES = Path(__file__).resolve().parent / "samples" / "passages"
SETS = ("dev", "heldout")


@dataclass
class Passage:
    label: str
    title: str
    sentences: list[str]


def load_passages(name: str) -> list[Passage]:
    """A set's passages: `# label: title` lines, each followed by one sentence per line."""
    passages: list[Passage] = []
    for line in (PASSAGES / f"{name}.txt").read_text(encoding="utf-8").splitlines():
        if line.startswith("# "):
            label, _, title = line[2:].partition(":")
            passages.append(Passage(label.strip(), title.strip(), []))
        elif line.strip():
            passages[-1].sentences.append(line.strip())
    return passages


def evaluate(analyzer: Analyzer, passages: list[Passage]) -> tuple[float, Counter]:
    """(accuracy, Counter of (true, predicted) pairs that disagree)."""
    from scripts.synthetic_transcript import make_transcript
    confusions: Counter = Counter()
    right = 0
    for p in passages:
        got = analyzer.classify(make_transcript([p.sentences]), None).content_type
        right += got == p.label
        if got != p.label:
            confusions[(p.label, got)] += 1
    return right / len(passages), confusions


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.parse_args()
    from server.adapters.analyzer_offline import OfflineAnalyzer
    analyzers: dict[str, Analyzer] = {"offline": OfflineAnalyzer()}
    if os.environ.get("OPENAI_API_KEY"):
        from server.adapters.analyzer_openai import OpenAIAnalyzer
        from server.settings import Settings
        analyzers["openai"] = OpenAIAnalyzer(Settings())
    print(f"load average {os.getloadavg()[0]:.2f}")
    for name, analyzer in analyzers.items():
        for set_name in SETS:
            passages = load_passages(set_name)
            started = time.monotonic()
            accuracy, confusions = evaluate(analyzer, passages)
            wrong = ", ".join(f"{t}->{p} x{n}" for (t, p), n in sorted(confusions.items()))
            print(f"{name:<8} {set_name:<8} {accuracy:6.1%} of {len(passages)} passages "
                  f"({time.monotonic() - started:.1f} s)  {wrong or 'no confusions'}")


if __name__ == "__main__":
    main()
