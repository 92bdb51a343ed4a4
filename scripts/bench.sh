#!/usr/bin/env bash
# The benchmark of record: every figure in one run, on this machine, as requests/s and as ratios.
#
#   scripts/bench.sh [seconds=10] [connections=16]
#
# For SQLite and PostgreSQL: the dashboard (scripts/dashboard.lua), a city's history and the
# province summary, each with the response cache on (the same request repeated) and off
# (--response-cache-bytes 0); the dashboard page (100 of 1,800 cities) and the summary at 1,800
# cities with the cache off; the dashboard on the build named by OLD_BIN (commit 4da9be1 in the
# docs/performance.md); and the ceiling: examples/ceiling.rs answering the dashboard's own bytes, measured by
# the same wrk; and the reference for reads the cache has not seen: examples/reference.rs,
# async-graphql answering the same three queries from plain values in memory (the same engine,
# no database), measured on each database's data right after this service's cache-off runs, with
# each cache-off figure's ratio to it. Also the server's peak memory (VmHWM) over its cache-on
# runs (default cache size) and over its cache-off runs. wrk runs 2 threads after a 2 s warm-up;
# everything shares the machine's cores.
#
# With OLD_BIN and PAIRS=N, it then runs the dashboard with the cache off N times on each build in
# turn (5 s each, after the warm-up), on each database, and prints each pair's ratio and their
# median: this machine's speed drifts from minute to minute, so one pair can mislead.
#
# Environment: COVERAGE_API_BIN (default: this tree's release build), CEILING_BIN (default: this
# tree's examples/ceiling), REFERENCE_BIN (default: this tree's examples/reference), OLD_BIN (optional), OLD_NAME (its name in the output, default
# 4da9be1), OLD_ARGS (flags for it, e.g. "--response-cache-bytes 0" to compare an older build
# that has the cache with the cache off on both sides), NEW_ARGS (this build's flags in the
# pairs, default "--response-cache-bytes 0"), PAIRS (default 0), PG_ADMIN_URL,
# BENCH_PORT.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds="${1:-10}"
connections="${2:-16}"
port="${BENCH_PORT:-8197}"
pg_admin="${PG_ADMIN_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
export PGOPTIONS="--client-min-messages=warning"
url="http://127.0.0.1:$port/graphql"

if ! command -v wrk >/dev/null; then
  apt-get install -y wrk >/dev/null 2>&1 || { apt-get update >/dev/null && apt-get install -y wrk >/dev/null; }
fi
bin="${COVERAGE_API_BIN:-}"
ceiling="${CEILING_BIN:-}"
reference="${REFERENCE_BIN:-}"
if [[ -z "$bin" || -z "$ceiling" || -z "$reference" ]]; then
  cargo build --release --quiet --bin coverage-api --example ceiling --example reference
  bin="${bin:-./target/release/coverage-api}"
  ceiling="${ceiling:-./target/release/examples/ceiling}"
  reference="${reference:-./target/release/examples/reference}"
fi
old="${OLD_BIN:-}"
old_name="${OLD_NAME:-4da9be1}"
read -r -a old_args <<<"${OLD_ARGS:-}"
# This build's flags in the pairs: the cache off, unless NEW_ARGS says otherwise (NEW_ARGS=""
# with OLD_ARGS unset compares both builds with their caches on).
if [[ -z "${NEW_ARGS+set}" ]]; then
  new_args=(--response-cache-bytes 0)
else
  read -r -a new_args <<<"$NEW_ARGS"
fi
if [[ "${new_args[*]}" == "--response-cache-bytes 0" ]]; then
  pairs_label="dashboard, cache off"
elif [[ ${#new_args[@]} -eq 0 ]]; then
  pairs_label="dashboard, cache on"
else
  pairs_label="dashboard (${new_args[*]})"
fi
pairs="${PAIRS:-0}"

work="$(mktemp -d)"
server=""
stop() { if [[ -n "$server" ]]; then kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; server=""; fi; }
trap 'stop; rm -rf "$work"' EXIT

# The three requests, as wrk scripts (POST, JSON body).
dashboard="$(sed -n 's/^wrk.body = \[\[\(.*\)\]\]$/\1/p' scripts/dashboard.lua)"
history='{"query":"{ city(code: \"410800\") { code name history { period branchType branchCount eligibleCount newBranches coverageRate rateIsStated source } } }"}'
history_1800='{"query":"{ city(code: \"900001\") { code name history { period branchType branchCount eligibleCount newBranches coverageRate rateIsStated source } } }"}'
summary='{"query":"{ summary { period byType { branchType citiesReporting branchCountSum eligibleCountSum coverageRate newBranchesSum provinceReportedTotal fullCoverageCities { code name } } } }"}'
lua() { # name body
  printf 'wrk.method = "POST"\nwrk.headers["Content-Type"] = "application/json"\nwrk.body = [[%s]]\n' "$2" >"$work/$1.lua"
}
lua dashboard "$dashboard"; lua history "$history"; lua history_1800 "$history_1800"; lua summary "$summary"

database() { # backend name -> URL of a fresh database
  case "$1" in
    sqlite) echo "sqlite://$work/$2.db?mode=rwc" ;;
    postgres)
      psql "$pg_admin" -qc "DROP DATABASE IF EXISTS $2 WITH (FORCE)" -c "CREATE DATABASE $2" >/dev/null
      echo "${pg_admin%/*}/$2" ;;
  esac
}

start() { # binary database-url [flags...]
  local binary="$1" db="$2"; shift 2
  RUST_LOG=warn "$binary" serve --addr "127.0.0.1:$port" --database-url "$db" "$@" &
  server=$!
  for _ in $(seq 1 200); do
    curl -fs "http://127.0.0.1:$port/readyz" >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  echo "the server did not get ready" >&2; exit 1
}

check() { # lua-name expected-substring: one request by hand, so an error never passes for speed
  local body answer
  body="$(sed -n 's/^wrk.body = \[\[\(.*\)\]\]$/\1/p' "$work/$1.lua")"
  answer="$(curl -fs -H 'content-type: application/json' -d "$body" "$url")"
  if [[ "$answer" == *'"errors"'* || "$answer" != *"$2"* ]]; then
    echo "$1 failed: ${answer:0:300}" >&2; exit 1
  fi
}

results="$work/results.tsv"
measure() { # label lua-name
  wrk -t2 -c"$connections" -d2s -s "$work/$2.lua" "$url" >/dev/null
  local out rps p50 p99 non2xx
  out="$(wrk -t2 -c"$connections" -d"${seconds}s" --latency -s "$work/$2.lua" "$url")"
  non2xx="$(sed -n 's/.*Non-2xx or 3xx responses: *\([0-9]*\).*/\1/p' <<<"$out")"
  if [[ -n "$non2xx" ]]; then echo "$1: $non2xx non-2xx answers" >&2; exit 1; fi
  rps="$(awk '/^Requests\/sec/ { print $2 }' <<<"$out")"
  p50="$(awk '$1 == "50%" { print $2 }' <<<"$out")"
  p99="$(awk '$1 == "99%" { print $2 }' <<<"$out")"
  printf '%s\t%s\t%s\t%s\n' "$1" "$rps" "$p50" "$p99" | tee -a "$results" >&2
}
rps() { # lua-name seconds: requests/s, after a 2 s warm-up
  wrk -t2 -c"$connections" -d2s -s "$work/$1.lua" "$url" >/dev/null
  wrk -t2 -c"$connections" -d"${2}s" -s "$work/$1.lua" "$url" | awk '/^Requests\/sec/ { print $2 }'
}
peak() { awk '/VmHWM/ { printf "%.1f", $2 / 1024 }' "/proc/$server/status"; }

ceiling_run() { # label
  "$ceiling" "127.0.0.1:$port" "$work/dashboard.json" &
  server=$!
  sleep 0.5
  measure "$1" dashboard
  stop
}

reference_run() { # backend database-url: the three requests on async-graphql over memory
  "$reference" "127.0.0.1:$port" "$2" &
  server=$!
  for _ in $(seq 1 200); do
    curl -fs -H 'content-type: application/json' -d '{"query":"{ periods: summary { period } }"}' "$url" >/dev/null 2>&1 && break
    sleep 0.1
  done
  check dashboard '"totalCount":18'; check history '"410800"'; check summary '"byType"'
  measure "$1 dashboard, reference" dashboard
  measure "$1 history, reference" history
  measure "$1 summary, reference" summary
  stop
}

# The ceiling first and last (the machine's load drifts): the ratios use the higher of the two.
start "$bin" "$(database sqlite coverage_bench_bytes)"
check dashboard '"totalCount":18'
curl -fs -H 'content-type: application/json' -d "$dashboard" -o "$work/dashboard.json" "$url"
stop
ceiling_run "ceiling (fixed bytes: the dashboard's answer), first"

memory=""
memory_off=""
for backend in sqlite postgres; do
  db="$(database "$backend" coverage_bench)"
  start "$bin" "$db"
  check dashboard '"totalCount":18'; check history '"410800"'; check summary '"byType"'
  measure "$backend dashboard, cache on" dashboard
  measure "$backend history, cache on" history
  measure "$backend summary, cache on" summary
  memory="$memory$backend $(peak) MiB; "
  stop
  start "$bin" "$db" --response-cache-bytes 0
  measure "$backend dashboard, cache off" dashboard
  measure "$backend history, cache off" history
  measure "$backend summary, cache off" summary
  memory_off="$memory_off$backend $(peak) MiB; "
  stop
  reference_run "$backend" "$db"
  if [[ -n "$old" ]]; then
    start "$old" "$(database "$backend" coverage_bench_old)" "${old_args[@]}"
    check dashboard '"totalCount":18'
    measure "$backend dashboard, $old_name" dashboard
    stop
  fi
  db="$(database "$backend" coverage_bench_1800)"
  RUST_LOG=warn "$bin" seed-synthetic --cities 1800 --periods 5 --database-url "$db" >/dev/null
  start "$bin" "$db" --response-cache-bytes 0
  check dashboard '"totalCount":1800'; check summary '"byType"'
  measure "$backend dashboard 1800 cities (page of 100), cache off" dashboard
  measure "$backend summary 1800 cities, cache off" summary
  measure "$backend history 1800 cities, cache off" history_1800
  stop
done
psql "$pg_admin" -qc "DROP DATABASE IF EXISTS coverage_bench WITH (FORCE)" \
  -c "DROP DATABASE IF EXISTS coverage_bench_old WITH (FORCE)" \
  -c "DROP DATABASE IF EXISTS coverage_bench_1800 WITH (FORCE)" >/dev/null

ceiling_run "ceiling (fixed bytes: the dashboard's answer), last"

ceiling_rps="$(awk -F'\t' '/^ceiling/ && $2 > max { max = $2 } END { print max }' "$results")"
echo
echo "| request | requests/s | p50 | p99 | of the ceiling ($ceiling_rps/s, the higher of its two runs) |"
echo "|---|---:|---:|---:|---:|"
awk -F'\t' -v c="$ceiling_rps" '{ printf "| %s | %\047.0f | %s | %s | %.2f |\n", $1, $2, $3, $4, $2 / c }' "$results"
echo
awk -F'\t' '
  / dashboard, cache off/ { off[$1 ~ /^sqlite/ ? "sqlite" : "postgres"] = $2 }
  $1 ~ (" dashboard, " name "$") { old[$1 ~ /^sqlite/ ? "sqlite" : "postgres"] = $2 }
  / dashboard 1800/ { page[$1 ~ /^sqlite/ ? "sqlite" : "postgres"] = $2 }
  / summary 1800/ { sum[$1 ~ /^sqlite/ ? "sqlite" : "postgres"] = $2 }
  END {
    for (b in off) {
      if (b in old) printf "%s: dashboard, cache off ÷ %s = %.2f\n", b, name, off[b] / old[b]
      printf "%s: summary at 1,800 cities ÷ a page of 100 of 1,800 = %.2f\n", b, sum[b] / page[b]
    }
    printf "SQLite ÷ PostgreSQL, dashboard, cache off = %.2f\n", off["sqlite"] / off["postgres"]
  }' name="$old_name" "$results"
echo "server peak memory (VmHWM) over the cache-on runs: $memory"
echo "server peak memory (VmHWM) over the cache-off runs: $memory_off"
echo
echo "| database | request | cache off | reference (async-graphql over memory) | ratio |"
echo "|---|---|---:|---:|---:|"
awk -F'\t' '
  $1 ~ /^[a-z]+ [a-z]+, cache off$/ { split($1, w, " "); sub(",", "", w[2]); off[w[1] " " w[2]] = $2 }
  $1 ~ /^[a-z]+ [a-z]+, reference$/ { split($1, w, " "); sub(",", "", w[2]); ref[w[1] " " w[2]] = $2 }
  END {
    for (k in ref) if (k in off) {
      split(k, w, " ")
      printf "| %s | %s | %\047.0f | %\047.0f | %.2f |\n", w[1], w[2], off[k], ref[k], off[k] / ref[k]
    }
  }' "$results" | sort

if [[ -n "$old" && "$pairs" -gt 0 ]]; then
  echo
  for backend in sqlite postgres; do
    new_db="$(database "$backend" coverage_pairs)"
    old_db="$(database "$backend" coverage_pairs_old)"
    ratios="$work/ratios_$backend"
    for i in $(seq 1 "$pairs"); do
      start "$old" "$old_db" "${old_args[@]}"; before="$(rps dashboard 5)"; stop
      start "$bin" "$new_db" "${new_args[@]}"; after="$(rps dashboard 5)"; stop
      ratio="$(awk -v a="$after" -v b="$before" 'BEGIN { printf "%.2f", a / b }')"
      echo "$ratio" >>"$ratios"
      echo "$backend pair $i: this build $after/s, $old_name $before/s, ratio $ratio" >&2
    done
    sort -n "$ratios" | awk -v b="$backend" -v name="$old_name" -v what="$pairs_label" '{ r[NR] = $1 } END {
      m = NR % 2 ? r[(NR + 1) / 2] : (r[NR / 2] + r[NR / 2 + 1]) / 2
      printf "%s: %s ÷ %s over %d alternating pairs: median %.2f (lowest %.2f, highest %.2f)\n", b, what, name, NR, m, r[1], r[NR] }'
  done
  psql "$pg_admin" -qc "DROP DATABASE IF EXISTS coverage_pairs WITH (FORCE)" \
    -c "DROP DATABASE IF EXISTS coverage_pairs_old WITH (FORCE)" >/dev/null
fi
