#!/usr/bin/env bash
# hack/lib.sh: what the hack/setup-*.sh scripts that build a pinned tool
# from the Go module proxy share. Sourced, not run.

# go_install_pinned DEST LDFLAGS PKG@VERSION...: go install the packages,
# static and reproducible, outside any workspace, into a temporary
# directory of DEST, then move each binary into DEST as NAME-VERSION (the
# version of its PKG@VERSION). Prebuilt release downloads are not
# reachable from the build machines, so every tool is built from source.
go_install_pinned() {
	local dest="$1" ldflags="$2"
	shift 2
	mkdir -p "${dest}"
	local work
	work="$(mktemp -d "${dest}/build.XXXXXX")"
	# shellcheck disable=SC2064 # expand now: work is local to this function
	trap "rm -rf '${work}'" EXIT
	GOBIN="${work}" GOFLAGS=-buildvcs=false GOWORK=off CGO_ENABLED=0 \
		go install -trimpath -ldflags "-s -w ${ldflags}" "$@"
	local pkg
	for pkg in "$@"; do
		local name="${pkg%@*}"
		name="${name##*/}"
		mv "${work}/${name}" "${dest}/${name}-${pkg##*@}"
	done
}
