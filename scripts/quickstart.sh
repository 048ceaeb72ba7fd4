#!/usr/bin/env bash
# Sets sonde up and runs its main job once: record a trace, then show it.
#
# Until the kernel-session milestone lands, "record" means generating a
# synthetic CTF trace with sonde-gen; then record_trace() becomes a live
# session of this machine:
#   sonde create quickstart --output "$trace"
#   sonde enable-event -k sched_switch,sched_wakeup
#   sonde start; sleep 10; sonde stop
#
# Environment: SONDE_TRACE_DIR (where to write the trace; default a new
# directory under /tmp), SONDE_SKIP_DEPS=1 (do not run install-deps.sh).
set -euo pipefail
cd "$(dirname "$0")/.."

build=build
sonde=$build/src/bin/sonde/sonde
sonde_gen=$build/src/bin/sonde-gen/sonde-gen

die() {
	echo "quickstart: error: $*" >&2
	exit 1
}

record_trace() {
	local trace=$1
	[ -x "$sonde_gen" ] || die "'$sonde_gen' was not built (is the writer milestone on this branch?)"
	"$sonde_gen" --output "$trace"
}

show_trace() {
	local trace=$1 text=$1.txt
	[ -x "$sonde" ] || die "'$sonde' was not built"
	"$sonde" view "$trace" >"$text"
	head -n 20 "$text"
	echo "... ($(wc -l <"$text") events; the whole text is in $text)"
}

if [ "${SONDE_SKIP_DEPS:-0}" != 1 ]; then
	scripts/install-deps.sh
fi
[ -f $build/build.ninja ] || meson setup $build
ninja -C $build -j"${JOBS:-2}"

trace=${SONDE_TRACE_DIR:-$(mktemp -d /tmp/sonde-trace.XXXXXX)}
record_trace "$trace"
show_trace "$trace"
echo "quickstart: trace written to $trace"
echo "quickstart: show it again with: $sonde view $trace"
