#!/usr/bin/env bash
# The test command: sets up .venv and the Debian packages the tests use, then runs the whole
# suite against a real Postgres, after mypy over server/, scripts/ and tests/support/ (embedded, or DATABASE_URL pointing at a disposable database).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/setup_test_services.sh
# Types first (configuration in pyproject.toml): mypy checks every adapter against its port,
# and the scripts and test helpers against the server code they call.
.venv/bin/python -m mypy
exec .venv/bin/python -m pytest -q tests "$@"
