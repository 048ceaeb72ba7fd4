#!/usr/bin/env bash
# Decode-only and text-output throughput of `sonde view` against babeltrace2
# and babeltrace 1.5, on the same generated trace, in one run.
#
#   bench/view-vs-babeltrace.sh [SONDE SONDE_GEN]
#
# Environment: SONDE_BENCH_EVENTS (default 10000000), SONDE_BENCH_STREAMS (4),
# SONDE_BENCH_ROUNDS (default 3; the median CPU time of the rounds is kept),
# SONDE_BENCH_DIR (where the trace is generated; default a temporary dir).
#
# Throughput is events per CPU-second (user + system) of the reading process:
# on a shared 2-core machine, CPU time is steadier than wall time.  Peak RSS is
# printed too: ours must not grow with the number of events.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
sonde=${1:-$root/build/src/bin/sonde/sonde}
sonde_gen=${2:-$root/build/src/bin/sonde-gen/sonde-gen}
events=${SONDE_BENCH_EVENTS:-10000000}
streams=${SONDE_BENCH_STREAMS:-4}
rounds=${SONDE_BENCH_ROUNDS:-3}

for tool in "$sonde" "$sonde_gen"; do
	[ -x "$tool" ] || { echo "bench: error: '$tool' is not built (run 'make')" >&2; exit 1; }
done
for tool in babeltrace babeltrace2; do
	command -v "$tool" >/dev/null || { echo "bench: error: '$tool' is not installed (run scripts/install-deps.sh)" >&2; exit 1; }
done

workdir=${SONDE_BENCH_DIR:-$(mktemp -d /tmp/sonde-bench.XXXXXX)}
cleanup() { [ -n "${SONDE_BENCH_DIR:-}" ] || rm -rf "$workdir"; }
trap cleanup EXIT
trace=$workdir/trace-$events
small=$workdir/trace-$((events / 10))

if [ ! -f "$trace/metadata" ]; then
	echo "generating $events events on $streams streams in $trace"
	"$sonde_gen" -q -o "$trace" -n "$events" -s "$streams"
fi
if [ ! -f "$small/metadata" ]; then
	"$sonde_gen" -q -o "$small" -n $((events / 10)) -s "$streams"
fi
echo "trace size: $(du -sh "$trace" | cut -f1)"

# run LABEL CMD... -> prints "cpu_seconds max_rss_kib" (median CPU of rounds)
measure() {
	local i u s cpu rss cpus=() rsss=()
	for ((i = 0; i < rounds; i++)); do
		/usr/bin/time -o "$workdir/time.out" -f '%U %S %M' "$@" >/dev/null 2>&1
		read -r u s rss <"$workdir/time.out"
		cpus+=("$(awk -v u="$u" -v s="$s" 'BEGIN { print u + s }')")
		rsss+=("$rss")
	done
	cpu=$(printf '%s\n' "${cpus[@]}" | sort -g | sed -n "$(((rounds + 1) / 2))p")
	rss=$(printf '%s\n' "${rsss[@]}" | sort -g | tail -n 1)
	echo "$cpu $rss"
}

# Check first that all three read the trace fully (same number of lines).
n_sonde=$("$sonde" view "$small" | wc -l)
n_bt1=$(babeltrace "$small" | wc -l)
n_bt2=$(babeltrace2 "$small" | wc -l)
echo "events printed on the 1/10 trace: sonde=$n_sonde babeltrace=$n_bt1 babeltrace2=$n_bt2"
if [ "$n_sonde" != "$n_bt1" ] || [ "$n_sonde" != "$n_bt2" ]; then
	echo "bench: error: the readers disagree on the event count" >&2
	exit 1
fi

declare -A cpu rss
run() {
	local key=$1
	shift
	read -r cpu[$key] rss[$key] < <(measure "$@")
	printf '%-22s %8.3f s CPU  %10.2f M events/s  max RSS %7d KiB\n' \
		"$key" "${cpu[$key]}" "$(awk -v n="$events" -v c="${cpu[$key]}" 'BEGIN { print n / c / 1e6 }')" "${rss[$key]}"
}

echo "--- decode only ($events events, median of $rounds rounds)"
run sonde-decode "$sonde" view -o dummy "$trace"
run babeltrace2-decode babeltrace2 -o dummy "$trace"
run babeltrace-decode babeltrace -o dummy "$trace"
echo "--- text output to /dev/null"
run sonde-text "$sonde" view "$trace"
run babeltrace2-text babeltrace2 "$trace"
run babeltrace-text babeltrace "$trace"
echo "--- memory: sonde on 1/10 of the events"
read -r small_cpu small_rss < <(measure "$sonde" view "$small")
echo "sonde-text max RSS: ${small_rss} KiB at $((events / 10)) events, ${rss[sonde-text]} KiB at $events events"

ratio() { awk -v a="${cpu[$1]}" -v b="${cpu[$2]}" 'BEGIN { printf "%.1f", b / a }'; }
echo "--- ratios (peer CPU time / sonde CPU time; target >= 10 vs babeltrace2)"
echo "decode: vs babeltrace2 $(ratio sonde-decode babeltrace2-decode)x, vs babeltrace $(ratio sonde-decode babeltrace-decode)x"
echo "text:   vs babeltrace2 $(ratio sonde-text babeltrace2-text)x, vs babeltrace $(ratio sonde-text babeltrace-text)x"
