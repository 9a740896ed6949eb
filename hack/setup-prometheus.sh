#!/usr/bin/env bash
# hack/setup-prometheus.sh TOOL builds Prometheus's promtool (the rule
# checker and rule unit-test runner) and prometheus (the server the cluster
# test scrapes the chart's ServiceMonitors with and evaluates its
# PrometheusRule in), pinned, from the Go module proxy into
# bin/{promtool,prometheus}-<version>, links bin/promtool and
# bin/prometheus, and prints the versioned path of TOOL (promtool or
# prometheus). It is a no-op when both binaries are present and were built
# from the pinned module version. Both are built by one go install, which
# compiles their shared packages once: about 4 minutes the first time on
# two cores (downloads included); later runs only check the version.
#
# The pin is the Go module version of github.com/prometheus/prometheus
# (v0.316.0 is Prometheus 3.16.0): older tags carry replace directives,
# which go install refuses.
set -euo pipefail

PROMETHEUS_VERSION="${PROMETHEUS_VERSION:-v0.316.0}"
tool="${1:?usage: hack/setup-prometheus.sh promtool|prometheus}"
case "${tool}" in
promtool | prometheus) ;;
*)
	echo "setup-prometheus: unknown tool ${tool}: promtool or prometheus" >&2
	exit 2
	;;
esac

root="$(cd "$(dirname "$0")/.." && pwd)"
bin="${root}/bin"
# shellcheck source=hack/lib.sh
source "${root}/hack/lib.sh"

log() { echo "setup-prometheus: $*" >&2; }

# built_version prints the module version a binary was built from (go
# version -m reads it from the binary's build information).
built_version() {
	go version -m "$1" 2>/dev/null | awk '$1 == "mod" && $2 == "github.com/prometheus/prometheus" { print $3 }'
}

current() {
	local t
	for t in promtool prometheus; do
		[[ -x "${bin}/${t}-${PROMETHEUS_VERSION}" ]] || return 1
		[[ "$(built_version "${bin}/${t}-${PROMETHEUS_VERSION}")" == "${PROMETHEUS_VERSION}" ]] || return 1
	done
}

if ! current; then
	log "building promtool and prometheus ${PROMETHEUS_VERSION} (about 4 minutes the first time)"
	# Both stamp their version from ldflags; without them --version
	# reports none.
	go_install_pinned "${bin}" "-X github.com/prometheus/common/version.Version=${PROMETHEUS_VERSION#v}" \
		"github.com/prometheus/prometheus/cmd/promtool@${PROMETHEUS_VERSION}" \
		"github.com/prometheus/prometheus/cmd/prometheus@${PROMETHEUS_VERSION}"
	for t in promtool prometheus; do
		ln -sfn "${t}-${PROMETHEUS_VERSION}" "${bin}/${t}"
		"${bin}/${t}" --version >/dev/null
	done
	if ! current; then
		log "the built binaries are not of module version ${PROMETHEUS_VERSION}"
		exit 1
	fi
fi
echo "${bin}/${tool}-${PROMETHEUS_VERSION}"
