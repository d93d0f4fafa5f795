"""What the tests share besides fixtures: paths, the internal token, and helpers."""
from __future__ import annotations

import shutil
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "scripts" / "samples" / "talk.mp4"
INTERNAL_TOKEN = "test-internal-token"
AUTH = {"Authorization": f"Bearer {INTERNAL_TOKEN}"}


def copy_to(media_dir: Path, src: Path, name: str | None = None) -> str:
    name = name or src.name
    shutil.copyfile(src, media_dir / name)
    return name


@contextmanager
def app_in_thread(app) -> Iterator[str]:
    """The Flask app on a real port (werkzeug, a thread per request) for browsers and
    scripts that need a socket; yields its base URL."""
    from werkzeug.serving import make_server
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
