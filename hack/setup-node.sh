#!/usr/bin/env bash
# hack/setup-node.sh prepares what a real single-node cluster needs (see
# ../shared/real-node-from-source.md and docs/operations.md) and prints the
# directory of its binaries, bin/k8s/<k8s version>-linux-<arch>/, the same
# one hack/setup-envtest.sh fills with kube-apiserver and etcd:
#   - kubelet, kube-controller-manager, kube-scheduler and kube-proxy of
#     k8s.io/kubernetes at the version in hack/kubernetes-version, built by
#     hack/build-kubernetes.sh (10 minutes the first time on two busy
#     cores, kubelet half of it);
#   - CoreDNS, pinned, with `go install` (up to 8 minutes the first time,
#     downloads included);
#   - the Debian packages, installed with apt-get as root when missing:
#     containerd, runc, the CNI plugins (into /usr/lib/cni), iptables,
#     conntrack, busybox-static (the shell of the Redis image's probe) and
#     iproute2 when there is no `ip`.
# It is a no-op when everything is present. It does not build kube-apiserver
# or etcd: hack/setup-envtest.sh builds those.
set -euo pipefail

COREDNS_VERSION="${COREDNS_VERSION:-v1.12.1}"

root="$(cd "$(dirname "$0")/.." && pwd)"

log() { echo "setup-node: $*" >&2; }

# A command counts as present when it is on PATH or in /usr/sbin (which a
# non-root PATH may lack).
have() { command -v "$1" >/dev/null 2>&1 || [[ -x "/usr/sbin/$1" ]]; }

# Debian's busybox package is linked dynamically; the image needs the
# static one.
busybox_static() {
	dpkg-query -W -f='${Status}' busybox-static 2>/dev/null | grep -q 'install ok installed'
}

missing_packages() {
	have containerd || echo containerd
	have runc || echo runc
	[[ -x /usr/lib/cni/bridge && -x /usr/lib/cni/host-local && -x /usr/lib/cni/loopback ]] || echo containernetworking-plugins
	have iptables || echo iptables
	have conntrack || echo conntrack
	busybox_static || echo busybox-static
	have ip || echo iproute2
}

mapfile -t missing < <(missing_packages)
if [[ ${#missing[@]} -gt 0 ]]; then
	if [[ "$(id -u)" != 0 ]] || ! command -v apt-get >/dev/null 2>&1; then
		log "${missing[*]}: required by the node and not installed."
		log "Install, for example: sudo apt-get install ${missing[*]}"
		exit 1
	fi
	log "${missing[*]} not found: installing with apt-get"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq >&2
	apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
	mapfile -t still < <(missing_packages)
	if [[ ${#still[@]} -gt 0 ]]; then
		log "still missing after apt-get install: ${still[*]}"
		exit 1
	fi
fi

assets="$("${root}/hack/build-kubernetes.sh" kubelet kube-controller-manager kube-scheduler kube-proxy)"

if [[ ! -x "${assets}/coredns" ]]; then
	log "building CoreDNS ${COREDNS_VERSION} (minutes the first time)"
	work="$(mktemp -d "${root}/bin/k8s/coredns.XXXXXX")"
	trap 'rm -rf "${work}"' EXIT
	GOBIN="${work}" GOFLAGS=-buildvcs=false GOWORK=off CGO_ENABLED=0 \
		go install -trimpath -ldflags "-s -w" "github.com/coredns/coredns@${COREDNS_VERSION}"
	mv "${work}/coredns" "${assets}/coredns"
fi

echo "${assets}"
