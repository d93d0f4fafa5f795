"""What the tests share besides fixtures: paths, the internal token, and helpers."""
from __future__ import annotations

import shutil
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "scripts" / "samples" / "talk.mp4"
INTERNAL_TOKEN = "test-internal-token"
AUTH = {"Authorization": f"Bearer {INTERNAL_TOKEN}"}


def copy_to(media_dir: Path, src: Path, name: str | None = None) -> str:
    name = name or src.name
    shutil.copyfile(src, media_dir / name)
    return name
