#!/usr/bin/env sh
# Installs Debian's PostgreSQL server for the history tests and benchmarks (test/helpers/postgres.ts
# makes a cluster per run with initdb in a temporary folder, as the `postgres` system user the
# package creates). Does nothing when initdb is already there. The package's own cluster
# (port 5432) is stopped and kept from starting: the tests start their own.
set -eu
have() { ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 && id postgres >/dev/null 2>&1; }
have && exit 0

echo "install-postgres: installing postgresql" >&2
if [ "$(id -u)" -eq 0 ]; then sudo=""; elif command -v sudo >/dev/null 2>&1; then sudo="sudo"; else
  echo "install-postgres: need root (or sudo) to install postgresql; install it with your package manager" >&2
  exit 1
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "install-postgres: no apt-get here; install PostgreSQL (server with initdb) with your package manager" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq >/dev/null
$sudo apt-get install -y -qq --no-install-recommends postgresql >/dev/null
if command -v systemctl >/dev/null 2>&1; then $sudo systemctl disable --now postgresql >/dev/null 2>&1 || true; fi
if command -v pg_ctlcluster >/dev/null 2>&1; then
  for c in $(pg_lsclusters -h 2>/dev/null | awk '{print $1 "/" $2}'); do
    $sudo pg_ctlcluster "${c%/*}" "${c#*/}" stop >/dev/null 2>&1 || true
  done
fi
have || { echo "install-postgres: postgresql installed but initdb not found" >&2; exit 1; }
echo "install-postgres: done" >&2
