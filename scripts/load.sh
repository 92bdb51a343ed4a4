#!/usr/bin/env bash
# Load test of the release server with the dashboard query, the way docs/performance.md's figures were
# measured: wrk on this machine, against the server on loopback, with the database on the same
# machine. Usage: scripts/load.sh [sqlite|postgres] [connections=16] [seconds=10]
# Prints requests/s, latency percentiles and the server's peak memory (VmHWM).
# COVERAGE_API_BIN=path runs that binary instead of building this tree's release (to measure
# two builds side by side in one sitting).
set -euo pipefail
cd "$(dirname "$0")/.."

backend="${1:-sqlite}"
connections="${2:-16}"
seconds="${3:-10}"
port="${LOAD_PORT:-8097}"
pg_admin="${PG_ADMIN_URL:-postgres://postgres@127.0.0.1:5432/postgres}"

if ! command -v wrk >/dev/null; then
  echo "installing wrk (Debian package)"
  apt-get install -y wrk >/dev/null 2>&1 || { apt-get update >/dev/null && apt-get install -y wrk >/dev/null; }
fi

bin="${COVERAGE_API_BIN:-}"
if [[ -z "$bin" ]]; then
  cargo build --release --quiet
  bin=./target/release/coverage-api
fi
work="$(mktemp -d)"
case "$backend" in
  sqlite) url="sqlite://$work/load.db?mode=rwc" ;;
  postgres)
    psql "$pg_admin" -qc "DROP DATABASE IF EXISTS coverage_load WITH (FORCE)" -c "CREATE DATABASE coverage_load"
    url="${pg_admin%/*}/coverage_load" ;;
  *) echo "backend must be sqlite or postgres" >&2; exit 2 ;;
esac

RUST_LOG=warn "$bin" serve --addr "127.0.0.1:$port" --database-url "$url" &
server=$!
trap 'kill $server 2>/dev/null || true; rm -rf "$work"' EXIT
for _ in $(seq 1 100); do
  curl -fs "http://127.0.0.1:$port/readyz" >/dev/null 2>&1 && break
  sleep 0.1
done

# One request checked by hand: a server that answers errors fast must not pass for a fast one.
body="$(sed -n 's/^wrk.body = \[\[\(.*\)\]\]$/\1/p' scripts/dashboard.lua)"
answer="$(curl -fs -H 'content-type: application/json' -d "$body" "http://127.0.0.1:$port/graphql")"
if [[ "$answer" == *'"errors"'* || "$answer" != *'"totalCount":18'* ]]; then
  echo "the dashboard query failed: $answer" >&2
  exit 1
fi

# Warm-up: connections opened, caches filled.
wrk -t2 -c"$connections" -d2s -s scripts/dashboard.lua "http://127.0.0.1:$port/graphql" >/dev/null
echo "== $backend, $connections connections, ${seconds}s, dashboard query (18 cities)"
wrk -t"${WRK_THREADS:-2}" -c"$connections" -d"${seconds}s" --latency -s scripts/dashboard.lua "http://127.0.0.1:$port/graphql"
echo "server peak memory: $(awk '/VmHWM/ { printf "%.1f MiB", $2 / 1024 }' "/proc/$server/status")"
