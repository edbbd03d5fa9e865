# shellcheck shell=bash
# The core tunnel: delivery, fan-out, loops, sizes, families, modes,
# reconnects and hostile peers. Topology: see islands() in lib.sh.

G=239.1.2.3:5000
G6='[ff15::1]:5000'

# pair MODE [GROUP-ARGS...]: g2 listens, g1 connects; both up. g2 is
# started with `ip netns exec` (a mount namespace of its own), g1 with
# nsenter: the two ways people start it.
pair() {
	local mode=$1; shift
	# shellcheck disable=SC2086 # MODE may carry its own options
	gw_ipns g2 g2 --insecure -i isl --mode $mode "$@" --listen 198.19.12.2:7000 &&
	gw g1 g1 --insecure -i isl --mode $mode "$@" --peer 198.19.12.2:7000 &&
	wait_log g1 "up (node" && wait_log g2 "up (node"
}

# log_has NAME PATTERN: the daemon's log (after it stopped) has PATTERN.
log_has() {
	grep -q -- "$2" "$T/$1.log" || { fail "$1: log lacks '$2':"; sed 's/^/      /' "$T/$1.log" >&2; return 1; }
}

# one_way MODE: 1000 datagrams from island 1 arrive once on island 2, and
# island 1 itself sees only the original (nothing echoes back).
one_way() {
	islands 2 && pair "$1" -g "$G" || return 1
	rx r2 h2 "$G" --duration 2.5 && rx r1 h1 "$G" --duration 2.5 || return 1
	tx h1 "$G" --count 1000 --rate 2000pps --size 200 --ttl 4 || return 1
	rx_wait r2 && rx_wait r1 || return 1
	expect_rx r2 1000 && expect_rx r1 1000 || return 1
	[ "$(jnum "$T/r2.json" ttl)" = 1 ] || { fail "re-injected TTL $(jnum "$T/r2.json" ttl), want 1"; return 1; }
	# the gateways joined the group on the island interface (for snooping switches)
	ip netns exec "$PFX-g2" grep -A9 isl /proc/net/igmp | grep -qi 030201EF ||
		{ fail "g2 has not joined 239.1.2.3 on isl"; return 1; }
	gw_stop g1 && gw_stop g2 || return 1
	log_has g2 "injected 1000 " || return 1
	if [ "$1" != socket ]; then
		log_has g1 "group 239.1.2.3:5000: packets 1000 " || return 1
	else
		log_has g1 "captured 1000 " || return 1
	fi
	gw_clean g1 && gw_clean g2
}

test_one_way_tc() { one_way tc; }
test_one_way_xdp() { one_way xdp; }
test_one_way_xdp_generic() { one_way "xdp --xdp-mode generic"; }
test_one_way_socket() { one_way socket; }

test_both_ways() {
	islands 2 && pair tc -g "$G" || return 1
	rx r1 h1 "$G" --duration 3 && rx r2 h2 "$G" --duration 3 || return 1
	tx h1 "$G" --count 800 --rate 2000pps --size 300 --ttl 4 &
	tx h2 "$G" --count 600 --rate 2000pps --size 100 --ttl 4 || return 1
	wait $! || return 1
	rx_wait r1 && rx_wait r2 || return 1
	# each island: its own sender plus the other's, each exactly once
	expect_rx r1 1400 2 && expect_rx r2 1400 2
}

# Only configured group addresses and ports cross.
test_unconfigured_not_forwarded() {
	islands 2 && pair tc -g "$G" || return 1
	rx other_port h2 239.1.2.3:5001 --duration 1.5 &&
	rx other_group h2 239.1.2.4:5000 --duration 1.5 || return 1
	tx h1 239.1.2.3:5001 --count 50 --rate 1000pps --ttl 4 &&
	tx h1 239.1.2.4:5000 --count 50 --rate 1000pps --ttl 4 || return 1
	rx_wait other_port && rx_wait other_group || return 1
	expect_rx other_port 0 0 && expect_rx other_group 0 0 || return 1
	gw_stop g1 && log_has g1 "matched 0 "
}

# Applications on the gateways themselves send into and receive from the
# tunnel (egress capture; re-injection with multicast loopback).
local_apps() {
	islands 2 && pair "$1" -g "$G" || return 1
	rx local2 g2 "$G" --iface isl --duration 2.5 && rx host2 h2 "$G" --duration 2.5 &&
	rx local1 g1 "$G" --iface isl --duration 2.5 && rx_seen g2 239.1.2.3 || return 1
	tx g1 "$G" --iface isl --count 300 --rate 1000pps --ttl 4 || return 1
	rx_wait local2 && rx_wait host2 && rx_wait local1 || return 1
	expect_rx local2 300 && expect_rx host2 300 && expect_rx local1 300 || return 1
	gw_stop g1 && log_has g1 " egress 300 "
}

test_local_apps_on_gateways() { local_apps tc; }
test_local_apps_on_gateways_xdp_mode() { local_apps xdp; }
test_local_apps_on_gateways_xdp_generic() { local_apps "xdp --xdp-mode generic"; }

# g2 re-injects runs of equal-sized datagrams as UDP GSO batches. With g2
# frozen, three senders' datagrams (1400 bytes, 1000, then 300 with DSCP
# af41) wait in g1's queue and the TCP buffers; thawed, g2 reads them in
# large chunks, so its batches are long and must split where the TOS
# changes, and end a run at a shorter datagram. Island 2 and an application
# on g2 itself get every datagram whole, with its DSCP; g2's BPF counters
# count datagrams, its hooks see far fewer packets.
# reinjection_batches MODE [NOGSO]: with NOGSO (probe or send), g2 runs
# with tests/nogso.c preloaded, playing a kernel that refuses UDP GSO: at
# the start (before 4.18), or per batch (an MTU that shrank under it).
reinjection_batches() {
	local nogso=${2:-}
	islands 2 || return 1
	if [ -n "$nogso" ]; then
		cc -shared -fPIC -O1 -Wall -Werror -o "$T/nogso.so" "$ROOT/tests/nogso.c" -ldl \
			2>"$T/cc.err" || { fail "build tests/nogso.c: $(cat "$T/cc.err")"; return 1; }
	fi
	# shellcheck disable=SC2086 # MODE may carry its own options
	NOGSO=$nogso LD_PRELOAD=${nogso:+$T/nogso.so} \
	gw g2 g2 --insecure -i isl --mode $1 -g "$G" --listen 198.19.12.2:7000 --dead-after 30 &&
	gw g1 g1 --insecure -i isl --mode $1 -g "$G" --peer 198.19.12.2:7000 --dead-after 30 &&
	wait_log g1 "up (node" && wait_log g2 "up (node" || return 1
	rx r2 h2 "$G" --duration 6 && rx rg g2 "$G" --iface isl --duration 6 &&
		rx_seen g2 239.1.2.3 || return 1
	kill -STOP "$(gw_pid g2)"
	tx h1 "$G" --count 1000 --rate 20000pps --size 1400 --ttl 4 &&
	tx h1 "$G" --count 1000 --rate 20000pps --size 1000 --ttl 4 &&
	tx h1 "$G" --count 1000 --rate 20000pps --size 300 --ttl 4 --dscp af41
	local rc=$? seen
	kill -CONT "$(gw_pid g2)"
	[ "$rc" = 0 ] || return 1
	rx_wait r2 && rx_wait rg || return 1
	expect_rx r2 3000 3 && expect_rx rg 3000 3 || return 1
	[ "$(grep -o '"dscp": *34' "$T/r2.json" | wc -l)" = 1 ] ||
		{ fail "r2: no sender kept DSCP af41 (34)"; sed 's/^/      /' "$T/r2.json" >&2; return 1; }
	gw_stop g2 && log_has g2 "self 3000 loopback 3000" && log_has g2 "injected 3000 " || return 1
	seen=$(sed -n 's/.*bpf: seen \([0-9]*\) .*/\1/p' "$T/g2.log" | tail -n1)
	# unbatched, each datagram would pass both hooks: 6,000 packets
	if [ -z "$nogso" ]; then
		[ "${seen:-6000}" -lt 3000 ] ||
			{ fail "g2's hooks saw ${seen:-?} packets for 3000 datagrams: no GSO batches"; return 1; }
		return 0
	fi
	[ "${seen:-0}" -ge 6000 ] ||
		{ fail "g2's hooks saw ${seen:-?} packets for 3000 datagrams: a GSO batch got through"; return 1; }
	if [ "$nogso" = probe ]; then
		log_has g2 "UDP GSO unavailable (Protocol not available)"
	else
		! grep -q "UDP GSO unavailable" "$T/g2.log" || { fail "g2 gave up GSO for a refused batch"; return 1; }
	fi
}

test_reinjection_batches_mixed_sizes() { reinjection_batches tc; }
# generic XDP also sees the batches' looped-back copies
test_reinjection_batches_xdp_generic() { reinjection_batches "xdp --xdp-mode generic"; }
# without UDP GSO from the start, and with each batch refused: every datagram
# still arrives once, with its DSCP, sent one by one
test_reinjection_without_udp_gso() { reinjection_batches tc probe; }
test_reinjection_gso_batch_refused() { reinjection_batches tc send; }

# A hub (g3) joins three islands; spokes g1 and g2 connect to it.
test_hub_three_islands() {
	islands 3 || return 1
	gw g3 g3 --insecure -i isl -g "$G" --listen 0.0.0.0:7000 &&
	gw g1 g1 --insecure -i isl -g "$G" --peer "$(wan_addr 3 1):7000" &&
	gw g2 g2 --insecure -i isl -g "$G" --peer "$(wan_addr 3 2):7000" &&
	wait_log g3 "up (node" 2 || return 1
	rx r1 h1 "$G" --duration 3 && rx r2 h2 "$G" --duration 3 && rx r3 h3 "$G" --duration 3 ||
		return 1
	tx h1 "$G" --count 500 --rate 2000pps --ttl 4 &&
	tx h2 "$G" --count 400 --rate 2000pps --ttl 4 || return 1
	rx_wait r1 && rx_wait r2 && rx_wait r3 || return 1
	expect_rx r1 900 2 && expect_rx r2 900 2 && expect_rx r3 900 2
}

# Three relays in a ring (each listens and connects to the next): every
# datagram reaches each island once; the cycle neither loops nor duplicates.
test_ring_of_three_relays() {
	islands 3 || return 1
	gw g1 g1 --insecure -i isl -g "$G" --listen 0.0.0.0:7000 --peer "$(wan_addr 2 1):7000" &&
	gw g2 g2 --insecure -i isl -g "$G" --listen 0.0.0.0:7000 --peer "$(wan_addr 3 2):7000" &&
	gw g3 g3 --insecure -i isl -g "$G" --listen 0.0.0.0:7000 --peer "$(wan_addr 1 3):7000" &&
	wait_log g1 "up (node" 2 && wait_log g2 "up (node" 2 && wait_log g3 "up (node" 2 ||
		return 1
	rx r1 h1 "$G" --duration 3 && rx r2 h2 "$G" --duration 3 && rx r3 h3 "$G" --duration 3 ||
		return 1
	tx h1 "$G" --count 500 --rate 2000pps --ttl 4 || return 1
	rx_wait r1 && rx_wait r2 && rx_wait r3 || return 1
	expect_rx r1 500 && expect_rx r2 500 && expect_rx r3 500 || return 1
	gw_stop g1 && gw_stop g2 && gw_stop g3 || return 1
	# Each gateway heard every datagram twice (once per neighbour) and
	# dropped the second copy; nothing circled back to its origin unnoticed.
	log_has g2 "injected 500 " && log_has g3 "injected 500 " && log_has g1 "injected 0 "
}

# Re-injected datagrams carry the configured TTL and the captured DSCP.
test_reinjected_ttl_and_dscp() {
	islands 2 && pair tc --ttl 7 -g "$G" -g "$G6" || return 1
	rx r2 h2 "$G" --duration 2 && rx r6 h2 "$G6" --duration 2 || return 1
	tx h1 "$G" --count 100 --rate 1000pps --ttl 4 --dscp ef &&
	tx h1 "$G6" --count 100 --rate 1000pps --ttl 4 --dscp af41 || return 1
	rx_wait r2 && rx_wait r6 && expect_rx r2 100 && expect_rx r6 100 || return 1
	[ "$(jnum "$T/r2.json" ttl)" = 7 ] && [ "$(jnum "$T/r2.json" dscp)" = 46 ] &&
	[ "$(jnum "$T/r6.json" ttl)" = 7 ] && [ "$(jnum "$T/r6.json" dscp)" = 34 ] ||
		{ fail "ttl/dscp: $(cat "$T/r2.json" "$T/r6.json")"; return 1; }
}

test_ipv6_group() {
	islands 2 && pair tc -g "$G6" || return 1
	rx r2 h2 "$G6" --duration 2.5 && rx l2 g2 "$G6" --iface isl --duration 2.5 &&
		rx_seen g2 ff15::1 || return 1
	tx h1 "$G6" --count 500 --rate 2000pps --ttl 4 || return 1
	rx_wait r2 && rx_wait l2 && expect_rx r2 500 && expect_rx l2 500 || return 1
	ip netns exec "$PFX-g1" grep isl /proc/net/igmp6 | grep -q ff150000000000000000000000000001 ||
		{ fail "g1 has not joined ff15::1 on isl"; return 1; }
}

# The gateway carries only the configured source of an SSM group.
test_ssm_source_filter() {
	local S=232.1.1.1:5000
	islands 2 && pair tc -g "$S@198.18.1.2" || return 1
	ip -n "$PFX-h1" addr add 198.18.1.3/24 dev eth0
	ip -n "$PFX-h1" route add 232.0.0.0/8 dev eth0 src 198.18.1.3
	rx r2 h2 "$S" --duration 2.5 || return 1
	tx h1 "$S" --count 100 --rate 1000pps --ttl 4 || return 1     # from .3: not carried
	ip -n "$PFX-h1" route replace 232.0.0.0/8 dev eth0 src 198.18.1.2
	tx h1 "$S" --count 200 --rate 1000pps --ttl 4 || return 1     # from .2: carried
	rx_wait r2 && expect_rx r2 200 || return 1
	# the gateway's join is source-specific (IGMPv3 INCLUDE)
	ip netns exec "$PFX-g1" cat /proc/net/mcfilter | grep -qi "$(printf '%02X%02X%02X%02X' 232 1 1 1).*$(printf '%02X%02X%02X%02X' 198 18 1 2)" ||
		{ fail "g1 has no (S,G) join in /proc/net/mcfilter"; return 1; }
}

big() {   # MODE SIZE COUNT
	islands 2 && pair "$1" -g "$G" || return 1
	rx r2 h2 "$G" --duration 3 && rx l2 g2 "$G" --iface isl --duration 3 &&
		rx_seen g2 239.1.2.3 || return 1
	tx h1 "$G" --count "$3" --rate 100pps --size "$2" --ttl 4 || return 1
	rx_wait r2 && rx_wait l2 && expect_rx r2 "$3" && expect_rx l2 "$3"
}

test_datagram_8000_bytes() { big tc 8000 100; }
test_datagram_60000_bytes() { big tc 60000 50; }
test_datagram_65507_bytes_largest_ipv4() { big tc 65507 20; }
test_datagram_60000_bytes_socket_mode() { big socket 60000 50; }
test_datagram_8000_bytes_xdp_mode() { big xdp 8000 100; }

test_ipv6_big_and_local_sender() {
	islands 2 && pair tc -g "$G6" || return 1
	rx r2 h2 "$G6" --duration 3 || return 1
	tx h1 "$G6" --count 40 --rate 100pps --size 20000 --ttl 4 &&
	tx h1 "$G6" --count 10 --rate 100pps --size 65527 --ttl 4 &&
	tx g1 "$G6" --iface isl --count 50 --rate 100pps --size 9000 --ttl 4 || return 1
	rx_wait r2 && expect_rx r2 100 3
}

# The client reconnects on its own: the server comes up late, then restarts.
test_client_reconnects() {
	islands 2 || return 1
	gw g1 g1 --insecure -i isl -g "$G" --peer 198.19.12.2:7000 || return 1
	sleep 0.5
	gw g2 g2 --insecure -i isl -g "$G" --listen 198.19.12.2:7000 &&
	wait_log g1 "up (node" 1 || return 1
	gw_stop g2 && wait_log g1 "down:" 1 || return 1
	gw g2 g2 --insecure -i isl -g "$G" --listen 198.19.12.2:7000 &&
	wait_log g1 "up (node" 2 || return 1
	rx r2 h2 "$G" --duration 2 || return 1
	tx h1 "$G" --count 200 --rate 1000pps --ttl 4 || return 1
	rx_wait r2 && expect_rx r2 200
}

# Garbage, a stranger's protocol and a wrong version at the listening port
# are refused with one line each; the established peer keeps flowing.
test_garbage_refused_peer_keeps_flowing() {
	islands 2 && pair tc -g "$G" || return 1
	rx r2 h2 "$G" --duration 3 || return 1
	tx h1 "$G" --count 3000 --rate 2000pps --ttl 4 &
	local txpid=$!
	nsx g1 bash -c 'exec 3<>/dev/tcp/198.19.12.2/7000; printf "GET / HTTP/1.0\r\n\r\n" >&3; sleep 0.2' &&
	# random bytes after one that starts no frame type (a random first
	# byte of 1 to 4 would be refused as another kind of bad frame)
	nsx g1 bash -c 'exec 3<>/dev/tcp/198.19.12.2/7000; { printf "\377"; head -c 3000 /dev/urandom; } >&3; sleep 0.2' &&
	# a well-formed hello of protocol version 9
	nsx g1 bash -c 'exec 3<>/dev/tcp/198.19.12.2/7000; printf "\001\000\000\000\000\000\000\030MCTN\011\000\000\000\001\002\003\004\005\006\007\010\000\000\000\000\000\000\000\000" >&3; sleep 0.2' ||
		return 1
	wait "$txpid" || return 1
	rx_wait r2 && expect_rx r2 3000 || return 1
	wait_log g2 "refused: bad frame: not an mctun peer" 2 &&
	wait_log g2 "refused: speaks protocol version 9, this mctun speaks 1" 1
}

test_bpf_counters_readable() {
	islands 2 && pair tc -g "$G" || return 1
	tx h1 "$G" --count 20 --rate 1000pps --ttl 4 || return 1
	local out
	out=$(nsx g1 bpftool map dump name mctun_stats) || { fail "bpftool map dump failed"; return 1; }
	for k in seen matched pushed ring_full self fragments; do
		grep -q "\"$k\"" <<<"$out" || { fail "mctun_stats dump lacks $k: $out"; return 1; }
	done
	out=$(nsx g1 bpftool map dump pinned "$(ns_pin_dir g1)/isl/gstats")
	grep -q '"packets"' <<<"$out" || { fail "gstats dump lacks packets: $out"; return 1; }
}

# coalesce ARGS...: g1 (with ARGS) captures a burst of 20,000 datagrams
# at 50,000 pps, then a trickle of 5 datagrams 300 ms apart; each arrives
# exactly once. Prints g1's counters ring_wakeups (before the trickle and
# after it), ring_drains and ring_coalesced, for the caller to judge.
coalesce() {
	islands 2 && pair tc "$@" -g "$G" || return 1
	rx r2 h2 "$G" --duration 30 || return 1
	tx h1 "$G" --count 20000 --rate 50000pps --size 200 --ttl 4 || return 1
	rx_stop r2 && expect_rx r2 20000 || return 1
	# back to a wake-up per datagram (a few idle periods), published
	sleep "$(scaled 0.6)"
	local w0 w1 i
	w0=$(rs_json g1 ring_wakeups) || return 1
	rx r3 h2 "$G" --duration 30 || return 1
	for ((i = 0; i < 5; i++)); do
		tx h1 "$G" --count 1 --size 200 --ttl 4 || return 1
		sleep "$(scaled 0.3)"
	done
	rx_stop r3 && expect_rx r3 5 5 || return 1
	sleep "$(scaled 0.3)"
	w1=$(rs_json g1 ring_wakeups) || return 1
	echo "$w0 $w1 $(jnum "$T/g1.st.json" ring_drains) $(jnum "$T/g1.st.json" ring_coalesced)"
}

# --coalesce (default 200us): under the burst g1 switched to reading the
# ring on its timer (counted), lost and doubled nothing; after it each
# trickle datagram woke g1 itself: none waited in the ring unannounced
# (a record submitted silently around the switch back would silence every
# one after it, found only by the daemon's 200 ms tick).
test_coalesce_burst_then_trickle() {
	local c
	read -ra c <<<"$(coalesce)" && [ ${#c[@]} = 4 ] || return 1
	note "g1: wake-ups ${c[0]} -> ${c[1]}, timer reads ${c[2]}, switches ${c[3]}"
	[ "${c[2]}" -gt 0 ] && [ "${c[3]}" -gt 0 ] ||
		{ fail "no timer reads (${c[2]}) or switches (${c[3]}) under 50,000 pps"; return 1; }
	[ $((c[1] - c[0])) -ge 5 ] ||
		{ fail "the trickle of 5 woke g1 $((c[1] - c[0])) times"; return 1; }
}

# --coalesce 0: a wake-up per datagram, as before; never a timer read.
test_coalesce_off() {
	local c
	read -ra c <<<"$(coalesce --coalesce 0)" && [ ${#c[@]} = 4 ] || return 1
	[ "${c[2]}" = 0 ] && [ "${c[3]}" = 0 ] ||
		{ fail "--coalesce 0: ${c[2]} timer reads, ${c[3]} switches"; return 1; }
	[ $((c[1] - c[0])) -ge 5 ] || { fail "the trickle of 5 woke g1 $((c[1] - c[0])) times"; return 1; }
}

# A valid hello from node 0x0102030405060708, as bytes for printf.
HELLO='\001\000\000\000\000\000\000\030MCTN\001\000\000\000\001\002\003\004\005\006\007\010\000\000\000\000\000\000\000\000'

# slow_peer BOUND OPTION...: g1 (with these options) serves a real peer and
# one that says hello and then never reads. The slow one's queue fills to
# BOUND bytes and drops are counted for it alone; the real peer gets every
# datagram.
slow_peer() {
	local bound=$1; shift
	islands 2 || return 1
	gw g1 g1 --insecure -i isl -g "$G" --listen 198.19.12.1:7000 --dead-after 60 "$@" &&
	gw g2 g2 --insecure -i isl -g "$G" --peer 198.19.12.1:7000 && wait_log g1 "up (node" 1 || return 1
	nsx g2 bash -c "exec 3<>/dev/tcp/198.19.12.1/7000; printf '$HELLO' >&3; sleep 50" &
	local slow=$!
	wait_log g1 "up (node 0102030405060708" 1 || return 1
	# 22 MB: more than the slow peer's queue and both socket buffers hold,
	# at a rate even an emulated VM sustains
	rx r2 h2 "$G" --duration 11 || return 1
	tx h1 "$G" --count 16000 --rate 2000pps --size 1400 --ttl 4 || return 1
	rx_wait r2 && expect_rx r2 16000 || return 1
	kill -USR1 "$(gw_pid g1)"
	wait_log g1 "queue drops" 2 || return 1
	kill "$slow" 2>/dev/null; wait "$slow" 2>/dev/null
	local real slowline queued
	real=$(grep "peer 198.19.12.2:[0-9]*: up inbound" "$T/g1.log" | grep -v "out 0 frames" | head -n1)
	slowline=$(grep "up inbound" "$T/g1.log" | grep -v -F "$real" | head -n1)
	grep -q "queue drops 0," <<<"$real" || { fail "real peer had drops: $real"; return 1; }
	grep -q "queue drops [1-9]" <<<"$slowline" || { fail "slow peer had no drops: $slowline"; return 1; }
	# what waits for the slow peer filled its bound, and no more (one
	# frame is 8 + 56 + 1,400 = 1,464 bytes)
	queued=$(sed -n 's/.*queued \([0-9]*\) bytes.*/\1/p' <<<"$slowline")
	[ "${queued:-0}" -le "$bound" ] && [ "${queued:-0}" -gt $((bound - 1464)) ] ||
		{ fail "slow peer queue ${queued:-?}, want just under $bound"; return 1; }
}

# The real peer has the same bound: 4 MiB lets it ride out a stall of 1.4 s
# (an emulated VM on a busy host has them).
test_slow_peer_does_not_slow_others() {
	slow_peer $((4 << 20)) --queue-size 4M
}

# All queues together stay within --queue-total: with two peers, each may
# hold half of it, whatever --queue-size says.
test_queue_total_shared_fairly() {
	slow_peer $((4 << 20)) --queue-size 16M --queue-total 8M
}

# A peer that freezes (SIGSTOP) is found dead by the keepalive timeout; once
# it thaws, its client reconnects and traffic flows again.
test_frozen_peer_detected_and_rejoins() {
	islands 2 && pair tc -g "$G" || return 1
	kill -STOP "$(gw_pid g1)"
	local t0=$SECONDS
	wait_log g2 "down: silent for" 1 || { kill -CONT "$(gw_pid g1)"; return 1; }
	(( SECONDS - t0 <= $(scaled 5) )) || { kill -CONT "$(gw_pid g1)"; fail "took $((SECONDS - t0)) s"; return 1; }
	kill -CONT "$(gw_pid g1)"
	wait_log g1 "up (node" 2 && wait_log g2 "up (node" 2 || return 1
	rx r2 h2 "$G" --duration 2 || return 1
	tx h1 "$G" --count 300 --rate 1000pps --ttl 4 || return 1
	rx_wait r2 && expect_rx r2 300
}

# insecure: --insecure where this mctun has it (plain mode may need it).
insecure() { "$MCTUN" run --help 2>&1 | grep -q -- '--insecure' && echo --insecure; }

# An empty udptunnel frame (length 0) is no datagram: the three are dropped and
# counted, not sent onto the island as an empty one; the frames around it
# arrive.
test_udptunnel_empty_frame_dropped() {
	islands 2 || return 1
	# shellcheck disable=SC2046 # insecure prints an option or nothing
	gw g2 g2 -i isl -g "$G" --listen 198.19.12.2:7000 --framing udptunnel $(insecure) ||
		return 1
	rx r2 h2 "$G" --duration 5 || return 1
	nsx g1 bash -c 'exec 3<>/dev/tcp/198.19.12.2/7000 || exit 1
		printf "\000\000\000\005hello\000\000\000\005world\000\000" >&3; sleep 0.5' ||
		{ fail "raw client failed"; return 1; }
	rx_stop r2 || return 1
	[ "$(jnum "$T/r2.json" received)" = 2 ] ||
		{ fail "island got $(jnum "$T/r2.json" received) datagrams, want 2"; return 1; }
	gw_stop g2 && log_has g2 "framing 3;"
}
