"""What the browser tests share: Chromium (Debian's) driven by Playwright, axe-core for
accessibility, a check for sideways scrolling, and screenshots kept as test artifacts."""
from __future__ import annotations

import time
from pathlib import Path

from tests.support import ROOT

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--no-first-run", "--disable-dev-shm-usage",
        "--autoplay-policy=no-user-gesture-required"]
ARTIFACTS = ROOT / "tests" / "artifacts"
AXE = Path(__file__).resolve().parents[1] / "e2e" / "vendor" / "axe.min.js"
DESKTOP = {"width": 1440, "height": 900}
PHONE = {"width": 390, "height": 844}
NARROW_PHONE = {"width": 360, "height": 780}


def axe_violations(page, impacts=("serious", "critical")) -> list[str]:
    """axe-core's violations of the given impacts on the page as it is now. The script is
    evaluated through the DevTools protocol, which the page's CSP does not govern."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.evaluate(AXE.read_text())
    found = page.evaluate("""async (impacts) => {
        const r = await axe.run(document, {resultTypes: ["violations"]});
        return r.violations.filter(v => impacts.includes(v.impact)).map(v =>
            `${v.impact} ${v.id}: ${v.help} at ${v.nodes.slice(0, 3).map(n => n.target.join(' ')).join(', ')}`);
    }""", list(impacts))
    return found


def sideways_overflow(page) -> int:
    """How many pixels the page is wider than the screen (0: no horizontal scroll)."""
    return page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")


class Shots:
    """Numbered screenshots of each stage of a test, under tests/artifacts/<name>/."""

    def __init__(self, name: str):
        self.folder = ARTIFACTS / name
        self.folder.mkdir(parents=True, exist_ok=True)
        for old in self.folder.glob("*.png"):
            old.unlink()
        self.n = 0

    def __call__(self, page, stage: str) -> Path:
        self.n += 1
        path = self.folder / f"{self.n:02d}-{stage}.png"
        page.screenshot(path=str(path), full_page=True)
        return path


def wait_until(predicate, timeout_s: float = 30.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not predicate():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.2)
