#!/usr/bin/env bash
# Installs the Debian packages a purpose needs, only those missing. Purposes: envd, test.
# Root is required to install; a machine that already has everything needs no root.
set -euo pipefail

purpose=${1:?usage: install-deps.sh envd|test}
packages=()
case "$purpose" in
  # envd: busybox's sh wraps every process; util-linux's setpriv switches to the user.
  envd) packages=(tini busybox-static util-linux) ;;
  # test: the process tests also create users (passwd: useradd, groupadd, userdel).
  test) packages=(tini busybox-static util-linux passwd) ;;
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
