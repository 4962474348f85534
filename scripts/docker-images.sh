#!/usr/bin/env sh
# Builds the local stand-in base images the Docker tests (and air-gapped sites) use instead of
# the public ones, which cannot be pulled where no container registry answers:
#
#   mqtt-mcp-bridge-standin/debian:bookworm           Debian bookworm minbase, from debootstrap
#   mqtt-mcp-bridge-standin/node:24-bookworm-slim     + Node 24 (npm registry binary) and npm
#   mqtt-mcp-bridge-standin/mosquitto:2               + Mosquitto from Debian, uid/gid 1883
#   mqtt-mcp-bridge-standin/postgres:15               + PostgreSQL 15 from Debian, uid/gid 999, and
#                                                     the official image's entrypoint variables
#   mqtt-mcp-bridge-standin/haproxy:2                 + HAProxy from Debian, uid/gid 99
#   mqtt-mcp-bridge-standin/debian:trixie             Debian trixie minbase, from debootstrap
#   mqtt-mcp-bridge-standin/timescaledb:2-pg17        trixie + PostgreSQL 17 and Debian's
#                                                     TimescaleDB (Apache edition), preloaded;
#                                                     the same entrypoint as postgres:15
#   mqtt-mcp-bridge-standin/mosquitto:2-trixie        trixie + its newer Mosquitto (2.0.21), the
#                                                     same layout as mosquitto:2 (the broker
#                                                     behaviour tests run on both versions)
#
#   sh scripts/docker-images.sh [--rebuild] [--print-tags]
#
# Idempotent and cached by tag: an image that already exists is kept (--rebuild makes them
# again). The Debian mirror is read from this machine's apt sources at run time (DEBIAN_MIRROR
# overrides it); it ends up in the image's own sources.list, never in this repository.
# Needs a running engine (scripts/docker-setup.sh), debootstrap, and root or sudo for it.
# The Node major is the one of the Dockerfile's pinned NODE_IMAGE, so that the container tests
# run the Node that users of the official image run.
# Environment: STANDIN_PREFIX (default mqtt-mcp-bridge-standin), NODE_MAJOR (default: the
# Dockerfile's).
set -eu
root="$(cd "$(dirname "$0")/.." && pwd)"

prefix="${STANDIN_PREFIX:-mqtt-mcp-bridge-standin}"
dockerfile_major="$(sed -n 's/^ARG NODE_IMAGE=node:\([0-9][0-9]*\)\..*/\1/p' "$root/Dockerfile" | head -n 1)"
node_major="${NODE_MAJOR:-$dockerfile_major}"
[ -n "$node_major" ] || { echo "docker-images: no 'ARG NODE_IMAGE=node:N.' in Dockerfile; set NODE_MAJOR" >&2; exit 1; }
suite=bookworm
debian_tag="$prefix/debian:$suite"
node_tag="$prefix/node:$node_major-$suite-slim"
mosquitto_tag="$prefix/mosquitto:2"
postgres_tag="$prefix/postgres:15"
haproxy_tag="$prefix/haproxy:2"
trixie_tag="$prefix/debian:trixie"
timescaledb_tag="$prefix/timescaledb:2-pg17"
mosquitto_trixie_tag="$prefix/mosquitto:2-trixie"
rebuild=0

while [ $# -gt 0 ]; do
  case "$1" in
    --rebuild) rebuild=1; shift ;;
    --print-tags)
      printf 'DEBIAN_IMAGE=%s\nNODE_IMAGE=%s\nMOSQUITTO_IMAGE=%s\nPOSTGRES_IMAGE=%s\nHAPROXY_IMAGE=%s\nTIMESCALEDB_IMAGE=%s\nMOSQUITTO_TRIXIE_IMAGE=%s\n' \
        "$debian_tag" "$node_tag" "$mosquitto_tag" "$postgres_tag" "$haproxy_tag" "$timescaledb_tag" "$mosquitto_trixie_tag"
      exit 0 ;;
    -h|--help) sed -n '2,28p' "$0"; exit 0 ;;
    *) echo "docker-images: unknown option $1" >&2; exit 2 ;;
  esac
done

say() { echo "docker-images: $*" >&2; }
fail() { say "$*"; exit 1; }
# The classic builder: no buildx on these machines, and the Dockerfiles need none.
DOCKER_BUILDKIT=0
export DOCKER_BUILDKIT
case ":$PATH:" in *:/usr/sbin:*) ;; *) PATH="$PATH:/usr/sbin"; export PATH ;; esac

docker info >/dev/null 2>&1 || fail "the Docker engine does not answer; run sh scripts/docker-setup.sh first"
if [ "$(id -u)" -eq 0 ]; then sudo=""; elif command -v sudo >/dev/null 2>&1; then sudo="sudo"; else sudo=""; fi

# docker build, its output kept in a log that is shown when it fails.
build() {
  if ! docker build -t "$1" "$2" >"$work/build.log" 2>&1; then
    tail -n 30 "$work/build.log" >&2
    fail "docker build of $1 failed (output above)"
  fi
}

have() { [ "$rebuild" -eq 0 ] && docker image inspect "$1" >/dev/null 2>&1; }

work="$(mktemp -d "${TMPDIR:-/tmp}/mqtt-mcp-standin.XXXXXX")"
cleanup() { $sudo rm -rf "$work" 2>/dev/null || rm -rf "$work" 2>/dev/null || true; }
trap cleanup EXIT INT TERM

# The Debian URI of this machine's apt sources: a source that carries the "bookworm" suite,
# else any Debian archive that is not the security one. One-line (.list) and deb822 (.sources).
find_mirror() {
  {
    for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
      [ -f "$f" ] || continue
      awk '$1 == "deb" { i = 2; if ($i ~ /^\[/) { while ($i !~ /\]$/) i++; i++ } print $i, $(i + 1) }' "$f"
    done
    for f in /etc/apt/sources.list.d/*.sources; do
      [ -f "$f" ] || continue
      awk 'BEGIN { RS = "" } {
        types = ""; uris = ""; suites = ""; enabled = "yes"
        n = split($0, lines, "\n")
        for (j = 1; j <= n; j++) {
          line = lines[j]
          if (line ~ /^[ \t]*#/) continue
          if (line ~ /^Types:/) { sub(/^Types:[ \t]*/, "", line); types = line }
          if (line ~ /^URIs:/) { sub(/^URIs:[ \t]*/, "", line); uris = line }
          if (line ~ /^Suites:/) { sub(/^Suites:[ \t]*/, "", line); suites = line }
          if (line ~ /^Enabled:/) { sub(/^Enabled:[ \t]*/, "", line); enabled = line }
        }
        if (enabled == "no" || (" " types " ") !~ / deb /) next
        split(uris, u, /[ \t]+/); ns = split(suites, s, /[ \t]+/)
        for (k = 1; k <= ns; k++) print u[1], s[k]
      }' "$f"
    done
  } | awk -v suite="$suite" '
      $2 == suite && !best { best = $1 }
      $1 ~ /debian/ && $1 !~ /security/ && $2 !~ /security/ && !any { any = $1 }
      END { if (best) print best; else if (any) print any }'
}

# debootstrap of Debian `suite` (minbase) imported as `tag`.
build_debian() {
  suite_b="$1"
  tag="$2"
  if have "$tag"; then say "$tag is present"; return; fi
  command -v debootstrap >/dev/null 2>&1 || fail "debootstrap is missing: run sh scripts/docker-setup.sh (or apt-get install debootstrap)"
  [ "$(id -u)" -eq 0 ] || [ -n "$sudo" ] || fail "debootstrap needs root (or sudo)"
  mirror="${DEBIAN_MIRROR:-$(find_mirror)}"
  [ -n "$mirror" ] || fail "no Debian mirror found in /etc/apt/sources.list*; set DEBIAN_MIRROR=<uri>"
  say "debootstrap $suite_b from the apt sources' mirror (about 30 s)"
  rootfs="$work/rootfs"
  if ! $sudo debootstrap --variant=minbase "$suite_b" "$rootfs" "$mirror" >"$work/debootstrap.log" 2>&1; then
    tail -n 20 "$work/debootstrap.log" >&2
    fail "debootstrap $suite_b failed (log above)"
  fi
  # Like the official Debian images: services never start inside a build, no package caches.
  $sudo sh -c "printf '#!/bin/sh\nexit 101\n' > '$rootfs/usr/sbin/policy-rc.d' && chmod 755 '$rootfs/usr/sbin/policy-rc.d'"
  $sudo sh -c "rm -rf '$rootfs'/var/cache/apt/archives/*.deb '$rootfs'/var/lib/apt/lists/* '$rootfs'/var/log/* '$rootfs'/tmp/*"
  $sudo tar --numeric-owner -C "$rootfs" -c . | docker import \
    -c 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    -c 'CMD ["/bin/bash"]' - "$tag" >/dev/null
  $sudo rm -rf "$rootfs"
  say "built $tag"
}

build_node() {
  if have "$node_tag"; then say "$node_tag is present"; return; fi
  # The npm registry's `node` package ships Node release binaries (scripts/setup-node.sh fetches
  # and caches it unless this machine's node is that major); resolve the link to the ELF.
  node_dir="$(sh "$root/scripts/setup-node.sh" "$node_major")" || fail "could not get Node $node_major (scripts/setup-node.sh $node_major)"
  bin="$(readlink -f "$node_dir/node")"
  [ "$(head -c 4 "$bin" | od -An -c | tr -d ' ')" = '177ELF' ] || fail "$bin is not a Node binary"
  version="$("$bin" --version)"
  case "$version" in "v$node_major".*) ;; *) fail "$bin is Node $version, not $node_major" ;; esac
  npm_dir="$(npm root -g 2>/dev/null)/npm"
  [ -f "$npm_dir/bin/npm-cli.js" ] || npm_dir=/usr/lib/node_modules/npm
  [ -f "$npm_dir/bin/npm-cli.js" ] || fail "no npm found to copy (looked in $npm_dir)"
  ctx="$work/node"
  mkdir -p "$ctx/files/usr/bin" "$ctx/files/usr/lib/node_modules" "$ctx/files/usr/etc" "$ctx/files/etc/ssl/certs"
  cp "$bin" "$ctx/files/usr/bin/node"
  cp -R "$npm_dir" "$ctx/files/usr/lib/node_modules/npm"
  ln -s ../lib/node_modules/npm/bin/npm-cli.js "$ctx/files/usr/bin/npm"
  ln -s ../lib/node_modules/npm/bin/npx-cli.js "$ctx/files/usr/bin/npx"
  # npm resolves packages in a build exactly as on this machine: its global npmrc files (any
  # credential lines left out) and CA bundle.
  for rc in /usr/etc/npmrc /etc/npmrc; do
    if [ -f "$rc" ]; then
      mkdir -p "$ctx/files$(dirname "$rc")"
      grep -v -i -E '_auth|_password|token|username' "$rc" >"$ctx/files$rc" || true
    fi
  done
  if [ -f /etc/ssl/certs/ca-certificates.crt ]; then
    cp /etc/ssl/certs/ca-certificates.crt "$ctx/files/etc/ssl/certs/"
  fi
  cat >"$ctx/Dockerfile" <<DOCKERFILE
FROM $debian_tag
COPY files/ /
ENV NODE_VERSION=${version#v}
RUN node --version && npm --version
CMD ["node"]
DOCKERFILE
  say "building $node_tag with Node $version"
  build "$node_tag" "$ctx"
  say "built $node_tag"
}

# A Mosquitto image: tag, base image.
build_mosquitto() {
  mosquitto_image="$1"
  mosquitto_base="$2"
  if have "$mosquitto_image"; then say "$mosquitto_image is present"; return; fi
  ctx="$work/mosquitto-$(echo "$mosquitto_image" | sed 's/.*://')"
  mkdir -p "$ctx"
  # Same layout and uid as the official eclipse-mosquitto image: /mosquitto/{config,data,log},
  # user and group mosquitto = 1883, the broker and its clients (for the healthcheck).
  cat >"$ctx/Dockerfile" <<DOCKERFILE
FROM $mosquitto_base
RUN groupadd --system --gid 1883 mosquitto \\
 && useradd --system --uid 1883 --gid 1883 --no-create-home --home-dir /var/empty --shell /usr/sbin/nologin mosquitto \\
 && apt-get update -qq \\
 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends mosquitto mosquitto-clients \\
 && rm -rf /var/lib/apt/lists/* /var/cache/apt/archives/*.deb \\
 && mkdir -p /mosquitto/config /mosquitto/data /mosquitto/log \\
 && chown -R 1883:1883 /mosquitto \\
 && test "\$(id -u mosquitto)" = 1883
VOLUME ["/mosquitto/data", "/mosquitto/log"]
EXPOSE 1883
USER 1883:1883
CMD ["/usr/sbin/mosquitto", "-c", "/mosquitto/config/mosquitto.conf"]
DOCKERFILE
  say "building $mosquitto_image (apt-get install mosquitto)"
  build "$mosquitto_image" "$ctx"
  say "built $mosquitto_image"
}

# A PostgreSQL image: tag, base image, major, Debian packages, shared_preload_libraries (or "").
build_postgres() {
  pg_tag="$1"
  pg_base="$2"
  pg_major="$3"
  pg_packages="$4"
  pg_preload="$5"
  if have "$pg_tag"; then say "$pg_tag is present"; return; fi
  ctx="$work/postgres-$pg_major"
  mkdir -p "$ctx"
  # Like the official postgres image: user postgres = 999, PGDATA /var/lib/postgresql/data, the
  # server binaries on PATH, and an entrypoint that makes the cluster on first start from
  # POSTGRES_USER, POSTGRES_DB, POSTGRES_PASSWORD_FILE, POSTGRES_INITDB_ARGS and
  # POSTGRES_HOST_AUTH_METHOD (the subset docker-compose.scale.yml uses). The package's own
  # cluster is removed: the entrypoint makes one in the volume.
  cat >"$ctx/docker-entrypoint.sh" <<'ENTRYPOINT'
#!/bin/sh
set -eu
if [ "${1:-}" = postgres ] && [ ! -s "$PGDATA/PG_VERSION" ]; then
  user="${POSTGRES_USER:-postgres}"
  db="${POSTGRES_DB:-$user}"
  if [ -z "${POSTGRES_PASSWORD_FILE:-}" ] || [ ! -r "$POSTGRES_PASSWORD_FILE" ]; then
    echo "postgres stand-in: POSTGRES_PASSWORD_FILE must name a file this user (uid $(id -u)) can read" >&2
    exit 1
  fi
  pw="$(mktemp)"
  head -n 1 "$POSTGRES_PASSWORD_FILE" > "$pw"
  # shellcheck disable=SC2086 # POSTGRES_INITDB_ARGS is a list of options, as in the official image
  initdb -D "$PGDATA" --username="$user" --pwfile="$pw" --auth-local=trust ${POSTGRES_INITDB_ARGS:-} >/dev/null
  rm -f "$pw"
  printf 'host all all all %s\n' "${POSTGRES_HOST_AUTH_METHOD:-scram-sha-256}" >> "$PGDATA/pg_hba.conf"
  printf "listen_addresses = '*'\n" >> "$PGDATA/postgresql.conf"
  if [ -n "${PG_STANDIN_PRELOAD:-}" ]; then
    printf "shared_preload_libraries = '%s'\n" "$PG_STANDIN_PRELOAD" >> "$PGDATA/postgresql.conf"
  fi
  if [ "$db" != postgres ]; then
    printf 'CREATE DATABASE "%s"\n' "$db" | postgres --single -D "$PGDATA" postgres >/dev/null
  fi
  echo "postgres stand-in: made the cluster in $PGDATA (user $user, database $db)" >&2
fi
exec "$@"
ENTRYPOINT
  cat >"$ctx/Dockerfile" <<DOCKERFILE
FROM $pg_base
RUN groupadd --system --gid 999 postgres \\
 && useradd --system --uid 999 --gid 999 --home-dir /var/lib/postgresql --shell /bin/sh postgres \\
 && apt-get update -qq \\
 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $pg_packages \\
 && rm -rf /var/lib/apt/lists/* /var/cache/apt/archives/*.deb \\
 && rm -rf /var/lib/postgresql/$pg_major /etc/postgresql/$pg_major \\
 && mkdir -p /var/lib/postgresql/data /var/run/postgresql \\
 && chown -R 999:999 /var/lib/postgresql /var/run/postgresql \\
 && chmod 700 /var/lib/postgresql/data && chmod 2777 /var/run/postgresql \\
 && test "\$(id -u postgres)" = 999
COPY docker-entrypoint.sh /usr/local/bin/docker-entrypoint.sh
RUN chmod 755 /usr/local/bin/docker-entrypoint.sh
ENV PATH=/usr/lib/postgresql/$pg_major/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
ENV PGDATA=/var/lib/postgresql/data
ENV PG_STANDIN_PRELOAD=$pg_preload
VOLUME ["/var/lib/postgresql/data"]
EXPOSE 5432
USER 999:999
ENTRYPOINT ["docker-entrypoint.sh"]
CMD ["postgres"]
DOCKERFILE
  say "building $pg_tag (apt-get install $pg_packages)"
  build "$pg_tag" "$ctx"
  say "built $pg_tag"
}

build_haproxy() {
  if have "$haproxy_tag"; then say "$haproxy_tag is present"; return; fi
  ctx="$work/haproxy"
  mkdir -p "$ctx"
  # Like the official haproxy image: user haproxy = 99 (below Debian's system range, so the
  # package's user is renumbered after the install), the binary on PATH, config in
  # /usr/local/etc/haproxy.
  cat >"$ctx/Dockerfile" <<DOCKERFILE
FROM $debian_tag
RUN apt-get update -qq \\
 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends haproxy \\
 && rm -rf /var/lib/apt/lists/* /var/cache/apt/archives/*.deb \\
 && groupmod --gid 99 haproxy && usermod --uid 99 --gid 99 haproxy \\
 && chown -R 99:99 /var/lib/haproxy \\
 && mkdir -p /usr/local/etc/haproxy \\
 && test "\$(id -u haproxy)" = 99
USER 99:99
EXPOSE 8080
CMD ["haproxy", "-W", "-db", "-f", "/usr/local/etc/haproxy/haproxy.cfg"]
DOCKERFILE
  say "building $haproxy_tag (apt-get install haproxy)"
  build "$haproxy_tag" "$ctx"
  say "built $haproxy_tag"
}

if [ "$rebuild" -eq 1 ]; then
  # Untag (and, where nothing else uses them, delete) the old ones first, children first.
  for tag in "$mosquitto_trixie_tag" "$timescaledb_tag" "$trixie_tag" "$haproxy_tag" "$postgres_tag" "$mosquitto_tag" "$node_tag" "$debian_tag"; do
    docker rmi "$tag" >/dev/null 2>&1 || true
  done
fi
build_debian "$suite" "$debian_tag"
build_node
build_mosquitto "$mosquitto_tag" "$debian_tag"
build_postgres "$postgres_tag" "$debian_tag" 15 postgresql-15 ""
build_haproxy
# TimescaleDB: Debian ships it from trixie on (postgresql-17-timescaledb), not in bookworm.
build_debian trixie "$trixie_tag"
build_postgres "$timescaledb_tag" "$trixie_tag" 17 "postgresql-17 postgresql-17-timescaledb" timescaledb
# The newer Mosquitto (closer to the eclipse-mosquitto release the compose files pin).
build_mosquitto "$mosquitto_trixie_tag" "$trixie_tag"
