#!/bin/bash
# Tracepoint cost, sonde vs lttng-ust, in one run: the same tight loop
# (bench:ev = 2 ints + "hello", the peer benchmark's payload) built with
# libsonde-ust (bench-ust, in-process consumer) and with lttng-ust
# (ust-lttng-bench.c, compiled here against liblttng-ust-dev; recorded by
# lttng-sessiond and its consumerd), 1 and 2 threads, default channel
# (discard mode, 4 x 512 KiB per CPU, per-UID buffers), disabled too,
# and with a filter that keeps every event (`a >= 0`, filter-pass) or
# none (`a < 0`, filter-reject), 1 thread.
#
# usage: ust-vs-lttng-ust.sh BENCH_UST
# env:   SONDE_BENCH_EVENTS (per thread, default 10000000),
#        SONDE_BENCH_REPS (interleaved repetitions, default 3; medians)
# Prints one line per run, then a table: thread-CPU ns/event (the figure
# to compare: stable on a shared machine), wall ns/event, events
# discarded, trace bytes per recorded event, consumer CPU ns/event, and
# the lttng-ust / sonde ratio.  Needs root (lttng-sessiond) and
# liblttng-ust-dev; exits 77 without them.
set -uo pipefail

bench_ust=$(realpath "$1")
here=$(cd "$(dirname "$0")" && pwd)
# bench-ust records itself (in-process consumer): keep it away from any
# sonde-sessiond running on this machine.
export SONDE_UST_NO_DAEMON=1
events=${SONDE_BENCH_EVENTS:-10000000}
reps=${SONDE_BENCH_REPS:-3}

for tool in lttng lttng-sessiond gcc python3; do
	command -v "$tool" >/dev/null || { echo "skip: $tool not found"; exit 77; }
done
[ -f /usr/include/lttng/tracepoint.h ] || [ -f /usr/include/x86_64-linux-gnu/lttng/tracepoint.h ] ||
	{ echo "skip: liblttng-ust-dev not installed"; exit 77; }
[ "$(id -u)" = 0 ] || { echo "skip: needs root for lttng-sessiond"; exit 77; }

work=$(mktemp -d /tmp/sonde-ust-bench-XXXXXX)
started_pid=
cleanup() {
	lttng destroy "ustbench$$" >/dev/null 2>&1
	[ -n "$started_pid" ] && kill "$started_pid" 2>/dev/null && sleep 1
	rm -rf "$work"
}
trap cleanup EXIT

gcc -O2 -falign-loops=32 -I"$here" -o "$work/ust-lttng-bench" "$here/ust-lttng-bench.c" \
	-llttng-ust -ldl -lpthread || { echo "error: cannot build the lttng-ust program"; exit 1; }

# A root lttng-sessiond is machine-wide (/var/run/lttng): use the running
# one (our session has a name of its own) or start one and stop it after.
if ! lttng list >/dev/null 2>&1; then
	lttng-sessiond --daemonize --no-kernel --pidfile="$work/sessiond.pid" ||
		{ echo "error: lttng-sessiond did not start"; exit 1; }
	started_pid=$(cat "$work/sessiond.pid")
fi

consumerd_ticks() {
	local s=0 p
	for p in $(pgrep -x lttng-consumerd); do
		[ -r "/proc/$p/stat" ] && s=$((s + $(awk '{print $14+$15}' "/proc/$p/stat")))
	done
	echo "$s"
}

# Index files: sum of each stream's last cumulative events_discarded.
idx_discarded() {
	python3 - "$1" <<'PY'
import os, struct, sys
tot = 0
for root, _, files in os.walk(sys.argv[1]):
    for f in files:
        if f.endswith('.idx'):
            b = open(os.path.join(root, f), 'rb').read()
            if len(b) >= 16 + 72:
                tot += struct.unpack_from('>Q', b, 16 + ((len(b) - 16) // 72 - 1) * 72 + 40)[0]
print(tot)
PY
}

run_lttng() { # MODE THREADS
	local mode=$1 t=$2 out="$work/lttng-trace" r c0 c1 disc=0 bytes=0 rec bpe cns
	rm -rf "$out"
	local filter=()
	[ "$mode" = filter-pass ] && filter=(--filter 'a >= 0')
	[ "$mode" = filter-reject ] && filter=(--filter 'a < 0')
	if [ "$mode" != disabled ]; then
		lttng create "ustbench$$" --output="$out" >/dev/null &&
		lttng enable-channel -u ch >/dev/null &&
		lttng enable-event -u -c ch 'bench:*' "${filter[@]}" >/dev/null &&
		lttng start >/dev/null || { echo "error: lttng session setup failed" >&2; return 1; }
	fi
	c0=$(consumerd_ticks)
	r=$("$work/ust-lttng-bench" "$events" "$t" hello) || return 1
	if [ "$mode" != disabled ]; then
		lttng stop >/dev/null
		lttng destroy >/dev/null
		disc=$(idx_discarded "$out")
		bytes=$(find "$out" -type f -name 'ch_*' ! -name '*.idx' -printf '%s\n' | awk '{s+=$1} END {print s+0}')
	fi
	c1=$(consumerd_ticks)
	rec=$((events * t - disc))
	[ "$mode" = filter-reject ] && rec=0
	bpe=$(awk -v b="$bytes" -v r="$rec" 'BEGIN { if (b > 0 && r > 0) printf "%.2f", b / r; else print "0.00" }')
	cns=$(awk -v d=$((c1 - c0)) -v hz="$(getconf CLK_TCK)" -v n=$((events * t)) 'BEGIN { printf "%.2f", d * 1e9 / hz / n }')
	echo "tracer=lttng-ust mode=$mode threads=$t events=$((events * t)) $r discarded=$disc bytes=$bytes B/ev=$bpe consumer_cpu_ns/ev=$cns"
}

run_sonde() { # MODE THREADS
	"$bench_ust" "$1" "$events" "$2" hello
}

log="$work/log"
for rep in $(seq 1 "$reps"); do
	for t in 1 2; do
		for mode in empty disabled enabled filter-pass filter-reject; do
			[ "$t" = 2 ] && [ "${mode#filter}" != "$mode" ] && continue
			run_sonde "$mode" "$t" | tee -a "$log" || exit 1
			[ "$mode" = empty ] && continue
			run_lttng "$mode" "$t" | tee -a "$log" || exit 1
		done
	done
done

python3 - "$log" <<'PY'
import statistics, sys
rows = [dict(kv.split('=', 1) for kv in l.split()) for l in open(sys.argv[1]) if l.strip()]
def med(tracer, mode, t, key):
    v = [float(r[key]) for r in rows if r['tracer'] == tracer and r['mode'] == mode and r['threads'] == str(t)]
    return statistics.median(v) if v else float('nan')
print()
print("%-9s %-13s %3s %10s %10s %11s %7s %13s" % ("tracer", "mode", "thr", "cpu ns/ev", "wall ns/ev",
                                               "discarded", "B/ev", "consumer ns/ev"))
for t in (1, 2):
    for mode in ("empty", "disabled", "enabled", "filter-pass", "filter-reject"):
        for tracer in ("sonde", "lttng-ust"):
            if (tracer == "lttng-ust" and mode == "empty") or (t == 2 and mode.startswith("filter")):
                continue
            print("%-9s %-13s %3d %10.2f %10.2f %11.0f %7.2f %13.2f" % (
                tracer, mode, t, med(tracer, mode, t, 'cpu_ns/ev'), med(tracer, mode, t, 'wall_ns/ev'),
                med(tracer, mode, t, 'discarded'), med(tracer, mode, t, 'B/ev'),
                med(tracer, mode, t, 'consumer_cpu_ns/ev')))
print()
for t in (1, 2):
    s, l = med('sonde', 'enabled', t, 'cpu_ns/ev'), med('lttng-ust', 'enabled', t, 'cpu_ns/ev')
    print("enabled, %d thread(s): sonde %.2f ns/event, lttng-ust %.2f ns/event, lttng-ust/sonde = %.2fx" % (t, s, l, l / s))
    d, e = med('sonde', 'disabled', t, 'cpu_ns/ev'), med('sonde', 'empty', t, 'cpu_ns/ev')
    ld = med('lttng-ust', 'disabled', t, 'cpu_ns/ev')
    print("disabled, %d thread(s): sonde %.2f ns/event (%.2f over the empty loop), lttng-ust %.2f ns/event" % (t, d, d - e, ld))
for mode in ("filter-pass", "filter-reject"):
    s, l = med('sonde', mode, 1, 'cpu_ns/ev'), med('lttng-ust', mode, 1, 'cpu_ns/ev')
    print("%s, 1 thread: sonde %.2f ns/event, lttng-ust %.2f ns/event, lttng-ust/sonde = %.2fx" % (mode, s, l, l / s))
PY
