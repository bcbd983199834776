#!/usr/bin/env bash
# Makes sure the host can run kube/cluster.sh (the single-node Kubernetes built from source):
# containerd and runc, the CNI plugins, conntrack, curl and openssl from Debian's packages, and
# buildah for the node's own images (scripts/ensure-image-tools.sh, which also sets up podman).
# Go itself is not installed here: kube/cluster.sh says so when it is missing.
set -euo pipefail

want=(containerd:containerd runc:runc conntrack:conntrack curl:curl openssl:openssl)
missing=()
for pair in "${want[@]}"; do
  command -v "${pair%%:*}" >/dev/null 2>&1 || missing+=("${pair#*:}")
done
[ -x /usr/lib/cni/bridge ] || missing+=(containernetworking-plugins)

if [ ${#missing[@]} -gt 0 ]; then
  command -v apt-get >/dev/null || { echo "ensure-kube-tools: missing ${missing[*]} and no apt-get; install them with your package manager" >&2; exit 1; }
  [ "$(id -u)" = 0 ] || { echo "ensure-kube-tools: missing ${missing[*]}; run as root" >&2; exit 1; }
  echo "==> installing ${missing[*]} with apt-get"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
if [ -f "$(dirname "$0")/ensure-image-tools.sh" ]; then
  bash "$(dirname "$0")/ensure-image-tools.sh"
fi
