# Finds a JDK 25 and exports JAVA_HOME for ./mvnw. Sourced by ./sbx and the scripts.
use_java25() {
  local candidate
  for candidate in "${JAVA_HOME:-}" /usr/lib/jvm/temurin-25-jdk-amd64 /usr/lib/jvm/temurin-25-jdk /usr/lib/jvm/java-25-openjdk-amd64 /usr/lib/jvm/jdk-25*; do
    if [ -n "$candidate" ] && [ -x "$candidate/bin/java" ] \
        && "$candidate/bin/java" -version 2>&1 | grep -Eq 'version "2[5-9]'; then
      export JAVA_HOME="$candidate"
      export PATH="$JAVA_HOME/bin:$PATH"
      return 0
    fi
  done
  echo "sbx needs a JDK 25 (Temurin 25 under /usr/lib/jvm, or JAVA_HOME pointing at one)." >&2
  return 1
}
