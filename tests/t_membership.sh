# shellcheck shell=bash
# Unit tests of the IGMP/MLD membership modules (tests/unit_mship.c):
# user/lib/mship_wire.c on messages built byte by byte and
# user/tunnel/membership.c driven by them on a clock of its own. No network
# and no namespace needed (unit_run in lib.sh); it runs again under valgrind
# when that is installed.

# the module allocates per group and source: nothing may leak
test_mship_unit() { UNIT_VALGRIND=1 unit_run unit_mship; }

# ---- learning on a real island ----------------------------------------------
# Topology: islands() in lib.sh. g2 learns (--membership learn), g1 sends
# from island 1 (static). Timers are short where a test waits for them.

RANGE='239.192.0.0/16:*'

# learned NS GROUP: `mctun status` in NS lists GROUP as learned.
learned() { nsx "$1" "$MCTUN" status 2>/dev/null | grep -q "^  learned $2 "; }

# dstat NS NAME: the daemon counter NAME of the instance in NS.
dstat() { nsx "$1" "$MCTUN" stats --json 2>/dev/null >"$T/stats.json" && jnum "$T/stats.json" "$2"; }

# learner ARGS...: g2 learns with ARGS, g1 sends; both up.
learner() {
	gw g2 g2 --insecure -i isl -g "$RANGE" --membership learn "$@" \
		--listen 198.19.12.2:7000 &&
	gw g1 g1 --insecure -i isl -g "$RANGE" --peer 198.19.12.2:7000 &&
	wait_log g1 "up (node" && wait_log g2 "up (node"
}

# peer_out NS: bytes the instance in NS has sent to its first peer.
peer_out() { dstat "$1" bytes_out; }

# joined_on NS IFACE HEX: the kernel of NS lists the group (as /proc/net/igmp
# prints it) as joined on IFACE.
joined_on() {
	ip netns exec "$PFX-$1" awk -v i="$2" '/^[0-9]/ { dev = $2 } dev == i { print }' \
		/proc/net/igmp | grep -qi "$3"
}

status_says_wanted() {
	nsx g1 "$MCTUN" status >"$T/g1.status" 2>&1
	grep -q "^  node [0-9a-f]* (1 hop away) wants 239.192.1.1:\*$" "$T/g1.status" &&
	grep -q "^  wanted 239.192.1.1:\*: captured and joined for a peer" "$T/g1.status" &&
	grep -q "^  group 239.192.0.0/16:\* (no peer wants it now): packets 0," "$T/g1.status"
}

# A receiver on island 2 joins a group of the range that no one configured
# exactly. Before, nothing of it crossed (g2 wanted nothing, so g1 captured
# nothing and sent nothing); within a second g2 has learned it, told g1,
# and g1 has joined it on island 1, and every datagram sent after that
# arrives once. After the leave, within the leave time (2 x 0.5 s) plus a
# second, g1 has left the group and the WAN carries no more of it.
test_learn_join_and_leave() {
	local G1=$(printf '%02X%02X%02X%02X' 1 1 192 239) out0 out1
	islands 2 && learner || return 1
	tx h1 239.192.1.1:5000 --count 50 --rate 1000pps --ttl 4 || return 1
	sleep 0.3
	[ "$(dstat g1 cap_ring)" = 0 ] || { fail "g1 captured $(dstat g1 cap_ring) that nobody wanted"; return 1; }
	[ "$(dstat g1 unwanted)" = 50 ] || { fail "g1's BPF counted $(dstat g1 unwanted) not wanted, want 50"; return 1; }
	joined_on g1 isl "$G1" && { fail "g1 joined 239.192.1.1 with no receiver anywhere"; return 1; }
	rx r h2 239.192.1.1:5000 --duration 60 || return 1
	within 1 learned g2 239.192.1.1 ||
		{ fail "g2 did not learn 239.192.1.1 within 1 s:"; nsx g2 "$MCTUN" status >&2; return 1; }
	within 1 joined_on g1 isl "$G1" ||
		{ fail "g1 did not join 239.192.1.1 on island 1 within 1 s"; nsx g1 "$MCTUN" status >&2; return 1; }
	# g1's status says who wants what and what it captures for them
	# (published within 200 ms)
	within 1 status_says_wanted ||
		{ fail "g1's status:"; sed 's/^/      /' "$T/g1.status" >&2; return 1; }
	tx h1 239.192.1.1:5000 --count 300 --rate 2000pps --ttl 4 || return 1
	rx_stop r && expect_rx r 300 || return 1
	within 2 eval '! joined_on g1 isl "$G1"' ||
		{ fail "g1 still joined to 239.192.1.1 2 s after the leave"; return 1; }
	learned g2 239.192.1.1 && { fail "g2 still has 239.192.1.1"; return 1; }
	out0=$(peer_out g1)
	tx h1 239.192.1.1:5000 --count 100 --rate 1000pps --size 1000 --ttl 4 || return 1
	sleep 0.3
	out1=$(peer_out g1)
	# 100 kB offered; keepalives may go (8 bytes a second)
	((out1 - out0 < 1000)) || { fail "g1 sent $((out1 - out0)) bytes to g2 after the leave"; return 1; }
	[ "$(dstat g2 drop_unwanted)" = 0 ] || { fail "g2 drop_unwanted $(dstat g2 drop_unwanted)"; return 1; }
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
	# nft_load (t_lab.sh) skips, saying why, without nft or nf_tables
	nft_load h2 'table ip mctuntest {
		chain out { type filter hook output priority 0; policy accept; ip protocol igmp drop; }
	}' || return $?
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
	ip -n "$PFX-g2" link add island type bridge mcast_snooping 0 ||
		{ echo "the kernel has no bridge (CONFIG_BRIDGE) to make an island of two hosts"; return "$SKIP"; }
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
	islands 2 || return 1
	bridged_island || return $?
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

# Three islands through a hub (g2, learning, with a sender on its island):
# group A is joined on island 1 only, group B on island 3 only. Each goes
# to the island that joined it and to no other: the hub's WAN counters
# toward the spoke without a receiver stay flat.
test_subscriptions_hub_sends_only_where_wanted() {
	local RA=239.192.1.1:5000 RB=239.192.2.2:5000 a1 a3 b1 b3
	islands 3 || return 1
	gw g2 g2 --insecure -i isl -g "$RANGE" --membership learn \
		--listen 198.19.12.2:7000 --listen 198.19.23.2:7000 &&
	gw g1 g1 --insecure -i isl -g "$RANGE" --membership learn --peer 198.19.12.2:7000 &&
	gw g3 g3 --insecure -i isl -g "$RANGE" --membership learn --peer 198.19.23.2:7000 &&
	wait_log g1 "up (node" && wait_log g3 "up (node" && wait_log g2 "up (node" 2 || return 1
	rx a h1 "$RA" --duration 60 && rx b h3 "$RB" --duration 60 || return 1
	within 1 learned g1 239.192.1.1 && within 1 learned g3 239.192.2.2 || return 1
	sleep 0.5   # the announcements: one hop, 100 ms of hold-down at most
	nsx g2 "$MCTUN" stats --json >"$T/before.json" || return 1
	tx h2 "$RA" --count 200 --rate 2000pps --size 500 --ttl 4 &&
	tx h2 "$RB" --count 100 --rate 2000pps --size 500 --ttl 4 || return 1
	rx_stop a b && expect_rx a 200 && expect_rx b 100 || return 1
	nsx g2 "$MCTUN" stats --json >"$T/after.json" || return 1
	# bytes out per peer of g2, in the order status lists them
	a1=$(grep -o '"address":"198.19.12.1[^}]*' "$T/after.json" | grep -o '"bytes_out":[0-9]*' | cut -d: -f2)
	b1=$(grep -o '"address":"198.19.12.1[^}]*' "$T/before.json" | grep -o '"bytes_out":[0-9]*' | cut -d: -f2)
	a3=$(grep -o '"address":"198.19.23.3[^}]*' "$T/after.json" | grep -o '"bytes_out":[0-9]*' | cut -d: -f2)
	b3=$(grep -o '"address":"198.19.23.3[^}]*' "$T/before.json" | grep -o '"bytes_out":[0-9]*' | cut -d: -f2)
	note "g2 sent to g1 $((a1 - b1)) bytes, to g3 $((a3 - b3)) bytes"
	# A (200 x 500 bytes) only toward g1, B (100 x 500) only toward g3
	((a1 - b1 >= 100000 && a1 - b1 < 125000)) || { fail "toward g1: $((a1 - b1)) bytes"; return 1; }
	((a3 - b3 >= 50000 && a3 - b3 < 65000)) || { fail "toward g3: $((a3 - b3)) bytes"; return 1; }
	# and the hub's own island, where nobody joined, got neither
	[ "$(jnum "$T/after.json" injected)" = 0 ] || { fail "g2 injected $(jnum "$T/after.json" injected)"; return 1; }
}

# A peer that does not subscribe (protocol 1, as mctun spoke before
# subscriptions) still gets every configured group from a learning
# gateway with no receiver of its own, and so does a udptunnel peer.
test_subscriptions_old_peers_get_everything() {
	islands 2 || return 1
	MCTUN_PROTO_CAPS=0 gw g2 g2 --insecure -i isl -g "$RANGE" --listen 198.19.12.2:7000 &&
	gw g1 g1 --insecure -i isl -g "$RANGE" --membership learn --peer 198.19.12.2:7000 &&
	wait_log g1 "up (node" && wait_log g2 "up (node" || return 1
	rx r h2 239.192.7.7:5000 --duration 60 || return 1
	sleep 0.3
	tx h1 239.192.7.7:5000 --count 150 --rate 2000pps --ttl 4 || return 1
	rx_stop r && expect_rx r 150 || return 1
	gw_stop g1 && gw_stop g2 || return 1
	# udptunnel framing: one group, no hello, so no subscriptions either way
	gw g2 g2 --insecure -i isl -g 239.192.8.8:5000 --framing udptunnel --listen 198.19.12.2:7000 &&
	gw g1 g1 --insecure -i isl -g 239.192.8.8:5000 --framing udptunnel --membership learn \
		--peer 198.19.12.2:7000 && wait_log g1 "up (udptunnel" || return 1
	rx u h2 239.192.8.8:5000 --duration 60 || return 1
	sleep 0.3
	tx h1 239.192.8.8:5000 --count 120 --rate 2000pps --ttl 4 || return 1
	rx_stop u && expect_rx u 120
}
