#!/usr/bin/env bash
# A tunnel session under valgrind (make valgrind): two gateways of
# tests/lib.sh's islands run `mctun run` under memcheck, traffic crosses
# both ways, both stop on SIGTERM. Fails when valgrind reports any error or
# a definite leak in either gateway, or when the traffic did not cross.
#
#   tests/valgrind.sh                 tc mode, then socket mode
#   VG_MODES=socket tests/valgrind.sh only socket mode
#
# Senders and receivers run natively; only the daemons are under valgrind.
# tests/valgrind.supp holds the suppressions for libbpf's bpf(2) and netlink
# calls, which memcheck misreads; its warnings about eBPF commands it does
# not know (e.g. "unhandled eBPF command 35") are printed, not failures.
# Exit status 77 when valgrind is not installed (apt-get install valgrind).
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
export ROOT
# shellcheck source=tests/lib.sh
. "$ROOT/tests/lib.sh"

VG_MODES=${VG_MODES:-tc socket}
G=239.1.2.3:5000

if [ "$(id -u)" != 0 ]; then
	echo "valgrind.sh: builds network namespaces and loads BPF: run as root" >&2
	exit 1
fi
command -v valgrind >/dev/null ||
	{ echo "valgrind.sh: valgrind is not installed (apt-get install valgrind)" >&2; exit 77; }
[ -x "$MCTUN" ] || { echo "valgrind.sh: $MCTUN is missing: run make first" >&2; exit 1; }

# valgrind is slow to start a daemon and to check its heap at exit
WAIT_STEPS=600

# vg_session MODE: one session; 0 when clean.
vg_session() {
	local mode=$1 f bad=0 real=$MCTUN
	cat >"$T/vg-mctun" <<-EOF
	#!/bin/sh
	exec valgrind --quiet --leak-check=full --show-leak-kinds=definite \\
		--errors-for-leak-kinds=definite --error-exitcode=99 \\
		--suppressions=$ROOT/tests/valgrind.supp \\
		--log-file=$T/valgrind.%p.log "$real" "\$@"
	EOF
	chmod +x "$T/vg-mctun"

	islands 2 || return 1
	MCTUN="$T/vg-mctun" gw g2 g2 --insecure -i isl --mode "$mode" -g "$G" --listen 198.19.12.2:7000 &&
	MCTUN="$T/vg-mctun" gw g1 g1 --insecure -i isl --mode "$mode" -g "$G" --peer 198.19.12.2:7000 &&
	wait_log g1 "up (node" && wait_log g2 "up (node" || return 1

	rx r2 h2 "$G" --duration 6 && rx r1 h1 "$G" --duration 6 || return 1
	tx h1 "$G" --count 300 --rate 300pps --size 200 --ttl 4 &&
	tx h2 "$G" --count 200 --rate 300pps --size 1200 --ttl 4 || return 1
	rx_wait r2 && rx_wait r1 || return 1
	expect_rx r2 500 2 && expect_rx r1 500 2 || return 1

	# gw_stop fails on a non-zero exit: 99 is valgrind's "errors found"
	gw_stop g1 || bad=1
	gw_stop g2 || bad=1
	for f in "$T"/valgrind.*.log; do
		[ -s "$f" ] || continue
		note "valgrind ($mode) $(basename "$f"):"
		sed 's/^/      /' "$f" >&2
		# --quiet: the log holds errors and warnings only ("--PID--" lines)
		grep -q '^==[0-9]*== ' "$f" && bad=1
	done
	[ "$bad" = 0 ] || { fail "valgrind found problems in $mode mode (logs above)"; return 1; }
	gw_clean g1 && gw_clean g2
}

rc=0
n=0
for mode in $VG_MODES; do
	n=$((n + 1))
	T=$(mktemp -d "/tmp/mctun-valgrind.$mode.XXXXXX")
	PFX="mct$$v$n"
	export T PFX
	(
		trap 'r=$?; cleanup_test || r=1; exit $r' EXIT
		vg_session "$mode"
	) >"$T/output" 2>&1
	r=$?
	if [ "$r" = 0 ]; then
		echo "PASS valgrind session, $mode mode"
		rm -rf "$T"
	else
		echo "FAIL valgrind session, $mode mode"; sed 's/^/  /' "$T/output"
		rc=1
	fi
done
exit $rc
