#!/usr/bin/env bash
# hack/setup-promtool.sh builds promtool (Prometheus's rule checker and
# rule unit-test runner), pinned, from the Go module proxy into
# bin/promtool-<version> (prebuilt release downloads are not reachable from
# the build machines), points bin/promtool at it, and prints the versioned
# path. It is a no-op when that binary is present and was built from the
# pinned module version. The first build takes about 3 minutes on two
# cores (downloads included); later runs only check the version.
#
# The pin is the Go module version of github.com/prometheus/prometheus
# (v0.316.0 is Prometheus 3.16.0): older tags carry replace directives,
# which go install refuses.
set -euo pipefail

PROMTOOL_VERSION="${PROMTOOL_VERSION:-v0.316.0}"

root="$(cd "$(dirname "$0")/.." && pwd)"
bin="${root}/bin"
promtool="${bin}/promtool-${PROMTOOL_VERSION}"

log() { echo "setup-promtool: $*" >&2; }

# built_version prints the module version a promtool binary was built from
# (go version -m reads it from the binary's build information).
built_version() {
	go version -m "$1" 2>/dev/null | awk '$1 == "mod" && $2 == "github.com/prometheus/prometheus" { print $3 }'
}

if [[ -x "${promtool}" ]] && [[ "$(built_version "${promtool}")" == "${PROMTOOL_VERSION}" ]]; then
	echo "${promtool}"
	exit 0
fi

log "building promtool ${PROMTOOL_VERSION} (about 3 minutes the first time)"
mkdir -p "${bin}"
work="$(mktemp -d "${bin}/promtool-build.XXXXXX")"
trap 'rm -rf "${work}"' EXIT
# promtool stamps its version from ldflags; without them `promtool
# --version` reports none.
GOBIN="${work}" GOFLAGS=-buildvcs=false GOWORK=off CGO_ENABLED=0 \
	go install -trimpath \
	-ldflags "-s -w -X github.com/prometheus/common/version.Version=${PROMTOOL_VERSION#v}" \
	"github.com/prometheus/prometheus/cmd/promtool@${PROMTOOL_VERSION}"
mv "${work}/promtool" "${promtool}"
ln -sfn "promtool-${PROMTOOL_VERSION}" "${bin}/promtool"

got="$(built_version "${promtool}")"
if [[ "${got}" != "${PROMTOOL_VERSION}" ]]; then
	log "built promtool is of module version ${got:-unknown}, want ${PROMTOOL_VERSION}"
	exit 1
fi
"${promtool}" --version >/dev/null
echo "${promtool}"
