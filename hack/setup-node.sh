#!/usr/bin/env bash
# hack/setup-node.sh prepares what a real single-node cluster needs (see
# ../shared/real-node-from-source.md and docs/operations.md) and prints the
# directory of its binaries, bin/k8s/<k8s version>-linux-<arch>/, the same
# one hack/setup-envtest.sh fills with kube-apiserver and etcd:
#   - kubelet, kube-controller-manager, kube-scheduler and kube-proxy of
#     k8s.io/kubernetes at the version in hack/kubernetes-version, built by
#     hack/build-kubernetes.sh, with kube-apiserver in the same go build
#     when it is missing too (they share most of their packages);
#   - etcd, by hack/setup-envtest.sh (a no-op when it is there);
#   - CoreDNS with only the plugins test/cluster's Corefile uses, from the
#     module in hack/coredns (its go.mod and go.sum pin the version and
#     every dependency);
#   - the Debian packages, installed with apt-get as root when missing:
#     containerd, runc, the CNI plugins (into /usr/lib/cni), iptables,
#     conntrack, busybox-static (the shell of the Redis image's probe) and
#     iproute2 when there is no `ip`.
# See docs/operations.md for the first run's figures. It is a no-op when
# everything is present.
set -euo pipefail

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

# kube-apiserver (and kubectl when none is on PATH) are hack/setup-envtest.sh's,
# asked for here as well so that a first run builds them all in one go build;
# build-kubernetes.sh skips the ones already there, and setup-envtest.sh then
# only has etcd to build.
commands=(kube-apiserver kubelet kube-controller-manager kube-scheduler kube-proxy)
if ! command -v kubectl >/dev/null 2>&1; then
	commands+=(kubectl)
fi
assets="$("${root}/hack/build-kubernetes.sh" "${commands[@]}")"
"${root}/hack/setup-envtest.sh" >/dev/null

if [[ ! -x "${assets}/coredns" ]]; then
	log "building CoreDNS (hack/coredns; minutes the first time)"
	work="$(mktemp -d "${root}/bin/k8s/coredns.XXXXXX")"
	trap 'rm -rf "${work}"' EXIT
	(
		cd "${root}/hack/coredns"
		GOFLAGS="-mod=readonly -buildvcs=false" GOWORK=off CGO_ENABLED=0 \
			go build -trimpath -ldflags "-s -w" -o "${work}/coredns" .
	)
	# Moved into place only when complete (see hack/build-kubernetes.sh).
	mv "${work}/coredns" "${assets}/coredns"
fi

echo "${assets}"
