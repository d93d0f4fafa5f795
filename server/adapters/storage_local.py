"""Storage on local disk under DATA_DIR/media; the API serves the files itself."""
from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Sequence


class LocalStorage:
    def __init__(self, root: Path, url_prefix: str = "/public/media"):
        self.root = root
        self.url_prefix = url_prefix
        root.mkdir(parents=True, exist_ok=True)

    def _path(self, key: str) -> Path:
        path = (self.root / key).resolve()
        if self.root.resolve() not in path.parents:
            raise ValueError(f"storage key escapes the storage root: {key!r}")
        return path

    def put(self, key: str, src: Path, content_type: str) -> None:
        dest = self._path(key)
        dest.parent.mkdir(parents=True, exist_ok=True)
        tmp = dest.with_name(dest.name + ".part")
        # A move is instant for multi-GB sources on the same disk (shutil copies across
        # disks); the final rename makes the object appear whole or not at all.
        shutil.move(str(src), tmp)
        os.replace(tmp, dest)

    def local_path(self, key: str) -> Path:
        path = self._path(key)
        if not path.exists():
            raise FileNotFoundError(key)
        return path

    def url(self, key: str) -> str:
        return f"{self.url_prefix}/{key}"

    def urls(self, keys: Sequence[str]) -> dict[str, str]:
        return {key: self.url(key) for key in keys}

    def delete_prefix(self, prefix: str) -> None:
        shutil.rmtree(self._path(prefix), ignore_errors=True)
