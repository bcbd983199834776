#!/usr/bin/env bash
# Exits 0 when minimesh can run on kind here (kind installed, a Docker engine answering), else 1
# with the reason on stderr. `make demo` uses it to choose kind over the local cluster.
command -v kind >/dev/null 2>&1 || { echo "kind is not installed" >&2; exit 1; }
command -v docker >/dev/null 2>&1 || { echo "docker is not installed" >&2; exit 1; }
docker info >/dev/null 2>&1 || { echo "no Docker engine answers (docker info failed)" >&2; exit 1; }
command -v kubectl >/dev/null 2>&1 || { echo "kubectl is not installed" >&2; exit 1; }
exit 0
