#!/usr/bin/env bash
# Installs the Debian packages a purpose needs, only those missing. Purposes: envd, orchestrator, test.
# Root is required to install; a machine that already has everything needs no root.
set -euo pipefail

purpose=${1:?usage: install-deps.sh envd|orchestrator|test}
packages=()
# envd's dist (envd/src/dist/build-dist.sh) copies tini-static, busybox, util-linux's setpriv and
# glibc's C.utf8 locale, and links its static glibc-exec wrapper with gcc + libc6-dev (libc.a);
# the tests also run it under util-linux's unshare.
dist_packages=(tini busybox-static util-linux libc-bin gcc libc6-dev binutils)
# the orchestrator runs sandboxes on runc (bookworm: 1.1.5), mounts overlayfs, and gives them network
# slots: ip (namespaces, veths, the bridge) and nft (isolation, egress); its tests build a rootfs from
# busybox-static and run busybox nc inside the namespaces
orchestrator_packages=(runc util-linux iproute2 nftables busybox-static)
case "$purpose" in
  # envd: busybox's sh wraps every process; util-linux's setpriv switches to the user.
  envd) packages=("${dist_packages[@]}") ;;
  orchestrator) packages=("${orchestrator_packages[@]}") ;;
  test)
    # the process tests also create users (passwd: useradd, groupadd, userdel)
    packages=("${dist_packages[@]}" "${orchestrator_packages[@]}" passwd)
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

if [ "$purpose" = test ]; then
  # the e2b SDK (2.45 and 2.51) declares node ">=20.18.1 <21 || >=22"; say so early if it is older
  if ! node -e 'const [a,b,c]=process.versions.node.split(".").map(Number); process.exit(a>=22||(a===20&&(b>18||(b===18&&c>=1)))?0:1)'; then
    echo "install-deps.sh: node $(node -v) is older than the e2b SDK needs (20.18.1, or 22+);" \
      "the E2B SDK suite in it/ will fail (see it/README.md)." >&2
  fi
fi
