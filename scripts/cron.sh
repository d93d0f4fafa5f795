#!/usr/bin/env bash
# Asks the server to claim and start queued work, for hosts without pg_cron. crontab line:
#   * * * * * CLIPS_SERVER_URL=http://127.0.0.1:8000 INTERNAL_API_TOKEN=... /srv/clips/scripts/cron.sh >> /var/log/clips-cron.log 2>&1
# The endpoint answers at once (the steps run on in the server), so a short timeout is
# enough; curl exits non-zero on a refused connection, a timeout or an HTTP error. The
# token goes in through a file descriptor, not the command line, so `ps` never shows it.
set -euo pipefail
: "${INTERNAL_API_TOKEN:?set INTERNAL_API_TOKEN to the token the server expects}"
url="${CLIPS_SERVER_URL:-http://127.0.0.1:8000}/internal/perform-video-processing"
body=$(curl --silent --show-error --fail-with-body --max-time "${CRON_TIMEOUT_SECONDS:-10}" \
  -X POST "$url" \
  -H @<(printf 'Authorization: Bearer %s\n' "$INTERNAL_API_TOKEN") \
  -H "Content-Type: application/json" \
  --data '{}') || { echo "$(date -u +%FT%TZ) $url failed: ${body:-no answer}" >&2; exit 1; }
echo "$(date -u +%FT%TZ) $body"
