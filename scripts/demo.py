"""The demo: serve the sample talk over local HTTP and submit its URL, so every step,
the download included, runs for real. Prints a bar per step, then the clips."""
from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

from scripts.media_server import MediaServer


def main() -> int:
    sample = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "scripts" / "samples" / "talk.mp4"
    # The sample is served from 127.0.0.1, which the server refuses by default (SSRF guard).
    os.environ.setdefault("ALLOW_PRIVATE_URLS", "1")
    from server.__main__ import main as cli
    with MediaServer(sample.parent) as srv:
        url = srv.url(sample.name)
        print(f"serving {sample.name} at {url}")
        return cli(["submit", url])


if __name__ == "__main__":
    sys.exit(main())
