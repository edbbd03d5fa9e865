# shellcheck shell=bash
# Unit tests of the IGMP/MLD membership modules (tests/unit_mship.c):
# user/lib/mship_wire.c on messages built byte by byte and
# user/tunnel/membership.c driven by them on a clock of its own. No network
# and no namespace needed. Its lines are "ok - NAME" or "not ok - NAME: why";
# it runs again under valgrind when that is installed.

test_mship_unit() {
	local bin="$ROOT/build/unit_mship" rc
	# Built here so that `make test` needs nothing more than `make`.
	if ! make -C "$ROOT" -s --no-print-directory build/unit_mship >"$T/make.log" 2>&1 &&
	   ! make -C "$ROOT" -s --no-print-directory -f Makefile -f fuzz/fuzz.mk build/unit_mship \
		>>"$T/make.log" 2>&1; then
		fail "cannot build build/unit_mship:"; sed 's/^/      /' "$T/make.log" >&2
		return 1
	fi
	"$bin" >"$T/unit_mship.out" 2>&1; rc=$?
	if [ "$rc" != 0 ]; then
		fail "unit_mship exited $rc:"; grep -v '^ok' "$T/unit_mship.out" | sed 's/^/      /' >&2
		return 1
	fi
	# a summary line, so a run that tested nothing is noticed
	grep -q '^unit_mship: [1-9][0-9]* ok, 0 not ok' "$T/unit_mship.out" ||
		{ fail "unit_mship ran no case:"; sed 's/^/      /' "$T/unit_mship.out" >&2; return 1; }
	# the module allocates per group and source: nothing may leak (a second)
	if command -v valgrind >/dev/null; then
		valgrind -q --leak-check=full --error-exitcode=1 "$bin" >"$T/valgrind.out" 2>&1 ||
			{ fail "unit_mship under valgrind:"; grep -v '^ok' "$T/valgrind.out" |
				sed 's/^/      /' >&2; return 1; }
	fi
	return 0
}

# ---- learning on a real island ----------------------------------------------
# Topology: islands() in lib.sh. g2 learns (--membership learn), g1 sends
# from island 1 (static). Timers are short where a test waits for them.

RANGE='239.192.0.0/16:*'

# learned NS GROUP: `mctun status` in NS lists GROUP as learned.
learned() { nsx "$1" "$MCTUN" status 2>/dev/null | grep -q "^  learned $2 "; }

# dstat NS NAME: the daemon counter NAME of the instance in NS.
dstat() { nsx "$1" "$MCTUN" stats --json 2>/dev/null >"$T/stats.json" && jnum "$T/stats.json" "$2"; }

# within SECS CMD...: CMD holds within SECS (x TIME_SCALE); checked every 50 ms.
within() {
	local n i; n=$(awk -v s="$(scaled "$1")" 'BEGIN { printf "%d", s * 20 + 1 }'); shift
	for ((i = 0; i < n; i++)); do "$@" && return 0; sleep 0.05; done
	return 1
}

# learner ARGS...: g2 learns with ARGS, g1 sends; both up.
learner() {
	gw g2 g2 --insecure -i isl -g "$RANGE" --membership learn "$@" \
		--listen 198.19.12.2:7000 &&
	gw g1 g1 --insecure -i isl -g "$RANGE" --peer 198.19.12.2:7000 &&
	wait_log g1 "up (node" && wait_log g2 "up (node"
}

# A receiver joins a group of the range that no one configured exactly:
# g2 learns it within a second and from then on re-injects every datagram
# once; before, it carried them over the tunnel but left them off the
# island (not_wanted). After the receiver leaves, g2 forgets the group
# within the leave time (2 x 0.5 s) plus a second.
test_learn_join_and_leave() {
	islands 2 && learner || return 1
	tx h1 239.192.1.1:5000 --count 50 --rate 1000pps --ttl 4 || return 1
	within 3 eval '[ "$(dstat g2 drop_unwanted)" = 50 ]' ||
		{ fail "before the join: drop_unwanted $(dstat g2 drop_unwanted), want 50"; return 1; }
	rx r h2 239.192.1.1:5000 --duration 60 || return 1
	within 1 learned g2 239.192.1.1 ||
		{ fail "g2 did not learn 239.192.1.1 within 1 s:"; nsx g2 "$MCTUN" status >&2; return 1; }
	tx h1 239.192.1.1:5000 --count 300 --rate 2000pps --ttl 4 || return 1
	rx_stop r && expect_rx r 300 || return 1
	within 2 eval '! learned g2 239.192.1.1' ||
		{ fail "g2 still has 239.192.1.1 2 s after the leave:"; nsx g2 "$MCTUN" status >&2; return 1; }
	[ "$(dstat g2 mship_leaves)" -ge 0 ] && [ "$(dstat g2 mship_groups)" = 0 ] || return 1
	tx h1 239.192.1.1:5000 --count 40 --rate 1000pps --ttl 4 || return 1
	within 3 eval '[ "$(dstat g2 drop_unwanted)" = 90 ]' ||
		{ fail "after the leave: drop_unwanted $(dstat g2 drop_unwanted), want 90"; return 1; }
	gw_stop g2 && log_has g2 "injected 300 "
}

test_learn_ipv6_mld() {
	islands 2 || return 1
	gw g2 g2 --insecure -i isl -g '[ff15::/16]:*' --membership learn --listen 198.19.12.2:7000 &&
	gw g1 g1 --insecure -i isl -g '[ff15::/16]:*' --peer 198.19.12.2:7000 &&
	wait_log g1 "up (node" && wait_log g2 "up (node" || return 1
	rx r h2 '[ff15::1:2]:7000' --duration 60 || return 1
	# MLD reports wait for the host's link-local address to pass DAD (1 s)
	within 3 learned g2 ff15::1:2 ||
		{ fail "g2 did not learn ff15::1:2:"; nsx g2 "$MCTUN" status >&2; return 1; }
	tx h1 '[ff15::1:2]:7000' --count 200 --rate 2000pps --ttl 4 || return 1
	rx_stop r && expect_rx r 200 || return 1
	within 2 eval '! learned g2 ff15::1:2' || { fail "ff15::1:2 not forgotten after the done"; return 1; }
}

# The configuration stays the policy: a join outside every configured
# group and range is counted and not learned.
test_learn_only_configured_groups() {
	islands 2 && learner || return 1
	rx out h2 239.193.0.1:5000 --duration 60 && rx in h2 239.192.9.9:5000 --duration 60 || return 1
	within 1 learned g2 239.192.9.9 || { fail "239.192.9.9 not learned"; return 1; }
	learned g2 239.193.0.1 && { fail "239.193.0.1 (outside $RANGE) was learned"; return 1; }
	[ "$(dstat g2 mship_refused)" -ge 1 ] || { fail "mship_refused $(dstat g2 mship_refused)"; return 1; }
	rx_stop out in
}

# Host reports stop without a leave (the host dies; here its IGMP is
# dropped first): the group lasts until the membership interval
# (robustness 2 x 1 s + 0.5 s) runs out, and no longer.
test_learn_expires_without_leave() {
	islands 2 && learner --query-interval 1 --query-response-interval 0.5 || return 1
	rx r h2 239.192.1.1:5000 --duration 60 || return 1
	within 1 learned g2 239.192.1.1 || { fail "not learned"; return 1; }
	ip netns exec "$PFX-h2" nft add table ip mctuntest &&
	ip netns exec "$PFX-h2" nft add chain ip mctuntest out '{ type filter hook output priority 0; }' &&
	ip netns exec "$PFX-h2" nft add rule ip mctuntest out ip protocol igmp drop || return 1
	kill -KILL "$(cat "$T/r.rxpid")"; wait "$(cat "$T/r.rxpid")" 2>/dev/null
	sleep 1
	learned g2 239.192.1.1 || { fail "forgotten within 1 s without a leave"; return 1; }
	within 2.5 eval '! learned g2 239.192.1.1' ||
		{ fail "still learned 3.5 s after the host went silent"; nsx g2 "$MCTUN" status >&2; return 1; }
}

# bridged_island: island 2 becomes a bridge ("island" in g2, snooping off) with
# two hosts, h2 and h2b (198.18.2.3).
bridged_island() {
	ns_add h2b || return 1
	ip -n "$PFX-g2" link add island type bridge mcast_snooping 0 || return 1
	ip -n "$PFX-g2" addr del 198.18.2.1/24 dev isl
	ip -n "$PFX-g2" link set isl master island
	veth g2 p2b h2b eth0 || return 1
	ip -n "$PFX-g2" link set p2b master island
	ip -n "$PFX-g2" addr add 198.18.2.1/24 dev island
	ip -n "$PFX-g2" link set island up
	ip -n "$PFX-h2b" addr add 198.18.2.3/24 dev eth0
	ip -n "$PFX-h2b" route add default via 198.18.2.1
	ip -n "$PFX-h2b" route add 224.0.0.0/4 dev eth0
}

# Two receivers, one leaves: the group-specific queries find the other,
# and the group keeps flowing to it.
test_learn_two_receivers_one_leaves() {
	islands 2 && bridged_island || return 1
	gw g2 g2 --insecure -i island -g "$RANGE" --membership learn --listen 198.19.12.2:7000 &&
	gw g1 g1 --insecure -i isl -g "$RANGE" --peer 198.19.12.2:7000 &&
	wait_log g1 "up (node" && wait_log g2 "up (node" || return 1
	rx a h2 239.192.1.1:5000 --duration 60 && rx b h2b 239.192.1.1:5000 --duration 60 || return 1
	within 1 learned g2 239.192.1.1 || { fail "not learned"; return 1; }
	rx_stop a || return 1
	sleep 2   # twice the leave time
	learned g2 239.192.1.1 || { fail "forgotten though h2b still listens"; nsx g2 "$MCTUN" status >&2; return 1; }
	tx h1 239.192.1.1:5000 --count 200 --rate 2000pps --ttl 4 || return 1
	rx_stop b && expect_rx b 200
}

# With no other querier, g2 queries and the host's answers keep the group
# (4 s: past the membership interval of 2.5 s); with --querier off the same
# group runs out after it.
test_querier_keeps_membership() {
	islands 2 && learner --query-interval 1 --query-response-interval 0.5 || return 1
	rx r h2 239.192.1.1:5000 --duration 60 || return 1
	within 1 learned g2 239.192.1.1 || { fail "not learned"; return 1; }
	sleep 4
	learned g2 239.192.1.1 || { fail "g2 as querier lost the group:"; nsx g2 "$MCTUN" status >&2; return 1; }
	[ "$(dstat g2 queries_sent)" -ge 3 ] || { fail "queries_sent $(dstat g2 queries_sent)"; return 1; }
	(($(dstat g2 querier) & 1)) || { fail "querier $(dstat g2 querier): not the IGMP one"; return 1; }
	rx_stop r && gw_stop g1 && gw_stop g2 || return 1
	learner --query-interval 1 --query-response-interval 0.5 --querier off || return 1
	rx r h2 239.192.1.2:5000 --duration 60 || return 1
	within 1 learned g2 239.192.1.2 || { fail "not learned with --querier off"; return 1; }
	within 5 eval '! learned g2 239.192.1.2' ||
		{ fail "--querier off: the group outlived the membership interval"; return 1; }
	[ "$(dstat g2 queries_sent)" = 0 ] || { fail "--querier off sent queries"; return 1; }
}

# A lower address querying on the island: g2 (198.18.2.1) stops querying.
# The other querier is another mctun on h2, whose first address is made
# 198.18.0.9.
test_querier_yields_to_lower_address() {
	islands 2 || return 1
	# IGMP only: queries_sent counts MLD's too, whose election turns on
	# random link-local addresses
	ip netns exec "$PFX-g2" sysctl -qw net.ipv6.conf.isl.disable_ipv6=1 &&
	ip netns exec "$PFX-h2" sysctl -qw net.ipv6.conf.eth0.disable_ipv6=1 || return 1
	learner --query-interval 1 --query-response-interval 0.5 || return 1
	within 2 eval '(($(dstat g2 querier) & 1))' || { fail "g2 is not the querier at start"; return 1; }
	ip -n "$PFX-h2" addr flush dev eth0
	ip -n "$PFX-h2" addr add 198.18.0.9/24 dev eth0
	ip -n "$PFX-h2" addr add 198.18.2.2/24 dev eth0
	gw hq h2 --insecure -i eth0 -g "$RANGE" --membership learn --querier on \
		--query-interval 1 --query-response-interval 0.5 --listen 127.0.0.1:7100 || return 1
	within 3 eval '! (($(dstat g2 querier) & 1))' ||
		{ fail "g2 still the querier with 198.18.0.9 querying"; nsx g2 "$MCTUN" status >&2; return 1; }
	local sent; sent=$(dstat g2 queries_sent)
	sleep 2.5
	[ "$(dstat g2 queries_sent)" = "$sent" ] ||
		{ fail "g2 sent $(($(dstat g2 queries_sent) - sent)) queries while not the querier"; return 1; }
	[ "$(dstat g2 queries_heard)" -ge 2 ] || { fail "queries_heard $(dstat g2 queries_heard)"; return 1; }
}
