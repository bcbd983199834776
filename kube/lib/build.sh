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
go_build() {
  local name=$1 module=$2 pkg=$3 expect=$4; shift 4
  local hash out=$CACHE/bin/$name
  hash=$(source_hash "$@")
  if [ -x "$out" ] && [ "$(cat "$out.hash" 2>/dev/null)" = "$hash" ]; then
    info "$name: cached ($out)"
    return
  fi
  info "$name: building (go build $pkg in kube/$module; $expect)"
  local start=$SECONDS
  mkdir -p "$CACHE/bin"
  (cd "$KUBE_DIR/$module" && CGO_ENABLED=0 go build -trimpath -ldflags "$(version_ldflags)" -o "$out.tmp" "$pkg") ||
    die "building $name failed (see the Go errors above)"
  mv "$out.tmp" "$out" && echo "$hash" >"$out.hash"
  info "$name: built in $((SECONDS - start))s ($(du -m "$out" | cut -f1) MB)"
}

build_programs() {
  step "programs from source: Kubernetes $K8S_VERSION, etcd, CoreDNS, pause"
  command -v go >/dev/null || die "Go is needed to build Kubernetes from source (go 1.24 or newer on PATH)"
  go_build kube . ./cmd/kube "cold: about 12 min on 2 idle cores, 20 min when busy" go.mod go.sum cmd/kube
  go_build pause . ./cmd/pause "seconds" cmd/pause
  go_build coredns coredns . "cold: about 3 min" coredns
}

# scratch_image <image> <binary> : an image holding one static binary as its entrypoint, written
# straight as a docker-archive (manifest.json, the config, one layer) under $CACHE/images for
# `ctr import`: no image builder is needed for a single file.
scratch_image() {
  local image=$1 binary=$2 rootfs
  rootfs=$(mktemp -d)
  cp "$CACHE/bin/$binary" "$rootfs/$binary"
  archive_image "$image" "$rootfs" "/$binary" "$(cat "$CACHE/bin/$binary.hash")" '{}'
  rm -rf "$rootfs"
}

# host_binary_image <image> <path> <labels JSON> : an image of a host program (its binary at /bin/<name>
# and the shared libraries ldd names, at their paths), for an addon whose registry image this machine
# cannot pull; rebuilt when the binary changes.
host_binary_image() {
  local image=$1 path=$2 labels=$3 rootfs lib name
  name=$(basename "$path")
  rootfs=$(mktemp -d)
  mkdir -p "$rootfs/bin"
  cp "$path" "$rootfs/bin/$name"
  for lib in $(ldd "$path" | grep -o '/[^ ]*'); do
    mkdir -p "$rootfs$(dirname "$lib")"
    cp -L "$lib" "$rootfs$lib"
  done
  archive_image "$image" "$rootfs" "/bin/$name" "$(sha256sum "$path" | cut -c1-16)" "$labels"
  rm -rf "$rootfs"
}

# archive_image <image> <rootfs dir> <entrypoint> <hash> <labels JSON> : the rootfs as a one-layer
# docker-archive under $CACHE/images, unless the one there was made from the same hash.
archive_image() {
  local image=$1 rootfs=$2 entrypoint=$3 hash=$4 labels=$5 archive=$CACHE/images/${1//[\/:]/_}.tar
  if [ -f "$archive" ] && [ "$(cat "$archive.hash" 2>/dev/null)" = "$hash" ]; then return; fi
  local dir layer_id config_id entries
  dir=$(mktemp -d)
  mkdir -p "$CACHE/images"
  # The rootfs's entries, not the directory itself (mktemp's 0700 would become the image's /).
  mapfile -t entries < <(ls -A "$rootfs")
  tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner -C "$rootfs" -cf "$dir/layer.tar" "${entries[@]}"
  layer_id=$(sha256sum "$dir/layer.tar" | cut -d' ' -f1)
  printf '{"architecture":"%s","os":"linux","config":{"Entrypoint":["%s"],"Labels":%s},"rootfs":{"type":"layers","diff_ids":["sha256:%s"]},"history":[{"created_by":"kube/lib/build.sh: COPY %s"}]}' \
    "$(go env GOARCH)" "$entrypoint" "$labels" "$layer_id" "$entrypoint" >"$dir/config.json"
  config_id=$(sha256sum "$dir/config.json" | cut -d' ' -f1)
  mv "$dir/config.json" "$dir/$config_id.json"
  mv "$dir/layer.tar" "$dir/$layer_id.tar"
  printf '[{"Config":"%s.json","RepoTags":["%s"],"Layers":["%s.tar"]}]' "$config_id" "$image" "$layer_id" >"$dir/manifest.json"
  tar -C "$dir" -cf "$archive.tmp" manifest.json "$config_id.json" "$layer_id.tar"
  mv "$archive.tmp" "$archive" && echo "$hash" >"$archive.hash"
  rm -rf "$dir"
  info "$image: written ($(du -m "$archive" | cut -f1) MB)"
}
