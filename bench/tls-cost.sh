#!/usr/bin/env bash
# What TLS costs: the same traffic through a plain, a TLS-certificate and a
# pre-shared-key tunnel, in the namespaces of tests/lib.sh (`islands 2`):
#
#   h1 (mctun send) -- g1 ==TCP (plain | TLS certs | TLS PSK)== g2 -- h2 (mctun recv)
#
# For each size and offered rate: datagrams sent, received (mctun recv
# --json), and the CPU time both gateways spent per datagram.
#
#   bench/tls-cost.sh                       sizes 200 1400, rates 20k 50k 100k pps, 2 s each
#   SIZES="1400" RATES="100000" SECS=3 bench/tls-cost.sh
#   MODES="plain psk" bench/tls-cost.sh     (modes: plain tls psk)
#   REPEAT=3 bench/tls-cost.sh              every point three times
#
# As root. Not part of `make bench` (whose harness the lead owns); the
# numbers go into docs/BENCHMARKS.md by hand.
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
export ROOT
# shellcheck source=tests/lib.sh
. "$ROOT/tests/lib.sh"
# G, the pki and tls helpers of the tests
# shellcheck source=tests/t_tunnel.sh
. "$ROOT/tests/t_tunnel.sh"
# shellcheck source=tests/t_auth.sh
. "$ROOT/tests/t_auth.sh"

[ "$(id -u)" = 0 ] || { echo "tls-cost: builds namespaces: run as root" >&2; exit 1; }
[ -x "$MCTUN" ] || { echo "tls-cost: $MCTUN is missing: run make first" >&2; exit 1; }

SIZES=${SIZES:-200 1400}
RATES=${RATES:-20000 50000 100000}
MODES=${MODES:-plain tls psk}
SECS=${SECS:-2}
REPEAT=${REPEAT:-1}
T=$(mktemp -d /tmp/mctun-tlscost.XXXXXX)
PFX="mctc$$"
export T PFX
trap 'cleanup_test >/dev/null 2>&1; rm -rf "$T"' EXIT
trap 'exit 130' INT TERM
HZ=$(getconf CLK_TCK)

if ! pki >/dev/null || ! islands 2 >/dev/null; then
	echo "tls-cost: set-up failed" >&2
	exit 1
fi
printf '%-6s %6s %8s %9s %9s %8s %12s\n' mode size rate sent received lost% "gw cpu us/dg"
# Repeats go round all modes, so a busy moment of the machine hits each alike.
for ((rep = 0; rep < REPEAT; rep++)); do
for mode in $MODES; do
	case $mode in
	plain) a2='--insecure' a1=$a2 ;;
	tls)   a2="$(tls gw2)" a1="$(tls gw1)" ;;
	psk)   a2="--psk-file $T/pki/psk" a1=$a2 ;;
	*)     echo "tls-cost: unknown mode $mode" >&2; exit 1 ;;
	esac
	members "$a2" "$a1" >/dev/null 2>&1 || { echo "tls-cost: $mode tunnel did not come up" >&2; cat "$T"/g*.log >&2; exit 1; }
	for size in $SIZES; do
		for rate in $RATES; do
			count=$((rate * SECS))
			c0=$(( $(cpu_ticks "$(gw_pid g1)") + $(cpu_ticks "$(gw_pid g2)") ))
			rx r h2 "$G" --duration "$(awk -v s="$SECS" 'BEGIN { print s + 1.5 }')" || exit 1
			nsx h1 "$MCTUN" send "$G" --count "$count" --rate "${rate}pps" --size "$size" \
				--ttl 4 --json >"$T/tx.json" 2>/dev/null
			rx_wait r || exit 1
			c1=$(( $(cpu_ticks "$(gw_pid g1)") + $(cpu_ticks "$(gw_pid g2)") ))
			sent=$(jnum "$T/tx.json" sent)
			got=$(jnum "$T/r.json" received)
			awk -v m="$mode" -v z="$size" -v r="$rate" -v s="$sent" -v g="$got" \
				-v t=$((c1 - c0)) -v hz="$HZ" 'BEGIN {
				printf "%-6s %6d %8d %9d %9d %8.2f %12.2f\n", m, z, r, s, g,
					s ? 100 * (s - g) / s : 0, g ? t * 1e6 / hz / g : 0 }'
		done
	done
	gw_stop g1 >/dev/null 2>&1; gw_stop g2 >/dev/null 2>&1
done
done
