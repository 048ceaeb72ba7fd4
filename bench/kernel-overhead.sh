#!/usr/bin/env bash
# Tracing overhead of sonde (its ftrace and eBPF backends) against trace-cmd
# and perf record, in one run: the same workloads untraced and under each
# tracer, recording the same events (sched_switch and every system call,
# entry and exit).
#
#   bench/kernel-overhead.sh [SONDE SONDE_SESSIOND OVERHEAD_WORKLOAD]
#
# Needs root and tracefs.  Environment:
#   SONDE_BENCH_ROUNDS      rounds; medians are kept (default 3)
#   SONDE_BENCH_CALLS       getppid and read calls per run (default 1000000)
#   SONDE_BENCH_ROUNDTRIPS  pipe round trips per run (default 100000)
#   SONDE_BENCH_SECONDS     seconds per sysbench run (default 1)
#   SONDE_BENCH_WORKLOADS   subset of "getppid read pipe threads fileio" (the
#                           sysbench ones, threads and fileio, are skipped
#                           without sysbench)
#   SONDE_BENCH_BUFFER_KB   trace-cmd -b and perf -m per CPU (default 2048,
#                           sonde's default channel: 8 sub-buffers of 256 KiB)
#
# perf records raw_syscalls:sys_enter/sys_exit rather than the ~700 typed
# syscalls:* tracepoints, which take it ~30 s to open and close per run
# (same number of events, same hooks).
#
# Per workload and tool: throughput, slowdown against untraced, the time
# added per traced event of the workload (getppid and read: 2 events per
# call; pipe: 10 per round trip, 4 syscalls entry and exit and 2 switches),
# events recorded (system-wide: the other tenants too) and lost, and the consumer's
# CPU (user + system) per recorded event: sonde-sessiond's CPU over the
# session (perf stat's task-clock of all its threads, to the microsecond:
# /proc/PID/stat counts 10 ms ticks, 5 ns per event of a 2 M-event run),
# which includes the session's start (statedump, metadata, stream files,
# ~4-5 ms; printed apart as "start ms", and the consumer's CPU per event
# without it as "rec. ns"), trace-cmd's and perf's own CPU with
# their children (GNU time), which includes their start-up and the
# writing of their output at exit (~0.2 s for trace-cmd, whatever the run).
#
# trace-cmd 3.1.6 crashes on this kernel's locked function-tracing files:
# it runs with the peer's LD_PRELOAD shim, compiled into the temporary
# directory from ../shared/peers/kernel-capture-poc/hide_ftrace_fn.c.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
sonde=${1:-$root/build/src/bin/sonde/sonde}
sessiond=${2:-$root/build/src/bin/sonde-sessiond/sonde-sessiond}
workload=${3:-$root/build/bench/overhead-workload}
rounds=${SONDE_BENCH_ROUNDS:-3}
calls=${SONDE_BENCH_CALLS:-1000000}
roundtrips=${SONDE_BENCH_ROUNDTRIPS:-100000}
seconds=${SONDE_BENCH_SECONDS:-1}
workloads=${SONDE_BENCH_WORKLOADS:-getppid read pipe threads fileio}
buffer_kb=${SONDE_BENCH_BUFFER_KB:-2048}
shim_src=$root/../shared/peers/kernel-capture-poc/hide_ftrace_fn.c
tracefs=/sys/kernel/tracing
tools=(untraced sonde-ftrace sonde-ebpf trace-cmd perf)

fail() { echo "bench: error: $*" >&2; exit 1; }

for tool in "$sonde" "$sessiond" "$workload"; do
	[ -x "$tool" ] || fail "'$tool' is not built (run 'ninja -C build bench/overhead-workload')"
done
for tool in trace-cmd perf taskset gcc /usr/bin/time; do
	command -v "$tool" >/dev/null || fail "'$tool' is not installed (run scripts/install-deps.sh)"
done
if ! command -v sysbench >/dev/null; then
	echo "bench: sysbench is not installed: skipping the threads and fileio workloads" >&2
	workloads=$(tr ' ' '\n' <<<"$workloads" | grep -vx -e threads -e fileio | tr '\n' ' ')
fi
for name in $workloads; do
	case $name in
	getppid | read | pipe | threads | fileio) ;;
	*) fail "unknown workload '$name' in SONDE_BENCH_WORKLOADS (getppid read pipe threads fileio)" ;;
	esac
done
[ "$(id -u)" = 0 ] || fail "kernel tracing needs root"
[ -d "$tracefs/instances" ] || fail "tracefs is not mounted on $tracefs"
[ -f "$shim_src" ] || fail "$shim_src is missing (trace-cmd needs it on this kernel)"

workdir=$(mktemp -d /tmp/sonde-kbench.XXXXXX)
tc_instance=sonde-kbench-tc-$$
session=kbench-$$
tracer_pid=
sessiond_pid=
counter_pid=

cleanup() {
	[ -z "$counter_pid" ] || kill -INT "$counter_pid" 2>/dev/null || true
	if [ -n "$tracer_pid" ]; then
		kill -INT -- "-$tracer_pid" 2>/dev/null || true
		sleep 1
		kill -KILL -- "-$tracer_pid" 2>/dev/null || true
	fi
	if [ -n "$sessiond_pid" ]; then
		"$sonde" destroy -a >/dev/null 2>&1 || true
		kill -TERM "$sessiond_pid" 2>/dev/null || true
	fi
	if [ -d "$tracefs/instances/$tc_instance" ]; then
		echo 0 >"$tracefs/instances/$tc_instance/tracing_on" || true
		rmdir "$tracefs/instances/$tc_instance" || true
	fi
	rm -rf "$workdir"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

gcc -O2 -shared -fPIC -o "$workdir/hide_ftrace_fn.so" "$shim_src" -ldl ||
	fail "cannot compile the trace-cmd shim $shim_src"

export SONDE_RUNDIR=$workdir/run
mkdir -p "$SONDE_RUNDIR" "$workdir/fileio"
"$sessiond" --daemonize --rundir "$SONDE_RUNDIR" || fail "sonde-sessiond did not start"
sessiond_pid=$(cat "$SONDE_RUNDIR/sessiond.pid")

if [[ " $workloads " == *" fileio "* ]]; then
	(cd "$workdir/fileio" && sysbench fileio --file-total-size=64M --file-num=4 prepare >/dev/null) ||
		fail "sysbench fileio prepare failed"
fi

# The workloads run on the last CPU; the tracers' consumers may use any.
cpu=$(($(nproc) - 1))

# run_workload NAME -> prints operations per second
run_workload() {
	case $1 in
	getppid | read) taskset -c "$cpu" "$workload" "$1" "$calls" | awk '{ print $3 }' ;;
	pipe) taskset -c "$cpu" "$workload" pipe "$roundtrips" | awk '{ print $3 }' ;;
	threads)
		sysbench threads --threads=2 --time="$seconds" run |
			awk '/total number of events:/ { n = $5 } /total time:/ { t = $3 + 0 }
			     END { printf "%.0f\n", n / t }' ;;
	fileio)
		(cd "$workdir/fileio" && sysbench fileio --file-total-size=64M --file-num=4 \
			--file-test-mode=rndrw --file-fsync-freq=0 --time="$seconds" run) |
			awk '/total number of events:/ { n = $5 } /total time:/ { t = $3 + 0 }
			     END { printf "%.0f\n", n / t }' ;;
	esac
}

# start_cpu_count PID: counts the CPU time of PID's threads, those it
# starts later included, until stop_cpu_count; counted_cpu then prints it
# in seconds
start_cpu_count() {
	perf stat -e task-clock -x, -o "$workdir/cpu.stat" -p "$1" 2>/dev/null &
	counter_pid=$!
	sleep 0.3 # perf gives no sign that it counts
}
stop_cpu_count() {
	kill -INT "$counter_pid"
	wait "$counter_pid" 2>/dev/null || true
	counter_pid=
}
counted_cpu() { awk -F, '$3 == "task-clock" { print $1 / 1000 }' "$workdir/cpu.stat"; }

# GNU time's "%U %S" file -> CPU seconds
# (the last line: GNU time first notes a non-zero exit status)
time_cpu() { tail -n 1 "$1" | awk '{ print $1 + $2 }'; }

wait_instance_tracing() {
	local i
	for ((i = 0; i < 100; i++)); do
		if [ "$(cat "$tracefs/instances/$1/tracing_on" 2>/dev/null)" = 1 ] &&
		   [ -n "$(cat "$tracefs/instances/$1/set_event" 2>/dev/null)" ]; then
			sleep 0.3
			return 0
		fi
		sleep 0.1
	done
	fail "trace-cmd did not start tracing (see its output above)"
}

# instance_stats INSTANCE -> "recorded lost" summed over its CPUs
instance_stats() {
	cat "$tracefs/instances/$1"/per_cpu/cpu*/stats 2>/dev/null |
		awk '/^entries:/ { e += $2 } /^read events:/ { e += $3 }
		     /^overrun:/ { l += $2 } /^dropped events:/ { l += $3 }
		     END { print e + 0, l + 0 }'
}

stop_tracer() {
	local i
	kill -INT -- "-$tracer_pid" 2>/dev/null || true
	for ((i = 0; i < 300; i++)); do
		kill -0 "$tracer_pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -0 "$tracer_pid" 2>/dev/null && kill -KILL -- "-$tracer_pid"
	wait "$tracer_pid" 2>/dev/null || true
	tracer_pid=
}

# measure TOOL WORKLOAD -> prints "ops_per_s events lost consumer_cpu_s
# start_cpu_s": the consumer's CPU over the whole run, and the part of it
# its start took (sonde's only; trace-cmd and perf start as they please)
measure() {
	local tool=$1 name=$2 ops events=0 lost=0 ccpu=0 scpu=0 stats live
	case $tool in
	untraced)
		ops=$(run_workload "$name") ;;
	sonde-ftrace | sonde-ebpf)
		"$sonde" create "$session" -o "$workdir/sonde-out" >/dev/null
		"$sonde" enable-channel -k -s "$session" --backend "${tool#sonde-}" \
			channel0 >/dev/null
		"$sonde" enable-event -k -s "$session" sched_switch >/dev/null
		"$sonde" enable-event -k -s "$session" --syscall -a >/dev/null
		start_cpu_count "$sessiond_pid"
		"$sonde" start "$session" >/dev/null
		stop_cpu_count
		scpu=$(counted_cpu)
		start_cpu_count "$sessiond_pid"
		ops=$(run_workload "$name")
		"$sonde" stop "$session" >/dev/null
		stop_cpu_count
		ccpu=$(awk -v s="$scpu" -v r="$(counted_cpu)" 'BEGIN { print s + r }')
		stats=$("$sonde" list "$session")
		events=$(awk '/Events recorded:/ { print $3 }' <<<"$stats")
		lost=$(awk '/Events discarded:/ { print $3 }' <<<"$stats")
		"$sonde" destroy "$session" >/dev/null
		rm -rf "$workdir/sonde-out" ;;
	trace-cmd)
		(cd "$workdir" && LD_PRELOAD=$workdir/hide_ftrace_fn.so exec setsid \
			/usr/bin/time -o "$workdir/tracer.time" -f '%U %S' \
			trace-cmd record -d -B "$tc_instance" -b "$buffer_kb" \
			-e sched:sched_switch -e syscalls -o "$workdir/tc.dat" \
			>"$workdir/tracer.log" 2>&1) &
		tracer_pid=$!
		wait_instance_tracing "$tc_instance"
		ops=$(run_workload "$name")
		live=$(instance_stats "$tc_instance")
		stop_tracer
		ccpu=$(time_cpu "$workdir/tracer.time")
		# trace-cmd stores each CPU's ring-buffer stats at the end of the record
		stats=$(trace-cmd report --stat -i "$workdir/tc.dat" 2>/dev/null)
		events=$(awk '/^entries:/ { e += $2 } /^read events:/ { e += $3 } END { print e + 0 }' <<<"$stats")
		lost=$(awk '/^overrun:/ { l += $2 } /^dropped events:/ { l += $3 } END { print l + 0 }' <<<"$stats")
		if [ "${events:-0}" = 0 ]; then
			# no readable record (trace-cmd failed at exit): the
			# instance's counts just before the stop
			echo "bench: trace-cmd record unreadable, using live counts:" \
				"$(tail -n 1 "$workdir/tracer.log")" >&2
			read -r events lost <<<"$live"
		fi
		rm -f "$workdir"/tc.dat* ;;
	perf)
		setsid /usr/bin/time -o "$workdir/tracer.time" -f '%U %S' \
			perf record -a -e sched:sched_switch -e raw_syscalls:sys_enter \
			-e raw_syscalls:sys_exit -m "$((buffer_kb / 4))" --no-buildid \
			-o "$workdir/perf.data" >"$workdir/tracer.log" 2>&1 &
		tracer_pid=$!
		# perf gives no sign that it records: leave it time to open
		sleep 1.5
		ops=$(run_workload "$name")
		stop_tracer
		ccpu=$(time_cpu "$workdir/tracer.time")
		stats=$(perf report --stats -i "$workdir/perf.data" 2>/dev/null)
		events=$(awk '/Aggregated/ { a = 1 } a && /SAMPLE events:/ { print $3; exit }' <<<"$stats")
		lost=$(awk '/Aggregated/ { a = 1 } a && /LOST(_SAMPLES)? events:/ { l += $3 }
			    END { print l + 0 }' <<<"$stats")
		rm -f "$workdir"/perf.data* ;;
	esac
	echo "$ops ${events:-0} ${lost:-0} $ccpu $scpu"
}

median() { sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

declare -A samples
echo "kernel tracing overhead: $rounds rounds, median kept; workloads pinned to CPU $cpu"
echo "events: sched_switch + every syscall entry/exit, system-wide (sonde --syscall -a," \
	"trace-cmd -e syscalls; perf raw_syscalls:sys_{enter,exit}: with the 700 typed" \
	"syscalls:* tracepoints perf takes ~30 s to start and stop)"
echo "buffers: sonde default channel (8 x 256 KiB per CPU); trace-cmd -b $buffer_kb, perf -m $((buffer_kb / 4)) pages (${buffer_kb} KiB per CPU)"
for ((r = 0; r < rounds; r++)); do
	for name in $workloads; do
		# rotate the starting tool so no tool always runs first
		for ((k = 0; k < ${#tools[@]}; k++)); do
			tool=${tools[$(((k + r) % ${#tools[@]}))]}
			start=$SECONDS
			line=$(measure "$tool" "$name")
			samples[$name,$tool]+="$line"$'\n'
			[ -z "${SONDE_BENCH_VERBOSE:-}" ] ||
				echo "  $name $tool: $line ($((SECONDS - start)) s)" >&2
		done
	done
	echo "round $((r + 1))/$rounds done"
done

# column COLUMN NAME TOOL -> median of one measured column
column() { awk -v c="$1" 'NF { print $c }' <<<"${samples[$2,$3]}" | median; }
# consumer CPU per event, median over rounds, in ns
ns_per_event() {
	awk 'NF && $2 > 0 { print $4 * 1e9 / $2 }' <<<"${samples[$1,$2]}" | median
}
# the same without the session's start, and the start itself in ms
recording_ns_per_event() {
	awk 'NF && $2 > 0 { print ($4 - $5) * 1e9 / $2 }' <<<"${samples[$1,$2]}" | median
}
start_ms() { awk 'NF { print $5 * 1e3 }' <<<"${samples[$1,$2]}" | median; }

# slowdown NAME TOOL -> median over rounds of untraced/traced throughput,
# each ratio taken within one round (the machine's load drifts between rounds)
slowdown() {
	paste <(awk 'NF { print $1 }' <<<"${samples[$1,untraced]}") \
		<(awk 'NF { print $1 }' <<<"${samples[$1,$2]}") |
		awk '$2 > 0 { print $1 / $2 }' | median
}

# added_ns NAME TOOL -> median over rounds of the time each traced event of
# the workload added to it (per-round pairs, as slowdown), or - when the
# workload's events per operation are not known (sysbench)
declare -A events_per_op=([getppid]=2 [read]=2 [pipe]=10)
added_ns() {
	[ -n "${events_per_op[$1]:-}" ] || { echo -; return; }
	paste <(awk 'NF { print $1 }' <<<"${samples[$1,untraced]}") \
		<(awk 'NF { print $1 }' <<<"${samples[$1,$2]}") |
		awk -v e="${events_per_op[$1]}" '$1 > 0 && $2 > 0 {
			printf "%.1f\n", (1e9 / $2 - 1e9 / $1) / e }' | median
}

declare -A ns
declare -A units=([getppid]="calls/s" [read]="calls/s" [pipe]="round trips/s" [threads]="events/s"
	[fileio]="ops/s")
printf '\n%-8s %-12s %12s %9s %10s %12s %9s %10s %10s %9s %8s\n' workload tool throughput \
	slowdown "added ns" events lost "cons. CPU" "cons. ns" "start ms" "rec. ns"
for name in $workloads; do
	for tool in "${tools[@]}"; do
		ops=$(column 1 "$name" "$tool")
		if [ "$tool" = untraced ]; then
			printf '%-8s %-12s %12s %8s %10s %12s %9s %10s %10s %9s %8s\n' "$name" \
				"$tool" "$ops" "1.00x" - - - - - - -
			continue
		fi
		ns[$name,$tool]=$(ns_per_event "$name" "$tool")
		start_col=- rec_col=-
		if [[ $tool == sonde-* ]]; then
			start_col=$(printf '%.1f' "$(start_ms "$name" "$tool")")
			rec_col=$(printf '%.1f' "$(recording_ns_per_event "$name" "$tool")")
		fi
		printf '%-8s %-12s %12s %8.2fx %10s %12s %9s %9.3fs %10.1f %9s %8s\n' "$name" "$tool" \
			"$ops" "$(slowdown "$name" "$tool")" "$(added_ns "$name" "$tool")" \
			"$(column 2 "$name" "$tool")" "$(column 3 "$name" "$tool")" \
			"$(column 4 "$name" "$tool")" "${ns[$name,$tool]:-0}" "$start_col" "$rec_col"
	done
	echo "         (throughput in ${units[$name]}; added ns: per traced event of the workload;"
	echo "          cons. ns: consumer CPU per recorded event; sonde's start ms: its daemon's"
	echo "          CPU in 'sonde start', included in cons. ns; rec. ns: cons. ns without it)"
done

echo
echo "--- sonde against the peers (slowdown ratio sonde/peer: < 1 means sonde slows the"
echo "    workload less; consumer CPU per event ratio sonde/peer: < 1 means sonde's is cheaper)"
# ratio A B -> A / B with two decimals, or - when B is missing or zero
ratio() { awk -v a="${1:-0}" -v b="${2:-0}" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }'; }
for name in $workloads; do
	for tool in sonde-ftrace sonde-ebpf; do
		s=$(slowdown "$name" "$tool")
		printf '%-8s %-12s slowdown /trace-cmd %s, /perf %s;' "$name" "$tool" \
			"$(ratio "$s" "$(slowdown "$name" trace-cmd)")" \
			"$(ratio "$s" "$(slowdown "$name" perf)")"
		printf ' cons. ns/event /trace-cmd %s, /perf %s\n' \
			"$(ratio "${ns[$name,$tool]}" "${ns[$name,trace-cmd]}")" \
			"$(ratio "${ns[$name,$tool]}" "${ns[$name,perf]}")"
	done
done
