#!/usr/bin/env bash
# Makes sure the system programs that the tests start are present: redis-server and redis-cli
# (each test file starts its own Redis on a free port) and Debian's Chromium (browser tests).
# Installs them with apt-get when running as root; otherwise stops with the command to run.
set -euo pipefail
missing=()
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
command -v redis-cli >/dev/null 2>&1 || missing+=(redis-tools)
[ -x /usr/bin/chromium ] || missing+=(chromium)
[ ${#missing[@]} -eq 0 ] && exit 0
# redis-tools comes with redis-server
pkgs=$(printf '%s\n' "${missing[@]}" | sed 's/^redis-tools$/redis-server/' | sort -u | tr '\n' ' ')
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "ensure-prereqs: installing ${pkgs}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  # shellcheck disable=SC2086
  apt-get install -y -qq --no-install-recommends ${pkgs} >&2
else
  echo "ensure-prereqs: missing ${pkgs}; install them with:" >&2
  echo "  sudo apt-get update && sudo apt-get install -y ${pkgs}" >&2
  exit 1
fi
