#!/usr/bin/env bash
# hack/add-license-headers.sh puts the license header (hack/boilerplate.go.txt,
# the one controller-gen writes into generated code) at the top of every Go
# file under the given paths (default: the whole repository) that lacks one.
#
#   hack/add-license-headers.sh [path...]          add the missing headers
#   hack/add-license-headers.sh --check [path...]  list the files without one, fail if any
#
# Build constraints (//go:build) must precede every other comment, so they stay
# first; the header follows them, then a blank line and the rest of the file
# unchanged, so a package doc comment stays the package's doc (a blank line
# separates it from the header). A file has a header when one of its first
# 30 lines says "Licensed under the Apache License".
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
boilerplate="${root}/hack/boilerplate.go.txt"

check=false
if [[ "${1:-}" == "--check" ]]; then
	check=true
	shift
fi
if [[ $# -eq 0 ]]; then
	set -- "${root}"
fi

has_header() { head -n 30 "$1" | grep -q 'Licensed under the Apache License'; }

# add_header FILE rewrites FILE: its leading build-constraint lines (and the
# blank lines among them), a blank line, the header, a blank line, the rest.
add_header() {
	local file="$1" tmp
	tmp="$(mktemp "${file}.XXXXXX")"
	awk -v boilerplate="${boilerplate}" '
		function header() {
			while ((getline line < boilerplate) > 0) print line
			close(boilerplate)
			print ""
			done = 1
		}
		!done && /^\/\/go:build / { constraints = constraints $0 "\n"; next }
		!done && /^\/\/ \+build / { constraints = constraints $0 "\n"; next }
		!done && /^[[:space:]]*$/ && constraints != "" { next }
		!done {
			if (constraints != "") printf "%s\n", constraints
			header()
		}
		{ print }
		END { if (!done) { if (constraints != "") printf "%s\n", constraints; header() } }
	' "${file}" >"${tmp}"
	chmod --reference="${file}" "${tmp}" 2>/dev/null || true
	mv "${tmp}" "${file}"
}

missing=()
while IFS= read -r -d '' file; do
	has_header "${file}" || missing+=("${file}")
done < <(git ls-files -z --cached --others --exclude-standard -- "${@/%//*.go}" | sort -z)

if [[ ${#missing[@]} -eq 0 ]]; then
	exit 0
fi
if [[ "${check}" == true ]]; then
	echo "Go files without the license header (run hack/add-license-headers.sh or make headers):" >&2
	printf '  %s\n' "${missing[@]#"${root}/"}" >&2
	exit 1
fi
for file in "${missing[@]}"; do
	add_header "${file}"
	echo "header added: ${file#"${root}/"}"
done
