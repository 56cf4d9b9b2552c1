#!/usr/bin/env bash
# Installs the Debian packages some tests need when they are missing. Quiet and idempotent:
# `apt-get update` runs only when a package has to be installed, and at most once.
#   ensure_deb <command-or-absolute-path> <package>
set -euo pipefail

APT_UPDATED=${APT_UPDATED:-0}

ensure_deb() {
  local probe=$1 package=$2
  if [[ $probe == /* ]]; then
    [[ -e $probe ]] && return 0
  else
    command -v "$probe" >/dev/null 2>&1 && return 0
  fi
  echo "Installing Debian package $package (for $probe)"
  local sudo=()
  if [[ $(id -u) -ne 0 ]]; then sudo=(sudo); fi
  export DEBIAN_FRONTEND=noninteractive
  if [[ $APT_UPDATED -eq 0 ]]; then
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null
    APT_UPDATED=1
  fi
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive \
    apt-get install -y -qq --no-install-recommends "$package" >/dev/null
}

# When run as a script (not sourced): the packages the test suite needs.
if [[ ${BASH_SOURCE[0]} == "$0" ]]; then
  # Headless browser for test/swagger-browser.e2e-spec.ts (driven by playwright-core).
  ensure_deb /usr/bin/chromium chromium
  # hvac, a real Vault client, for test/vault-clients.e2e-spec.ts (run with /usr/bin/python3).
  ensure_deb /usr/lib/python3/dist-packages/hvac/__init__.py python3-hvac
  # A three-node Galera cluster for test/galera (npm run test:galera): the provider, rsync for
  # state transfer, and HAProxy for the reference configuration in deploy/haproxy.
  ensure_deb /usr/lib/galera/libgalera_smm.so galera-4
  ensure_deb /usr/bin/rsync rsync
  ensure_deb /usr/sbin/haproxy haproxy
fi
