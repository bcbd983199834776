#!/usr/bin/env bash
# Fetches the Zipkin server (the `io.zipkin:zipkin-server` executable jar from Maven Central, with
# Maven) into ~/.cache/minimesh once, and prints the jar's path. The tracing tests start it on a
# loopback port with the machine's Java (17 or newer). ZIPKIN_VERSION overrides the version.
set -euo pipefail
version=${ZIPKIN_VERSION:-3.5.1}
cache=${MINIMESH_CACHE:-$HOME/.cache/minimesh}
jar="$cache/zipkin-server-$version-exec.jar"
if [ -s "$jar" ]; then
  echo "$jar"
  exit 0
fi
# Java and Maven from Debian when they are missing and we may install (root), as the other
# ensure-* scripts do; otherwise say what is needed.
missing=()
command -v java >/dev/null || missing+=(default-jre-headless)
command -v mvn >/dev/null || missing+=(maven)
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "ensure-zipkin: installing ${missing[*]} from Debian" >&2
    apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >&2
  else
    echo "ensure-zipkin: needs ${missing[*]} (Java 17+ runs Zipkin, Maven fetches it): apt-get install ${missing[*]}" >&2
    exit 1
  fi
fi
mkdir -p "$cache"
echo "ensure-zipkin: fetching io.zipkin:zipkin-server:$version:jar:exec with Maven" >&2
mvn -q -B dependency:copy \
  -Dartifact="io.zipkin:zipkin-server:$version:jar:exec" \
  -DoutputDirectory="$cache" -Dmdep.stripVersion=false -Dmdep.overWriteReleases=true >&2
[ -s "$jar" ] || { echo "ensure-zipkin: Maven ran but $jar is not there" >&2; exit 1; }
echo "$jar"
