# Builds the cluster's programs from source through the Go module proxy and the two images only
# this cluster needs (pause, CoreDNS), caching each under $CACHE by a hash of what it is built
# from: a warm machine relinks nothing, and Go's own module and build caches make a changed
# build incremental.
# shellcheck shell=bash

source_hash() {
  { go version; (cd "$KUBE_DIR" && find "$@" -type f \( -name '*.go' -o -name go.mod -o -name go.sum \) -print0 |
      sort -z | xargs -0 sha256sum); } | sha256sum | cut -c1-16
}

version_ldflags() {
  local flags="-s -w" pkg minor=${K8S_VERSION#v1.}
  minor=${minor%%.*}
  for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    flags+=" -X $pkg.gitVersion=$K8S_VERSION -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor"
    flags+=" -X $pkg.gitTreeState=clean -X $pkg.buildDate=1970-01-01T00:00:00Z"
  done
  echo "$flags"
}

# go_build <output name> <module dir> <package> <what to expect> <hash inputs…>
# (GO_LDFLAGS replaces Kubernetes' version ldflags, GO_TAGS gives build tags.)
go_build() {
  local name=$1 module=$2 pkg=$3 expect=$4; shift 4
  local hash out=$CACHE/bin/$name
  hash=$(source_hash "$@")
  if [ -x "$out" ] && [ "$(cat "$out.hash" 2>/dev/null)" = "$hash" ]; then
    info "$name: cached ($out)"
    return
  fi
  info "$name: building (go build $pkg in kube/$module; $expect)"
  local start=$SECONDS ldflags=${GO_LDFLAGS:-$(version_ldflags)}
  mkdir -p "$CACHE/bin"
  (cd "$KUBE_DIR/$module" && CGO_ENABLED=0 go build -trimpath ${GO_TAGS:+-tags "$GO_TAGS"} -ldflags "$ldflags" -o "$out.tmp" "$pkg") ||
    die "building $name failed (see the Go errors above)"
  mv "$out.tmp" "$out" && echo "$hash" >"$out.hash"
  info "$name: built in $((SECONDS - start))s ($(du -m "$out" | cut -f1) MB)"
}

build_programs() {
  step "programs from source: Kubernetes $K8S_VERSION, etcd, CoreDNS, pause, Prometheus"
  command -v go >/dev/null || die "Go is needed to build Kubernetes from source (go 1.24 or newer on PATH)"
  go_build kube . ./cmd/kube "cold: about 12 min on 2 idle cores, 20 min when busy" go.mod go.sum cmd/kube
  go_build pause . ./cmd/pause "seconds" cmd/pause
  go_build coredns coredns . "cold: about 3 min" coredns
  # The Prometheus addon's image: upstream's build tags but builtinassets (its web UI's assets are
  # not in the module; the API, which the dashboard reads, is all there).
  local v=github.com/prometheus/common/version
  GO_TAGS=netgo,stringlabels GO_LDFLAGS="-s -w -X $v.Version=${PROMETHEUS_IMAGE##*:v} -X $v.Branch=HEAD -X $v.BuildUser=minimesh -X $v.BuildDate=19700101-00:00:00" \
    go_build prometheus prometheus github.com/prometheus/prometheus/cmd/prometheus "cold: about 10 min" prometheus
}

# scratch_image <image> <binary> [path] : an image holding one static binary as its entrypoint, at
# /<path> (default /<binary>), written straight as a docker-archive (manifest.json, the config, one
# layer) under $CACHE/images for `ctr import`: no image builder is needed for a single file.
scratch_image() {
  local image=$1 binary=$2 path=${3:-$2} archive=$CACHE/images/${1//[\/:]/_}.tar
  local hash
  hash=$(cat "$CACHE/bin/$binary.hash")${3:+:$3}
  if [ -f "$archive" ] && [ "$(cat "$archive.hash" 2>/dev/null)" = "$hash" ]; then return; fi
  local dir layer_id config_id
  dir=$(mktemp -d)
  mkdir -p "$dir/rootfs/$(dirname "$path")" "$CACHE/images"
  cp "$CACHE/bin/$binary" "$dir/rootfs/$path"
  tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner -C "$dir/rootfs" -cf "$dir/layer.tar" "${path%%/*}"
  layer_id=$(sha256sum "$dir/layer.tar" | cut -d' ' -f1)
  printf '{"architecture":"%s","os":"linux","config":{"Entrypoint":["/%s"]},"rootfs":{"type":"layers","diff_ids":["sha256:%s"]},"history":[{"created_by":"kube/lib/build.sh: COPY %s /%s"}]}' \
    "$(go env GOARCH)" "$path" "$layer_id" "$binary" "$path" >"$dir/config.json"
  config_id=$(sha256sum "$dir/config.json" | cut -d' ' -f1)
  mv "$dir/config.json" "$dir/$config_id.json"
  mv "$dir/layer.tar" "$dir/$layer_id.tar"
  printf '[{"Config":"%s.json","RepoTags":["%s"],"Layers":["%s.tar"]}]' "$config_id" "$image" "$layer_id" >"$dir/manifest.json"
  tar -C "$dir" -cf "$archive.tmp" manifest.json "$config_id.json" "$layer_id.tar"
  mv "$archive.tmp" "$archive" && echo "$hash" >"$archive.hash"
  rm -rf "$dir"
  info "$image: written ($(du -m "$archive" | cut -f1) MB)"
}
