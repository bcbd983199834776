# `down`: removes everything `up` made — processes, containers, mounts, cgroups, network
# namespaces, veths, the bridge and dummy link, iptables rules and chains, files — whether the
# cluster is running, half up, or left behind by a crash. Safe to run when nothing is there.
# shellcheck shell=bash

kill_pidfile() {
  local name=$1 pid
  pid=$(cat "$STATE/pids/$name.pid" 2>/dev/null) || return 0
  kill -TERM "$pid" 2>/dev/null || return 0
  for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
  kill -KILL "$pid" 2>/dev/null || true
}

# Processes whose command line names the state dir (containerd shims, a component left without
# its pid file) and every process in the kubelet's pod cgroups (the containers themselves).
kill_leftovers() {
  local pid
  for pid in $(pgrep -f -- "$STATE/" || true); do
    [ "$pid" = $$ ] || kill -KILL "$pid" 2>/dev/null || true
  done
  find /sys/fs/cgroup/*/kubepods -name cgroup.procs -exec cat {} + 2>/dev/null | sort -u |
    while read -r pid; do kill -KILL "$pid" 2>/dev/null || true; done
}

remove_cgroups() {
  local dir
  for dir in /sys/fs/cgroup/*/kubepods; do
    [ -d "$dir" ] || continue
    find "$dir" -depth -type d -exec rmdir {} + 2>/dev/null || true
  done
}

unmount_state() {
  local mnt
  # Deepest first; `umount -l` for what a dying shim still holds.
  awk -v s="$STATE" 'index($2, s) == 1 {print $2}' /proc/mounts | sort -r | while read -r mnt; do
    umount "$mnt" 2>/dev/null || umount -l "$mnt" 2>/dev/null || true
  done
}

remove_netns() {
  local ns
  [ -f "$STATE/netns-before" ] || return 0
  for ns in $(ip netns list 2>/dev/null | awk '{print $1}' | grep '^cni-' || true); do
    grep -qxF "$ns" "$STATE/netns-before" || ip netns delete "$ns" 2>/dev/null || true
  done
}

# Drops every chain named KUBE-*, CNI-* or MMKUBE-* (kube-proxy's, the kubelet's, the CNI plugins',
# this script's) and every rule that jumps to one, table by table, keeping everything else as it was.
remove_iptables() {
  local save restore table dump
  for save in iptables-save ip6tables-save; do
    command -v "$save" >/dev/null || continue
    restore=${save%-save}-restore
    for table in nat filter mangle; do
      dump=$("$save" -t "$table" 2>/dev/null) || continue
      grep -qE '(KUBE|CNI|MMKUBE)-' <<<"$dump" || continue
      grep -vE '^:(KUBE|CNI|MMKUBE)-|-A (KUBE|CNI|MMKUBE)-|-j (KUBE|CNI|MMKUBE)-|-g (KUBE|CNI|MMKUBE)-' <<<"$dump" | "$restore" -T "$table" ||
        info "could not clean the $table table of $save (left as is)"
    done
  done
}

remove_links() {
  ip link delete "$CNI_BRIDGE" 2>/dev/null || true
  ip link delete "$NODE_LINK" 2>/dev/null || true
  # CNI's cached results for this network (libcni keeps them under /var/lib/cni).
  rm -f /var/lib/cni/results/"$CNI_NETWORK"-* 2>/dev/null || true
  # The kubelet's symlinks to container logs (their targets are in the state dir).
  find /var/log/containers -maxdepth 1 -type l -lname "$STATE/*" -delete 2>/dev/null || true
}

cluster_down() {
  [ -d "$STATE" ] || { remove_links; return 0; }
  local name
  for name in kube-proxy kubelet kube-scheduler kube-controller-manager kube-apiserver; do kill_pidfile "$name"; done
  local ids=()
  if [ -S "$CONTAINERD_SOCK" ]; then
    mapfile -t ids < <(ctr_ containers list -q 2>/dev/null || true)
    local task
    for task in $(ctr_ tasks list -q 2>/dev/null || true); do ctr_ tasks kill -s SIGKILL "$task" >/dev/null 2>&1 || true; done
  fi
  kill_pidfile containerd
  kill_pidfile etcd
  kill_leftovers
  sleep 0.5
  remove_netns
  remove_cgroups
  unmount_state
  remove_iptables
  remove_links
  # libcni's cached results for our sandboxes' loopback networks (containerd names them by id).
  local id
  for id in "${ids[@]}"; do rm -f /var/lib/cni/results/cni-loopback-"$id"-lo; done
  rm -rf "$STATE"
}
