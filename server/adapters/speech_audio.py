"""The audio Whisper hears: the audio track that holds the speech, decoded to 16 kHz mono,
and where in it someone speaks (Silero VAD, the model faster-whisper ships).

A file can carry several audio tracks (a silent default and a commentary, one dub per
language). With one track there is nothing to choose. With several, every track is decoded
in one pass over the file, and the track with speech is taken: the tracks whose speech
comes to at least half of the most any track has are candidates (a music track with a
few false detections is not), the default-disposition track first among them, then the
loudest. With no speech anywhere, the first default track stays, and the transcript is
empty.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

import av
import numpy as np

from server.core.failures import fatal
from server.core.speech import Interval, VadRule

log = logging.getLogger(__name__)

SAMPLE_RATE = 16_000
VAD_RULE = VadRule(pad_s=0.4, min_silence_s=1.0)
MAX_STRETCH_S = 30.0          # VAD splits longer speech, so a stretch fits Whisper's window
MIN_TRACK_SPEECH_S = 1.0      # less than this is no speech


@dataclass
class Track:
    index: int                        # among the file's audio streams, from 0
    default: bool
    language: str | None              # the stream's language tag, when it has one
    title: str | None
    samples: np.ndarray = field(repr=False)
    speech: list[Interval] = field(default_factory=list)

    @property
    def speech_s(self) -> float:
        return sum(e - s for s, e in self.speech)

    @property
    def loudness_db(self) -> float:
        rms = float(np.sqrt(np.mean(np.square(self.samples, dtype=np.float64)))) if self.samples.size else 0.0
        return 20 * np.log10(max(rms, 1e-9))


@dataclass
class SpeechAudio:
    samples: np.ndarray               # float32, 16 kHz mono
    speech: list[Interval]            # voice activity, seconds, sorted
    track: dict                       # what the status says about the track used

    @property
    def duration_s(self) -> float:
        return len(self.samples) / SAMPLE_RATE

    def cut(self, start_s: float, end_s: float) -> np.ndarray:
        return self.samples[int(start_s * SAMPLE_RATE):int(end_s * SAMPLE_RATE)]


def voice_activity(samples: np.ndarray) -> list[Interval]:
    from faster_whisper.vad import VadOptions, get_speech_timestamps
    if samples.size == 0:
        return []
    options = VadOptions(min_silence_duration_ms=int(VAD_RULE.min_silence_s * 1000),
                         speech_pad_ms=int(VAD_RULE.pad_s * 1000),
                         max_speech_duration_s=MAX_STRETCH_S)
    return [(float(c["start"]) / SAMPLE_RATE, float(c["end"]) / SAMPLE_RATE)
            for c in get_speech_timestamps(samples, options, sampling_rate=SAMPLE_RATE)]


def decode_tracks(media: Path) -> list[Track]:
    """Every audio stream as 16 kHz mono float32, in one pass over the file. Undecodable
    packets are skipped (a damaged frame costs its few milliseconds, not the file)."""
    try:
        with av.open(str(media), metadata_errors="ignore") as container:
            streams = list(container.streams.audio)
            if not streams:
                raise fatal("not_a_video", "the file has no audio stream, so there is no speech to clip")
            resamplers = {s.index: av.AudioResampler(format="s16", layout="mono", rate=SAMPLE_RATE)
                          for s in streams}
            chunks: dict[int, list[np.ndarray]] = {s.index: [] for s in streams}

            def keep(index: int, frames) -> None:
                chunks[index].extend(f.to_ndarray().reshape(-1) for f in frames)

            for packet in container.demux(streams):
                try:
                    for frame in packet.decode():
                        if isinstance(frame, av.AudioFrame):
                            keep(packet.stream.index, resamplers[packet.stream.index].resample(frame))
                except av.error.InvalidDataError:
                    continue
            for index, resampler in resamplers.items():
                keep(index, resampler.resample(None))   # what the resampler still holds
            described = [(s.index, bool(s.disposition & av.stream.Disposition.default),
                          _tag(s.metadata.get("language")), s.metadata.get("title")) for s in streams]
    except av.error.FFmpegError as e:
        raise fatal("corrupt_media", f"the audio could not be decoded: {e}") from e
    tracks = []
    for n, (index, default, language, title) in enumerate(described):
        pcm = np.concatenate(chunks[index]) if chunks[index] else np.zeros(0, np.int16)
        tracks.append(Track(n, default, language, title, pcm.astype(np.float32) / 32768.0))
    return tracks


def _tag(language: str | None) -> str | None:
    return None if language in (None, "", "und") else language   # "und": undetermined


def choose(tracks: list[Track]) -> tuple[Track, str]:
    """The track with speech (see the module docstring), and why it was chosen."""
    if len(tracks) == 1:
        return tracks[0], "the only audio track"
    most = max(t.speech_s for t in tracks)
    candidates = [t for t in tracks if t.speech_s >= max(MIN_TRACK_SPEECH_S, 0.5 * most)]
    first_default = next((t for t in tracks if t.default), tracks[0])
    if not candidates:
        return first_default, "no audio track has speech"
    defaults = [t for t in candidates if t.default]
    if defaults:
        return defaults[0], "the default audio track, which has speech"
    pick = max(candidates, key=lambda t: t.loudness_db)
    return pick, (f"the loudest audio track with speech; the default track ({first_default.index}) "
                  f"has {first_default.speech_s:.0f} s of speech")


def load(media: Path) -> SpeechAudio:
    tracks = decode_tracks(media)
    for t in tracks:
        t.speech = voice_activity(t.samples)
    track, reason = choose(tracks)
    if len(tracks) > 1:
        log.info("audio track %d of %d chosen: %s", track.index, len(tracks), reason)
    view = {"index": track.index, "count": len(tracks), "reason": reason,
            "language": track.language, "title": track.title}
    return SpeechAudio(track.samples, track.speech, view)
