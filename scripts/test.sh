#!/usr/bin/env bash
# The test command: sets up .venv if needed, then runs the whole suite against a real
# Postgres (embedded, or DATABASE_URL if you point it at a disposable database).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/python -m pytest -q -p no:cacheprovider tests "$@"
