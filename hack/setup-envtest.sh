#!/usr/bin/env bash
# hack/setup-envtest.sh builds the envtest binaries (kube-apiserver and etcd)
# from the Go module proxy, pinned, into bin/k8s/<k8s version>/, and prints
# that directory (use it as KUBEBUILDER_ASSETS). Prebuilt envtest downloads
# are not reachable from the build machines, so both are compiled:
#   - kube-apiserver from k8s.io/kubernetes, by hack/build-kubernetes.sh
#     (a scratch module with every k8s.io staging module replaced by its
#     release of the same minor version);
#   - etcd from go.etcd.io/etcd/server/v3, from a scratch module (its go.mod
#     has replace directives, so `go install` refuses it).
# It is a no-op when both binaries are present. The first build takes about
# ten minutes on two idle cores, downloads included (docs/operations.md);
# the Go build cache makes later ones fast.
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
ETCD_VERSION="${ETCD_VERSION:-v3.6.16}"

# hack/build-kubernetes.sh reads the version pin (hack/kubernetes-version,
# which internal/testing/testenv reads too) and names the directory.
assets="$("${root}/hack/build-kubernetes.sh")"
# kubectl is built too, from the same module, only when none is on PATH (the
# e2e test uses the one on PATH first).
commands=(kube-apiserver)
if ! command -v kubectl >/dev/null 2>&1; then
	commands+=(kubectl)
fi
"${root}/hack/build-kubernetes.sh" "${commands[@]}" >/dev/null

if [[ ! -x "${assets}/etcd" ]]; then
	echo "setup-envtest: building etcd ${ETCD_VERSION}" >&2
	work="$(mktemp -d "${root}/bin/k8s/etcd.XXXXXX")"
	trap 'rm -rf "${work}"' EXIT
	export GOFLAGS=-mod=mod GOWORK=off CGO_ENABLED=0
	(
		cd "${work}"
		go mod init ebuild >/dev/null 2>&1
		cat >tools.go <<'GO'
//go:build tools

package ebuild

import _ "go.etcd.io/etcd/server/v3"
GO
		go get "go.etcd.io/etcd/server/v3@${ETCD_VERSION}" >/dev/null 2>&1 || go get "go.etcd.io/etcd/server/v3@${ETCD_VERSION}"
		go mod tidy >/dev/null 2>&1 || go mod tidy
		go build -trimpath -ldflags "-s -w" -o "${assets}/etcd" go.etcd.io/etcd/server/v3
	)
fi

echo "${assets}"
