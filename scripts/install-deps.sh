#!/usr/bin/env bash
# Installs the Debian packages a purpose needs, only those missing. Purposes: envd, orchestrator, up, test.
# Root is required to install; a machine that already has everything needs no root.
set -euo pipefail

purpose=${1:?usage: install-deps.sh envd|orchestrator|up|test}
packages=()
# envd's dist (envd/src/dist/build-dist.sh) copies tini-static, busybox and glibc's C.utf8 locale,
# and links its static envd-exec and glibc-exec with gcc + libc6-dev (libc.a); the tests also run it
# under util-linux's unshare.
dist_packages=(tini busybox-static util-linux libc-bin gcc libc6-dev binutils)
# the orchestrator runs sandboxes on runc (bookworm: 1.1.5), mounts overlayfs, and gives them network
# slots: ip (namespaces, veths, the bridge) and nft (isolation, egress); its tests build a rootfs from
# busybox-static and run busybox nc inside the namespaces; the base template is built with mmdebstrap
# (root mode: mount) from the host's Debian source, checked with Debian's archive keyring; gcc and
# libc6-dev build the small library preloaded into CRIU (scripts/lib/criu-prlimit.c)
orchestrator_packages=(runc util-linux iproute2 nftables busybox-static mmdebstrap mount debian-archive-keyring gcc libc6-dev)
case "$purpose" in
  # envd: every process starts through envd-exec (built from source with gcc, static).
  envd) packages=("${dist_packages[@]}") ;;
  orchestrator) packages=("${orchestrator_packages[@]}") ;;
  # sbx up: envd's dist is built on this machine, the orchestrator runs the sandboxes
  up) packages=("${dist_packages[@]}" "${orchestrator_packages[@]}") ;;
  test)
    # the process tests also create users (passwd: useradd, groupadd, userdel); the proxy's Redis
    # catalog tests start a throwaway redis-server (testing's RedisServer)
    packages=("${dist_packages[@]}" "${orchestrator_packages[@]}" passwd redis-server)
    # the API's store contract test runs Debian's PostgreSQL (initdb + postgres) on loopback
    packages+=(postgresql)
    # it's CliIT drives the interactive `sbx sandbox shell` through a real terminal: tmux
    packages+=(tmux)
    # the E2B SDK suite (it/js) runs on node + npm; a node already on the PATH (e.g. Node 20 from
    # another source) is kept, Debian's packages are only installed when the commands are missing
    command -v node >/dev/null 2>&1 || packages+=(nodejs)
    command -v npm >/dev/null 2>&1 || packages+=(npm)
    ;;
  *) echo "install-deps.sh: unknown purpose '$purpose'" >&2; exit 2 ;;
esac

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "install-deps.sh: missing packages (${missing[*]}); run as root to install them." >&2
    exit 1
  fi
  echo "installing: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# gVisor's runsc, the orchestrator's second runtime: the sandboxes need its systrap platform, which
# bookworm's runsc (20221219, ptrace only) lacks and bookworm-backports' (20240729) has. When runsc is
# missing or older, the backports suite is enabled from the machine's own Debian source (its URI, the
# same keyring) and runsc installed from it.
runsc_min_release=20240729
runsc_release() {
  command -v runsc >/dev/null 2>&1 || { echo 0; return; }
  # "runsc version release-20240729.0" (upstream) or "runsc version 0.0~20240729.0" (Debian)
  runsc --version 2>/dev/null | sed -n 's/^runsc version [^0-9]*\(0\.0~\)\{0,1\}\([0-9]\{8\}\).*/\2/p' |
    head -n1 | grep . || echo 0
}
# the URIs and Signed-By of the deb822 stanza (or one-line entry) that serves $1, e.g. bookworm
debian_source_of() {
  local suite=$1 file
  for file in /etc/apt/sources.list.d/*.sources; do
    [ -f "$file" ] || continue
    awk -v suite="$suite" '
      function flush() { if (types ~ /(^| )deb( |$)/ && (" " suites " ") ~ (" " suite " ") && uris != "") { print uris "|" signed; found = 1; exit } }
      /^[ \t]*$/ { flush(); types = suites = uris = signed = ""; next }
      /^Types:/ { sub(/^Types:[ \t]*/, ""); types = $0 }
      /^Suites:/ { sub(/^Suites:[ \t]*/, ""); suites = $0 }
      /^URIs:/ { sub(/^URIs:[ \t]*/, ""); uris = $1 }
      /^Signed-By:/ { sub(/^Signed-By:[ \t]*/, ""); signed = $0 }
      END { if (!found) flush() }' "$file" | head -n1 | grep . && return
  done
  for file in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [ -f "$file" ] || continue
    awk -v suite="$suite" '$1 == "deb" { i = 2; if ($2 ~ /^\[/) while ($i !~ /\]$/) i++; if ($2 ~ /^\[/) i++;
      if ($(i + 1) == suite) { print $i "|"; exit } }' "$file" | head -n1 | grep . && return
  done
  return 1
}
install_runsc() {
  [ "$(runsc_release)" -ge "$runsc_min_release" ] && return
  if [ "$(id -u)" -ne 0 ]; then
    echo "install-deps.sh: runsc $runsc_min_release or newer is missing; run as root to install it." >&2
    exit 1
  fi
  local codename source uri signed list
  codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
  list=/etc/apt/sources.list.d/sbx-${codename}-backports.sources
  if ! apt-cache policy 2>/dev/null | grep -q " ${codename}-backports/main "; then
    if ! source=$(debian_source_of "$codename"); then
      echo "install-deps.sh: no apt source serves $codename; cannot enable ${codename}-backports for runsc" >&2
      exit 1
    fi
    uri=${source%%|*}
    signed=${source#*|}
    echo "enabling ${codename}-backports from $uri (for runsc) in $list"
    {
      echo "Types: deb"
      echo "URIs: $uri"
      echo "Suites: ${codename}-backports"
      echo "Components: main"
      [ -z "$signed" ] || echo "Signed-By: $signed"
    } >"$list"
  fi
  echo "installing: runsc from ${codename}-backports"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends -t "${codename}-backports" runsc >/dev/null
  if [ "$(runsc_release)" -lt "$runsc_min_release" ]; then
    echo "install-deps.sh: runsc $(runsc_release) installed, $runsc_min_release or newer needed" >&2
    exit 1
  fi
}
case "$purpose" in orchestrator | up | test) install_runsc ;; esac

# CRIU for pausing runc sandboxes with their memory (runc checkpoint/restore). This kernel needs CRIU
# 4.2 or newer: bookworm's 3.17 fails on the vDSO layout, trixie's 4.1 hangs (no hardware
# breakpoints in a VM). Debian sid's criu is unpacked with its own libc, loader and libraries into
# $criu_dir (nothing of the host's is replaced, dpkg does not know it) and run through the wrapper
# $criu_dir/criu, which starts it with sid's ld.so. The packages come from the machine's own Debian
# apt source (same URI, same keyring) through a private apt configuration in a temporary directory:
# the host's sources and package lists are left alone. The orchestrator finds the wrapper there; a
# node without it pauses runc sandboxes with their files only.
criu_dir=/opt/sbx-criu
criu_min_version=4.2
criu_version() {
  [ -x "$criu_dir/criu" ] || { echo 0; return; }
  "$criu_dir/criu" --version 2>/dev/null | sed -n 's/^Version: *\([0-9.]*\).*/\1/p' | head -n1 | grep . || echo 0
}
version_at_least() { [ "$(printf '%s\n%s\n' "$2" "$1" | sort -V | head -n1)" = "$2" ]; }
install_criu() {
  if version_at_least "$(criu_version)" "$criu_min_version"; then
    install_criu_prlimit
    return
  fi
  if [ "$(id -u)" -ne 0 ]; then
    echo "install-deps.sh: CRIU $criu_min_version or newer is missing in $criu_dir; run as root to install it." >&2
    exit 1
  fi
  local codename source uri signed tmp apt packages
  codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
  if ! source=$(debian_source_of "$codename"); then
    echo "install-deps.sh: no apt source serves $codename; cannot fetch criu from sid" >&2
    exit 1
  fi
  uri=${source%%|*}
  signed=${source#*|}
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' RETURN
  mkdir -p "$tmp/lists/partial" "$tmp/cache/archives/partial" "$tmp/debs" "$tmp/root"
  echo "deb${signed:+ [signed-by=$signed]} $uri sid main" >"$tmp/sources.list"
  apt=(-o "Dir::Etc::SourceList=$tmp/sources.list" -o Dir::Etc::SourceParts=/dev/null
    -o "Dir::State::Lists=$tmp/lists" -o "Dir::Cache=$tmp/cache" -o Dir::State::Status=/dev/null
    -o APT::Sandbox::User=root)
  echo "installing: criu from sid ($uri) into $criu_dir"
  apt-get "${apt[@]}" update -qq
  # criu and every library it needs, recursively (libc6 included: sid's loader runs it)
  mapfile -t packages < <(apt-cache "${apt[@]}" depends --recurse --no-recommends --no-suggests \
    --no-conflicts --no-breaks --no-replaces --no-enhances --no-pre-depends criu |
    grep -v '^ ' | grep -v '^<' | sort -u)
  (cd "$tmp/debs" && apt-get "${apt[@]}" download -qq "${packages[@]}")
  for deb in "$tmp"/debs/*.deb; do dpkg-deb -x "$deb" "$tmp/root"; done
  rm -rf "$criu_dir.new"
  mkdir -p "$criu_dir.new"
  cp -a "$tmp/root/usr" "$criu_dir.new/"
  rm -rf "$criu_dir"
  mv "$criu_dir.new" "$criu_dir"
  write_criu_wrapper
  if ! version_at_least "$(criu_version)" "$criu_min_version"; then
    echo "install-deps.sh: criu $(criu_version) in $criu_dir, $criu_min_version or newer needed" >&2
    exit 1
  fi
  echo "criu $(criu_version) in $criu_dir"
}
# The wrapper starts sid's criu with sid's loader and preloads criu-prlimit.so: CRIU reads the
# rlimits of the processes it dumps with prlimit(), which for another user's process (a sandbox's
# `user`) needs CAP_SYS_RESOURCE that root in a container often lacks; the library answers such a
# read from the world-readable /proc/<pid>/limits instead (see scripts/lib/criu-prlimit.c).
criu_prlimit_source="$(cd "$(dirname "$0")" && pwd)/lib/criu-prlimit.c"
write_criu_wrapper() {
  mkdir -p "$criu_dir/lib"
  gcc -O2 -Wall -Wextra -Werror -shared -fPIC -o "$criu_dir/lib/criu-prlimit.so.new" "$criu_prlimit_source"
  mv "$criu_dir/lib/criu-prlimit.so.new" "$criu_dir/lib/criu-prlimit.so"
  cp "$criu_prlimit_source" "$criu_dir/lib/criu-prlimit.c"
  cat >"$criu_dir/criu.new" <<WRAPPER
#!/bin/sh
# sid's criu with sid's loader and libraries, and sbx's criu-prlimit.so (written by sbx's scripts/install-deps.sh)
exec $criu_dir/usr/lib64/ld-linux-x86-64.so.2 --library-path $criu_dir/usr/lib/x86_64-linux-gnu --preload $criu_dir/lib/criu-prlimit.so $criu_dir/usr/sbin/criu "\$@"
WRAPPER
  chmod 755 "$criu_dir/criu.new"
  mv "$criu_dir/criu.new" "$criu_dir/criu"
}
# an installed criu without the library, or with an older one: (re)build it and the wrapper
install_criu_prlimit() {
  if grep -q -- '--preload' "$criu_dir/criu" && cmp -s "$criu_prlimit_source" "$criu_dir/lib/criu-prlimit.c"; then
    return
  fi
  if [ "$(id -u)" -ne 0 ]; then
    echo "install-deps.sh: $criu_dir/criu lacks sbx's criu-prlimit.so; run as root to build it." >&2
    exit 1
  fi
  echo "building: $criu_dir/lib/criu-prlimit.so"
  write_criu_wrapper
}
case "$purpose" in orchestrator | up | test) install_criu ;; esac

if [ "$purpose" = test ]; then
  # the e2b SDK (2.45 and 2.51) declares node ">=20.18.1 <21 || >=22"; say so early if it is older
  if ! node -e 'const [a,b,c]=process.versions.node.split(".").map(Number); process.exit(a>=22||(a===20&&(b>18||(b===18&&c>=1)))?0:1)'; then
    echo "install-deps.sh: node $(node -v) is older than the e2b SDK needs (20.18.1, or 22+);" \
      "the E2B SDK suite in it/ will fail (see it/README.md)." >&2
  fi
fi
