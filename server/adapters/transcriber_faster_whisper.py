"""Transcription with faster-whisper (CTranslate2): the default engine."""
from __future__ import annotations

import logging
import os
import threading
from pathlib import Path

from server.adapters.whisper_models import resolve_ct2_model
from server.core.model import Progress, Segment, Transcript, Word

log = logging.getLogger(__name__)


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

    def transcribe(self, media: Path, progress: Progress) -> Transcript:
        model = self.load()
        options = dict(
            beam_size=self.beam_size,
            language=self.language,
            word_timestamps=True,
            # A bounded fallback: the default ladder of six temperatures doubled the time on
            # hard audio and loops on repeated speech; conditioning on previous text makes
            # those loops self-sustaining, so it is off.
            temperature=list(self.temperatures),
            condition_on_previous_text=False,
            vad_filter=True,                     # skip silence (model ships in the package)
            vad_parameters={"min_silence_duration_ms": 1000},
        )
        if self.batch_size > 0:
            # Batched decoding of VAD chunks: a large win on a GPU, about 1.2x on 2 CPU
            # cores, at the price of longer segments (word timings are unaffected).
            from faster_whisper import BatchedInferencePipeline
            segments_iter, info = BatchedInferencePipeline(model).transcribe(
                str(media), batch_size=self.batch_size, **options)
        else:
            segments_iter, info = model.transcribe(str(media), **options)
        duration = float(info.duration or 0.0)
        segments: list[Segment] = []
        for s in segments_iter:                  # decoding happens lazily, segment by segment
            words = [Word(round(w.start, 3), round(w.end, 3), w.word, round(w.probability, 3))
                     for w in (s.words or [])]
            segments.append(Segment(round(s.start, 3), round(s.end, 3), s.text.strip(), words))
            if duration:
                progress(min(s.end / duration, 0.999))
        return Transcript(language=info.language, language_probability=float(info.language_probability),
                          duration_s=duration, engine=self.name, model=self.model, segments=segments)
