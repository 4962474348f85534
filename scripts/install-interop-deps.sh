#!/usr/bin/env sh
# Installs the brokers of the interoperability suite (npm run test:interop) on a fresh Debian or
# Ubuntu machine: Mosquitto (through install-test-deps.sh), RabbitMQ with its MQTT plugin
# (rabbitmq-server; Erlang and epmd come with it) and NATS (nats-server). aedes comes from npm.
# The suite starts private instances of each on ports it picks; the system services the
# packages install are stopped and disabled here. Does nothing when all are already there.
set -eu
here="$(dirname "$0")"
sh "$here/install-test-deps.sh"

need=""
[ -x /usr/lib/rabbitmq/bin/rabbitmq-server ] || need="$need rabbitmq-server"
command -v nats-server >/dev/null 2>&1 || need="$need nats-server"
command -v epmd >/dev/null 2>&1 || need="$need erlang-base"
[ -z "$need" ] && exit 0

echo "install-interop-deps: installing$need" >&2
if [ "$(id -u)" -eq 0 ]; then sudo=""; elif command -v sudo >/dev/null 2>&1; then sudo="sudo"; else
  echo "install-interop-deps: need root (or sudo) to install$need; install them with your package manager" >&2
  exit 1
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "install-interop-deps: no apt-get here; install$need with your package manager" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq >/dev/null
# shellcheck disable=SC2086
$sudo apt-get install -y -qq --no-install-recommends $need >/dev/null
# The packages start system services on their default ports (RabbitMQ, its epmd, NATS); the
# suite runs its own instances, so stop them.
if command -v systemctl >/dev/null 2>&1; then
  for unit in rabbitmq-server.service epmd.socket epmd.service nats-server.service; do
    $sudo systemctl disable --now "$unit" >/dev/null 2>&1 || true
  done
fi
if command -v service >/dev/null 2>&1; then $sudo service rabbitmq-server stop >/dev/null 2>&1 || true; fi
echo "install-interop-deps: done" >&2
