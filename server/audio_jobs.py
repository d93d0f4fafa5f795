"""Stand-alone speech enhancement jobs (POST /public/audio/enhance).

A job is a folder under DATA_DIR/audio/<token>/ holding the upload, then either the
enhanced WAV or an error; the folder is its state, so any web process can answer for
it. Jobs run one at a time in a background thread of the process that accepted them."""
from __future__ import annotations

import json
import logging
import re
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from server.core.failures import StepError

log = logging.getLogger(__name__)

_RUNNER = ThreadPoolExecutor(max_workers=1, thread_name_prefix="audio-enhance")
TOKEN_RE = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
# A job still unfinished after this long died with its process.
STALE_AFTER_S = 3600.0


def job_dir(data_dir: Path, token: str) -> Path:
    return data_dir / "audio" / token


def start(folder: Path, upload: Path, threads: int) -> None:
    (folder / "started").write_text(str(time.time()))
    _RUNNER.submit(_process, folder, upload, threads)


def _process(folder: Path, upload: Path, threads: int) -> None:
    # Imported here: numpy, scipy and RNNoise would slow every web process's start.
    import numpy as np
    import soundfile

    from server.media import loudness
    from server.media.enhance import denoise
    try:
        decoded = folder / "decoded.wav"
        loudness.decode(["-i", str(upload)], decoded, channels=1)
        samples, rate = soundfile.read(str(decoded), dtype="int16")
        cleaned = np.clip(denoise(samples.astype(np.float32), threads or None), -32768, 32767)
        part = folder / "enhanced.part.wav"
        soundfile.write(str(part), cleaned.astype(np.int16), rate, subtype="PCM_16")
        part.rename(folder / "enhanced.wav")          # appears complete or not at all
        decoded.unlink(missing_ok=True)
        upload.unlink(missing_ok=True)
    except StepError as e:
        (folder / "error.json").write_text(json.dumps({"error": str(e)}))
    except Exception:
        log.exception("audio enhancement failed")
        (folder / "error.json").write_text(json.dumps({"error": "enhancement failed"}))


def state(folder: Path) -> tuple[str, str | None]:
    """("done", None), ("failed", message) or ("processing", None); ("unknown", None) if
    there is no such job."""
    if (folder / "enhanced.wav").exists():
        return "done", None
    if (folder / "error.json").exists():
        return "failed", json.loads((folder / "error.json").read_text())["error"]
    started = folder / "started"
    if not started.exists():
        return "unknown", None
    if time.time() - float(started.read_text()) > STALE_AFTER_S:
        return "failed", "processing was interrupted; submit the file again"
    return "processing", None
