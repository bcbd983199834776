#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# A real single-node Kubernetes on this host, as host processes: etcd (on tmpfs), kube-apiserver,
# kube-controller-manager, kube-scheduler, kubelet on containerd (cgroupfs, a locally built pause
# image), kube-proxy (iptables), CNI (bridge, host-local, portmap, loopback from Debian's
# containernetworking-plugins) and CoreDNS as a Deployment. Every program is built from source
# through the Go module proxy (kube/go.mod, kube/coredns/go.mod); nothing prebuilt is fetched.
#
#   bash kube/cluster.sh up [images…]   build (cached), start, import the given docker-archives
#   bash kube/cluster.sh down           remove everything up made (also after a crash)
#   bash kube/cluster.sh build          only build the programs and the pause/CoreDNS images
#   bash kube/cluster.sh import <tar…>  import more docker-archive images into the running node
#   bash kube/cluster.sh restart-apiserver
#   bash kube/cluster.sh env            print KUBECONFIG=… for a shell
#
# State: $MESH_KUBE_STATE (default /var/lib/minimesh-kube); cache: $MESH_KUBE_CACHE (default
# ~/.cache/minimesh-kube). Needs root, Go, containerd, runc, the CNI plugins, iptables, openssl, curl
# (scripts/ensure-kube-tools.sh installs them from Debian's packages).
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
# shellcheck source=lib/build.sh
source "$KUBE_DIR/lib/build.sh"
# shellcheck source=lib/pki.sh
source "$KUBE_DIR/lib/pki.sh"
# shellcheck source=lib/components.sh
source "$KUBE_DIR/lib/components.sh"
# shellcheck source=lib/down.sh
source "$KUBE_DIR/lib/down.sh"

require_host() {
  [ "$(id -u)" = 0 ] || die "needs root (network namespaces, iptables, mounts, cgroups): run it with sudo"
  local tool missing=()
  for tool in go containerd containerd-shim-runc-v2 runc ctr iptables iptables-save ip openssl curl; do
    command -v "$tool" >/dev/null || missing+=("$tool")
  done
  for tool in bridge host-local portmap loopback; do
    [ -x "$CNI_BIN_DIR/$tool" ] || missing+=("CNI plugin $CNI_BIN_DIR/$tool")
  done
  [ ${#missing[@]} -eq 0 ] || die "missing: ${missing[*]} (bash scripts/ensure-kube-tools.sh installs them)"
  [ -d /sys/fs/cgroup/memory ] || [ -f /sys/fs/cgroup/cgroup.controllers ] || die "no cgroup hierarchy under /sys/fs/cgroup"
}

build() {
  build_programs
  step "images for the node: pause, CoreDNS, and Prometheus for the addon"
  scratch_image "$PAUSE_IMAGE" pause
  scratch_image "$COREDNS_IMAGE" coredns
  # At /bin/prometheus, as in prom/prometheus: the addon mounts its data volume at /prometheus.
  scratch_image "$PROMETHEUS_IMAGE" prometheus bin/prometheus
}

up() {
  require_host
  local start=$SECONDS
  build
  if [ -d "$STATE" ]; then
    step "removing what an earlier run left"
    cluster_down
  fi
  mkdir -p "$STATE"
  ip netns list 2>/dev/null | awk '{print $1}' >"$STATE/netns-before"
  step "network: $NODE_LINK $NODE_IP, pods $POD_CIDR on $CNI_BRIDGE, services $SERVICE_CIDR"
  host_network
  step "certificates and kubeconfigs"
  make_pki
  step "etcd"
  start_etcd
  step "kube-apiserver"
  start_apiserver
  step "kube-controller-manager, kube-scheduler"
  start_control_plane
  step "containerd"
  start_containerd
  step "images into containerd (k8s.io)"
  import_images "$CACHE/images/"*.tar "$@"
  step "kubelet"
  start_kubelet
  step "kube-proxy"
  start_kube_proxy
  step "CoreDNS"
  start_coredns
  step "cluster up in $((SECONDS - start))s: KUBECONFIG=$KUBECONFIG_ADMIN (context $CONTEXT)"
}

restart_apiserver() {
  kill_pidfile kube-apiserver
  start_apiserver
}

case "${1:-}" in
  up) shift; up "$@" ;;
  down) require_host; step "down"; cluster_down; info "removed" ;;
  build) require_host; build ;;
  import) shift; import_images "$@" ;;
  restart-apiserver) restart_apiserver ;;
  env) echo "export KUBECONFIG=$KUBECONFIG_ADMIN" ;;
  *) sed -n '2,21p' "$0" | sed 's/^# \{0,1\}//'; exit 2 ;;
esac
