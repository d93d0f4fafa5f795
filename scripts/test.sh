#!/usr/bin/env bash
# The test command: sets up .venv and the Debian packages the tests use, then runs the whole
# suite against a real Postgres (embedded, or DATABASE_URL pointing at a disposable database).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/setup_test_services.sh
exec .venv/bin/python -m pytest -q tests "$@"
