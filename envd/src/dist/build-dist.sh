#!/usr/bin/env bash
# Assembles envd's self-contained directory (see envd/README.md, "Packaging"). Run by Maven in the
# package phase (envd/pom.xml); by hand:
#   build-dist.sh <envd.jar> <dependency jars dir> <dist dir>
# Environment:
#   JAVA_HOME            the JDK 25 that builds (and whose runtime jlink copies)
#   ENVD_AOT_SKIP=true   do not train the AOT cache (fast dev builds; envd starts slower)
#   ENVD_JLINK_EXCLUDE   modules jdeps reports that the image leaves out (default below)
#   ENVD_JLINK_COMPRESS  jlink --compress value, or "none" (default: none, see README)
# Host tools it copies: /usr/bin/tini-static (tini), /bin/busybox (busybox-static),
# gcc + libc6-dev (link the static envd-exec and glibc-exec).
set -euo pipefail

jar=${1:?usage: build-dist.sh <envd.jar> <deps dir> <dist dir>}
deps=${2:?deps dir}
dist=${3:?dist dir}
src=$(cd "$(dirname "$0")" && pwd)
java_home=${JAVA_HOME:?JAVA_HOME must point at a JDK 25}
# java.compiler: only error_prone_annotations' annotation element types, never resolved at run time.
# java.sql (+ java.xml it drags in, 11 MB): only protobuf-java-util's Timestamps.to/fromSqlTimestamp.
exclude=${ENVD_JLINK_EXCLUDE-java.compiler java.sql}
compress=${ENVD_JLINK_COMPRESS:-none}

for tool in /usr/bin/tini-static /bin/busybox; do
  [ -x "$tool" ] || { echo "build-dist.sh: $tool missing: run scripts/install-deps.sh envd" >&2; exit 1; }
done

mkdir -p "$dist"
dist=$(cd "$dist" && pwd)

# lib/: envd.jar (its manifest names the other jars: Class-Path) and the runtime dependency jars.
rm -rf "$dist/lib"
mkdir -p "$dist/lib"
cp "$deps"/*.jar "$dist/lib/"
cp "$jar" "$dist/lib/envd.jar"

# jre/: a jlink image of exactly the modules jdeps finds in lib/, minus $exclude.
modules=$("$java_home/bin/jdeps" --list-deps --ignore-missing-deps --multi-release 25 \
  --class-path "$dist/lib/*" "$dist"/lib/*.jar 2>/dev/null \
  | sed -n 's/^ *\([a-z][a-z0-9.]*\)$/\1/p' | sort -u)
for m in $exclude; do
  modules=$(printf '%s\n' "$modules" | grep -vx "$m" || true)
done
modules=$(printf '%s\n' "$modules" | paste -sd, -)
[ -n "$modules" ] || { echo "build-dist.sh: jdeps found no modules" >&2; exit 1; }
stamp="$("$java_home/bin/java" -version 2>&1 | head -1) modules=$modules compress=$compress"
if [ ! -f "$dist/jre/.sbx-stamp" ] || [ "$(cat "$dist/jre/.sbx-stamp")" != "$stamp" ]; then
  echo "jlink: $modules (compress: $compress)"
  rm -rf "$dist/jre"
  compress_args=()
  [ "$compress" = none ] || compress_args=(--compress "$compress")
  "$java_home/bin/jlink" --add-modules "$modules" --strip-debug --no-header-files --no-man-pages \
    "${compress_args[@]}" --output "$dist/jre"
  # jspawnhelper (ProcessBuilder's default launcher) is exec'ed by path: route it through glibc/.
  mv "$dist/jre/lib/jspawnhelper" "$dist/jre/lib/jspawnhelper.real"
  printf '%s\n' "$stamp" >"$dist/jre/.sbx-stamp"
fi

# bin/: tini, busybox and envd-exec (every process starts through it) are static; jspawnhelper
# (ProcessBuilder's helper) runs through glibc/ by the static glibc-exec.
mkdir -p "$dist/bin"
rm -f "$dist/bin/setpriv" "$dist/bin/setpriv.real"
cp /usr/bin/tini-static "$dist/bin/tini"
cp /bin/busybox "$dist/bin/busybox"
"$src/build-envd-exec.sh" "$dist/bin/envd-exec"
gcc -Os -static -Wall -Wextra -Werror -o "$dist/bin/glibc-exec" "$src/glibc-exec.c"
strip "$dist/bin/glibc-exec"
cp "$dist/bin/glibc-exec" "$dist/jre/lib/jspawnhelper"
rm "$dist/bin/glibc-exec"
cp "$src/bin/envd" "$dist/bin/envd"
chmod 755 "$dist/bin/envd"

# glibc/: the loader and every library the JRE links (from ldd), so no libc is needed on the rootfs.
# Libraries of the JRE itself (libjvm, libjava, ...) stay in jre/.
rm -rf "$dist/glibc"
mkdir -p "$dist/glibc"
elves=$(find "$dist/jre" -type f \( -name '*.so' -o -perm -u+x \) \
  -exec sh -c 'head -c4 "$1" | grep -q ELF && echo "$1"' _ {} \;)
for elf in $elves; do
  ldd "$elf" 2>/dev/null | awk '/=>/ && $3 ~ /^\// { print $3 } !/=>/ && $1 ~ /^\// { print $1 }' || true
done | sort -u | while read -r lib; do
  case "$lib" in "$dist"/*|"") continue ;; esac
  cp -L "$lib" "$dist/glibc/$(basename "$lib")"
done
[ -x "$dist/glibc/ld-linux-x86-64.so.2" ] || { echo "build-dist.sh: no loader found by ldd" >&2; exit 1; }

# locale/: C.UTF-8 for the bundled glibc, so the JVM's file name encoding is UTF-8 on any rootfs.
rm -rf "$dist/locale"
mkdir -p "$dist/locale"
cp -r /usr/lib/locale/C.utf8 "$dist/locale/"

# envd.aot: the AOT cache, from a training run of this very dist (same JVM, flags and class path).
rm -f "$dist/envd.aot"
if [ "${ENVD_AOT_SKIP:-false}" != true ]; then
  "$src/train-aot.sh" "$dist"
fi
echo "envd dist: $dist ($(du -sh "$dist" | cut -f1))"
