# Starting the components, each a host process in its own session with its log in $STATE/logs
# and its pid in $STATE/pids (which `down` reads).
# shellcheck shell=bash

# run_bg <name> <argv…>
run_bg() {
  local name=$1; shift
  mkdir -p "$STATE/logs" "$STATE/pids"
  setsid "$@" >"$STATE/logs/$name.log" 2>&1 </dev/null &
  echo $! >"$STATE/pids/$name.pid"
}

alive() { local pid; pid=$(cat "$STATE/pids/$1.pid" 2>/dev/null) && kill -0 "$pid" 2>/dev/null; }

# Fails with the component's last log lines when it died while we waited for it.
wait_component() {
  local name=$1 timeout=$2 what=$3; shift 3
  if ! wait_for "$timeout" "$what" bash -c "kill -0 \$(cat '$STATE/pids/$name.pid') && { $*; }"; then
    tail -n 25 "$STATE/logs/$name.log" >&2 || true
    die "$name did not become ready in ${timeout}s (log: $STATE/logs/$name.log)"
  fi
}

host_network() {
  modprobe br_netfilter 2>/dev/null || true
  [ -e /proc/sys/net/bridge/bridge-nf-call-iptables ] ||
    die "the kernel has no br_netfilter (kube-proxy's rules would not see bridged pod traffic)"
  sysctl -qw net.ipv4.ip_forward=1 net.bridge.bridge-nf-call-iptables=1
  # The node's address on a link of its own (a veth pair: dummy links need a module that not
  # every kernel has), so the cluster never binds to or depends on the host's real addresses.
  ip link add "$NODE_LINK" type veth peer name "${NODE_LINK}p"
  ip addr add "$NODE_IP/32" dev "$NODE_LINK"
  ip link set "${NODE_LINK}p" up
  ip link set "$NODE_LINK" up
  # Pods reach each other, Services (DNATed to pods) and the node; nothing else. Without this a
  # packet to an address nothing in the cluster owns (a deleted Service's ClusterIP, still in a
  # DNS cache) would leave through the host's default route.
  iptables -w -N MMKUBE-EGRESS
  iptables -w -A MMKUBE-EGRESS -i "$CNI_BRIDGE" ! -o "$CNI_BRIDGE" -j REJECT
  iptables -w -I FORWARD 1 -j MMKUBE-EGRESS
}

start_etcd() {
  mkdir -p "$STATE/etcd"
  mount -t tmpfs -o size=512m minimesh-kube-etcd "$STATE/etcd"
  run_bg etcd "$(kube_bin)" etcd --name "$NODE_NAME" --data-dir "$STATE/etcd" \
    --listen-client-urls http://127.0.0.1:2379 --advertise-client-urls http://127.0.0.1:2379 \
    --listen-peer-urls http://127.0.0.1:2380 --initial-advertise-peer-urls http://127.0.0.1:2380 \
    --initial-cluster "$NODE_NAME=http://127.0.0.1:2380" --listen-metrics-urls http://127.0.0.1:2381
  wait_component etcd 60 "etcd" "curl -fsS http://127.0.0.1:2381/health"
}

start_apiserver() {
  local pki=$STATE/pki
  run_bg kube-apiserver "$(kube_bin)" kube-apiserver \
    --etcd-servers http://127.0.0.1:2379 \
    --bind-address 0.0.0.0 --secure-port 6443 --advertise-address "$NODE_IP" \
    --tls-cert-file "$pki/apiserver.crt" --tls-private-key-file "$pki/apiserver.key" \
    --client-ca-file "$pki/ca.crt" \
    --kubelet-client-certificate "$pki/apiserver-kubelet-client.crt" \
    --kubelet-client-key "$pki/apiserver-kubelet-client.key" \
    --kubelet-certificate-authority "$pki/ca.crt" --kubelet-preferred-address-types InternalIP \
    --service-account-issuer https://kubernetes.default.svc.cluster.local \
    --service-account-key-file "$pki/sa.pub" --service-account-signing-key-file "$pki/sa.key" \
    --authorization-mode Node,RBAC \
    --enable-admission-plugins NodeRestriction,MutatingAdmissionWebhook,ValidatingAdmissionWebhook \
    --service-cluster-ip-range "$SERVICE_CIDR" --allow-privileged=true \
    --cert-dir "$STATE/apiserver"
  wait_component kube-apiserver 120 "kube-apiserver /readyz" \
    "curl -fsS --cacert '$pki/ca.crt' --cert '$pki/admin.crt' --key '$pki/admin.key' https://$NODE_IP:6443/readyz"
}

start_control_plane() {
  local pki=$STATE/pki
  run_bg kube-controller-manager "$(kube_bin)" kube-controller-manager \
    --kubeconfig "$STATE/controller-manager.kubeconfig" \
    --authentication-kubeconfig "$STATE/controller-manager.kubeconfig" \
    --authorization-kubeconfig "$STATE/controller-manager.kubeconfig" \
    --service-account-private-key-file "$pki/sa.key" --root-ca-file "$pki/ca.crt" \
    --cluster-signing-cert-file "$pki/ca.crt" --cluster-signing-key-file "$pki/ca.key" \
    --use-service-account-credentials --leader-elect=false \
    --allocate-node-cidrs --cluster-cidr "$CLUSTER_CIDR" --node-cidr-mask-size 24 \
    --service-cluster-ip-range "$SERVICE_CIDR" --bind-address 127.0.0.1 --secure-port 10257 \
    --cert-dir "$STATE/controller-manager"
  run_bg kube-scheduler "$(kube_bin)" kube-scheduler \
    --kubeconfig "$STATE/scheduler.kubeconfig" \
    --authentication-kubeconfig "$STATE/scheduler.kubeconfig" \
    --authorization-kubeconfig "$STATE/scheduler.kubeconfig" \
    --leader-elect=false --bind-address 127.0.0.1 --secure-port 10259 --cert-dir "$STATE/scheduler"
  wait_component kube-controller-manager 60 "kube-controller-manager /healthz" "curl -fsSk https://127.0.0.1:10257/healthz"
  wait_component kube-scheduler 60 "kube-scheduler /healthz" "curl -fsSk https://127.0.0.1:10259/healthz"
}

start_containerd() {
  local dir=$STATE/containerd
  mkdir -p "$dir" "$STATE/cni/net.d"
  cat >"$dir/config.toml" <<TOML
version = 2
root = "$dir/root"
state = "$dir/state"
disabled_plugins = ["io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper"]
[grpc]
  address = "$CONTAINERD_SOCK"
[ttrpc]
  address = "$dir/containerd.sock.ttrpc"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "$PAUSE_IMAGE"
  # CAP_SYS_RESOURCE is missing on these machines: a process may not lower its oom_score_adj.
  restrict_oom_score_adj = true
  enable_cdi = false
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
        Root = "$dir/runc"
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "$CNI_BIN_DIR"
    conf_dir = "$STATE/cni/net.d"
TOML
  cat >"$STATE/cni/net.d/10-$CNI_NETWORK.conflist" <<JSON
{
  "cniVersion": "1.0.0",
  "name": "$CNI_NETWORK",
  "plugins": [
    {
      "type": "bridge", "bridge": "$CNI_BRIDGE", "isGateway": true, "ipMasq": true, "hairpinMode": true,
      "ipam": {
        "type": "host-local", "dataDir": "$STATE/cni/ipam",
        "ranges": [[{ "subnet": "$POD_CIDR" }]], "routes": [{ "dst": "0.0.0.0/0" }]
      }
    },
    { "type": "portmap", "capabilities": { "portMappings": true } }
  ]
}
JSON
  run_bg containerd containerd --config "$dir/config.toml"
  wait_component containerd 30 "containerd" "ctr --address '$CONTAINERD_SOCK' version"
}

import_images() {
  local archive name start
  for archive in "$@"; do
    start=$SECONDS
    name=$(basename "$archive" .tar)
    ctr_ images import --no-unpack=false "$archive" >/dev/null || die "importing $archive into containerd failed"
    info "imported $name ($((SECONDS - start))s)"
  done
}

start_kubelet() {
  local pki=$STATE/pki dir=$STATE/kubelet
  mkdir -p "$dir" "$STATE/pod-logs"
  # Pods with dnsPolicy Default get this; nothing outside the cluster is resolvable from pods.
  printf 'nameserver %s\n' "$DNS_SERVICE_IP" >"$STATE/resolv.conf"
  cat >"$STATE/kubelet.yaml" <<YAML
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
address: $NODE_IP
authentication:
  anonymous: {enabled: false}
  webhook: {enabled: true}
  x509: {clientCAFile: $pki/ca.crt}
authorization: {mode: Webhook}
cgroupDriver: cgroupfs
failCgroupV1: false
failSwapOn: false
clusterDNS: [$DNS_SERVICE_IP]
clusterDomain: cluster.local
containerRuntimeEndpoint: unix://$CONTAINERD_SOCK
tlsCertFile: $pki/kubelet-serving.crt
tlsPrivateKeyFile: $pki/kubelet-serving.key
resolvConf: $STATE/resolv.conf
podLogsDir: $STATE/pod-logs
hairpinMode: hairpin-veth
serializeImagePulls: false
imageGCHighThresholdPercent: 100
evictionHard: {memory.available: "100Mi", nodefs.available: "1%", imagefs.available: "1%", nodefs.inodesFree: "1%"}
protectKernelDefaults: false
makeIPTablesUtilChains: true
YAML
  run_bg kubelet "$(kube_bin)" kubelet --config "$STATE/kubelet.yaml" \
    --kubeconfig "$STATE/kubelet.kubeconfig" --root-dir "$dir" --cert-dir "$dir/pki" \
    --hostname-override "$NODE_NAME" --node-ip "$NODE_IP"
  wait_component kubelet 120 "node $NODE_NAME Ready" \
    "'$(kube_bin)' kubectl --kubeconfig '$KUBECONFIG_ADMIN' get node $NODE_NAME -o jsonpath='{.status.conditions[?(@.type==\"Ready\")].status}' | grep -qx True"
}

start_kube_proxy() {
  cat >"$STATE/kube-proxy.yaml" <<YAML
apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
clientConnection: {kubeconfig: $STATE/kube-proxy.kubeconfig}
hostnameOverride: $NODE_NAME
mode: iptables
clusterCIDR: $CLUSTER_CIDR
conntrack: {maxPerCore: 0}
metricsBindAddress: 127.0.0.1:10249
healthzBindAddress: 127.0.0.1:10256
YAML
  run_bg kube-proxy "$(kube_bin)" kube-proxy --config "$STATE/kube-proxy.yaml"
  wait_component kube-proxy 60 "kube-proxy /healthz" "curl -fsS http://127.0.0.1:10256/healthz"
}

start_coredns() {
  sed -e "s|@DNS_SERVICE_IP@|$DNS_SERVICE_IP|" -e "s|@COREDNS_IMAGE@|$COREDNS_IMAGE|" \
    "$KUBE_DIR/manifests/coredns.yaml" | kubectl_ apply --server-side -f - >/dev/null
  kubectl_ -n kube-system rollout status deployment/coredns --timeout=180s ||
    die "CoreDNS did not become ready (kubectl --kubeconfig $KUBECONFIG_ADMIN -n kube-system describe pods -l k8s-app=kube-dns)"
}
