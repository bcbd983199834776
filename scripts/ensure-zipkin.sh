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
command -v java >/dev/null || { echo "ensure-zipkin: Java 17 or newer is needed to run Zipkin (apt-get install openjdk-17-jre-headless)" >&2; exit 1; }
command -v mvn >/dev/null || { echo "ensure-zipkin: Maven is needed to fetch Zipkin (apt-get install maven)" >&2; exit 1; }
mkdir -p "$cache"
echo "ensure-zipkin: fetching io.zipkin:zipkin-server:$version:jar:exec with Maven" >&2
mvn -q -B dependency:copy \
  -Dartifact="io.zipkin:zipkin-server:$version:jar:exec" \
  -DoutputDirectory="$cache" -Dmdep.stripVersion=false -Dmdep.overWriteReleases=true >&2
[ -s "$jar" ] || { echo "ensure-zipkin: Maven ran but $jar is not there" >&2; exit 1; }
echo "$jar"
