# Sourced by Trestle's scripts: sets JAVA_HOME to a JDK 25 or newer, or explains how to get one.
# Order: $JAVA_HOME, then well-known install folders, then `java` on PATH.

trestle_java_major() { # prints the feature version of the java at $1/bin/java, or nothing
  [ -x "$1/bin/java" ] || return 0
  "$1/bin/java" -XshowSettings:properties -version 2>&1 \
    | awk -F'= ' '/java.specification.version =/ {print $2; exit}'
}

trestle_find_jdk() {
  local candidates=() c major
  [ -n "${JAVA_HOME:-}" ] && candidates+=("$JAVA_HOME")
  for c in /usr/lib/jvm/*25* /usr/lib/jvm/*2[6-9]* /usr/lib/jvm/* \
           /opt/java/* /opt/jdk* /usr/local/jdk* \
           /Library/Java/JavaVirtualMachines/*/Contents/Home \
           "$HOME"/.sdkman/candidates/java/* "$HOME"/.jdks/*; do
    [ -d "$c" ] && candidates+=("$c")
  done
  if command -v java >/dev/null 2>&1; then
    c=$(dirname "$(dirname "$(readlink -f "$(command -v java)")")")
    candidates+=("$c")
  fi
  for c in "${candidates[@]}"; do
    major=$(trestle_java_major "$c")
    if [ -n "$major" ] && [ "$major" -ge 25 ] 2>/dev/null; then
      export JAVA_HOME="$c"
      return 0
    fi
  done
  echo "trestle: no JDK 25 found (looked at \$JAVA_HOME, /usr/lib/jvm, /opt, ~/.sdkman, ~/.jdks and PATH)." >&2
  echo "fix: install a JDK 25 (e.g. Eclipse Temurin 25) and set JAVA_HOME to its folder." >&2
  return 1
}

# JVM flags every Trestle process needs: the Vector API incubator, FFM native access (CUDA, LWJGL),
# LWJGL's FFM memory backend (no sun.misc.Unsafe warnings).
TRESTLE_JVM_FLAGS="--add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED -Dorg.lwjgl.system.memoryBackend=ffm -Xss8m"
