#!/usr/bin/env bash
# hack/setup-envtest.sh builds the envtest binaries (kube-apiserver and etcd)
# from the Go module proxy, pinned, into bin/k8s/<k8s version>/, and prints
# that directory (use it as KUBEBUILDER_ASSETS). Prebuilt envtest downloads
# are not reachable from the build machines, so both are compiled:
#   - kube-apiserver from k8s.io/kubernetes, built as a dependency of a
#     scratch module with every k8s.io staging module replaced by its
#     release of the same minor version;
#   - etcd from go.etcd.io/etcd/server/v3, from a scratch module (its go.mod
#     has replace directives, so `go install` refuses it).
# It is a no-op when both binaries are present. The first build takes about
# five minutes on two cores; the Go build cache makes later ones fast.
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
# hack/kubernetes-version pins the version (internal/testing/testenv reads it too).
K8S_VERSION="${K8S_VERSION:-$(sed -n '/^[[:space:]]*#/d; /[^[:space:]]/{s/[[:space:]]//g;p;q;}' "${root}/hack/kubernetes-version")}"
[[ "${K8S_VERSION}" =~ ^v1\.[0-9]+\.[0-9]+$ ]] || { echo "setup-envtest: bad Kubernetes version '${K8S_VERSION}' (hack/kubernetes-version)" >&2; exit 1; }
# The staging modules (k8s.io/api, apimachinery, ...) of v1.X.Y are v0.X.Y.
STAGING_VERSION="${STAGING_VERSION:-v0.${K8S_VERSION#v1.}}"
ETCD_VERSION="${ETCD_VERSION:-v3.6.16}"

assets="${root}/bin/k8s/${K8S_VERSION}-linux-$(go env GOARCH)"
# kubectl is built too, from the same module, only when none is on PATH (the
# e2e test uses the one on PATH first).
need_kubectl=false
if ! command -v kubectl >/dev/null 2>&1 && [[ ! -x "${assets}/kubectl" ]]; then
	need_kubectl=true
fi
if [[ -x "${assets}/kube-apiserver" && -x "${assets}/etcd" && "${need_kubectl}" == false ]]; then
	echo "${assets}"
	exit 0
fi
mkdir -p "${assets}"
work="$(mktemp -d "${root}/bin/k8s/build.XXXXXX")"
trap 'rm -rf "${work}"' EXIT
export GOFLAGS=-mod=mod GOWORK=off CGO_ENABLED=0

log() { echo "setup-envtest: $*" >&2; }

if [[ ! -x "${assets}/kube-apiserver" || "${need_kubectl}" == true ]]; then
	log "building kube-apiserver ${K8S_VERSION} (about five minutes the first time)"
	mkdir -p "${work}/apiserver"
	(
		cd "${work}/apiserver"
		go mod init kbuild >/dev/null 2>&1
		gomod="$(go mod download -json "k8s.io/kubernetes@${K8S_VERSION}" | sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",$/\1/p')"
		[[ -n "${gomod}" ]] || { log "cannot find the go.mod of k8s.io/kubernetes@${K8S_VERSION}"; exit 1; }
		sed -n 's#^[[:space:]]*\(k8s\.io/[^ ]*\) => \./staging/src/.*#\1#p' "${gomod}" | while IFS= read -r m; do
			go mod edit -replace="${m}=${m}@${STAGING_VERSION}"
		done
		go mod edit -require="k8s.io/kubernetes@${K8S_VERSION}"
		{
			printf '//go:build tools\n\npackage kbuild\n\nimport _ "k8s.io/kubernetes/cmd/kube-apiserver"\n'
			if [[ "${need_kubectl}" == true ]]; then
				printf 'import _ "k8s.io/kubernetes/cmd/kubectl"\n'
			fi
		} >tools.go
		go mod tidy >/dev/null 2>&1 || go mod tidy
		ldflags="-s -w -X k8s.io/component-base/version.gitVersion=${K8S_VERSION} -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=$(echo "${K8S_VERSION}" | cut -d. -f2)"
		if [[ ! -x "${assets}/kube-apiserver" ]]; then
			go build -trimpath -ldflags "${ldflags}" -o "${assets}/kube-apiserver" k8s.io/kubernetes/cmd/kube-apiserver
		fi
		if [[ "${need_kubectl}" == true ]]; then
			log "no kubectl on PATH: building one"
			go build -trimpath -ldflags "${ldflags}" -o "${assets}/kubectl" k8s.io/kubernetes/cmd/kubectl
		fi
	)
fi

if [[ ! -x "${assets}/etcd" ]]; then
	log "building etcd ${ETCD_VERSION}"
	mkdir -p "${work}/etcd"
	(
		cd "${work}/etcd"
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
