#!/usr/bin/env sh
# Makes sure a Docker engine answers on this machine, for the Docker test suite (npm run
# test:docker) and for local compose use. On a fresh Debian/Ubuntu machine it installs the
# engine, Compose v1 and debootstrap from the distribution (docker.io, docker-compose,
# debootstrap), then starts dockerd in the background when `docker info` fails and waits until
# it answers. Does nothing when everything is already there and running.
#
#   sh scripts/docker-setup.sh            (root, or a user with sudo)
#
# Environment: DOCKERD_LOG (default /tmp/mqtt-mcp-bridge-dockerd.log), DOCKER_WAIT_SECONDS (60).
# Exit status: 0 when `docker info` answers; 1 with a message saying why not.
set -eu

log="${DOCKERD_LOG:-/tmp/mqtt-mcp-bridge-dockerd.log}"
wait_s="${DOCKER_WAIT_SECONDS:-60}"
say() { echo "docker-setup: $*" >&2; }
fail() { say "$*"; exit 1; }

if [ "$(id -u)" -eq 0 ]; then sudo=""; elif command -v sudo >/dev/null 2>&1; then sudo="sudo"; else sudo="none"; fi

need=""
command -v dockerd >/dev/null 2>&1 || [ -x /usr/sbin/dockerd ] || need="$need docker.io"
command -v docker-compose >/dev/null 2>&1 || need="$need docker-compose"
command -v debootstrap >/dev/null 2>&1 || [ -x /usr/sbin/debootstrap ] || need="$need debootstrap"
if [ -n "$need" ]; then
  [ "$sudo" = "none" ] && fail "need root (or sudo) to install$need; install them with your package manager"
  command -v apt-get >/dev/null 2>&1 || fail "no apt-get here; install$need with your package manager"
  say "installing$need"
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq >/dev/null
  # shellcheck disable=SC2086
  $sudo apt-get install -y -qq --no-install-recommends $need >/dev/null \
    || fail "apt-get install$need failed"
fi
# Debian puts dockerd and debootstrap under /usr/sbin, which a non-root PATH may lack.
case ":$PATH:" in *:/usr/sbin:*) ;; *) PATH="$PATH:/usr/sbin"; export PATH ;; esac

if docker info >/dev/null 2>&1; then
  exit 0
fi

[ "$sudo" = "none" ] && fail "the Docker engine is not running and starting it needs root (or sudo): run dockerd, or ask an administrator"

# The engine may be managed by the init system (a desktop or a normal server); try that first.
if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
  $sudo systemctl start docker >/dev/null 2>&1 || true
elif command -v service >/dev/null 2>&1 && [ -x /etc/init.d/docker ]; then
  $sudo service docker start >/dev/null 2>&1 || true
fi

pid=""
if ! docker info >/dev/null 2>&1; then
  # No init system here (containers, CI machines): start dockerd in the background.
  if ! pgrep -x dockerd >/dev/null 2>&1; then
    command -v dockerd >/dev/null 2>&1 || fail "dockerd is not installed (apt-get install docker.io)"
    say "starting dockerd in the background (log: $log)"
    pid="$($sudo sh -c "nohup dockerd >'$log' 2>&1 </dev/null & echo \$!")"
  else
    say "dockerd is running but does not answer yet; waiting"
  fi
fi

engine_failed() {
  say "$1"
  if [ -n "$pid" ] && [ -f "$log" ]; then
    say "last lines of $log:"
    tail -n 20 "$log" >&2 || true
  fi
  docker info 2>&1 | grep -v '^[[:space:]]*$' | tail -n 1 >&2 || true
  fail "cannot use Docker here; the Docker tests need a working engine (dockerd)"
}

i=0
while ! docker info >/dev/null 2>&1; do
  i=$((i + 1))
  [ -n "$pid" ] && [ ! -d "/proc/$pid" ] && engine_failed "dockerd exited during start-up"
  [ "$i" -gt "$wait_s" ] && engine_failed "the Docker engine did not answer within ${wait_s}s"
  sleep 1
done
say "Docker engine $(docker version --format '{{.Server.Version}}' 2>/dev/null || echo '?') is up"
