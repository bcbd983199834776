# shellcheck shell=bash disable=SC2034  # the names here are used by the files that source this one
# Shared by kube/cluster.sh and its parts: paths, names, addresses, logging.
set -euo pipefail

KUBE_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
ROOT=$(cd "$KUBE_DIR/.." && pwd)
# Everything the cluster makes at run time lives here; `down` removes it all.
STATE=${MESH_KUBE_STATE:-/var/lib/minimesh-kube}
# Built binaries and image archives, kept between runs (keyed by what they are built from).
CACHE=${MESH_KUBE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/minimesh-kube}

K8S_VERSION=v1.34.4
NODE_NAME=minimesh-node
NODE_IP=10.245.0.1          # on the link below (a veth pair); the API server advertises it
NODE_LINK=mmkube0
POD_CIDR=10.244.0.0/24
CLUSTER_CIDR=10.244.0.0/16
SERVICE_CIDR=10.96.0.0/16
API_SERVICE_IP=10.96.0.1
DNS_SERVICE_IP=10.96.0.10
CNI_NETWORK=minimesh-kube
CNI_BRIDGE=mmkbr0
CONTEXT=minimesh-kube
KUBECONFIG_ADMIN=$STATE/admin.kubeconfig
CONTAINERD_SOCK=$STATE/containerd/containerd.sock
CNI_BIN_DIR=${MESH_KUBE_CNI_BIN:-/usr/lib/cni}
PAUSE_IMAGE=minimesh.local/pause:3.10
COREDNS_IMAGE=minimesh.local/coredns:1.12.1
# The Prometheus addon's image here (apps/addons/prometheus.yaml names prom/prometheus:v2.53.4,
# which cannot be pulled): the same version built from source (kube/prometheus/go.mod pins it; keep the
# three in step); the e2e suite runs the addon with it.
PROMETHEUS_IMAGE=minimesh.local/prometheus:v2.53.4

step() { printf '\n==> [kube] %s\n' "$*"; }
info() { printf '    %s\n' "$*"; }
die() { printf 'kube/cluster.sh: %s\n' "$*" >&2; exit 1; }

kube_bin() { echo "$CACHE/bin/kube"; }
ctr_() { ctr --address "$CONTAINERD_SOCK" --namespace k8s.io "$@"; }
kubectl_() { "$(kube_bin)" kubectl --kubeconfig "$KUBECONFIG_ADMIN" "$@"; }

# Waits until `$2…` succeeds, printing what it waits for every 10 s; fails after $1 seconds.
wait_for() {
  local timeout=$1 what=$2; shift 2
  local start=$SECONDS next=10
  until "$@" >/dev/null 2>&1; do
    if (( SECONDS - start >= timeout )); then return 1; fi
    if (( SECONDS - start >= next )); then info "waiting for $what ($((SECONDS - start))s)"; next=$((next + 10)); fi
    sleep 1
  done
}
