"""Transcription with OpenAI's reference `openai-whisper` package (PyTorch).

`model` is a checkpoint path or an openai-whisper model name. Names are downloaded by
`whisper.load_model` into DATA_DIR/models/openai-whisper on first use, except the two we
ship: "tiny.en" and "base" are built from the packaged CTranslate2 models
(`whisper_models.py`) by `ct2_to_openai_whisper`, so the engine also runs offline.
"""
from __future__ import annotations

import importlib
import threading
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import torch
import tqdm
import whisper

from server.adapters import speech_audio, speech_runs
from server.adapters.ct2_to_openai_whisper import convert, load
from server.adapters.whisper_models import PACKAGED, resolve_ct2_model
from server.core.model import Progress, Segment, Transcript, Word
from server.core.speech import Interval


# Progress. `model.transcribe` has no callback, but it advances a tqdm bar (disabled with
# verbose=None) by the frames it has finished after every 30 s window. We swap the `tqdm`
# name inside the whisper.transcribe module for a factory that hands a thread's own progress
# callback a bar-shaped reporter, and the real tqdm to every other caller. Besides live
# progress, this is how a cancelled job stops: the callback raises inside update().
_reporting = threading.local()
# (imported by name: `whisper.transcribe` is the function, which shadows its module)
_transcribe_module = importlib.import_module("whisper.transcribe")


class _Reporter:
    def __init__(self, total: int, report: Progress):
        self.total, self.done, self.report = max(total, 1), 0, report

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def update(self, n: int) -> None:
        self.done += n
        self.report(min(1.0, self.done / self.total))


def _bar(*args, **kwargs):
    report = getattr(_reporting, "report", None)
    return _Reporter(kwargs["total"], report) if report else tqdm.tqdm(*args, **kwargs)


vars(_transcribe_module)["tqdm"] = SimpleNamespace(tqdm=_bar)


class OpenAIWhisperTranscriber:
    name = "openai-whisper"

    def __init__(self, model: str, data_dir: Path, device: str = "auto", language: str | None = None):
        self.model = model
        self.data_dir = Path(data_dir)
        self.device = ("cuda" if torch.cuda.is_available() else "cpu") if device == "auto" else device
        self.language = language or None  # None: detect (English-only models are always "en")
        self._whisper: whisper.Whisper | None = None
        self._load_lock = threading.Lock()
        # openai-whisper decodes by hooking the model's modules (kv cache, attention capture
        # for word timing), so two transcriptions must not share a model at once.
        self._run_lock = threading.Lock()

    def _open(self) -> whisper.Whisper:
        root = self.data_dir / "models" / "openai-whisper"
        if self.model in PACKAGED:
            # Our conversion, cached where whisper.load_model would download the official file
            # (an official file already there loads too, with default word-timing heads).
            path = root / f"{self.model}.pt"
            if not path.exists():
                convert(Path(resolve_ct2_model(self.model, self.data_dir)), path)
        elif Path(self.model).is_file():
            path = Path(self.model)
        else:  # an official name: downloaded and checksummed by openai-whisper itself
            return whisper.load_model(self.model, device=self.device, download_root=str(root))
        return load(path, self.device)

    def load(self) -> whisper.Whisper:
        """Loads the model now (it otherwise loads on first use)."""
        with self._load_lock:  # one load even if two jobs start together
            if self._whisper is None:
                self._whisper = self._open()
            return self._whisper

    def transcribe(self, media: Path, progress: Progress, language: str | None = None) -> Transcript:
        """`language` forces one language (else the configured one, else detected per
        stretch of speech, `speech_runs`)."""
        progress(0.0)
        model = self.load()
        audio = speech_audio.load(media)
        # Waiting for the model, keep reporting: it renews the job's lease and lets a
        # cancellation through.
        while not self._run_lock.acquire(timeout=5):
            progress(0.0)
        try:
            result = speech_runs.transcribe(audio, _Engine(self, model), language or self.language,
                                            progress)
        finally:
            _reporting.report = None
            self._run_lock.release()
        progress(1.0)
        return result.transcript(audio, self.name, self.model)


class _Engine:
    """openai-whisper behind the `speech_runs.Engine` protocol (called under the run lock)."""

    def __init__(self, transcriber: OpenAIWhisperTranscriber, model: whisper.Whisper):
        self.t, self.model = transcriber, model
        self.multilingual = bool(model.is_multilingual)

    def detect(self, samples: np.ndarray) -> dict[str, float]:
        mel = whisper.log_mel_spectrogram(whisper.pad_or_trim(samples), self.model.dims.n_mels)
        _, probs = self.model.detect_language(mel.to(self.model.device))
        return {language: float(p) for language, p in probs.items()}

    def decode(self, samples: np.ndarray, language: str, windows: list[Interval],
               progress: Progress) -> list[Segment]:
        _reporting.report = progress
        result = self.model.transcribe(
            samples, language=language, word_timestamps=True, condition_on_previous_text=False,
            # One retry temperature: the default six-step ladder doubled the time and
            # kept looping on repeated speech.
            temperature=(0.0, 0.4), verbose=None, fp16=self.t.device == "cuda")
        return [Segment(float(s["start"]), float(s["end"]), s["text"].strip(),
                        [Word(float(w["start"]), float(w["end"]), w["word"], float(w["probability"]))
                         for w in s.get("words", [])])
                for s in result["segments"]]
