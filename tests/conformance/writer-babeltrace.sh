#!/bin/bash
# Conformance of the CTF writer: traces written by sonde-gen must be read by
# babeltrace2 and babeltrace 1.5 with exit 0, no warning other than the
# expected discarded-events/packets ones (with the generated counts), the
# generated number of events, and the same text from both tools.
#
# With VIEWER (a program printing a trace like `babeltrace TRACE`, e.g.
# writer-roundtrip-view) and/or SONDE (the CLI, run as `sonde view TRACE`),
# also checks the round trip: our reader and printer give babeltrace 1.5's
# stdout and stderr byte for byte.
#
# usage: writer-babeltrace.sh SONDE_GEN [WORKDIR [VIEWER [SONDE]]]
# Exit 77 (skipped) when either babeltrace is missing.
set -u

gen=$1
work=${2:-$(mktemp -d)}
viewer=${3:-}
sonde=${4:-}
if ! command -v babeltrace2 >/dev/null || ! command -v babeltrace >/dev/null; then
	echo "1..0 # SKIP babeltrace2 or babeltrace not installed"
	exit 77
fi
export TZ=UTC LC_ALL=C
mkdir -p "$work"
n=0
failed=0

check() {
	n=$((n + 1))
	if [ "$1" = ok ]; then
		echo "ok $n - $2"
	else
		echo "not ok $n - $2"
		failed=$((failed + 1))
	fi
}

# Sums the N of "<prefix> N <word>" in a file.
sum_of() {
	grep -o "$2 [0-9]* $3" "$1" | awk '{ s += $(NF - 1) } END { print s + 0 }'
}

# roundtrip NAME DIR WHAT COMMAND...: COMMAND's stdout and stderr must be
# babeltrace 1.5's.
roundtrip() {
	local name=$1 dir=$2 what=$3
	shift 3
	"$@" >"$dir.sonde.out" 2>"$dir.sonde.err"
	local rc=$?
	[ $rc = 0 ] && check ok "$name: $what exit 0" ||
		check fail "$name: $what exit $rc ($(head -c 300 "$dir.sonde.err"))"
	if cmp -s "$dir.bt1.out" "$dir.sonde.out"; then
		check ok "$name: $what prints babeltrace's text"
	else
		check fail "$name: $what text differs: $(diff "$dir.bt1.out" "$dir.sonde.out" | head -3 | cut -c 1-300)"
	fi
	if cmp -s "$dir.bt1.err" "$dir.sonde.err"; then
		check ok "$name: $what warns like babeltrace"
	else
		check fail "$name: $what warnings differ: $(diff "$dir.bt1.err" "$dir.sonde.err" | head -3 | cut -c 1-300)"
	fi
}

run_case() {
	local name=$1
	shift
	local dir=$work/$name
	local summary events discarded lost
	rm -rf "$dir"
	if ! summary=$("$gen" -o "$dir" "$@"); then
		check fail "$name: sonde-gen $*"
		return
	fi
	events=$(sed -n 's/^events=\([0-9]*\) .*/\1/p' <<<"$summary")
	discarded=$(sed -n 's/.*discarded_events=\([0-9]*\).*/\1/p' <<<"$summary")
	lost=$(sed -n 's/.*lost_packets=\([0-9]*\).*/\1/p' <<<"$summary")

	babeltrace2 "$dir" >"$dir.bt2.out" 2>"$dir.bt2.err"
	local rc2=$?
	babeltrace "$dir" >"$dir.bt1.out" 2>"$dir.bt1.err"
	local rc1=$?
	[ $rc2 = 0 ] && check ok "$name: babeltrace2 exit 0" ||
		check fail "$name: babeltrace2 exit $rc2 ($(head -c 300 "$dir.bt2.err"))"
	[ $rc1 = 0 ] && check ok "$name: babeltrace exit 0" ||
		check fail "$name: babeltrace exit $rc1 ($(head -c 300 "$dir.bt1.err"))"

	# Only the discarded-items warnings are allowed.
	if grep -qv '^WARNING: Tracer discarded [0-9]* \(events\?\|packets\?\) between' "$dir.bt2.err"; then
		check fail "$name: babeltrace2 stderr: $(grep -v '^WARNING: Tracer discarded' "$dir.bt2.err" | head -3)"
	else
		check ok "$name: babeltrace2 stderr clean"
	fi
	if grep -qv '^\[warning\] Tracer \(discarded [0-9]* events\|lost [0-9]* trace packets\) between' "$dir.bt1.err"; then
		check fail "$name: babeltrace stderr: $(grep -v '^\[warning\] Tracer' "$dir.bt1.err" | head -3)"
	else
		check ok "$name: babeltrace stderr clean"
	fi

	# babeltrace2 says at INFO level when it cannot use an index file.
	if [ -d "$dir/index" ]; then
		if babeltrace2 --log-level=I "$dir" 2>&1 >/dev/null |
			grep -q 'falling back to stream indexing'; then
			check fail "$name: babeltrace2 rejects the index files"
		else
			check ok "$name: babeltrace2 uses the index files"
		fi
	fi

	local got
	got=$(sum_of "$dir.bt2.err" 'WARNING: Tracer discarded' 'events\?')
	[ "$got" = "$discarded" ] && check ok "$name: babeltrace2 reports $discarded discarded events" ||
		check fail "$name: babeltrace2 reports $got discarded events, wrote $discarded"
	got=$(sum_of "$dir.bt2.err" 'WARNING: Tracer discarded' 'packets\?')
	[ "$got" = "$lost" ] && check ok "$name: babeltrace2 reports $lost lost packets" ||
		check fail "$name: babeltrace2 reports $got lost packets, wrote $lost"
	got=$(sum_of "$dir.bt1.err" '\[warning\] Tracer discarded' 'events')
	[ "$got" = "$discarded" ] && check ok "$name: babeltrace reports $discarded discarded events" ||
		check fail "$name: babeltrace reports $got discarded events, wrote $discarded"
	got=$(sum_of "$dir.bt1.err" '\[warning\] Tracer lost' 'trace')
	[ "$got" = "$lost" ] && check ok "$name: babeltrace reports $lost lost packets" ||
		check fail "$name: babeltrace reports $got lost packets, wrote $lost"

	got=$(wc -l <"$dir.bt2.out")
	[ "$got" = "$events" ] && check ok "$name: babeltrace2 prints $events events" ||
		check fail "$name: babeltrace2 prints $got events, wrote $events"
	got=$(wc -l <"$dir.bt1.out")
	[ "$got" = "$events" ] && check ok "$name: babeltrace prints $events events" ||
		check fail "$name: babeltrace prints $got events, wrote $events"

	# sonde-gen avoids the fields the two tools print differently
	# (ctf.md §4.5 and the empty string/sequence bugs noted in sonde-gen).
	# babeltrace2 prints a per-PID trace's vpid in parentheses (ctf.md §4.5).
	sed -i 's/^\(\[[^]]*\] ([^)]*) [^ ]*\):(\([0-9]*\))/\1:\2/' "$dir.bt2.out"
	if cmp -s "$dir.bt1.out" "$dir.bt2.out"; then
		check ok "$name: babeltrace and babeltrace2 print the same text"
	else
		check fail "$name: outputs differ: $(diff "$dir.bt1.out" "$dir.bt2.out" | head -3 | cut -c 1-300)"
	fi

	if [ -n "$viewer" ]; then
		roundtrip "$name" "$dir" "reader API" "$viewer" "$dir"
	fi
	if [ -n "$sonde" ]; then
		roundtrip "$name" "$dir" "sonde view" "$sonde" view "$dir"
	fi
	rm -rf "$dir" "$dir".bt* "$dir".sonde*
}

run_case le-compact -n 20000 -s 8 --seed 1
run_case be-large-plain -n 15000 -s 3 --seed 2 --big-endian --header large --plain-metadata
run_case le-lost-small-packets -n 30000 -s 5 --seed 3 --lost --packet-size 4
run_case be-lost-no-index -n 20000 -s 4 --seed 4 --lost --big-endian --plain-metadata --no-index --packet-size 8
run_case le-big-gaps -n 5000 -s 1 --seed 5 --big-gap-every 20 --packet-size 4
run_case be-big-gaps-large -n 5000 -s 2 --seed 6 --big-gap-every 30 --header large --big-endian
run_case many-streams -n 2000 -s 64 --seed 7 --lost
run_case no-events -n 0 -s 3 --seed 8
run_case kernel-context -n 10000 -s 3 --seed 11 --context
run_case ust-context-lost -n 20000 -s 4 --seed 12 --ust --context --lost --packet-size 8
run_case ust-per-pid -n 5000 -s 2 --seed 14 --ust-pid --context
run_case channels -n 20000 -s 3 --seed 13 --channels 3 --context --lost --append-metadata --packet-size 8
run_case append-metadata -n 10000 -s 2 --seed 9 --append-metadata
run_case append-metadata-plain -n 10000 -s 2 --seed 10 --append-metadata --plain-metadata --big-endian

echo "1..$n"
[ $failed = 0 ]
