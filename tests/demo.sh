#!/usr/bin/env bash
# make demo: two multicast islands in network namespaces, joined by mctun
# over a unicast-only link, authenticated and encrypted with a pre-shared
# key that `mctun genpsk` makes; traffic crosses, counters are shown, and
# everything is removed again.
#
#   h1 (198.18.1.2) -- g1 [mctun, --peer] ==TLS 1.3 PSK== g2 [mctun, --listen] -- h2 (198.18.2.2)
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
export ROOT
# shellcheck source=tests/lib.sh
. "$ROOT/tests/lib.sh"

[ "$(id -u)" = 0 ] || { echo "make demo: builds namespaces and loads BPF: run as root" >&2; exit 1; }
T=$(mktemp -d /tmp/mctun-demo.XXXXXX)
PFX="mctdemo$$"
export T PFX
trap 'cleanup_test; rm -rf "$T"' EXIT

GROUP=${GROUP:-239.1.2.3:5000}
COUNT=${COUNT:-2000}
RATE=${RATE:-2000pps}

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

say "Two islands (h1|g1 and h2|g2) joined only by a unicast link g1 <-> g2"
islands 2 || exit 1
ip -n "$PFX-g1" -br addr show
say "A new pre-shared key, the same file for both gateways: mctun genpsk $T/psk"
"$MCTUN" genpsk "$T/psk" || exit 1
ls -l "$T/psk" | sed 's/^/  /'
say "g2 accepts tunnel peers; g1 connects to it. Both carry $GROUP, with --psk-file."
gw g2 g2 -i isl -g "$GROUP" --listen 198.19.12.2:7000 --psk-file "$T/psk" &&
gw g1 g1 -i isl -g "$GROUP" --peer 198.19.12.2:7000 --psk-file "$T/psk" &&
wait_log g1 "up (node" && wait_log g2 "up (node" || exit 1
sed 's/^/  g1| /' "$T/g1.log"; sed 's/^/  g2| /' "$T/g2.log"
echo "  mctun status on g2:"
nsenter --net="/run/netns/$PFX-g2" -- "$MCTUN" status | grep -E 'pid|authentication' | sed 's/^/  /'

say "h1 sends $COUNT datagrams at $RATE; h2, on the other island, receives"
nsenter --net="/run/netns/$PFX-h2" -- "$MCTUN" recv "$GROUP" --duration 3 >"$T/recv.txt" 2>&1 &
rxpid=$!
sleep 0.3
nsenter --net="/run/netns/$PFX-h1" -- "$MCTUN" send "$GROUP" --count "$COUNT" --rate "$RATE" --ttl 4
wait "$rxpid"
sed 's/^/  h2| /' "$T/recv.txt"

say "BPF counters of g1 (per CPU): bpftool map dump pinned $(ns_pin_dir g1)/isl/stats"
echo "  (bpftool map dump name mctun_stats shows every instance's; here both run on one kernel)"
nsenter --net="/run/netns/$PFX-g1" -- bpftool map dump pinned "$(ns_pin_dir g1)/isl/stats" |
	grep -E '"cpu"|"seen"|"matched"|"pushed"|"ring_full"|"self"|"loopback"|"fragments"'

say "Both daemons' own counters (SIGUSR1), then a clean stop"
n1=$(wc -l <"$T/g1.log"); n2=$(wc -l <"$T/g2.log")
kill -USR1 "$(gw_pid g1)" "$(gw_pid g2)"
sleep 0.3
tail -n +"$((n1 + 1))" "$T/g1.log" | sed 's/^/  g1| /'
tail -n +"$((n2 + 1))" "$T/g2.log" | sed 's/^/  g2| /'
gw_stop g1 && gw_stop g2 && gw_clean g1 && gw_clean g2 || exit 1
say "Done: filters, qdiscs and pins removed; namespaces are deleted on exit."
