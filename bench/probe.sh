#!/usr/bin/env bash
# One rate through the tunnel, with what each side spent and counted: the
# quick look behind bench/NOTES.md (make bench searches; this does not).
#
#   bench/probe.sh                       tc mode, 200,000 pps of 200 bytes, 2 s
#   MODE=socket RATE=150000 SIZE=1400 DUR=3 EXTRA="--queue-size 1M" bench/probe.sh
#
# Topology: tests/lib.sh `islands 2` (h1 -- g1 == g2 -- h2), in namespaces
# made and removed here. Prints the receiver's report, each gateway's CPU
# ticks (utime + stime, 1/100 s) during the run and its counters.
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
export ROOT
# shellcheck source=tests/lib.sh
. "$ROOT/tests/lib.sh"
[ "$(id -u)" = 0 ] || { echo "probe: builds namespaces and loads BPF: run as root" >&2; exit 1; }
[ -x "$MCTUN" ] || { echo "probe: $MCTUN is missing: run make first" >&2; exit 1; }
T=$(mktemp -d /tmp/mctun-probe.XXXXXX)
PFX="mctp$$"
export T PFX
trap 'cleanup_test; rm -rf "$T"' EXIT
MODE=${MODE:-tc} RATE=${RATE:-200000} SIZE=${SIZE:-200} DUR=${DUR:-2} G=239.1.2.3:5000

islands 2 || exit 1
# shellcheck disable=SC2086 # EXTRA is a list of options
gw g2 g2 --insecure -i isl --mode "$MODE" -g $G --listen 198.19.12.2:7000 ${EXTRA:-} &&
gw g1 g1 --insecure -i isl --mode "$MODE" -g $G --peer 198.19.12.2:7000 ${EXTRA:-} &&
wait_log g1 "up (node" || exit 1
rx r2 h2 $G --duration "$((DUR + 2))" || exit 1
p1=$(gw_pid g1) p2=$(gw_pid g2)
c1=$(cpu_ticks "$p1") c2=$(cpu_ticks "$p2")
nsx h1 "$MCTUN" send $G --rate "${RATE}pps" --size "$SIZE" --duration "$DUR" --ttl 4 --json
rx_wait r2 || exit 1
echo "CPU ticks during the run: g1 $(($(cpu_ticks "$p1") - c1)), g2 $(($(cpu_ticks "$p2") - c2))"
cat "$T/r2.json"
gw_stop g1 && gw_stop g2
grep -h "bpf: seen\|daemon:\|peer .*: up" "$T/g1.log" "$T/g2.log"
