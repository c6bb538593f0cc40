#!/usr/bin/env bash
# Installs the Debian packages a purpose needs, only those missing. Purposes: envd, test.
# Root is required to install; a machine that already has everything needs no root.
set -euo pipefail

purpose=${1:?usage: install-deps.sh envd|test}
packages=()
# envd's dist (envd/src/dist/build-dist.sh) copies tini-static, busybox, util-linux's setpriv and
# glibc's C.utf8 locale, and links its static glibc-exec wrapper with gcc + libc6-dev (libc.a);
# the tests also run it under util-linux's unshare.
dist_packages=(tini busybox-static util-linux libc-bin gcc libc6-dev binutils)
case "$purpose" in
  envd) packages=("${dist_packages[@]}") ;;
  test) packages=("${dist_packages[@]}") ;;
  *) echo "install-deps.sh: unknown purpose '$purpose'" >&2; exit 2 ;;
esac

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "install-deps.sh: missing packages (${missing[*]}); run as root to install them." >&2
  exit 1
fi
echo "installing: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
