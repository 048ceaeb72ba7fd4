#!/usr/bin/env bash
# Reports C files whose layout differs from .clang-format.  Informative:
# exits 0 whatever it finds (clang-format output differs slightly between
# versions, and a reviewer judges the rest).  --diff shows the changes.
#
# Usage: scripts/check-format.sh [--diff] [FILE...]
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1

show_diff=0
if [ "${1:-}" = "--diff" ]; then
	show_diff=1
	shift
fi

if ! command -v clang-format >/dev/null; then
	echo "check-format: clang-format not found (scripts/install-deps.sh installs it)"
	exit 0
fi

if [ $# -gt 0 ]; then
	files=("$@")
else
	mapfile -t files < <(git ls-files '*.c' '*.h')
fi

differ=0
for f in "${files[@]}"; do
	if ! clang-format "$f" | cmp -s - "$f"; then
		differ=$((differ + 1))
		echo "check-format: $f differs from .clang-format"
		if [ $show_diff -eq 1 ]; then
			clang-format "$f" | diff -u "$f" - | sed '1,2d'
		fi
	fi
done
echo "check-format: ${#files[@]} files, $differ differ (informative only)"
exit 0
