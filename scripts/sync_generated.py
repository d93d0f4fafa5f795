"""Rewrites what is generated from code: `.env.example` and the README's settings and
failure-cause tables. `tests/test_contracts.py` fails until this has been run."""
from __future__ import annotations

import re
from pathlib import Path

from server.core.failures import failure_table
from server.settings import env_example, markdown_table

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    (ROOT / ".env.example").write_text(env_example())
    readme = (ROOT / "README.md").read_text()
    for name, body in (("settings", markdown_table()), ("failure-causes", failure_table())):
        readme = re.sub(rf"(<!-- {name}:start -->\n).*?(<!-- {name}:end -->)",
                        lambda m: m.group(1) + body + m.group(2), readme, flags=re.S)
    (ROOT / "README.md").write_text(readme)


if __name__ == "__main__":
    main()
