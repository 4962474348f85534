#!/usr/bin/env sh
# Installs what the browser tests (test/browser) need on a Debian/Ubuntu machine: Debian's
# Chromium (/usr/bin/chromium), driven by playwright-core, which never downloads a browser of
# its own. Does nothing when it is already there.
set -eu
if command -v chromium >/dev/null 2>&1 || [ -x /usr/bin/chromium ]; then exit 0; fi
echo "install-browser-deps: installing chromium" >&2
if [ "$(id -u)" -eq 0 ]; then sudo=""; elif command -v sudo >/dev/null 2>&1; then sudo="sudo"; else
  echo "install-browser-deps: need root (or sudo) to install chromium; install it with your package manager" >&2
  exit 1
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "install-browser-deps: no apt-get here; install chromium with your package manager" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq >/dev/null
$sudo apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core >/dev/null
echo "install-browser-deps: done ($(/usr/bin/chromium --version 2>/dev/null || echo chromium))" >&2
