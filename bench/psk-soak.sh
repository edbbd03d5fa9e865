#!/usr/bin/env bash
# The PSK listener on the real clock: a listener that has run longer than
# OpenSSL's default session lifetime (300 s) must still take a restarted
# peer on its first try (issue 11: it used to refuse every new peer after
# about five minutes). The test suite checks the same with a faked clock
# (test_psk_listener_accepts_an_hour_later); this is the long-lived check.
#
#   bench/psk-soak.sh              the listener runs 330 s, then the peer restarts
#   SOAK=900 bench/psk-soak.sh     longer
#
# As root; everything in namespaces of tests/lib.sh (`islands 2`). Exit 0
# when the restarted peer came up first try and 3000 datagrams crossed.
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
export ROOT
# shellcheck source=tests/lib.sh
. "$ROOT/tests/lib.sh"
# shellcheck source=tests/t_tunnel.sh
. "$ROOT/tests/t_tunnel.sh"
# shellcheck source=tests/t_auth.sh
. "$ROOT/tests/t_auth.sh"

[ "$(id -u)" = 0 ] || { echo "psk-soak: builds namespaces: run as root" >&2; exit 1; }
[ -x "$MCTUN" ] || { echo "psk-soak: $MCTUN is missing: run make first" >&2; exit 1; }
SOAK=${SOAK:-330}
T=$(mktemp -d /tmp/mctun-psksoak.XXXXXX)
PFX="mcps$$"
export T PFX
trap 'cleanup_test >/dev/null 2>&1; rm -rf "$T"' EXIT
trap 'exit 130' INT TERM

soak() {
	pki && islands 2 || return 1
	members "--psk-file $T/pki/psk" "--psk-file $T/pki/psk" || return 1
	echo "psk-soak: listener up; the peer restarts in ${SOAK}s"
	sleep "$SOAK"
	gw_stop g1 && wait_log g2 "down:" || return 1
	gw g1 g1 -i isl -g "$G" --peer 198.19.12.2:7000 --psk-file "$T/pki/psk" &&
	wait_log g2 "up (node" 2 && wait_log g1 "up (node" || return 1
	! grep -q "retrying" "$T/g1.log" || { fail "the restarted peer was refused:"; cat "$T/g1.log" "$T/g2.log" >&2; return 1; }
	flowing && delivered
}
if soak; then echo "psk-soak: PASS after ${SOAK}s"; else echo "psk-soak: FAIL"; exit 1; fi
