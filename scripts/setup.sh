#!/usr/bin/env bash
# Makes .venv at the repository root for development, the tests and the demo: the Python in
# .python-version, the CPU build of torch, every package of requirements-dev.lock (runtime
# and dev tools, hash-checked, from PyPI alone), and this project as an editable install
# (which gives the `clips` command). Safe to run again: it reinstalls only when a
# requirement file changed.
#   TORCH_INDEX=https://download.pytorch.org/whl/cu128 bash scripts/setup.sh   # a CUDA 12 host
#   LOCK=requirements.lock bash scripts/setup.sh                              # runtime only
set -euo pipefail
cd "$(dirname "$0")/.."
version=$(cat .python-version)
PYTHON=${PYTHON:-python$version}
LOCK=${LOCK:-requirements-dev.lock}
TORCH_INDEX=${TORCH_INDEX:-https://download.pytorch.org/whl/cpu}
if [ ! -x .venv/bin/python ]; then
  command -v "$PYTHON" >/dev/null || {
    echo "setup: this project runs Python $version; set PYTHON=/path/to/python$version" >&2; exit 1; }
  echo "creating .venv with $("$PYTHON" --version)"
  "$PYTHON" -m venv .venv
fi
have=$(.venv/bin/python -c 'import sys; print("%d.%d" % sys.version_info[:2])')
if [ "$have" != "$version" ]; then
  echo "setup: .venv runs Python $have, the project $version (.python-version); remove .venv" >&2
  exit 1
fi
want=$(cat .python-version requirements.txt requirements-dev.txt "$LOCK" pyproject.toml | sha256sum | cut -d' ' -f1)
if [ "$(cat .venv/.requirements.sha256 2>/dev/null)" != "$want" ]; then
  echo "installing $LOCK into .venv (first time: a few minutes)"
  pypi=(env -u PIP_FIND_LINKS -u PIP_INDEX_URL -u PIP_EXTRA_INDEX_URL -u PIP_CONSTRAINT
        PIP_CONFIG_FILE=/dev/null .venv/bin/python -m pip --disable-pip-version-check)
  "${pypi[@]}" install -q --index-url https://pypi.org/simple --upgrade pip
  # torch alone, from the index of the build this host needs (PyPI's Linux wheel is the
  # CUDA 13 build). On a machine that keeps wheels locally, pip's own configuration may
  # supply it when that index is out of reach.
  .venv/bin/python -m pip install -q --no-deps --index-url "$TORCH_INDEX" "$(grep -oE '^torch==[^[:space:]#]+' requirements.txt)"
  "${pypi[@]}" install -q --index-url https://pypi.org/simple --require-hashes --no-deps -r "$LOCK"
  "${pypi[@]}" install -q --no-deps --no-build-isolation --editable .
  echo "$want" > .venv/.requirements.sha256
fi
