#!/usr/bin/env bash
# Builds Jaeger v2 (github.com/jaegertracing/jaeger/cmd/jaeger: an OpenTelemetry Collector with an
# OTLP/HTTP receiver, in-memory storage and Jaeger's query API) from source through the Go module
# proxy, once, into ~/.cache/minimesh/jaeger, and prints the binary's path. The version and every
# module it is built from are pinned by scripts/jaeger/go.mod and go.sum; a build is current while
# those and `go version` are unchanged. The OTLP tracing tests start it on loopback.
#   bash scripts/ensure-jaeger.sh          build when needed, print the path (make test runs this)
#   bash scripts/ensure-jaeger.sh --path   print the path of a current build, or fail: never builds
set -euo pipefail
dir=$(cd "$(dirname "$0")/jaeger" && pwd)
cache=${MINIMESH_CACHE:-$HOME/.cache/minimesh}/jaeger
bin=$cache/jaeger
command -v go >/dev/null || {
  echo "ensure-jaeger: needs Go 1.24 or newer on PATH (Jaeger is built from source)" >&2
  exit 1
}
hash=$({ go version; cd "$dir" && sha256sum go.mod go.sum; } | sha256sum | cut -c1-16)
if [ -x "$bin" ] && [ "$(cat "$bin.hash" 2>/dev/null)" = "$hash" ]; then
  echo "$bin"
  exit 0
fi
if [ "${1:-}" = --path ]; then
  echo "ensure-jaeger: no current Jaeger build in $cache: run 'bash scripts/ensure-jaeger.sh' (make test does)" >&2
  exit 1
fi
version=$(sed -n 's|^\tgithub.com/jaegertracing/jaeger \(v[^ ]*\).*|\1|p' "$dir/go.mod")
echo "ensure-jaeger: building Jaeger (module $version) with Go's module proxy; cold: about 10 min on 2 cores" >&2
start=$SECONDS
mkdir -p "$cache"
(cd "$dir" && CGO_ENABLED=0 go build -trimpath -ldflags='-s -w' -o "$bin.tmp" github.com/jaegertracing/jaeger/cmd/jaeger) >&2
mv "$bin.tmp" "$bin"
echo "$hash" >"$bin.hash"
echo "ensure-jaeger: built in $((SECONDS - start)) s ($(du -m "$bin" | cut -f1) MB)" >&2
echo "$bin"
