#!/usr/bin/env bash
# Soak test of the release server: does its memory stay flat under mixed load, whether or not
# /metrics is scraped? Usage: scripts/soak.sh [sqlite|postgres] [minutes=10] [scrape-seconds=0]
# With minutes 0 only step 1 runs (e.g. `SOAK_WS_CONNECTIONS=1000 scripts/soak.sh sqlite 0`).
#
# 1. On a fresh server, opens SOAK_WS_CONNECTIONS (500) WebSocket connections, idle then each
#    subscribed and sent one event, and reports the server's memory per connection.
# 2. Then, for the whole run at once: anonymous dashboard reads (wrk, SOAK_WRK_CONNECTIONS = 32
#    connections), a writer per city (a city-staff token each, made with `token create`) writing
#    its record every SOAK_WRITE_INTERVAL_MS (500) ms with its version, 20 subscribers that come
#    and go (2-10 s each), connections opened and closed (4 tasks, one every 100 ms each), and,
#    when scrape-seconds > 0, GET /metrics every that many seconds.
# 3. Samples the server's resident memory (VmRSS) every 5 s and fails when its mean over the last
#    30 s exceeds the mean over the 30 s after the warm-up (SOAK_WARMUP_SECONDS, default a quarter
#    of the run, at most 120) by more than SOAK_MAX_GROWTH_KIB (5120); also fails on a lost write
#    (acknowledged but not in the database), a non-2xx read or any error the driver saw.
# SOAK_LABEL names the run's logs;
# SOAK_SERVER_ARGS adds flags to the server's (e.g. `--ws-read-buffer-size 131072` to compare);
# SOAK_CONNECTIONS_ARGS to step 1's driver (`--full-selection`: a staff page's subscription
# instead of the dashboard's two).
# The WebSocket and write side is `examples/soak.rs`; logs go to target/soak/.
set -euo pipefail
cd "$(dirname "$0")/.."

backend="${1:-sqlite}"
minutes="${2:-10}"
scrape="${3:-0}"
port="${SOAK_PORT:-8098}"
pg_admin="${PG_ADMIN_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
wrk_connections="${SOAK_WRK_CONNECTIONS:-32}"
ws_connections="${SOAK_WS_CONNECTIONS:-500}"
write_interval="${SOAK_WRITE_INTERVAL_MS:-500}"
max_growth_kib="${SOAK_MAX_GROWTH_KIB:-5120}"
seconds=$((minutes * 60))
warmup="${SOAK_WARMUP_SECONDS:-$((seconds / 4 < 120 ? seconds / 4 : 120))}"

need() { # command, Debian package
  command -v "$1" >/dev/null && return
  echo "installing $2 (Debian package)"
  apt-get install -y "$2" >/dev/null 2>&1 || { apt-get update >/dev/null && apt-get install -y "$2" >/dev/null; }
}
need wrk wrk
need curl curl
[[ "$backend" == postgres ]] && need psql postgresql-client
# 500 connections on each side, with the database's files and sockets.
ulimit -n 8192 2>/dev/null || true

cargo build --release --quiet --bin coverage-api --example soak
out="target/soak"
mkdir -p "$out"
run="$out/$backend-${minutes}m-scrape${scrape}${SOAK_LABEL:+-$SOAK_LABEL}"
work="$(mktemp -d)"
case "$backend" in
  sqlite) url="sqlite://$work/soak.db?mode=rwc" ;;
  postgres)
    psql "$pg_admin" -qc "DROP DATABASE IF EXISTS coverage_soak WITH (FORCE)" -c "CREATE DATABASE coverage_soak"
    url="${pg_admin%/*}/coverage_soak" ;;
  *) echo "backend must be sqlite or postgres" >&2; exit 2 ;;
esac

# Every connection comes from this one address, and the measurement's connections wait for the
# others to open before they subscribe: the per-address cap and the idle limit are raised to
# fit; the instance's cap too when more are asked for.
# shellcheck disable=SC2086 # SOAK_SERVER_ARGS is a list of flags
RUST_LOG=warn ./target/release/coverage-api serve --addr "127.0.0.1:$port" --database-url "$url" \
  --max-ws-connections "$((ws_connections + 200))" \
  --max-ws-connections-per-client "$((ws_connections + 100))" --ws-idle-secs 600 \
  ${SOAK_SERVER_ARGS:-} 2>"$run.server.log" &
server=$!
helpers=()
cleanup() {
  for pid in "${helpers[@]}"; do kill "$pid" 2>/dev/null || true; done
  kill "$server" 2>/dev/null || true
  wait "$server" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
for _ in $(seq 1 100); do
  curl -fs "http://127.0.0.1:$port/readyz" >/dev/null 2>&1 && break
  sleep 0.1
done
rss() { awk '/VmRSS/ { print $2 }' "/proc/$server/status"; }
rss_start="$(rss)"

# A token per city, as an administrator makes them for the city offices.
codes="$(curl -fs -H 'content-type: application/json' -d '{"query":"{ cities(first: 100) { nodes { code } } }"}' \
  "http://127.0.0.1:$port/graphql" | grep -o '"code":"[0-9]*"' | cut -d'"' -f4)"
: >"$work/tokens"
for code in $codes; do
  secret="$(./target/release/coverage-api token create --role city-staff --city "$code" \
    --name "soak $code" --database-url "$url" 2>/dev/null | tail -n1)"
  echo "$code $secret" >>"$work/tokens"
done
first_city="$(head -n1 "$work/tokens" | cut -d' ' -f1)"
first_token="$(head -n1 "$work/tokens" | cut -d' ' -f2)"
driver=(./target/release/examples/soak --addr "127.0.0.1:$port" --pid "$server")

echo "== memory per WebSocket connection ($ws_connections connections)"
# shellcheck disable=SC2086 # SOAK_CONNECTIONS_ARGS is a list of flags (e.g. --full-selection)
"${driver[@]}" connections --count "$ws_connections" --token "$first_token" --city "$first_city" \
  ${SOAK_CONNECTIONS_ARGS:-} | tee "$run.connections.txt"

if [[ "$minutes" == 0 ]]; then exit 0; fi

echo "== soak: $backend, $minutes min, /metrics $([[ $scrape -gt 0 ]] && echo "scraped every ${scrape}s" || echo "not scraped")"
t0="$(date +%s)"
(while kill -0 "$server" 2>/dev/null; do echo "$(($(date +%s) - t0)) $(rss)"; sleep 5; done) >"$run.rss.txt" &
helpers+=($!)
if [[ "$scrape" -gt 0 ]]; then
  (while :; do curl -fs "http://127.0.0.1:$port/metrics" >/dev/null || echo failed; sleep "$scrape"; done) \
    >"$work/scrapes" &
  helpers+=($!)
fi
wrk -t2 -c"$wrk_connections" -d"${seconds}s" --latency -s scripts/dashboard.lua \
  "http://127.0.0.1:$port/graphql" >"$run.wrk.txt" &
wrk_pid=$!
"${driver[@]}" load --seconds "$seconds" --tokens "$work/tokens" --write-interval-ms "$write_interval" \
  >"$run.load.txt"
wait "$wrk_pid"
sleep 5 # one more sample after the load

kv() { sed -n "s/^$1=//p" "$2"; }
read -r base end peak < <(awk -v w="$warmup" -v s="$seconds" '
  $1 >= w && $1 < w + 30 { b += $2; nb++ }
  $1 > s - 30 && $1 <= s { e += $2; ne++ }
  $1 >= w && $2 > p { p = $2 }
  END { printf "%d %d %d\n", b / nb, e / ne, p }' "$run.rss.txt")
growth=$((end - base))
mib() { awk -v k="$1" 'BEGIN { printf "%.1f MiB", k / 1024 }'; }
requests="$(awk '/requests in/ { print $1 }' "$run.wrk.txt")"
non2xx="$(awk '/Non-2xx/ { print $NF }' "$run.wrk.txt")"
socket_errors="$(sed -n 's/.*Socket errors: //p' "$run.wrk.txt")"
scrape_failures="$(cat "$work/scrapes" 2>/dev/null | grep -c failed || true)"
lost="$(kv lost_writes "$run.load.txt")"
driver_errors=$(($(kv write_errors "$run.load.txt") + $(kv ws_errors "$run.load.txt")))

echo "memory: start $(mib "$rss_start"), after warm-up (${warmup}s) $(mib "$base"), end $(mib "$end"), peak after warm-up $(mib "$peak"); growth $(mib "$growth") (limit $(mib "$max_growth_kib"))"
echo "reads: $requests dashboard requests ($(awk '/Requests\/sec/ { print $2 }' "$run.wrk.txt")/s, p50 $(awk '$1 == "50%" { print $2 }' "$run.wrk.txt"), p99 $(awk '$1 == "99%" { print $2 }' "$run.wrk.txt")), non-2xx ${non2xx:-0}, socket errors ${socket_errors:-none}"
echo "writes: $(kv writes_acknowledged "$run.load.txt") acknowledged, $(kv write_errors "$run.load.txt") errors, $lost lost"
echo "websocket: $(kv ws_connections "$run.load.txt") connections, $(kv subscriptions "$run.load.txt") subscriptions, $(kv events_received "$run.load.txt") events received, $(kv ws_errors "$run.load.txt") errors"
[[ "$scrape" -gt 0 ]] && echo "scrapes failed: $scrape_failures"
echo "per connection: idle $(kv kib_per_idle_connection "$run.connections.txt") KiB, active $(kv kib_per_active_connection "$run.connections.txt") KiB"
echo "RSS every 5 s (seconds KiB): $run.rss.txt"

status=0
if [[ "$growth" -gt "$max_growth_kib" ]]; then echo "FAIL: memory grew by $(mib "$growth") after the warm-up" >&2; status=1; fi
if [[ "$lost" != 0 ]]; then echo "FAIL: $lost acknowledged writes are not in the database" >&2; status=1; fi
if [[ "${non2xx:-0}" != 0 || "$driver_errors" != 0 || "$scrape_failures" != 0 ]]; then
  echo "FAIL: errors (non-2xx reads ${non2xx:-0}, driver $driver_errors, scrapes $scrape_failures)" >&2
  status=1
fi
exit "$status"
