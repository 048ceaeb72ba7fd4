#!/usr/bin/env bash
# The test command: what CI runs (.ci/run) and what the README gives.
#
#   1. installs the system packages (scripts/install-deps.sh)
#   2. gcc, -Werror: build, then `meson test` (unit, conformance, fuzz-smoke
#      replaying the seed corpora)
#   3. gcc, ASan+UBSan: build, then `meson test` again
#   4. clang, -Werror, libFuzzer+ASan+UBSan: build everything (the clang
#      warning check), then fuzz each target briefly (suite fuzz-smoke)
#   5. prints one closing line: "N passed, N failed, N skipped"
#
# Build dirs live in build-check/ so a developer's build/ is left alone.
# Environment: JOBS (default 2), SONDE_FUZZ_BUDGET (seconds of wall time for
# all fuzzers together, default 40), SONDE_SKIP_DEPS=1 (skip step 1).
# SONDE_CHECK_KERNEL=0 skips the suite `kernel` (live kernel sessions,
# root and tracefs; they skip by themselves where those are missing);
# skipped tests are counted as skipped, never as passed.
# Exit status: 0 only if every step passed and at least one test ran.
set -uo pipefail

cd "$(dirname "$0")/.." || exit 1
jobs=${JOBS:-2}
fuzz_budget=${SONDE_FUZZ_BUDGET:-40}
kernel_opts=()
[ "${SONDE_CHECK_KERNEL:-1}" = 1 ] || kernel_opts=(--no-suite kernel)
kernel_skipped=0

# kernel_test_count DIR: tests of the suite `kernel` in a build dir.
kernel_test_count() {
	meson introspect --tests "$1" | python3 -c '
import json, sys
print(sum(1 for t in json.load(sys.stdin) if any(s.split(":")[-1] == "kernel" for s in t["suite"])))'
}
out=build-check
# Peer outputs (babeltrace on the read-only corpora) computed by the gcc
# build's tests and reused by the ASan build's: fresh for every check.
export SONDE_PEER_CACHE=$PWD/$out/peer-cache
rm -rf "$SONDE_PEER_CACHE"
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}
export ASAN_OPTIONS=${ASAN_OPTIONS:-halt_on_error=1:abort_on_error=1:detect_leaks=1}

start=$(date +%s)
build_dirs=()
failed_steps=()

note() {
	printf '\n==> %s (%ss)\n' "$*" "$(($(date +%s) - start))"
}

# setup DIR CC MESON-OPTION...: configure once, reconfigure on later runs
# (so new tests are picked up) without losing the incremental build.
setup() {
	local dir=$1 cc=$2
	shift 2
	if [ -f "$dir/build.ninja" ]; then
		meson setup --reconfigure "$dir" "$@" >"$dir.setup.log" 2>&1
	else
		rm -rf "$dir"
		mkdir -p "$(dirname "$dir")"
		CC=$cc meson setup "$dir" "$@" >"$dir.setup.log" 2>&1
	fi || {
		cat "$dir.setup.log"
		return 1
	}
}

# build NAME CC MESON-OPTION...: configure and compile build-check/NAME;
# a failure counts as one failed step.
build() {
	local name=$1 dir=$out/$1
	note "build $name"
	if setup "$dir" "${@:2}" && ninja -C "$dir" -j"$jobs"; then
		build_dirs+=("$dir")
		return 0
	fi
	failed_steps+=("build $name")
	return 1
}

# run_tests NAME MESON-TEST-OPTION...: results land in testlog.json, read
# by the summary; a failing test is counted there, not here.
run_tests() {
	local name=$1 dir=$out/$1
	shift
	note "test $name"
	rm -f "$dir/meson-logs/testlog.json"
	if [ ${#kernel_opts[@]} -gt 0 ] && [[ " $* " != *" --suite "* ]]; then
		local n
		n=$(kernel_test_count "$dir")
		kernel_skipped=$((kernel_skipped + n))
		note "test $name: $n live kernel tests skipped (SONDE_CHECK_KERNEL=0)"
	fi
	meson test -C "$dir" --no-rebuild --num-processes "$jobs" \
		--print-errorlogs "${kernel_opts[@]}" "$@"
	if [ ! -f "$dir/meson-logs/testlog.json" ]; then
		failed_steps+=("test $name (meson test did not run)")
	fi
}

fuzz_target_count() {
	meson introspect --tests "$1" | python3 -c '
import json, sys
print(sum(1 for t in json.load(sys.stdin) if any(s.split(":")[-1] == "fuzz-smoke" for s in t["suite"])))'
}

summary() {
	python3 - "${build_dirs[@]}" <<-'PY'
	import json, os, sys
	PASS = {"OK", "EXPECTEDFAIL"}
	FAIL = {"FAIL", "UNEXPECTEDPASS", "TIMEOUT", "ERROR"}
	totals = {"passed": 0, "failed": 0, "skipped": 0}
	for d in sys.argv[1:]:
	    log = os.path.join(d, "meson-logs", "testlog.json")
	    if not os.path.exists(log):
	        continue
	    counts = {"passed": 0, "failed": 0, "skipped": 0}
	    with open(log) as f:
	        for line in f:
	            if not line.strip():
	                continue
	            t = json.loads(line)
	            r = t.get("result")
	            kind = ("passed" if r in PASS else
	                    "skipped" if r == "SKIP" else "failed")
	            counts[kind] += 1
	            if kind == "failed":
	                print("FAILED: %s: %s (%s)" % (d, t.get("name"), r))
	    print("%-22s ok %d, fail %d, skip %d"
	          % (d, counts["passed"], counts["failed"], counts["skipped"]))
	    for k in totals:
	        totals[k] += counts[k]
	print(json.dumps(totals), file=open(os.environ["SUMMARY_OUT"], "w"))
	PY
}

if [ "${SONDE_SKIP_DEPS:-0}" != 1 ]; then
	note "install dependencies"
	if ! scripts/install-deps.sh; then
		echo "check: cannot install the dependencies; nothing was built"
		echo "0 passed, 1 failed"
		exit 1
	fi
fi

if build gcc gcc -Dwerror=true; then
	run_tests gcc
fi

# No -Werror here: gcc's sanitizer instrumentation produces false
# -Wmaybe-uninitialized/-Wstringop warnings; step 2 covers warnings.
if build asan gcc -Db_sanitize=address,undefined -Db_lundef=false; then
	run_tests asan --timeout-multiplier 4
fi

if build clang-fuzz clang -Dwerror=true -Dfuzzers=true \
	-Db_sanitize=address,undefined -Db_lundef=false; then
	targets=$(fuzz_target_count "$out/clang-fuzz") || targets=0
	if [ "$targets" -gt 0 ]; then
		# Each fuzzer runs 5 to 30 s, so that all of them fit the
		# budget when $jobs run at once.
		waves=$(((targets + jobs - 1) / jobs))
		seconds=$((fuzz_budget / waves))
		seconds=$((seconds < 5 ? 5 : seconds > 30 ? 30 : seconds))
		SONDE_FUZZ_SECONDS=$seconds run_tests clang-fuzz --suite fuzz-smoke
	else
		note "no fuzz targets registered yet: fuzzing skipped"
	fi
fi

note "summary"
for step in "${failed_steps[@]}"; do
	echo "FAILED: $step"
done
SUMMARY_OUT=$(mktemp)
export SUMMARY_OUT
summary
read -r passed failed skipped < <(python3 -c '
import json, sys
t = json.load(open(sys.argv[1]))
print(t["passed"], t["failed"], t["skipped"])' "$SUMMARY_OUT")
rm -f "$SUMMARY_OUT"
failed=$((failed + ${#failed_steps[@]}))
skipped=$((skipped + kernel_skipped))
rm -rf "$SONDE_PEER_CACHE"
echo "check: took $(($(date +%s) - start)) s"
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
