"""The one step of an `audio_enhance` job: RNNoise speech enhancement of an uploaded WAV,
FLAC or MP3, stored as a 16-bit WAV at the source's rate."""
from __future__ import annotations

import shutil

from server.core.media_types import content_type
from server.core.steps import Step
from server.core.stores import CheckpointWriter, Save
from server.pipeline.context import StepContext, StepImpl


def enhance_audio(ctx: StepContext) -> Save:
    # Imported here: numpy, scipy and RNNoise would slow every process's start.
    import numpy as np
    import soundfile

    from server.media import loudness
    from server.media.enhance import denoise
    s = ctx.services
    source = s.storage.local_path(ctx.job.payload["input_key"])
    ctx.workdir.mkdir(parents=True, exist_ok=True)
    try:
        decoded = ctx.workdir / "decoded.wav"
        loudness.decode(["-i", str(source)], decoded, channels=1)
        ctx.progress(0.2)
        samples, rate = soundfile.read(str(decoded), dtype="int16")
        cleaned = np.clip(denoise(samples.astype(np.float32), s.cfg.render_threads or None),
                          -32768, 32767)
        ctx.progress(0.9)
        out = ctx.workdir / "enhanced.wav"
        soundfile.write(str(out), cleaned.astype(np.int16), rate, subtype="PCM_16")
        size, duration = out.stat().st_size, len(cleaned) / rate
        key = f"audio/{ctx.job.token}/enhanced.wav"
        s.storage.put(key, out, content_type(key))
    finally:
        shutil.rmtree(ctx.workdir, ignore_errors=True)

    def save(w: CheckpointWriter) -> None:
        w.save_audio_output(job_id=ctx.job.id, storage_key=key, duration_s=duration, bytes=size)
    return save


STEPS: dict[Step, StepImpl] = {Step.ENHANCE_AUDIO: enhance_audio}
