#!/usr/bin/env bash
# Makes sure the host has what the mesh needs to run pods locally and to test capture rules:
# iptables (iptables, iptables-restore, iptables-save, ip6tables…) and iproute2 (ip); the
# openssl command, which the proxy's TLS tests use to make throwaway certificates; shellcheck,
# which lints the kind/ and kube/ scripts; and for the observability addons' tests, Debian's
# prometheus (the Prometheus addon on the local cluster) and chromium (the dashboard's browser test,
# driven by playwright-core: its own browser download never works here); redis-server, which the
# quota service's Redis backend test starts on loopback (installed without starting a system Redis).
# Installs the missing ones with apt-get (running `apt-get update` once first). Needs root for that;
# when nothing is missing it does nothing and needs nothing.
set -euo pipefail

missing=()
for bin in iptables iptables-restore iptables-save ip6tables ip6tables-restore ip6tables-save; do
  if ! command -v "$bin" >/dev/null 2>&1 && [ ! -x "/usr/sbin/$bin" ] && [ ! -x "/sbin/$bin" ]; then
    missing+=(iptables)
    break
  fi
done
if ! command -v ip >/dev/null 2>&1 && [ ! -x /usr/sbin/ip ] && [ ! -x /sbin/ip ]; then
  missing+=(iproute2)
fi

if ! command -v openssl >/dev/null 2>&1; then
  missing+=(openssl)
fi

# The shell scripts' lint (packages/cli/src/install/kind.test.ts).
if ! command -v shellcheck >/dev/null 2>&1; then
  missing+=(shellcheck)
fi

# The Prometheus addon on the local cluster and the dashboard's browser test (e2e/src/scenarios).
if ! command -v prometheus >/dev/null 2>&1; then
  missing+=(prometheus)
fi
if ! command -v chromium >/dev/null 2>&1; then
  missing+=(chromium)
fi

# The quota service's Redis backend test (packages/control-plane/src/quota/service.test.ts).
if ! command -v redis-server >/dev/null 2>&1 && [ ! -x /usr/bin/redis-server ]; then
  missing+=(redis-server)
fi

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

if ! command -v apt-get >/dev/null 2>&1; then
  echo "ensure-host-deps: missing ${missing[*]} and no apt-get here; install them with your package manager" >&2
  exit 1
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "ensure-host-deps: missing ${missing[*]}; run as root: apt-get update && apt-get install -y ${missing[*]}" >&2
  exit 1
fi

echo "==> installing ${missing[*]} with apt-get"
export DEBIAN_FRONTEND=noninteractive
# Installing a service must not start it (redis-server would otherwise run system-wide on 6379):
# policy-rc.d says "do not start", for the time of the install, unless the host already has one.
if [ ! -e /usr/sbin/policy-rc.d ]; then
  printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
  chmod 755 /usr/sbin/policy-rc.d
  trap 'rm -f /usr/sbin/policy-rc.d' EXIT
fi
apt-get update -qq >/dev/null
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "==> installed: $(iptables --version 2>/dev/null || echo '?'), $(ip -V 2>/dev/null || echo '?')"
