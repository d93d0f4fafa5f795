#!/usr/bin/env bash
# The demo command: set up .venv if needed, then run the sample talk through the pipeline.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/python -m scripts.demo "$@"
