#!/usr/bin/env bash
# make demo / make demo-down: Bookinfo on the mesh.
#   bash scripts/demo.sh up     kind (kind/demo.sh) where kind and a working Docker exist, else the
#                               local cluster: meshd, the ingress gateway, Bookinfo with injection,
#                               destination-rule-all and virtual-service-all-v1; waits until ready
#                               and prints the productpage URL and a few things to try.
#   bash scripts/demo.sh down   removes everything `up` started (safe when nothing runs).
# Safe to run twice: `up` on a running cluster re-applies Bookinfo (unchanged) but leaves the
# routing rules alone once they exist, so routing the user changed is not reset.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
export PATH="$root/.tools/node/bin:$root/.tools/pnpm/bin:$root/node_modules/.bin:$PATH"
export NODE_OPTIONS=--conditions=@minimesh/source
run_dir=${MINIMESH_LOCAL_RUN_DIR:-/var/run/minimesh-local}
mode_file="$run_dir/demo-mode"
kube="$root/apps/bookinfo/kube"
net="$kube/networking"
meshctl() { node "$root/packages/cli/src/main.ts" "$@"; }
say() { printf '\033[1m==> %s\033[0m\n' "$*"; }
die() { printf 'demo: %s\n' "$*" >&2; exit 1; }

kind_works() {
  command -v kind >/dev/null 2>&1 && command -v docker >/dev/null 2>&1 && docker info >/dev/null 2>&1
}

need_root() {
  if [ "$(id -u)" -ne 0 ]; then
    die "the local cluster needs root (network namespaces, a bridge, iptables): run \`sudo make demo\` (or install kind and Docker)"
  fi
}

need_file() {
  [ -f "$1" ] || die "$1 is missing: this checkout has no Bookinfo manifests yet"
}

# The dashboard (meshctl dashboard, with the Prometheus addon when Debian's prometheus is installed)
# runs in the background until `make demo-down`, which stops it by its pid.
dashboard_port=${MINIMESH_DASHBOARD_PORT:-20001}
dashboard_url="http://127.0.0.1:$dashboard_port/"
dashboard_pid="$run_dir/dashboard.pid"
dashboard_log="$run_dir/dashboard.log"

start_dashboard() {
  if [ -f "$dashboard_pid" ] && kill -0 "$(cat "$dashboard_pid")" 2>/dev/null; then return; fi
  say "starting the dashboard"
  nohup node "$root/packages/cli/src/main.ts" dashboard --local --no-open --port "$dashboard_port" >"$dashboard_log" 2>&1 &
  echo $! >"$dashboard_pid"
  for _ in $(seq 1 60); do
    if curl -sf -o /dev/null "${dashboard_url}healthz/ready" 2>/dev/null; then return; fi
    kill -0 "$(cat "$dashboard_pid")" 2>/dev/null || { echo "  the dashboard did not start: see $dashboard_log"; return; }
    sleep 0.5
  done
}

stop_dashboard() {
  if [ -f "$dashboard_pid" ]; then
    pid=$(cat "$dashboard_pid")
    if kill -0 "$pid" 2>/dev/null; then
      say "stopping the dashboard"
      kill "$pid" 2>/dev/null || true
      for _ in $(seq 1 20); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
    fi
    rm -f "$dashboard_pid"
  fi
}

local_up() {
  need_root
  bash "$root/scripts/ensure-host-deps.sh"
  need_file "$kube/bookinfo.yaml"
  say "starting the local cluster and the mesh (meshd, ingress gateway)"
  meshctl local up --timeout 300s
  mkdir -p "$(dirname "$mode_file")" && echo local >"$mode_file"

  say "labelling namespace default for sidecar injection"
  printf 'apiVersion: v1\nkind: Namespace\nmetadata:\n  name: default\n  labels:\n    minimesh-injection: enabled\n' |
    meshctl local apply -f -

  say "deploying Bookinfo"
  meshctl local apply -f "$kube/bookinfo.yaml"
  meshctl local apply -f "$kube/bookinfo-gateway.yaml"
  if meshctl local get vs reviews >/dev/null 2>&1; then
    echo "  routing rules already exist: left as they are (delete them to start over:"
    echo "  ./meshctl local delete -f $net/virtual-service-all-v1.yaml -f $net/destination-rule-all.yaml)"
  else
    meshctl local apply -f "$net/destination-rule-all.yaml" -f "$net/virtual-service-all-v1.yaml"
  fi

  say "waiting for Bookinfo to be ready and every proxy to have the routing"
  meshctl local wait -n default --timeout 300s
  meshctl local wait --for=sync --timeout 120s

  url="$(meshctl local url)"
  start_dashboard
  say "Bookinfo is up"
  cat <<EOF

  productpage:  $url/productpage
  dashboard:    $dashboard_url   (service graph, metrics, proxy sync, rejected config; log $dashboard_log)

  Try (--wait returns once every proxy has the change, so the next command sees it):
  1. Canary: 90% of reviews traffic to v1, 10% to v2, then count who answered:
       ./meshctl local apply --wait -f $net/virtual-service-reviews-90-10.yaml
       for i in \$(seq 1 50); do curl -s $url/productpage | grep -o 'reviews-v[0-9]'; done | sort | uniq -c

  2. Route jason (and only jason) to reviews v2:
       ./meshctl local apply --wait -f $net/virtual-service-reviews-test-v2.yaml
       curl -s -c /tmp/jason -d username=jason $url/login >/dev/null
       curl -s -b /tmp/jason $url/productpage | grep -o 'reviews-v[0-9]'   # v2 for jason
       curl -s $url/productpage | grep -o 'reviews-v[0-9]'                 # v1 for everyone else

  3. Send everyone to reviews v3 (which calls ratings), limit ratings to 1 call a second per
     caller, and watch the stars go: the first page has them, the next ones in that second say
     "Ratings service is currently unavailable" (counted per page: 0, then 2):
       ./meshctl local apply --wait -f $net/virtual-service-reviews-v3.yaml -f $net/quota-ratings.yaml
       for i in \$(seq 1 5); do curl -s $url/productpage | grep -c 'Ratings service is currently unavailable'; done

  Look around:  ./meshctl local get pods -o wide    ./meshctl local logs <pod> -c mesh-proxy
                ./meshctl local get vs               (what meshd made of each rule: Accepted / Rejected: why)
                ./meshctl proxy-status               (every proxy: synced or stale, last NACK)
                ./meshctl proxy-config routes deploy/productpage-v1   (what that proxy serves)
  Stop it all:  make demo-down
EOF
}

local_down() {
  if [ "$(id -u)" -ne 0 ]; then
    die "removing the local cluster needs root: run \`sudo make demo-down\`"
  fi
  stop_dashboard
  say "taking the local cluster down"
  meshctl local down
}

case "${1:-}" in
  up)
    if kind_works; then
      if [ -x "$root/kind/demo.sh" ] || [ -f "$root/kind/demo.sh" ]; then
        say "kind and Docker found: using kind"
        { mkdir -p "$run_dir" && echo kind >"$mode_file"; } 2>/dev/null || true
        exec bash "$root/kind/demo.sh" up
      fi
      echo "demo: kind and Docker are here, but kind/demo.sh is not (yet); using the local cluster instead"
    fi
    local_up
    ;;
  down)
    mode=$(cat "$mode_file" 2>/dev/null || echo local)
    if [ "$mode" = kind ] && [ -f "$root/kind/demo.sh" ]; then
      bash "$root/kind/demo.sh" down
    fi
    if [ "$mode" = local ] || [ "$(id -u)" -eq 0 ]; then local_down; fi
    rm -f "$mode_file" 2>/dev/null || true
    ;;
  *)
    echo "usage: $0 up|down" >&2
    exit 2
    ;;
esac
