#!/usr/bin/env sh
# Makes sure the Node the project runs on is at hand, and prints the directory that holds its
# `node` binary, for the front of PATH:
#
#   PATH="$(sh scripts/setup-node.sh):$PATH"      Node of the engines major (24) or newer
#   PATH="$(sh scripts/setup-node.sh 26):$PATH"   exactly Node 26 (for a run on the next major)
#
# Without an argument the machine's own node is used when it is the major in package.json's
# `engines` or newer. Otherwise the npm registry's `node` package (the Node release binaries,
# for this platform) is installed into a cache folder and its bin folder is printed; a later
# call reuses it. npm itself is the machine's: its `#!/usr/bin/env node` runs it on the Node
# first on PATH.
#
# Environment: NODE_SETUP_CACHE (default ${XDG_CACHE_HOME:-$HOME/.cache}/mqtt-mcp-bridge).
# Messages go to stderr; stdout carries only the directory. Exit 1 when no Node can be had.
set -eu
cd "$(dirname "$0")/.."

say() { echo "setup-node: $*" >&2; }
fail() { say "$*"; exit 1; }
major_of() { "$1" --version 2>/dev/null | sed -n 's/^v\([0-9][0-9]*\)\..*/\1/p'; }

engines_major="$(sed -n 's/.*"node": *">= *\([0-9][0-9]*\).*/\1/p' package.json | head -n 1)"
[ -n "$engines_major" ] || fail "no \"node\": \">=N\" in package.json engines"

if [ $# -gt 0 ]; then
  case "$1" in ''|*[!0-9]*) fail "usage: setup-node.sh [MAJOR]" ;; esac
  want="$1"
  exact=1
else
  want="$engines_major"
  exact=0
fi

# The machine's node, when it will do.
if here="$(command -v node 2>/dev/null)"; then
  have="$(major_of "$here")"
  if [ -n "$have" ] && { [ "$have" -eq "$want" ] || { [ "$exact" -eq 0 ] && [ "$have" -gt "$want" ]; }; }; then
    dirname "$here"
    exit 0
  fi
fi

cache="${NODE_SETUP_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/mqtt-mcp-bridge}"
dir="$cache/node-$want"
bin="$dir/node_modules/node/bin"
if [ "$(major_of "$bin/node")" = "$want" ]; then
  echo "$bin"
  exit 0
fi

command -v npm >/dev/null 2>&1 || fail "npm is needed to fetch Node $want (the registry's node@$want package)"
say "fetching Node $want from the npm registry (node@$want) into $dir"
mkdir -p "$cache"
# Install next to the final place and move it in whole, so that a second run at the same
# time or an interrupted one never sees half a tree.
tmp="$(mktemp -d "$cache/.node-$want.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT INT TERM
if ! npm install --prefix "$tmp" --no-save --no-package-lock --no-audit --no-fund \
  --no-update-notifier --loglevel=error "node@$want" >"$tmp.log" 2>&1; then
  tail -n 20 "$tmp.log" >&2
  rm -f "$tmp.log"
  fail "npm install node@$want failed (output above)"
fi
rm -f "$tmp.log"
got="$(major_of "$tmp/node_modules/node/bin/node")"
[ "$got" = "$want" ] || fail "node@$want from the registry runs as major '${got:-?}'"
# Another run may have finished first: keep its tree.
if [ "$(major_of "$bin/node")" != "$want" ]; then
  rm -rf "$dir"
  mv "$tmp" "$dir" 2>/dev/null || true
fi
[ "$(major_of "$bin/node")" = "$want" ] || fail "could not move Node $want into $dir"
say "Node $("$bin/node" --version) in $bin"
echo "$bin"
