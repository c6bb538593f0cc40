#!/usr/bin/env bash
# Trains envd's AOT cache (JDK 25 one-step workflow, -XX:AOTCacheOutput) from the dist itself:
# starts <dist>/bin/envd on a free loopback port, sends the requests below a few times, then stops
# it with SIGTERM; the JVM writes <dist>/envd.aot as it exits normally (envd's shutdown hook closes
# the server). Requests to routes this build does not serve yet just get 404s: harmless.
#   train-aot.sh <dist dir>
set -euo pipefail
dist=$(cd "${1:?usage: train-aot.sh <dist dir>}" && pwd)
source "$(dirname "$0")/dist-lib.sh"

port=$(free_port)
log="$dist/../envd-aot-training.log"
ENVD_HOST=127.0.0.1 ENVD_PORT=$port ENVD_AOT=off \
  ENVD_JAVA_OPTS="-XX:AOTCacheOutput=$dist/envd.aot" \
  "$dist/bin/envd" >"$log" 2>&1 &
pid=$!
trap 'kill -KILL "$pid" 2>/dev/null || true' EXIT

if ! wait_health "$port" 30000; then
  echo "train-aot.sh: envd did not answer /health; log: $log" >&2
  cat "$log" >&2
  exit 1
fi
connect='{}'
for _ in 1 2 3 4 5; do
  http GET "$port" /health
  http GET "$port" /metrics
  http GET "$port" /envs
  http GET "$port" '/files?path=/etc/hostname'
  http POST "$port" /init '{}'
  http POST "$port" /process.Process/List "$connect"
  http POST "$port" /filesystem.Filesystem/Stat '{"path":"/"}'
  http GET "$port" /no-such-route
done
kill -TERM "$pid"
status=0
wait "$pid" || status=$?
trap - EXIT
if [ ! -s "$dist/envd.aot" ]; then
  echo "train-aot.sh: no AOT cache written (envd exit status $status); log: $log" >&2
  cat "$log" >&2
  exit 1
fi
echo "AOT cache: $dist/envd.aot ($(du -h "$dist/envd.aot" | cut -f1))"
