#!/usr/bin/env bash
# The test runner: every test_* function of tests/t_*.sh, each in its own
# subshell with its own namespaces, bounded in time, cleaned up on any exit.
#
#   tests/run.sh              all tests
#   tests/run.sh NAME...      only these (with or without the test_ prefix)
#
# Begins with a line of the kernel features some tests need (kernel_features
# in tests/lib.sh); ends with "N passed, N failed, N skipped". Exit status 0
# when none failed.
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
export ROOT
# shellcheck source=tests/lib.sh
. "$ROOT/tests/lib.sh"
for f in "$ROOT"/tests/t_*.sh; do
	# shellcheck disable=SC1090
	. "$f"
done

TEST_TIMEOUT=${TEST_TIMEOUT:-120}
SKIP=77

if [ "$(id -u)" != 0 ]; then
	echo "tests/run.sh: the tests build network namespaces and load BPF: run as root" >&2
	exit 1
fi
[ -x "$MCTUN" ] || { echo "tests/run.sh: $MCTUN is missing: run make first" >&2; exit 1; }

if [ $# -gt 0 ]; then
	names=("${@/#/}")
	names=("${names[@]#test_}")
else
	mapfile -t names < <(declare -F | awk '{print $3}' | grep '^test_' | sed 's/^test_//')
fi

kernel_features

# Pins that other, running instances own before we start are theirs.
pins_before=$(find /sys/fs/bpf/mctun -mindepth 1 2>/dev/null | sort)

passed=0 failed=0 skipped=0 idx=0
failed_names=()
for name in "${names[@]}"; do
	if ! declare -F "test_$name" >/dev/null; then
		echo "FAIL $name (no such test)"; failed=$((failed + 1)); continue
	fi
	idx=$((idx + 1))
	T=$(mktemp -d "/tmp/mctun-test.$name.XXXXXX")
	PFX="mct$$t$idx"
	export T PFX
	start=$(date +%s%N)
	(
		trap 'exit 124' TERM
		trap 'rc=$?; cleanup_test || rc=1; exit $rc' EXIT
		"test_$name"
	) >"$T/output" 2>&1 &
	pid=$!
	# the watchdog holds no pipe of ours, and takes its sleep along when stopped
	(
		exec >/dev/null 2>&1
		sleep "$TEST_TIMEOUT" &
		trap 'kill $!; exit 0' TERM
		wait $!
		kill -TERM "$pid"
	) &
	dog=$!
	wait "$pid"; rc=$?
	kill "$dog" 2>/dev/null; wait "$dog" 2>/dev/null
	ms=$((($(date +%s%N) - start) / 1000000))
	secs="$((ms / 1000)).$((ms % 1000 / 100))"
	# nothing of this test may outlive it
	left=$(ip netns list | awk '{print $1}' | grep "^$PFX-")
	if [ -n "$left" ]; then
		echo "    FAIL: namespaces left: $left" >>"$T/output"
		for n in $left; do ip netns del "$n"; done
		[ "$rc" = 0 ] && rc=1
	fi
	case $rc in
	0)	echo "PASS $name (${secs}s)"; passed=$((passed + 1)) ;;
	"$SKIP") echo "SKIP $name: $(tail -n1 "$T/output")"; skipped=$((skipped + 1)) ;;
	124)	echo "FAIL $name (timed out after ${TEST_TIMEOUT}s)"; sed 's/^/  /' "$T/output"
		failed=$((failed + 1)); failed_names+=("$name") ;;
	*)	echo "FAIL $name (${secs}s)"; sed 's/^/  /' "$T/output"
		failed=$((failed + 1)); failed_names+=("$name") ;;
	esac
	[ "$rc" = 0 ] && [ -z "${KEEP:-}" ] && rm -rf "$T"
done

# Nothing of ours may be left on the host either. Our namespaces are gone by
# now, so pins of a namespace that still exists belong to another run.
live=$(for n in /run/netns/*; do [ -e "$n" ] && echo "netns$(stat -L -c %i "$n")"; done)
left=$(comm -13 <(echo "$pins_before") <(find /sys/fs/bpf/mctun -mindepth 1 2>/dev/null | sort) |
	grep -v -F -f <(echo "${live:-/nothing/}" | sed 's|^|/sys/fs/bpf/mctun/|; s|$|/|') |
	grep -v -x -F -f <(echo "${live:-/nothing/}" | sed 's|^|/sys/fs/bpf/mctun/|'))
if [ -n "$left" ]; then
	echo "FAIL pins left under /sys/fs/bpf/mctun:"; echo "$left"
	failed=$((failed + 1))
fi
[ ${#failed_names[@]} -gt 0 ] && echo "failed: ${failed_names[*]}"
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" = 0 ]
