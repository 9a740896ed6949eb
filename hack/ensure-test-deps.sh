#!/usr/bin/env bash
# Installs what `make test` needs when it is missing: redis-server, which the
# tests start on free ports. As root it uses apt-get; otherwise it says what
# to install and fails.
set -euo pipefail

if command -v redis-server >/dev/null 2>&1; then
  exit 0
fi
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "redis-server not found: installing it with apt-get"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends redis-server >/dev/null
  command -v redis-server >/dev/null
  exit 0
fi
echo "redis-server is required by the tests and is not installed." >&2
echo "Install it, for example: sudo apt-get install redis-server" >&2
exit 1
