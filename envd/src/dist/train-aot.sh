#!/usr/bin/env bash
# Trains envd's AOT cache (JDK 25 one-step workflow, -XX:AOTCacheOutput) from the dist itself:
# starts <dist>/bin/envd on a free loopback port, sends the requests below a few times, then stops
# it with SIGTERM; the JVM writes <dist>/envd.aot as it exits normally (envd's shutdown hook closes
# the server). Requests to routes this build does not serve yet just get 404s: harmless.
# The requests cover what a sandbox's first user request needs, so that its classes come from the
# cache: process.Process/Start (streaming Connect, with and without a PTY), List, file uploads and
# downloads, and the filesystem service's unary calls, in a scratch directory removed afterwards.
# They run as envd's fallback user (root before /init names another).
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
scratch=$(mktemp -d "${TMPDIR:-/tmp}/envd-aot-training.XXXXXX")
trap 'kill -KILL "$pid" 2>/dev/null || true; rm -rf "$scratch"' EXIT
start='{"process":{"cmd":"/bin/sh","args":["-c","echo aot; echo err >&2"],"envs":{"AOT":"1"}},"stdin":false}'
start_pty='{"process":{"cmd":"/bin/sh","args":["-c","echo aot"]},"pty":{"size":{"cols":80,"rows":24}}}'
boundary=envd-aot-training
printf -v upload -- '--%s\r\nContent-Disposition: form-data; name="file"; filename="a.txt"\r\nContent-Type: application/octet-stream\r\n\r\nhello\r\n--%s--\r\n' \
  "$boundary" "$boundary"
for i in 1 2 3 4 5; do
  http GET "$port" /health
  http GET "$port" /metrics
  http GET "$port" /envs
  http GET "$port" '/files?path=/etc/hostname'
  http POST "$port" /init '{}'
  http POST "$port" /process.Process/List "$connect"
  http POST "$port" /filesystem.Filesystem/Stat '{"path":"/"}'
  http GET "$port" /no-such-route
  connect_stream "$port" /process.Process/Start "$start"
  connect_stream "$port" /process.Process/Start "$start_pty"
  http POST "$port" /filesystem.Filesystem/MakeDir "{\"path\":\"$scratch/d$i\"}"
  http POST "$port" "/files?path=$scratch/d$i/a.txt" "$upload" "multipart/form-data; boundary=$boundary"
  http POST "$port" "/files?path=$scratch/d$i/b.txt" "hello" application/octet-stream
  http GET "$port" "/files?path=$scratch/d$i/a.txt"
  http POST "$port" /filesystem.Filesystem/ListDir "{\"path\":\"$scratch/d$i\",\"depth\":1}"
  http POST "$port" /filesystem.Filesystem/Stat "{\"path\":\"$scratch/d$i/a.txt\"}"
  http POST "$port" /filesystem.Filesystem/Move \
    "{\"source\":\"$scratch/d$i/b.txt\",\"destination\":\"$scratch/d$i/c.txt\"}"
  http POST "$port" /filesystem.Filesystem/Remove "{\"path\":\"$scratch/d$i\"}"
done
kill -TERM "$pid"
status=0
wait "$pid" || status=$?
trap - EXIT
rm -rf "$scratch"
if [ ! -s "$dist/envd.aot" ]; then
  echo "train-aot.sh: no AOT cache written (envd exit status $status); log: $log" >&2
  cat "$log" >&2
  exit 1
fi
echo "AOT cache: $dist/envd.aot ($(du -h "$dist/envd.aot" | cut -f1))"
