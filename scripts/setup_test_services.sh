#!/usr/bin/env bash
# What the test suite runs for real besides Python packages, from Debian: chromium for the
# browser test (Playwright never downloads a browser), a Postgres 15 server with pg_cron for
# the cron schedule test, pgbouncer as a transaction pooler, and espeak-ng for the voices
# of the non-English test speech (scripts/make_talks.py). Installed once, as root.
set -euo pipefail
need=()
[ -x /usr/lib/postgresql/15/bin/initdb ] || need+=(postgresql-15)
[ -f /usr/lib/postgresql/15/lib/pg_cron.so ] || need+=(postgresql-15-cron)
command -v pgbouncer >/dev/null || [ -x /usr/sbin/pgbouncer ] || need+=(pgbouncer)
command -v espeak-ng >/dev/null || need+=(espeak-ng)
browser=()
command -v chromium >/dev/null 2>&1 || browser+=(chromium)   # with its recommended fonts
[ ${#need[@]} -eq 0 ] && [ ${#browser[@]} -eq 0 ] && exit 0
if command -v apt-get >/dev/null && [ "$(id -u)" = 0 ]; then
  echo "installing ${need[*]} ${browser[*]} (Debian)"
  apt-get update -qq
  export DEBIAN_FRONTEND=noninteractive
  [ ${#need[@]} -eq 0 ] || apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
  [ ${#browser[@]} -eq 0 ] || apt-get install -y -qq "${browser[@]}" >/dev/null
else
  echo "warning: the tests need ${need[*]} ${browser[*]} (Debian packages); install them as root" >&2
fi
