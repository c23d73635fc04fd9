#!/usr/bin/env bash
# The README's test command. Installs what the tests need when it is missing, then runs `dotnet test` with the
# arguments given (none: every test of the solution):
#   - the PostgreSQL server binaries (/usr/lib/postgresql/*/bin; the PostgreSQL specs start their own throw-away server),
#   - Chromium (the status page spec drives it headless; CHROMIUM_PATH names another Chromium/Chrome).
# Installing needs root or sudo and a Debian-like system (apt-get); elsewhere install the two yourself.
#   scripts/test.sh                                           # every test
#   scripts/test.sh --filter "FullyQualifiedName~HostSettingsSpec"
#   scripts/test.sh --install-only                            # only the prerequisites (.ci/run)
set -euo pipefail
cd "$(dirname "$0")/.."

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

as_root=()
apt_updated=0

apt_install() {
  if ! command -v apt-get > /dev/null; then
    echo "error: $1 is missing and there is no apt-get to install it; install it yourself ($2)" >&2
    exit 1
  fi
  if [ "$(id -u)" -ne 0 ]; then
    if ! command -v sudo > /dev/null; then
      echo "error: $1 is missing; installing it needs root or sudo ($2)" >&2
      exit 1
    fi
    as_root=(sudo)
  fi
  export DEBIAN_FRONTEND=noninteractive
  if [ "$apt_updated" -ne 1 ]; then
    "${as_root[@]}" apt-get update
    apt_updated=1
  fi
  shift 2
  "${as_root[@]}" apt-get install -y --no-install-recommends "$@"
}

if ! compgen -G "/usr/lib/postgresql/*/bin/pg_ctl" > /dev/null; then
  echo "== no PostgreSQL server binaries under /usr/lib/postgresql/*/bin: installing the postgresql package"
  # the package's own cluster is not needed (the fixture runs its own): postgresql-common reads create_main_cluster
  # from createcluster.conf, so a file that says false (kept over the package's by confold) means no main cluster is
  # created and no server is started
  if [ ! -e /etc/postgresql-common/createcluster.conf ]; then
    if [ "$(id -u)" -ne 0 ] && command -v sudo > /dev/null; then as_root=(sudo); fi
    "${as_root[@]}" mkdir -p /etc/postgresql-common
    echo "create_main_cluster = false" | "${as_root[@]}" tee /etc/postgresql-common/createcluster.conf > /dev/null
  fi
  apt_install "the PostgreSQL server" "Debian/Ubuntu package postgresql" \
    -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold postgresql
fi

if [ -z "${CHROMIUM_PATH:-}" ] && ! command -v chromium > /dev/null && ! command -v chromium-browser > /dev/null \
   && ! command -v google-chrome > /dev/null; then
  echo "== no Chromium: installing the chromium package"
  apt_install "Chromium" "Debian package chromium, or set CHROMIUM_PATH" chromium
fi

if [ "${1:-}" = "--install-only" ]; then
  exit 0
fi

exec dotnet test "$@"
