#!/usr/bin/env sh
# Writes a random password for the PostgreSQL of docker-compose.scale.yml, unless the files
# already hold one. Two files with the same password, because compose bind-mounts file secrets
# as they are and two users read it:
#   DIR/db_password            HISTORY_PASSWORD_FILE of the bridges (owner 10001, mode 0600)
#   DIR/db_password.postgres   POSTGRES_PASSWORD_FILE of the database (owner 999, mode 0600)
#
#   sh scripts/docker-db-password.sh [DIR] [--force]      (default DIR: certs/out)
#
# The password is never printed. Not root: it prints the chowns to run and exits with status 3.
# The database takes the password when it creates its data volume; after --force, remove that
# volume (docker-compose -f docker-compose.scale.yml down -v) or ALTER ROLE bridge PASSWORD.
# certs/out/ is git-ignored; keep it so.
set -eu
dir="$(dirname "$0")/../certs/out"
force=0
bridge_uid="${BRIDGE_UID:-10001}"
postgres_uid="${POSTGRES_UID:-999}"
for arg in "$@"; do
  case "$arg" in
    --force) force=1 ;;
    -h|--help) sed -n '2,13p' "$0"; exit 0 ;;
    -*) echo "docker-db-password: unknown option $arg" >&2; exit 2 ;;
    *) dir="$arg" ;;
  esac
done
command -v openssl >/dev/null 2>&1 || { echo "docker-db-password: openssl is required" >&2; exit 1; }
mkdir -p "$dir"
bridge_file="$dir/db_password"
postgres_file="$dir/db_password.postgres"
umask 077
if [ "$force" -eq 1 ] || [ ! -s "$bridge_file" ] || [ ! -s "$postgres_file" ]; then
  rm -f "$bridge_file" "$postgres_file"
  openssl rand -hex 24 > "$bridge_file"
  cp "$bridge_file" "$postgres_file"
  echo "docker-db-password: wrote a new password to $bridge_file and $postgres_file" >&2
elif ! cmp -s "$bridge_file" "$postgres_file"; then
  echo "docker-db-password: $bridge_file and $postgres_file differ; --force writes a new pair" >&2
  exit 1
else
  echo "docker-db-password: $bridge_file already holds a password; --force replaces it" >&2
fi
chmod 600 "$bridge_file" "$postgres_file"
if [ "$(id -u)" -eq 0 ]; then
  chown "$bridge_uid:$bridge_uid" "$bridge_file"
  chown "$postgres_uid:$postgres_uid" "$postgres_file"
else
  abs="$(cd "$dir" && pwd)"
  echo "docker-db-password: the bridges (uid $bridge_uid) and the database (uid $postgres_uid) must read them. Run:" >&2
  echo "  sudo chown $bridge_uid:$bridge_uid $abs/db_password" >&2
  echo "  sudo chown $postgres_uid:$postgres_uid $abs/db_password.postgres" >&2
  exit 3
fi
