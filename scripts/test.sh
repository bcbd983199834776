#!/usr/bin/env bash
# `make test`: type check, lint, unit tests (vitest), then the e2e suite on the local cluster.
# Prints vitest's own summaries and, last, one plain line: `summary: N passed, N failed, N skipped`.
set -uo pipefail
cd "$(dirname "$0")/.."
results=$(mktemp -d)
trap 'rm -rf "$results"' EXIT
status=0

step() { printf '\n==> %s\n' "$*"; }

if [ "$(id -u)" = 0 ] && [ -f scripts/ensure-host-deps.sh ]; then
  step "host tools for network namespaces (iproute2, iptables)"
  bash scripts/ensure-host-deps.sh || status=1
fi

step "generated code is current"
node packages/api/src/discovery/generate.ts --check || status=1

step "type check"
pnpm run --silent typecheck || status=1

step "lint"
pnpm exec biome check --reporter=summary . || status=1

step "unit tests"
pnpm exec vitest run --reporter=default --reporter=json --outputFile.json="$results/unit.json" || status=1

if [ -f e2e/vitest.local.config.ts ]; then
  step "e2e on the local cluster"
  if [ "$(id -u)" != 0 ]; then
    echo "e2e:local needs root (network namespaces and iptables); skipped. Run 'sudo make test' to include it."
  else
    pnpm exec vitest run --config e2e/vitest.local.config.ts --reporter=default --reporter=json --outputFile.json="$results/e2e.json" || status=1
  fi
fi

if [ -f scripts/test-images.sh ]; then
  step "image tests: make images, then each image started with testcontainers"
  if [ "$(id -u)" = 0 ]; then
    bash scripts/test-images.sh --reporter=default --reporter=json --outputFile.json="$results/images.json" || status=1
  elif [ "${CI:-}" = true ]; then
    echo "image tests need root (buildah and podman) and are required in CI: run as root"
    status=1
  else
    echo "image tests need root (building with buildah, running with podman); skipped. Run 'sudo make test' to include them."
  fi
fi

node -e '
  const fs = require("fs");
  let p = 0, f = 0, s = 0;
  for (const file of process.argv.slice(1)) {
    if (!fs.existsSync(file)) continue;
    const r = JSON.parse(fs.readFileSync(file, "utf8"));
    p += r.numPassedTests; f += r.numFailedTests + (r.numFailedTestSuites || 0) * 0; s += r.numPendingTests + (r.numTodoTests || 0);
  }
  console.log(`\nsummary: ${p} passed, ${f} failed, ${s} skipped`);
' "$results/unit.json" "$results/e2e.json" "$results/images.json"
exit $status
