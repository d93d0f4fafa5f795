"""Speech enhancement on its own: an uploaded WAV, FLAC or MP3 becomes a job of kind
`audio_enhance` in the same queue as videos (same claims, leases, retries, failure
causes, attempt history and metrics); its one step, `enhance_audio`, stores the cleaned
WAV as its checkpoint."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from server.core.failures import StepError
from server.core.stores import Row
from server.services import Services
from server.usecases import Refused
from server.core.media_types import content_type
from server.usecases.submit import new_token

SUFFIXES = (".wav", ".flac", ".mp3")


def submit(s: Services, path: Path, filename: str) -> str:
    """A received audio file: checked, stored, queued. Returns the job's token."""
    suffix = Path(filename).suffix.lower()
    if suffix not in SUFFIXES:
        raise Refused("unsupported", f"the file must be .wav, .flac or .mp3, not "
                                     f"{suffix or 'without an extension'}")
    try:
        info = s.prober.probe(path)
    except StepError as e:
        raise Refused("unsupported", f"the upload is not usable audio: {e}") from None
    if info.duration_s > s.cfg.max_duration_s:
        raise Refused("too_large", f"the audio lasts {info.duration_s:.0f} s; "
                                   f"the limit is {s.cfg.max_duration_s:.0f} s")
    token = new_token()
    key = f"audio/{token}/input{suffix}"
    s.storage.put(key, path, content_type(key))
    s.jobs.enqueue_audio(token, {"input_key": key}, s.cfg.max_attempts)
    return token


@dataclass
class AudioState:
    job: Row
    output: Path | None      # the cleaned WAV, once the job completed


def state(s: Services, token: str) -> AudioState:
    row = s.jobs.audio_job(token)
    if row is None:
        raise Refused("not_found", "no enhancement job with this token")
    output = s.storage.local_path(row["output_key"]) if row["output_key"] else None
    return AudioState(row, output)
