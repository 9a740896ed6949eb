#!/usr/bin/env bash
# hack/setup-helm.sh builds helm, pinned, from the Go module proxy into
# bin/helm-<version> (prebuilt release downloads are not reachable from the
# build machines), points bin/helm at it, and prints the versioned path.
# It is a no-op when that binary is present and reports the pinned version.
# The first build takes about a minute on two cores (downloads included);
# later runs only check the version.
set -euo pipefail

HELM_VERSION="${HELM_VERSION:-v3.22.0}"

root="$(cd "$(dirname "$0")/.." && pwd)"
bin="${root}/bin"
helm="${bin}/helm-${HELM_VERSION}"
# shellcheck source=hack/lib.sh
source "${root}/hack/lib.sh"

log() { echo "setup-helm: $*" >&2; }

if [[ -x "${helm}" ]] && "${helm}" version --template '{{.Version}}' 2>/dev/null | grep -qx "${HELM_VERSION}"; then
	echo "${helm}"
	exit 0
fi

log "building helm ${HELM_VERSION} (about a minute the first time)"
go_install_pinned "${bin}" "-X helm.sh/helm/v3/internal/version.version=${HELM_VERSION}" \
	"helm.sh/helm/v3/cmd/helm@${HELM_VERSION}"
ln -sfn "helm-${HELM_VERSION}" "${bin}/helm"

got="$("${helm}" version --template '{{.Version}}')"
if [[ "${got}" != "${HELM_VERSION}" ]]; then
	log "built helm reports ${got}, want ${HELM_VERSION}"
	exit 1
fi
echo "${helm}"
