# Shell helpers for the dist scripts (bash 5; no curl, no python): sourced, not run. The polling
# helpers never fork, so that they leave the CPU to the JVM being started or measured.

# Prints a TCP port nobody listens on (random in 20000-59999, checked against /proc/net/tcp*).
free_port() {
  local port used
  used=$(awk 'NR > 1 && $4 == "0A" { split($2, a, ":"); print strtonum("0x" a[2]) }' \
    /proc/net/tcp /proc/net/tcp6 2>/dev/null || true)
  while :; do
    port=$((20000 + RANDOM % 40000))
    grep -qx "$port" <<<"$used" || { echo "$port"; return; }
  done
}

# now_ms: sets NOW_MS to the milliseconds since the epoch.
now_ms() {
  local t=${EPOCHREALTIME/[.,]/}
  NOW_MS=$((t / 1000))
}

# http METHOD PORT PATH [BODY [CONTENT-TYPE]]: one request to 127.0.0.1:PORT over bash's /dev/tcp;
# sets HTTP_STATUS to the response's status code, or 000 when nothing answers.
http() {
  local method=$1 port=$2 path=$3 body=${4:-} type=${5:-application/json}
  HTTP_STATUS=000
  { exec 3<>"/dev/tcp/127.0.0.1/$port"; } 2>/dev/null || return 0
  printf '%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nContent-Type: %s\r\nContent-Length: %d\r\n\r\n%s' \
    "$method" "$path" "$type" "${#body}" "$body" >&3 2>/dev/null || true
  IFS=' ' read -r -t 10 _ HTTP_STATUS _ <&3 || true
  HTTP_STATUS=${HTTP_STATUS:-000}
  exec 3<&- 3>&-
}

# connect_stream PORT PATH JSON: one Connect server-streaming call (application/connect+json) to
# 127.0.0.1:PORT: the request as one 5-byte envelope (flags 0, big-endian length) and JSON, then
# the answer read to its end (the stream's end message); sets HTTP_STATUS as http does.
connect_stream() {
  local port=$1 path=$2 json=$3 n envelope
  n=${#json}
  HTTP_STATUS=000
  printf -v envelope '\\x00\\x%02x\\x%02x\\x%02x\\x%02x' \
    $((n >> 24 & 255)) $((n >> 16 & 255)) $((n >> 8 & 255)) $((n & 255))
  { exec 3<>"/dev/tcp/127.0.0.1/$port"; } 2>/dev/null || return 0
  {
    printf 'POST %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nContent-Type: application/connect+json\r\nContent-Length: %d\r\n\r\n' \
      "$path" $((n + 5))
    printf "$envelope"
    printf '%s' "$json"
  } >&3 2>/dev/null || true
  IFS=' ' read -r -t 10 _ HTTP_STATUS _ <&3 || true
  HTTP_STATUS=${HTTP_STATUS:-000}
  # the rest (headers, chunked envelopes) up to the end of the stream; NUL bytes are dropped
  while IFS= read -r -t 10 _ <&3; do :; done 2>/dev/null || true
  exec 3<&- 3>&-
}

# wait_health PORT TIMEOUT_MS: polls GET /health every ~2 ms until it answers 204; fails after
# TIMEOUT_MS.
wait_health() {
  local port=$1 deadline
  now_ms
  deadline=$((NOW_MS + $2))
  exec 9<> <(:)
  while [ "$NOW_MS" -lt "$deadline" ]; do
    http GET "$port" /health
    if [ "$HTTP_STATUS" = 204 ]; then
      exec 9<&-
      return 0
    fi
    read -r -t 0.002 -u 9 _ || true
    now_ms
  done
  exec 9<&-
  return 1
}
