#!/usr/bin/env bash
# Installs what `make test` needs when it is missing: redis-server, which the
# tests start on free ports, and the rest listed below. As root it uses
# apt-get; otherwise it says what to install and fails.
set -euo pipefail

# curl drives the end-to-end test; redis-server backs every Redis test;
# script(1) (bsdutils, essential on Debian) gives kubectl a terminal in
# the Kubernetes e2e test; busybox-static is the shell of the Redis image
# (make image-archives, test/image).
missing=()
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
command -v curl >/dev/null 2>&1 || missing+=(curl)
command -v script >/dev/null 2>&1 || missing+=(bsdutils)
[ -x /bin/busybox ] || missing+=(busybox-static)
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "${missing[*]} not found: installing with apt-get"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  command -v redis-server >/dev/null && command -v curl >/dev/null && command -v script >/dev/null && [ -x /bin/busybox ]
  exit 0
fi
echo "${missing[*]}: required by the tests and not installed." >&2
echo "Install, for example: sudo apt-get install ${missing[*]}" >&2
exit 1
