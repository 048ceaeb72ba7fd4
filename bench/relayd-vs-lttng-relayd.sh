#!/usr/bin/env bash
# sonde-relayd against lttng-relayd, in one run:
#  1. ingest: PRODUCERS simulated LTTng 2.13 producers (bench/relay-load.c)
#     stream ROUNDS replays of one generated trace to the relay; events/s,
#     relay CPU per event (utime + stime from /proc/PID/stat) and peak RSS;
#  2. live latency: a real lttng-sessiond streams a --live=100000 session of
#     live-ust-app (one event every 10 ms) into the relay, babeltrace2 reads it
#     live; latency = time babeltrace2 printed the line - event timestamp.
#
#   bench/relayd-vs-lttng-relayd.sh [SONDE_RELAYD RELAY_LOAD SONDE_GEN RELAY_APP]
#
# Environment: SONDE_BENCH_PRODUCERS (100), SONDE_BENCH_ROUNDS (2),
# SONDE_BENCH_EVENTS (events per replay, 20000), SONDE_BENCH_REPEAT (3: the
# ingest runs alternate between the relays, medians kept),
# SONDE_BENCH_LATENCY_EVENTS (300; 0 skips the latency part).  Needs root (lttng-sessiond runs as
# 'nobody' with a private LTTNG_HOME), lttng-tools and babeltrace2.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
build=$(cd "$here/.." && pwd)/build
relayd=${1:-$build/src/bin/sonde-relayd/sonde-relayd}
load=${2:-$build/bench/relay-load}
gen=${3:-$build/src/bin/sonde-gen/sonde-gen}
app=${4:-$build/tests/integration/live-ust-app}
producers=${SONDE_BENCH_PRODUCERS:-100}
rounds=${SONDE_BENCH_ROUNDS:-2}
events=${SONDE_BENCH_EVENTS:-20000}
repeat=${SONDE_BENCH_REPEAT:-3}
lat_events=${SONDE_BENCH_LATENCY_EVENTS:-300}

for tool in "$relayd" "$load" "$gen" "$app"; do
	[ -x "$tool" ] || { echo "bench: error: '$tool' is not built (ninja -C build bench/relay-load)" >&2; exit 1; }
done
for tool in lttng-relayd lttng-sessiond lttng babeltrace2 runuser; do
	command -v "$tool" >/dev/null || { echo "bench: error: '$tool' is not installed" >&2; exit 1; }
done
[ "$(id -u)" = 0 ] || { echo "bench: error: needs root (lttng-sessiond runs as nobody)" >&2; exit 1; }

work=$(mktemp -d /tmp/sonde-relay-bench.XXXXXX)
chmod 777 "$work"
relay_pid=
sessiond_home=
cleanup() {
	[ -n "$relay_pid" ] && kill -TERM -- "-$relay_pid" 2>/dev/null && sleep 0.2
	if [ -n "$sessiond_home" ] && [ -f "$sessiond_home/.lttng/lttng-sessiond.pid" ]; then
		kill "$(cat "$sessiond_home/.lttng/lttng-sessiond.pid")" 2>/dev/null || true
		sleep 0.5
	fi
	rm -rf "$work"
}
trap cleanup EXIT

free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# start_relay sonde|lttng OUTDIR: sets relay_pid, C, D, L
start_relay() {
	C=$(free_port); D=$(free_port); L=$(free_port)
	local urls=(-C "tcp://127.0.0.1:$C" -D "tcp://127.0.0.1:$D" -L "tcp://127.0.0.1:$L" -o "$2")
	if [ "$1" = sonde ]; then
		setsid "$relayd" "${urls[@]}" 2>"$work/relayd.log" &
	else
		LTTNG_HOME=$work/lttng-relayd-home setsid lttng-relayd "${urls[@]}" 2>"$work/relayd.log" &
	fi
	relay_pid=$!
	for _ in $(seq 100); do
		(exec 3<>"/dev/tcp/127.0.0.1/$L") 2>/dev/null && return 0
		sleep 0.05
	done
	echo "bench: error: $1 relay did not start: $(cat "$work/relayd.log")" >&2
	exit 1
}

stop_relay() {
	kill -TERM -- "-$relay_pid" 2>/dev/null || true
	wait "$relay_pid" 2>/dev/null || true
	relay_pid=
}

cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
peak_rss_kib() { awk '/VmHWM/ { print $2 }' "/proc/$1/status"; }

trace=$work/trace
"$gen" -q -o "$trace" --ust -n "$events" -s 2 --packet-size 16
total=$((events * producers * rounds))
hz=$(getconf CLK_TCK)
echo "ingest: $producers producers x $rounds replays of $events events ($(du -sh "$trace" | cut -f1)) = $total events per run"

# ingest NAME -> "events_per_s events_per_cpu_s rss_kib ns_per_event"
ingest() {
	local out=$work/out-$1 t0 t1 secs
	rm -rf "$out"
	start_relay "$1" "$out"
	t0=$(cpu_ticks "$relay_pid")
	"$load" 127.0.0.1 "$C" "$D" "$trace" "$producers" "$rounds" >"$work/load.out" ||
		{ echo "bench: error: load generator failed against $1" >&2; cat "$work/relayd.log" >&2; exit 1; }
	t1=$(cpu_ticks "$relay_pid")
	rss=$(peak_rss_kib "$relay_pid")
	secs=$(awk '/seconds/ { print $2 }' "$work/load.out")
	stop_relay
	awk -v n="$total" -v s="$secs" -v c="$((t1 - t0))" -v hz="$hz" -v rss="$rss" \
		'BEGIN { cs = c / hz; if (cs <= 0) cs = 1 / hz;
			 printf "%.0f %.0f %d %.1f\n", n / s, n / cs, rss, cs * 1e9 / n }'
}

median() { sort -g | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }

for name in sonde lttng; do : >"$work/$name.runs"; done
for ((i = 0; i < repeat; i++)); do
	for name in sonde lttng; do
		ingest "$name" >>"$work/$name.runs"
	done
done
for name in sonde lttng; do
	read -r eps epc rss nspe < <(
		paste <(cut -d' ' -f1 "$work/$name.runs" | median) \
		      <(cut -d' ' -f2 "$work/$name.runs" | median) \
		      <(cut -d' ' -f3 "$work/$name.runs" | sort -g | tail -n 1) \
		      <(cut -d' ' -f4 "$work/$name.runs" | median) | tr '\t' ' ')
	printf '%-13s %12s events/s  %12s events/CPU-s  %6.1f ns CPU/event  peak RSS %6d KiB\n' \
		"$([ "$name" = sonde ] && echo sonde-relayd || echo lttng-relayd):" "$eps" "$epc" "$nspe" "$rss"
	eval "${name}_eps=$eps ${name}_epc=$epc"
done
awk -v a="$sonde_eps" -v b="$lttng_eps" -v c="$sonde_epc" -v d="$lttng_epc" \
	'BEGIN { printf "ratio sonde/lttng: %.2fx events/s, %.2fx events per CPU-second (target >= 2x)\n", a / b, c / d }'

# Live latency ------------------------------------------------------------
[ "$lat_events" -gt 0 ] || exit 0
sessiond_home=$work/lttng-home
mkdir -p "$sessiond_home"
chmod 777 "$sessiond_home"
as_nobody() { runuser -u nobody -- env LTTNG_HOME="$sessiond_home" "$@"; }
as_nobody lttng-sessiond --daemonize --no-kernel

latency() {
	local name=$1 out=$work/live-$1 host
	host=$(hostname)
	rm -rf "$out"
	start_relay "$name" "$out"
	as_nobody lttng create "lat-$name" --live=100000 -U "net://127.0.0.1:$C:$D" >/dev/null
	as_nobody lttng enable-event -u 'sonde_live_test:*' -s "lat-$name" >/dev/null
	as_nobody lttng start "lat-$name" >/dev/null
	stdbuf -oL babeltrace2 --clock-seconds --input-format=lttng-live \
		"net://127.0.0.1:$L/host/$host/lat-$name" |
		python3 -c 'import sys, time
for line in sys.stdin:
    sys.stdout.write("%.6f %s" % (time.time(), line))
    sys.stdout.flush()' >"$work/lat-$name.txt" &
	local viewer=$!
	sleep 1
	(cd "$sessiond_home" && as_nobody "$app" "$lat_events" 10)
	sleep 0.5
	as_nobody lttng destroy "lat-$name" >/dev/null
	wait "$viewer" || true
	stop_relay
	python3 - "$work/lat-$name.txt" "$lat_events" "$name" <<'EOF'
import re, sys
lat = []
for line in open(sys.argv[1]):
    m = re.match(r"([\d.]+) \[(\d+\.\d+)\]", line)
    if m:
        lat.append(float(m.group(1)) - float(m.group(2)))
lat.sort()
if not lat:
    print("%s: no events received" % sys.argv[3]); sys.exit(1)
q = lambda f: lat[min(len(lat) - 1, int(f * len(lat)))] * 1000
print("%-13s live latency at a 100 ms timer: p50 %.0f ms, p90 %.0f ms, max %.0f ms (%d of %s events)"
      % ({"sonde": "sonde-relayd:", "lttng": "lttng-relayd:"}[sys.argv[3]],
         q(0.5), q(0.9), lat[-1] * 1000, len(lat), sys.argv[2]))
EOF
}

echo "live latency: live-ust-app, one event every 10 ms, $lat_events events, babeltrace2 viewer"
latency sonde
latency lttng
