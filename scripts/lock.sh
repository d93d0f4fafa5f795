#!/usr/bin/env bash
# Regenerates requirements.lock (runtime) and requirements-dev.lock (runtime + dev) from
# requirements.txt and requirements-dev.txt (through pyproject.toml): every package pinned
# with its hashes, resolved against PyPI alone (no pip or uv configuration of this machine),
# for the Python in .python-version on Linux x86_64 (the image, CI, development; the hashes
# cover every platform's wheels of each pinned version). torch is left out of both (see
# scripts/lock-overrides.txt): setup.sh and the Dockerfile install it first, from the index
# of the build each host needs.
set -euo pipefail
cd "$(dirname "$0")/.."
UV=${UV:-.venv/bin/uv}
common=(--no-config --index-url https://pypi.org/simple --python-version "$(cat .python-version)"
        --python-platform x86_64-manylinux_2_28 --generate-hashes --override scripts/lock-overrides.txt --no-emit-package torch
        --custom-compile-command "bash scripts/lock.sh" --quiet)
"$UV" pip compile "${common[@]}" pyproject.toml -o requirements.lock
"$UV" pip compile "${common[@]}" pyproject.toml --extra dev -o requirements-dev.lock
echo "requirements.lock: $(grep -c '^[a-z]' requirements.lock) packages;" \
     "requirements-dev.lock: $(grep -c '^[a-z]' requirements-dev.lock) packages (torch apart)"
