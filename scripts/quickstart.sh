#!/usr/bin/env bash
# Sets sonde up and traces this machine live, as a first run:
#
#   1. installs the system packages (scripts/install-deps.sh) and builds
#   2. records a kernel session, the LTTng way:
#        sonde create; sonde enable-event -k sched_switch,sched_wakeup,...
#        sonde enable-event -k --syscall -a; sonde start; sleep; sonde stop
#   3. shows what was recorded: a few events, then the busiest processes
#      (sonde summary), and where the trace is
#   4. destroys the session (the trace stays on disk)
#
# Needs root (kernel tracing).  A session daemon is started if none runs,
# and stopped again at the end if this script started it.
#
# Environment: SONDE_QUICKSTART_SECONDS (how long to record, default 10),
# SONDE_TRACE_DIR (where to write the trace; default
# ~/sonde-traces/quickstart-<date>), SONDE_SKIP_DEPS=1 (do not run
# install-deps.sh), JOBS (parallel compile jobs, default 2).
set -euo pipefail
cd "$(dirname "$0")/.."

build=build
sonde=$build/src/bin/sonde/sonde
seconds=${SONDE_QUICKSTART_SECONDS:-10}
session=quickstart-$$
started_daemon=0
session_created=0

die() {
	echo "quickstart: error: $*" >&2
	exit 1
}

step() {
	echo
	echo "quickstart: \$ sonde $*"
	"$sonde" "$@"
}

rundir() {
	if [ -n "${SONDE_RUNDIR:-}" ]; then
		echo "$SONDE_RUNDIR"
	else
		echo /run/sonde
	fi
}

cleanup() {
	if [ "$session_created" = 1 ]; then
		"$sonde" destroy "$session" >/dev/null 2>&1 || true
	fi
	if [ "$started_daemon" = 1 ] && [ -f "$(rundir)/sessiond.pid" ]; then
		kill "$(cat "$(rundir)/sessiond.pid")" 2>/dev/null || true
	fi
}

[ "$(id -u)" = 0 ] || die "kernel tracing needs root: run 'sudo $0'"
[[ "$seconds" =~ ^[0-9]+$ ]] || die "SONDE_QUICKSTART_SECONDS='$seconds' is not a number of seconds"

if [ "${SONDE_SKIP_DEPS:-0}" != 1 ]; then
	scripts/install-deps.sh
fi
[ -f $build/build.ninja ] || meson setup $build
ninja -C $build -j"${JOBS:-2}"
"$sonde" --version

[ -S "$(rundir)/sessiond.sock" ] || started_daemon=1
trap cleanup EXIT

create_args=("$session")
if [ -n "${SONDE_TRACE_DIR:-}" ]; then
	create_args+=(--output "$SONDE_TRACE_DIR")
fi
step create "${create_args[@]}"
session_created=1
trace=$("$sonde" list "$session" | sed -n 's/^ *Trace output: //p')

step enable-event -k sched_switch,sched_wakeup,sched_process_fork,sched_process_exec,sched_process_exit
step enable-event -k --syscall -a
step start
echo "quickstart: recording this machine for $seconds s..."
sleep "$seconds"
step status
step stop

echo
echo "quickstart: the first events (sonde view):"
# head closes the pipe early: sonde's SIGPIPE is expected.
"$sonde" view "$trace" | head -n 10 || true
echo
echo "quickstart: what ran (sonde summary):"
"$sonde" summary "$trace"

step destroy "$session"
session_created=0

echo
echo "quickstart: trace written to $trace"
echo "quickstart: read it again with: $sonde view $trace"
echo "quickstart:                 or: $sonde summary $trace  (or babeltrace $trace)"
