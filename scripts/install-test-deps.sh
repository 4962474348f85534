#!/usr/bin/env sh
# Installs what the test suite needs on a fresh Debian/Ubuntu machine: the Mosquitto broker
# and its command-line clients, OpenSSL, and PostgreSQL (scripts/install-postgres.sh). Does
# nothing when they are already there.
set -eu
sh "$(dirname "$0")/install-postgres.sh"
need=""
command -v mosquitto >/dev/null 2>&1 || [ -x /usr/sbin/mosquitto ] || need="$need mosquitto"
command -v mosquitto_pub >/dev/null 2>&1 || need="$need mosquitto-clients"
command -v openssl >/dev/null 2>&1 || need="$need openssl"
[ -z "$need" ] && exit 0

echo "install-test-deps: installing$need" >&2
if [ "$(id -u)" -eq 0 ]; then sudo=""; elif command -v sudo >/dev/null 2>&1; then sudo="sudo"; else
  echo "install-test-deps: need root (or sudo) to install$need; install them with your package manager" >&2
  exit 1
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "install-test-deps: no apt-get here; install$need with your package manager" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq >/dev/null
# shellcheck disable=SC2086
$sudo apt-get install -y -qq --no-install-recommends $need >/dev/null
# The package starts a system broker on port 1883; the tests start their own, so stop it.
if command -v systemctl >/dev/null 2>&1; then $sudo systemctl disable --now mosquitto >/dev/null 2>&1 || true; fi
if command -v service >/dev/null 2>&1; then $sudo service mosquitto stop >/dev/null 2>&1 || true; fi
echo "install-test-deps: done" >&2
