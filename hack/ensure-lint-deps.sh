#!/usr/bin/env bash
# Installs what `make lint` needs beyond Go when it is missing: shellcheck,
# for hack/*.sh and .ci/run. As root it uses apt-get; otherwise it says what
# to install and fails. (golangci-lint is built from source by hack/tools.mk.)
set -euo pipefail

if command -v shellcheck >/dev/null 2>&1; then
  exit 0
fi
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "shellcheck not found: installing with apt-get"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends shellcheck >/dev/null
  command -v shellcheck >/dev/null
  exit 0
fi
echo "shellcheck: required by make lint and not installed." >&2
echo "Install, for example: sudo apt-get install shellcheck" >&2
exit 1
