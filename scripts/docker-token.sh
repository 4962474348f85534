#!/usr/bin/env sh
# Writes a random bearer token for the compose bridge (MCP_AUTH_TOKEN_FILE, mounted as the
# compose secret mcp_token), unless the file already holds one. The token is never printed.
#
#   sh scripts/docker-token.sh [FILE] [--force]      (default FILE: certs/out/mcp_token)
#
# The file gets mode 0600 and, when run as root, owner 10001 (the container user; compose
# bind-mounts file secrets as they are, so uid 10001 must be able to read it). Not root: it
# prints the chown to run and exits with status 3. certs/out/ is git-ignored; keep it so.
set -eu
file="$(dirname "$0")/../certs/out/mcp_token"
force=0
bridge_uid="${BRIDGE_UID:-10001}"
for arg in "$@"; do
  case "$arg" in
    --force) force=1 ;;
    -h|--help) sed -n '2,10p' "$0"; exit 0 ;;
    -*) echo "docker-token: unknown option $arg" >&2; exit 2 ;;
    *) file="$arg" ;;
  esac
done
command -v openssl >/dev/null 2>&1 || { echo "docker-token: openssl is required" >&2; exit 1; }
mkdir -p "$(dirname "$file")"
if [ "$force" -eq 1 ] || [ ! -s "$file" ]; then
  umask 077
  rm -f "$file"
  openssl rand -hex 32 > "$file"
  echo "docker-token: wrote a new token to $file" >&2
else
  echo "docker-token: $file already holds a token; --force replaces it" >&2
fi
chmod 600 "$file"
if [ "$(id -u)" -eq 0 ]; then
  chown "$bridge_uid:$bridge_uid" "$file"
else
  echo "docker-token: the bridge container (uid $bridge_uid) must be able to read it. Run:" >&2
  echo "  sudo chown $bridge_uid:$bridge_uid $(cd "$(dirname "$file")" && pwd)/$(basename "$file")" >&2
  exit 3
fi
