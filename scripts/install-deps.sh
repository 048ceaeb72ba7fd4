#!/usr/bin/env bash
# Installs everything sonde's build, tests and peer comparisons need on
# Debian 12, with apt-get.  Idempotent: when every package is already
# installed it only checks and returns.  This list is the one place where
# the project's system dependencies are named.
#
# Usage: scripts/install-deps.sh [--check]
#   --check   only report what is missing; exit 1 if anything is
set -euo pipefail

# Needed by the build, the tests and CI.  Missing ones are an error.
required=(
	# build
	gcc make git pkg-config meson ninja-build python3
	# clang for the -Werror cross-check and libFuzzer (runtime: libclang-rt)
	clang libclang-rt-14-dev llvm clang-format
	# reference readers for conformance tests
	babeltrace babeltrace2 python3-bt2
	# peers: tracers and analyses we compare ourselves with
	lttng-tools liblttng-ust-dev python3-lttnganalyses trace-cmd linux-perf
	sysbench graphite-carbon
	# libraries for the milestones after the CTF library (top viewer, eBPF)
	libncurses-dev libbpf-dev
)

# Nice to have, installed only where this Debian offers them: the kernel
# headers exist only for Debian's own kernels.
optional=(bpftool "linux-headers-$(uname -r)")

die() {
	echo "install-deps: error: $*" >&2
	exit 1
}

missing_of() {
	local pkg
	for pkg in "$@"; do
		if ! dpkg-query -W -f='${db:Status-Abbrev}' "$pkg" 2>/dev/null |
			grep -q '^ii'; then
			echo "$pkg"
		fi
	done
}

has_candidate() {
	local cand
	cand=$(apt-cache policy "$1" 2>/dev/null | awk '/Candidate:/ { print $2 }')
	[ -n "$cand" ] && [ "$cand" != "(none)" ]
}

command -v dpkg-query >/dev/null || die "this script needs a Debian system (no dpkg-query)"

mapfile -t missing < <(missing_of "${required[@]}")
mapfile -t missing_optional < <(missing_of "${optional[@]}")

if [ "${1:-}" = "--check" ]; then
	if [ ${#missing[@]} -eq 0 ]; then
		echo "install-deps: all required packages are installed"
		exit 0
	fi
	echo "install-deps: missing: ${missing[*]}"
	exit 1
fi

# Optional packages are retried on every run only while apt knows them;
# remember the ones it does not, so the fast path stays fast.
stamp=/var/lib/sonde-install-deps.unavailable
if [ -r "$stamp" ]; then
	mapfile -t missing_optional < <(printf '%s\n' "${missing_optional[@]}" |
		grep -vxF -f "$stamp" || true)
fi

if [ ${#missing[@]} -eq 0 ] && [ ${#missing_optional[@]} -eq 0 ]; then
	echo "install-deps: all packages already installed"
	exit 0
fi

sudo=()
if [ "$(id -u)" -ne 0 ]; then
	command -v sudo >/dev/null ||
		die "missing packages (${missing[*]} ${missing_optional[*]}) and not root; run as root or install sudo"
	sudo=(sudo)
fi

export DEBIAN_FRONTEND=noninteractive
echo "install-deps: installing: ${missing[*]} ${missing_optional[*]}"
# A failing extra repository makes `apt-get update` fail while Debian's own
# lists are fine: go on, and let the install say what is really missing.
"${sudo[@]}" apt-get update -q </dev/null ||
	echo "install-deps: warning: 'apt-get update' failed; trying to install anyway" >&2

to_install=("${missing[@]}")
for pkg in "${missing_optional[@]}"; do
	if has_candidate "$pkg"; then
		to_install+=("$pkg")
	else
		echo "install-deps: note: optional package '$pkg' is not available here, skipped"
		echo "$pkg" | "${sudo[@]}" tee -a "$stamp" >/dev/null || true
	fi
done

for pkg in "${missing[@]}"; do
	has_candidate "$pkg" ||
		die "required package '$pkg' is not known to apt (is this Debian 12 'bookworm'?)"
done

# No recommends: lttng-tools would otherwise pull in kernel-module builds.
if [ ${#to_install[@]} -gt 0 ]; then
	"${sudo[@]}" apt-get install -y -q --no-install-recommends \
		-o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold \
		"${to_install[@]}" </dev/null ||
		die "'apt-get install ${to_install[*]}' failed (see the apt output above)"
fi

mapfile -t still < <(missing_of "${required[@]}")
[ ${#still[@]} -eq 0 ] || die "still missing after install: ${still[*]}"
echo "install-deps: done"
