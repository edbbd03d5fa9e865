#!/usr/bin/env bash
# Runs one libFuzzer harness for a set time on its seed corpus (make fuzz).
#
#   fuzz/run.sh FUZZ_DIR NAME SECONDS TIMEOUT [LIBFUZZER-OPTION...]
#
# New inputs go to FUZZ_DIR/corpus/NAME (the first, writable, corpus
# folder; fuzz/corpus/NAME is only read), crashes and timeouts to
# FUZZ_DIR/artifacts/NAME/, the whole log to FUZZ_DIR/NAME.log. Prints one
# line with the runs and the speed, or the finding; exit status 1 if the
# harness found something.
set -u
dir=$1 name=$2 secs=$3 timeout=$4
shift 4

mkdir -p "$dir/corpus/$name" "$dir/artifacts/$name"
log="$dir/$name.log"
"$dir/fuzz_$name" -max_total_time="$secs" -timeout="$timeout" -print_final_stats=1 \
	-artifact_prefix="$dir/artifacts/$name/" "$@" \
	"$dir/corpus/$name" "fuzz/corpus/$name" >"$log" 2>&1
rc=$?
runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log")
if [ "$rc" = 0 ]; then
	printf '  %-8s %-8s %s runs in %s s, %s exec/s, corpus %s files\n' FUZZ "$name" \
		"${runs:-?}" "$secs" "${rate:-?}" "$(find "$dir/corpus/$name" -type f | wc -l)"
	exit 0
fi
printf '  %-8s %-8s FOUND SOMETHING (exit %s) after %s runs; log: %s\n' FUZZ "$name" "$rc" \
	"${runs:-?}" "$log"
grep -E 'invariant broken|runtime error|==[0-9]+==ERROR|^SUMMARY|Test unit written' "$log" |
	head -n 6 | sed 's/^/      /'
exit 1
