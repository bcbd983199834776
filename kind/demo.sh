#!/usr/bin/env bash
# Bookinfo with minimesh on kind (what `make demo` runs where Docker and kind work): the cluster,
# images and control plane (kind/up.sh), then Bookinfo in namespace default with sidecars
# injected, its gateway, destination rules and all-v1 routing, and a wait until every pod is ready.
#   bash kind/demo.sh [up]   everything above (safe to run again)
#   bash kind/demo.sh down   bash kind/down.sh: delete the cluster (make demo-down calls this)
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
case "${1:-up}" in
  up) ;;
  down) exec bash "$ROOT/kind/down.sh" ;;
  *) die "usage: bash kind/demo.sh [up|down]" ;;
esac
require_docker
require_kind
require_kubectl
require_workspace
kube() { kubectl --context "$CONTEXT" "$@"; }

bash "$ROOT/kind/up.sh"

step "Bookinfo (namespace default, labelled minimesh-injection=enabled)"
kube label namespace default minimesh-injection=enabled --overwrite
kube_dir="$ROOT/apps/bookinfo/kube"
gateway_yaml="$kube_dir/bookinfo-gateway.yaml"
[ -f "$gateway_yaml" ] || gateway_yaml="$kube_dir/networking/bookinfo-gateway.yaml"
mapfile -t applied < <(
  kube apply -n default -o name \
    -f "$kube_dir/bookinfo.yaml" \
    -f "$gateway_yaml" \
    -f "$kube_dir/networking/destination-rule-all.yaml" \
    -f "$kube_dir/networking/virtual-service-all-v1.yaml"
)
printf '  %s\n' "${applied[@]}"

step "waiting for Bookinfo's pods"
for obj in "${applied[@]}"; do
  case "$obj" in deployment.apps/*) kube rollout status -n default "$obj" --timeout=300s ;; esac
done

step "checking $GATEWAY_URL/productpage"
for i in $(seq 1 60); do
  code=$(node -e 'fetch(process.argv[1]).then(r=>console.log(r.status)).catch(()=>console.log(0))' "http://127.0.0.1:8080/productpage")
  [ "$code" = 200 ] && break
  [ "$i" = 60 ] && die "$GATEWAY_URL/productpage answered $code after 60 s; look at: kubectl --context $CONTEXT -n minimesh-system logs deploy/minimesh-ingressgateway"
  sleep 1
done

cat <<MSG

Bookinfo is up: $GATEWAY_URL/productpage
  send jason to reviews v2: kubectl --context $CONTEXT apply -f apps/bookinfo/kube/networking/virtual-service-reviews-test-v2.yaml
  the control plane:        kubectl --context $CONTEXT -n minimesh-system port-forward deploy/meshd 15014,
                            then http://localhost:15014/debug/syncz
  remove everything:        bash kind/down.sh   (or make demo-down)
MSG
