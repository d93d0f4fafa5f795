"""Transcription with OpenAI's reference `openai-whisper` package (PyTorch).

`model` is a checkpoint path or an openai-whisper model name. Names are downloaded by
`whisper.load_model` into DATA_DIR/models/openai-whisper on first use, except the two we
ship: "tiny.en" and "base" are built from the packaged CTranslate2 models
(`whisper_models.py`) by `ct2_to_openai_whisper`, so the engine also runs offline.
"""
from __future__ import annotations

import importlib
import subprocess
import threading
from pathlib import Path
from types import SimpleNamespace

import imageio_ffmpeg
import numpy as np
import torch
import tqdm
import whisper

from server.adapters.ct2_to_openai_whisper import convert, load
from server.adapters.whisper_models import PACKAGED, resolve_ct2_model
from server.core.model import Progress, Segment, Transcript, Word

SAMPLE_RATE = whisper.audio.SAMPLE_RATE  # 16 kHz mono is what Whisper's front end expects

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


_transcribe_module.tqdm = SimpleNamespace(tqdm=_bar)  # type: ignore[attr-defined]


def decode_audio(media: Path) -> np.ndarray:
    """16 kHz mono float32 samples, decoded the way whisper.load_audio does it but with the
    ffmpeg binary imageio-ffmpeg ships, so no system ffmpeg has to be on PATH."""
    cmd = [imageio_ffmpeg.get_ffmpeg_exe(), "-nostdin", "-threads", "0", "-i", str(media),
           "-vn", "-f", "s16le", "-ac", "1", "-acodec", "pcm_s16le", "-ar", str(SAMPLE_RATE), "-"]
    proc = subprocess.run(cmd, capture_output=True)
    if proc.returncode != 0:
        raise RuntimeError(f"ffmpeg could not decode {media}: {proc.stderr.decode(errors='replace')[-500:]}")
    return np.frombuffer(proc.stdout, np.int16).astype(np.float32) / 32768.0


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

    def transcribe(self, media: Path, progress: Progress) -> Transcript:
        progress(0.0)
        model = self.load()
        audio = decode_audio(media)
        # Waiting for the model, keep reporting: it renews the job's lease and lets a
        # cancellation through.
        while not self._run_lock.acquire(timeout=5):
            progress(0.0)
        _reporting.report = progress
        try:
            language, probability = self.language, 1.0
            if language is None and model.is_multilingual:
                # Detected here because transcribe() keeps the probability to itself; it
                # looks at the same first 30 s.
                mel = whisper.log_mel_spectrogram(whisper.pad_or_trim(audio), model.dims.n_mels)
                _, probs = model.detect_language(mel.to(model.device))
                language = max(probs, key=probs.get)
                probability = float(probs[language])
            result = model.transcribe(
                audio, language=language or "en", word_timestamps=True,
                condition_on_previous_text=False,
                # One retry temperature: the default six-step ladder doubled the time and
                # kept looping on repeated speech.
                temperature=(0.0, 0.4), verbose=None, fp16=self.device == "cuda")
        finally:
            _reporting.report = None
            self._run_lock.release()
        segments = [
            Segment(float(s["start"]), float(s["end"]), s["text"].strip(),
                    [Word(float(w["start"]), float(w["end"]), w["word"], float(w["probability"]))
                     for w in s.get("words", [])])
            for s in result["segments"]]
        progress(1.0)
        return Transcript(result["language"], probability, len(audio) / SAMPLE_RATE,
                          self.name, self.model, segments)
