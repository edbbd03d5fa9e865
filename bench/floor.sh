#!/usr/bin/env bash
# The floor under a re-injecting gateway: what sending datagrams onto the
# island costs a process that does nothing else (bench/floor.c), at the rate
# and size of `make bench`'s cost section, for batch sizes from one datagram
# per wake-up to 64. `mctun recv` on h2 receives, as in `make bench`:
#
#   floor (in g2, out of isl) -- h2 (mctun recv)
#
#   bench/floor.sh                          100,000 pps of 200 B, 3 s per batch size
#   RATE=50000 SIZE=1400 BATCHES="10 30" bench/floor.sh
#
# As root; `make bench-floor` builds what it needs and runs it. Prints one
# line per batch size: the sender's CPU per datagram (utime + stime, which
# on a veth includes the softirq that delivers into h2's socket) and what
# h2 received. Compare with g2's figure in docs/BENCHMARKS.md.
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
export ROOT
# shellcheck source=tests/lib.sh
. "$ROOT/tests/lib.sh"
[ "$(id -u)" = 0 ] || { echo "floor: builds namespaces: run as root" >&2; exit 1; }
FLOOR=${FLOOR:-$ROOT/build/bench-floor}
if [ ! -x "$MCTUN" ] || [ ! -x "$FLOOR" ]; then
	echo "floor: run make bench-floor (needs $MCTUN and $FLOOR)" >&2
	exit 1
fi
T=$(mktemp -d /tmp/mctun-floor.XXXXXX)
PFX="mctf$$"
export T PFX
trap 'cleanup_test; rm -rf "$T"' EXIT
RATE=${RATE:-100000} SIZE=${SIZE:-200} SECS=${SECS:-3} G=239.1.2.3 PORT=5000

islands 2 || exit 1
printf '%-6s %-22s %s\n' batch "CPU us per datagram" "received by h2"
for b in ${BATCHES:-1 5 10 20 30 50 64}; do
	((b * SIZE <= 65000)) || continue
	rx r2 h2 "$G:$PORT" --duration "$(awk -v s="$SECS" 'BEGIN { print s * 2 + 2 }')" || exit 1
	out=$(nsx g2 "$FLOOR" isl "$G" "$PORT" --rate "$RATE" --batch "$b" --size "$SIZE" \
		--secs "$SECS") || { echo "floor: $out" >&2; exit 1; }
	rx_stop r2 || exit 1
	printf '%-6s %-22s %s of %s\n' "$b" "$(jnum <(echo "$out") cpu_us_per_datagram)" \
		"$(jnum "$T/r2.json" received)" "$(jnum <(echo "$out") sent)"
done
