#!/usr/bin/env bash
# Measures a built dist on this host: for each of RUNS starts, the time from launching bin/envd to
# the first 204 from GET /health, the CPU time (user + system) the JVM used until then (less
# sensitive to a busy machine), and the JVM's VmRSS and RssAnon once idle (2 s after that answer;
# file-backed pages such as the AOT cache's and libjvm's are shared by every envd on a host).
# Prints each run, then the medians.
#   measure.sh <dist dir> [runs=10]        (ENVD_AOT=off / ENVD_JAVA_OPTS pass through to bin/envd)
set -euo pipefail
dist=$(cd "${1:?usage: measure.sh <dist dir> [runs]}" && pwd)
runs=${2:-10}
source "$(dirname "$0")/dist-lib.sh"

ticks=$(getconf CLK_TCK)
starts=() cpus=() rsss=() anons=()
for ((i = 1; i <= runs; i++)); do
  port=$(free_port)
  now_ms
  t0=$NOW_MS
  ENVD_HOST=127.0.0.1 ENVD_PORT=$port "$dist/bin/envd" >/dev/null 2>&1 &
  pid=$!
  if ! wait_health "$port" 20000; then
    kill -KILL "$pid" 2>/dev/null || true
    echo "measure.sh: envd did not answer /health" >&2
    exit 1
  fi
  now_ms
  t1=$NOW_MS
  read -r -a stat <"/proc/$pid/stat"
  cpu_ms=$(( (stat[13] + stat[14]) * 1000 / ticks ))
  sleep 2
  rss=$(awk '/^VmRSS/ { print $2 }' "/proc/$pid/status")
  anon=$(awk '/^RssAnon/ { print $2 }' "/proc/$pid/status")
  kill -TERM "$pid"
  wait "$pid" || true
  start_ms=$((t1 - t0))
  echo "run $i: start→/health ${start_ms} ms (JVM CPU ${cpu_ms} ms), idle RSS $((rss / 1024)) MB (anonymous $((anon / 1024)) MB)"
  starts+=("$start_ms") cpus+=("$cpu_ms") rsss+=("$rss") anons+=("$anon")
done
median() { printf '%s\n' "$@" | sort -n | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : int((a[NR / 2] + a[NR / 2 + 1]) / 2) }'; }
echo "median of $runs: start→/health $(median "${starts[@]}") ms (min $(printf '%s\n' "${starts[@]}" | sort -n | head -1)), JVM CPU $(median "${cpus[@]}") ms, idle RSS $(median "${rsss[@]}") kB (anonymous $(median "${anons[@]}") kB)"
