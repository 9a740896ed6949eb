#!/usr/bin/env bash
# hack/build-kubernetes.sh builds commands of k8s.io/kubernetes (each NAME is
# k8s.io/kubernetes/cmd/NAME: kube-apiserver, kubectl, kubelet, ...) at the
# version pinned in hack/kubernetes-version, into
# bin/k8s/<version>-linux-<arch>/, and prints that directory. Commands
# already there are not rebuilt; with no NAME it only prints the directory.
# hack/setup-envtest.sh and hack/setup-node.sh use it.
#
# k8s.io/kubernetes cannot be `go install`ed (its go.mod replaces every
# k8s.io staging module with ./staging/src/...), so the commands are built as
# dependencies of a scratch module that replaces each staging module with its
# release of the same minor version (v1.X.Y's staging modules are v0.X.Y).
# Everything is built with CGO_ENABLED=0 (upstream links kubelet with cgo;
# nothing a test node uses needs it).
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
K8S_VERSION="${K8S_VERSION:-$(sed -n '/^[[:space:]]*#/d; /[^[:space:]]/{s/[[:space:]]//g;p;q;}' "${root}/hack/kubernetes-version")}"
[[ "${K8S_VERSION}" =~ ^v1\.[0-9]+\.[0-9]+$ ]] || { echo "build-kubernetes: bad Kubernetes version '${K8S_VERSION}' (hack/kubernetes-version)" >&2; exit 1; }
STAGING_VERSION="${STAGING_VERSION:-v0.${K8S_VERSION#v1.}}"

assets="${root}/bin/k8s/${K8S_VERSION}-linux-$(go env GOARCH)"

log() { echo "build-kubernetes: $*" >&2; }

missing=()
for cmd in "$@"; do
	[[ "${cmd}" =~ ^[a-z][a-z0-9-]*$ ]] || { log "bad command name '${cmd}'"; exit 1; }
	[[ -x "${assets}/${cmd}" ]] || missing+=("${cmd}")
done
if [[ ${#missing[@]} -eq 0 ]]; then
	echo "${assets}"
	exit 0
fi

mkdir -p "${assets}"
work="$(mktemp -d "${root}/bin/k8s/build.XXXXXX")"
trap 'rm -rf "${work}"' EXIT
export GOFLAGS=-mod=mod GOWORK=off CGO_ENABLED=0

log "building ${missing[*]} ${K8S_VERSION} (minutes the first time)"
(
	cd "${work}"
	go mod init kbuild >/dev/null 2>&1
	gomod="$(go mod download -json "k8s.io/kubernetes@${K8S_VERSION}" | sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",$/\1/p')"
	[[ -n "${gomod}" ]] || { log "cannot find the go.mod of k8s.io/kubernetes@${K8S_VERSION}"; exit 1; }
	sed -n 's#^[[:space:]]*\(k8s\.io/[^ ]*\) => \./staging/src/.*#\1#p' "${gomod}" | while IFS= read -r m; do
		go mod edit -replace="${m}=${m}@${STAGING_VERSION}"
	done
	go mod edit -require="k8s.io/kubernetes@${K8S_VERSION}"
	{
		printf '//go:build tools\n\npackage kbuild\n\n'
		for cmd in "${missing[@]}"; do
			printf 'import _ "k8s.io/kubernetes/cmd/%s"\n' "${cmd}"
		done
	} >tools.go
	go mod tidy >/dev/null 2>&1 || go mod tidy
	ldflags="-s -w -X k8s.io/component-base/version.gitVersion=${K8S_VERSION} -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=$(echo "${K8S_VERSION}" | cut -d. -f2)"
	# One go build for all of them: it compiles the packages they share
	# once, schedules the rest across every core and links in parallel.
	pkgs=()
	for cmd in "${missing[@]}"; do
		pkgs+=("k8s.io/kubernetes/cmd/${cmd}")
	done
	mkdir out
	go build -trimpath -ldflags "${ldflags}" -o "${work}/out/" "${pkgs[@]}"
	# Moved into place only when all are complete, so an interrupted
	# build never leaves a binary that the no-op check would accept.
	for cmd in "${missing[@]}"; do
		mv "${work}/out/${cmd}" "${assets}/${cmd}"
	done
)

echo "${assets}"
