"""Transcription with faster-whisper (CTranslate2): the default engine. The audio track,
the stretches of speech and their languages are decided by `speech_audio` and
`speech_runs`; this module detects and decodes."""
from __future__ import annotations

import logging
import os
import threading
from pathlib import Path

import numpy as np

from server.adapters import speech_audio, speech_runs
from server.adapters.whisper_models import resolve_ct2_model
from server.core.model import Progress, Segment, Transcript, Word
from server.core.speech import Interval

log = logging.getLogger(__name__)

MIN_DETECT_FRAMES = 200        # 2 s of 10 ms frames: shorter input is padded with silence


def pick_device(device: str, compute_type: str) -> tuple[str, str]:
    """`auto` means CUDA when a GPU is visible; the compute type follows the device."""
    if device == "auto":
        import ctranslate2
        device = "cuda" if ctranslate2.get_cuda_device_count() > 0 else "cpu"
    if compute_type == "auto":
        # float16 on GPUs that have it (compute capability 7+), int8 on CPUs; whatever
        # this CTranslate2 build supports on the device otherwise.
        import ctranslate2
        supported = ctranslate2.get_supported_compute_types(device)
        wanted = ("float16", "int8_float16", "float32") if device == "cuda" else ("int8", "float32")
        compute_type = next((t for t in wanted if t in supported), "default")
    return device, compute_type


class FasterWhisperTranscriber:
    name = "faster-whisper"

    def __init__(self, model: str, data_dir: Path, *, device: str = "auto",
                 compute_type: str = "auto", threads: int = 0, beam_size: int = 1,
                 language: str = "", temperatures: tuple[float, ...] = (0.0,), batch_size: int = 0):
        self.model = model
        self.data_dir = data_dir
        self.device, self.compute_type = pick_device(device, compute_type)
        self.threads = threads or os.cpu_count() or 1
        self.beam_size = beam_size
        self.language = language or None
        self.temperatures = temperatures
        self.batch_size = batch_size
        self._model = None
        self._lock = threading.Lock()

    def load(self):
        """Loads the model now (it otherwise loads on first use)."""
        with self._lock:
            if self._model is None:
                from faster_whisper import WhisperModel
                path = resolve_ct2_model(self.model, self.data_dir)
                log.info("loading whisper model %s on %s (%s)", path, self.device, self.compute_type)
                self._model = WhisperModel(path, device=self.device, compute_type=self.compute_type,
                                           cpu_threads=self.threads)
        return self._model

    def transcribe(self, media: Path, progress: Progress, language: str | None = None) -> Transcript:
        """`language` forces one language (else WHISPER_LANGUAGE, else detected per stretch)."""
        audio = speech_audio.load(media)
        progress(0.0)
        result = speech_runs.transcribe(audio, _Engine(self, self.load()),
                                        language or self.language, progress)
        return result.transcript(audio, self.name, self.model)


class _Engine:
    """faster-whisper behind the `speech_runs.Engine` protocol."""

    def __init__(self, transcriber: FasterWhisperTranscriber, model):
        self.t, self.model = transcriber, model
        self.multilingual = bool(model.model.is_multilingual)

    def detect(self, samples: np.ndarray) -> dict[str, float]:
        # The encoder gets the speech as it is, not padded to 30 s (faster-whisper's own
        # detect_language pads): on 10 s it costs a seventh of a 30 s pass and detects as
        # well (CTranslate2 takes any length up to 30 s).
        import ctranslate2
        from faster_whisper.audio import pad_or_trim
        features = self.model.feature_extractor(samples)[..., :-1]
        features = pad_or_trim(features, max(MIN_DETECT_FRAMES, min(features.shape[-1], 3000)))
        encoded = self.model.model.encode(
            ctranslate2.StorageView.from_array(np.ascontiguousarray(features[None])), to_cpu=False)
        return {token[2:-2]: float(p)                   # "<|de|>" -> "de"
                for token, p in self.model.model.detect_language(encoded)[0]}

    def decode(self, samples: np.ndarray, language: str, windows: list[Interval],
               progress: Progress) -> list[Segment]:
        options = dict(
            language=language,
            beam_size=self.t.beam_size,
            word_timestamps=True,
            # A bounded fallback: the default ladder of six temperatures doubled the time on
            # hard audio and loops on repeated speech; conditioning on previous text makes
            # those loops self-sustaining, so it is off.
            temperature=list(self.t.temperatures),
            condition_on_previous_text=False,
            vad_filter=False,                 # the samples are speech already (speech_audio)
        )
        if self.t.batch_size > 0:
            # Batched decoding of the 30 s windows: one encoder and decoder pass for many.
            # Without timestamp tokens (one segment per window, cut into sentences by
            # speech_runs): with them, the words after a window's last timestamp were lost
            # (coverage 0.95 against 0.998, twice the word errors on a test talk).
            from faster_whisper import BatchedInferencePipeline
            pipeline = BatchedInferencePipeline(self.model)
            segments_iter, _ = pipeline.transcribe(
                samples, batch_size=self.t.batch_size,
                clip_timestamps=[{"start": s, "end": e} for s, e in windows],
                without_timestamps=True, **options)
        else:
            segments_iter, _ = self.model.transcribe(samples, **options)
        length = len(samples) / speech_audio.SAMPLE_RATE
        segments: list[Segment] = []
        for s in segments_iter:                 # decoding happens lazily, segment by segment
            words = [Word(w.start, w.end, w.word, round(w.probability, 3)) for w in (s.words or [])]
            segments.append(Segment(s.start, s.end, s.text.strip(), words))
            progress(min(float(s.end) / length, 1.0))
        return segments
