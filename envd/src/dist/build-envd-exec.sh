#!/usr/bin/env bash
# Links envd-exec (envd-exec.c, no libc: raw system calls) statically: build-envd-exec.sh <output
# file>. Needs gcc and the kernel's headers from linux-libc-dev (scripts/install-deps.sh envd|test).
# Skipped when the output is newer than the source.
set -euo pipefail
out=${1:?usage: build-envd-exec.sh <output file>}
src=$(cd "$(dirname "$0")" && pwd)/envd-exec.c
if [ -x "$out" ] && [ "$out" -nt "$src" ]; then
  exit 0
fi
command -v gcc >/dev/null || { echo "build-envd-exec.sh: gcc missing: run scripts/install-deps.sh envd" >&2; exit 1; }
mkdir -p "$(dirname "$out")"
gcc -Os -static -nostdlib -ffreestanding -fno-builtin -fno-stack-protector -fno-pie -no-pie \
  -fno-asynchronous-unwind-tables -Wall -Wextra -Werror -o "$out.tmp" "$src"
strip "$out.tmp"
mv "$out.tmp" "$out"
