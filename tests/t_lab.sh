# shellcheck shell=bash
# The lab tools against paths that lose, duplicate, reorder, remark and
# route on purpose; `mctun status` and `mctun doctor`. Expected numbers come
# from the counters of the rules that did it, or from arithmetic on rules
# that act on exactly every Nth datagram; never from guesses.
#
# Topology of lan(): namespaces a (198.18.0.1, 2001:db8::1) and
# b (198.18.0.2, 2001:db8::2), eth0 each, on one link.

LG=239.1.2.3:5000
LG6='[ff15::1]:5000'
SKIP_RC=77

lan() {
	local n i=1
	ns_add a && ns_add b && veth a eth0 b eth0 || return 1
	for n in a b; do
		ip -n "$PFX-$n" addr add "198.18.0.$i/24" dev eth0
		ip -n "$PFX-$n" -6 addr add "2001:db8::$i/64" dev eth0 nodad
		ip -n "$PFX-$n" route add 224.0.0.0/4 dev eth0
		ip -n "$PFX-$n" -6 route add ff15::/16 dev eth0 table local
		ip -n "$PFX-$n" -6 route add ff35::/16 dev eth0 table local
		i=$((i + 1))
	done
}

# jis NAME KEY VALUE: receiver NAME's report has KEY = VALUE (the first KEY:
# top-level keys come before the sender's, and these reports have one sender).
jis() {
	local got
	got=$(jnum "$T/$1.json" "$2")
	[ "$got" = "$3" ] && return 0
	fail "$1: $2 = ${got:-?}, want $3"; sed 's/^/      /' "$T/$1.json" >&2
	return 1
}

# has_text FILE TEXT: FILE contains TEXT (fixed string).
has_text() {
	grep -qF -- "$2" "$1" && return 0
	fail "$(basename "$1") lacks '$2':"; sed 's/^/      /' "$1" >&2
	return 1
}

# lacks_text FILE TEXT: FILE does not contain TEXT.
lacks_text() {
	grep -qF -- "$2" "$1" || return 0
	fail "$(basename "$1") has '$2':"; sed 's/^/      /' "$1" >&2
	return 1
}

# nft_count NS FAMILY TABLE COUNTER: packets a named nft counter has seen.
nft_count() {
	ip netns exec "$PFX-$1" nft list counter "$2" "$3" "$4" |
		sed -n 's/.*packets \([0-9]*\).*/\1/p'
}

# nft_load NS RULESET: load it, or skip the test (exit status 77) with the
# reason: nft missing, or the kernel lacks a feature the ruleset uses.
nft_load() {
	local err
	command -v nft >/dev/null ||
		{ echo "nft is not installed (tests/install-deps.sh installs nftables)"; return $SKIP_RC; }
	err=$(ip netns exec "$PFX-$1" nft -f - 2>&1 <<<"$2") && return 0
	echo "$err" | sed 's/^/    /' >&2
	echo "nft cannot load the test's rules on this kernel: $(echo "$err" | head -n1)"
	return $SKIP_RC
}

# ---- send and recv ---------------------------------------------------------

# A clean link: every datagram arrives once, in order, whole, with the TTL
# and DSCP it was sent with; the sender's own count agrees.
test_lab_send_recv_exact() {
	local f
	lan || return 1
	rx r4 b "$LG" --duration 60 && rx r6 b "$LG6" --duration 60 || return 1
	nsx a "$MCTUN" send "$LG" --count 1000 --rate 2000pps --size 300 --ttl 5 --dscp af21 \
		--json >"$T/s4.json" &&
	nsx a "$MCTUN" send "$LG6" --count 1000 --rate 2000pps --size 1200 --ttl 5 --dscp af21 \
		--json >"$T/s6.json" || { fail "send failed"; return 1; }
	rx_stop r4 r6 || return 1
	for f in 4 6; do
		[ "$(jnum "$T/s$f.json" sent)" = 1000 ] && [ "$(jnum "$T/s$f.json" errors)" = 0 ] ||
			{ fail "sender: $(cat "$T/s$f.json")"; return 1; }
		expect_rx "r$f" 1000 && jis "r$f" unique 1000 && jis "r$f" reordered 0 &&
		jis "r$f" first_seq 0 && jis "r$f" last_seq 999 && jis "r$f" ttl 5 &&
		jis "r$f" hops 0 && jis "r$f" dscp 18 && has_text "$T/r$f.json" '"remarked":false' ||
			return 1
	done
	jis r4 bytes 300000 && jis r6 bytes 1200000
}

# Loss, duplicates and reordering made with nft, each on every 10th
# datagram of its own stream, are reported exactly as the rules counted:
#   5001: b drops them on ingress;
#   5002: a sends each twice (dup on its egress);
#   5003: a moves them to the neighbour queue of an address nobody answers
#         for (fwd ip to), held there until the test gives that address
#         b's MAC after the stream ended: each arrives after seq 999.
# A held datagram stays charged to the sender's socket and to the neighbour
# queue, at whatever size the kernel gives its buffer: both are sized far
# beyond what 100 datagrams take (8 MiB: 80 KiB each), not for one skb size.
test_lab_loss_dup_reorder_exact() {
	local n=1000 every=10 mac held dups drops
	lan || return 1
	# numgen counts the datagrams that reach it: seq k gets k mod $every. The
	# mark lets the copies and the released datagrams, which pass this
	# egress hook again, through untouched.
	nft_load a "table netdev lab {
		counter held {}
		counter dups {}
		chain out {
			type filter hook egress device \"eth0\" priority 0; policy accept;
			meta mark 0x4d4c accept
			udp dport 5002 numgen inc mod $every 5 meta mark set 0x4d4c counter name \"dups\" dup to \"eth0\"
			udp dport 5003 numgen inc mod $every 5 meta mark set 0x4d4c counter name \"held\" fwd ip to 198.18.0.99 device \"eth0\"
		}
	}" || return $?
	nft_load b "table netdev lab {
		counter drops {}
		chain in {
			type filter hook ingress device \"eth0\" priority 0; policy accept;
			udp dport 5001 numgen inc mod $every 3 counter name \"drops\" drop
		}
	}" || return $?
	# the held datagrams must outlast the stream in the queue
	ip netns exec "$PFX-a" sysctl -qw net.ipv4.neigh.eth0.retrans_time_ms=30000 \
		net.ipv4.neigh.eth0.unres_qlen_bytes=$((16 << 20)) || return 1

	rx loss b 239.1.2.3:5001 --duration 60 && rx dup b 239.1.2.3:5002 --duration 60 &&
	rx reord b 239.1.2.3:5003 --duration 60 || return 1
	tx a 239.1.2.3:5001 --count $n --rate 4000pps &&
	tx a 239.1.2.3:5002 --count $n --rate 4000pps &&
	tx a 239.1.2.3:5003 --count $n --rate 4000pps --sndbuf 8M || return 1
	mac=$(ip -n "$PFX-b" -br link show eth0 | awk '{print $3}')
	ip -n "$PFX-a" neigh replace 198.18.0.99 lladdr "$mac" dev eth0 nud permanent || return 1
	rx_stop loss dup reord || return 1

	drops=$(nft_count b netdev lab drops)
	dups=$(nft_count a netdev lab dups)
	held=$(nft_count a netdev lab held)
	# every 10th of n, by the rules' arithmetic, and so say their counters
	[ "$drops" = $((n / every)) ] && [ "$dups" = $((n / every)) ] && [ "$held" = $((n / every)) ] ||
		{ fail "counters: dropped $drops, duplicated $dups, held $held; want $((n / every)) each"; return 1; }
	jis loss received $((n - drops)) && jis loss unique $((n - drops)) && jis loss lost "$drops" &&
	jis loss duplicates 0 && jis loss reordered 0 &&
	jis dup received $((n + dups)) && jis dup unique $n && jis dup duplicates "$dups" &&
	jis dup lost 0 && jis dup reordered 0 &&
	jis reord received $n && jis reord unique $n && jis reord reordered "$held" &&
	jis reord lost 0 && jis reord duplicates 0
}

# A sender whose datagrams cannot leave (nft parks each one in the queue of
# a neighbour that never answers; a send buffer of a few datagrams) says so,
# and still ends: with --duration on time, with --count alone by giving up
# after a 10 s stall (exit status 1). Both report the stall and are behind.
test_lab_send_stall_bounded() {
	local t0 rc now took bound
	lan || return 1
	nft_load a 'table netdev lab {
		chain out {
			type filter hook egress device "eth0" priority 0; policy accept;
			meta mark 0x4d4c accept
			udp dport 5000 meta mark set 0x4d4c fwd ip to 198.18.0.99 device "eth0"
		}
	}' || return $?
	ip netns exec "$PFX-a" sysctl -qw net.ipv4.neigh.eth0.retrans_time_ms=30000 \
		net.ipv4.neigh.eth0.unres_qlen_bytes=$((16 << 20)) || return 1
	t0=$(date +%s%N)
	(
		nsx a "$MCTUN" send "$LG" --duration 3 --rate 1000pps --sndbuf 4096 --json \
			>"$T/d.json" 2>"$T/d.err"
		echo $? >"$T/d.rc"
		date +%s%N >"$T/d.end"
	) &
	nsx a "$MCTUN" send "$LG" --count 1000 --rate 1000pps --sndbuf 4096 --json \
		>"$T/c.json" 2>"$T/c.err"
	rc=$?
	now=$(date +%s%N)
	wait
	[ "$rc" = 1 ] || { fail "send --count: exit $rc, want 1"; cat "$T/c.err" >&2; return 1; }
	[ "$(cat "$T/d.rc")" = 0 ] || { fail "send --duration: exit $(cat "$T/d.rc"), want 0"; cat "$T/d.err" >&2; return 1; }
	# bounds: the stall begins at once; 10 s (3 s) and slack for a busy machine
	took=$(((now - t0) / 1000000)) bound=$(awk -v s="$(scaled 15)" 'BEGIN { print int(s * 1000) }')
	((took < bound)) || { fail "send --count took $took ms, bound $bound ms"; return 1; }
	took=$((($(cat "$T/d.end") - t0) / 1000000)) bound=$(awk -v s="$(scaled 6)" 'BEGIN { print int(s * 1000) }')
	((took < bound)) || { fail "send --duration 3 took $took ms, bound $bound ms"; return 1; }
	has_text "$T/c.err" "the kernel has taken no datagram for 1.0 s" &&
	has_text "$T/c.err" "giving up: the kernel took no datagram for 10 s" &&
	has_text "$T/c.json" '"behind":true' && has_text "$T/c.json" '"stalls":1,' &&
	has_text "$T/c.json" '"gave_up":true' || return 1
	has_text "$T/d.err" "the kernel has taken no datagram for 1.0 s" &&
	lacks_text "$T/d.err" "giving up" &&
	has_text "$T/d.json" '"behind":true' && has_text "$T/d.json" '"stalls":1,' &&
	has_text "$T/d.json" '"gave_up":false'
}

# behind: a run short of its --rate says so whether --count or --duration
# ended it (100 Mpps is beyond any socket); one that kept a slow rate does not.
test_lab_send_behind() {
	local a
	lan || return 1
	for a in "--count 20000" "--duration 0.3"; do
		nsx a "$MCTUN" send "$LG" $a --rate 100Mpps --json >"$T/s.json" 2>"$T/s.err" ||
			{ fail "send $a failed:"; cat "$T/s.err" >&2; return 1; }
		has_text "$T/s.json" '"behind":true' && has_text "$T/s.json" '"target_pps":100000000.0' &&
		has_text "$T/s.err" "behind the requested rate" || return 1
	done
	[ "$(jnum "$T/s.json" sent)" -gt 0 ] || { fail "sent nothing: $(cat "$T/s.json")"; return 1; }
	for a in "--duration 0.5" "--count 10"; do
		nsx a "$MCTUN" send "$LG" $a --rate 20pps --json >"$T/s.json" 2>"$T/s.err" ||
			{ fail "send $a failed:"; cat "$T/s.err" >&2; return 1; }
		has_text "$T/s.json" '"behind":false' && lacks_text "$T/s.err" "behind" || return 1
	done
	jis s sent 10
}

# With netem (a module on distribution kernels), reordering by delay: not
# exact, so only its direction and what must not happen are asserted.
test_lab_reorder_netem() {
	local got
	lan || return 1
	ip netns exec "$PFX-a" tc qdisc add dev eth0 root netem delay 10ms reorder 25% 50% \
		2>/dev/null || {
		echo "netem is not in this kernel (CONFIG_NET_SCH_NETEM); lab_loss_dup_reorder_exact covers reordering with nft"
		return $SKIP_RC
	}
	rx r b "$LG" --duration 60 || return 1
	tx a "$LG" --count 1000 --rate 1000pps || return 1
	rx_stop r || return 1
	jis r received 1000 && jis r unique 1000 && jis r lost 0 && jis r duplicates 0 || return 1
	got=$(jnum "$T/r.json" reordered)
	[ "${got:-0}" -gt 0 ] || { fail "netem reordered nothing: $(cat "$T/r.json")"; return 1; }
}

# The receiver's side of one hop: the TTL (hop limit) one less than sent,
# hops 1, IPv4 and IPv6, 200 datagrams each from h1 to a receiver on g2's
# end of w12, whichever way g1 forwards them.
ttl_one_hop_rx() {
	rx r4 g2 "$LG" --iface w12 --duration 60 && rx r6 g2 "$LG6" --iface w12 --duration 60 ||
		return 1
	tx h1 "$LG" --count 200 --rate 1000pps --ttl 8 &&
	tx h1 "$LG6" --count 200 --rate 1000pps --ttl 8 || return 1
	rx_stop r4 r6 || return 1
	expect_rx r4 200 && expect_rx r6 200 || return 1
	jis r4 ttl_sent 8 && jis r4 ttl 7 && jis r4 hops 1 &&
	jis r6 ttl_sent 8 && jis r6 ttl 7 && jis r6 hops 1
}

# g1 forwards the group from its island to w12 as a router's forwarding
# path would, on any kernel: nft's `fwd ip to` (nft_fwd_netdev) sends each
# datagram out of w12 to the group's link-layer address and takes one off
# its TTL (hop limit), as ip_forward does. The multicast routing variant is
# lab_ttl_routed_hop.
test_lab_ttl_forwarded_hop() {
	local got4 got6
	islands 2 || return 1
	ip -n "$PFX-g2" route add 198.18.1.0/24 via 198.19.12.1
	nft_load g1 'table netdev lab {
		counter fwd4 {}
		counter fwd6 {}
		chain in {
			type filter hook ingress device "isl" priority 0; policy accept;
			ip daddr 239.1.2.3 udp dport 5000 counter name "fwd4" fwd ip to 239.1.2.3 device "w12"
			ip6 daddr ff15::1 udp dport 5000 counter name "fwd6" fwd ip6 to ff15::1 device "w12"
		}
	}' || return $?
	ttl_one_hop_rx || return 1
	got4=$(nft_count g1 netdev lab fwd4) got6=$(nft_count g1 netdev lab fwd6)
	[ "$got4" = 200 ] && [ "$got6" = 200 ] ||
		{ fail "g1 forwarded $got4 IPv4 and $got6 IPv6 datagrams, want 200 each"; return 1; }
}

# A router namespace (g1) forwards a static (S,G) route with smcroute from
# its island to g2's link: one hop, the TTL one less, IPv4 and IPv6. Needs
# the kernel's multicast routing; lab_ttl_forwarded_hop needs none.
test_lab_ttl_routed_hop() {
	local pid i
	[ -e /proc/net/ip_mr_vif ] && [ -e /proc/net/ip6_mr_vif ] || {
		echo "the kernel has no multicast routing (CONFIG_IP_MROUTE, CONFIG_IPV6_MROUTE: no /proc/net/ip_mr_vif or ip6_mr_vif); lab_ttl_forwarded_hop covers one hop without it"
		return $SKIP_RC
	}
	command -v smcrouted >/dev/null ||
		{ echo "smcroute is not installed (tests/install-deps.sh installs it)"; return $SKIP_RC; }
	islands 2 || return 1
	# the way back to the sender, for a receiver with rp_filter on
	ip -n "$PFX-g2" route add 198.18.1.0/24 via 198.19.12.1
	# smcrouted re-reads an interface whose addresses change, which can drop
	# its routes for a moment: let IPv6 duplicate address detection end first
	for ((i = 0; i < 4 * WAIT_STEPS; i++)); do
		[ -z "$(ip -n "$PFX-g1" -6 addr show tentative; ip -n "$PFX-g2" -6 addr show tentative)" ] &&
			break
		sleep 0.05
	done
	cat >"$T/smcroute.conf" <<-EOF
	phyint isl enable
	phyint w12 enable
	mroute from isl source 198.18.1.2 group 239.1.2.3 to w12
	mroute from isl source 2001:db8:1::2 group ff15::1 to w12
	EOF
	nsenter --net="/run/netns/$PFX-g1" -- smcrouted -n -N -f "$T/smcroute.conf" \
		-u "$T/smcroute.sock" -P "$T/smcroute.run" -l debug >"$T/smcroute.log" 2>&1 &
	pid=$!
	echo "$pid" >"$T/smcroute.pid"
	for ((i = 0; i < WAIT_STEPS; i++)); do
		ip -n "$PFX-g1" mroute show | grep -q '(198.18.1.2,' &&
		ip -n "$PFX-g1" -6 mroute show | grep -q '(2001:db8:1::2,' && break
		sleep 0.05
	done
	((i < WAIT_STEPS)) || { fail "smcrouted installed no routes:"; sed 's/^/      /' "$T/smcroute.log" >&2; return 1; }

	ttl_one_hop_rx || return 1

	kill -TERM "$pid" && wait "$pid"
	rm -f "$T/smcroute.pid"
}

# DSCP rewritten on the path is flagged, with both values. IPv4: tc pedit
# on a's egress when the kernel has act_pedit and act_csum, else nft on b's
# ingress; IPv6: nft on b's ingress.
test_lab_dscp_remarked() {
	local got4 got6 how=nft
	lan || return 1
	if ip netns exec "$PFX-a" tc qdisc add dev eth0 clsact 2>/dev/null; then
		ip netns exec "$PFX-a" tc filter add dev eth0 egress protocol ip prio 1 u32 \
			match ip dst 239.1.2.3/32 \
			action pedit ex munge ip dsfield set 0x20 retain 0xfc pipe \
			action csum ip 2>/dev/null && how=tc
		[ $how = tc ] || ip netns exec "$PFX-a" tc qdisc del dev eth0 clsact
	fi
	nft_load b 'table netdev lab {
		counter remark4 {}
		counter remark6 {}
		chain in {
			type filter hook ingress device "eth0" priority 0; policy accept;
			ip6 daddr ff15::1 udp dport 5000 counter name "remark6" ip6 dscp set cs1
		}
	}' || return $?
	if [ $how = nft ]; then
		ip netns exec "$PFX-b" nft add rule netdev lab in ip daddr 239.1.2.3 udp dport 5000 \
			counter name remark4 ip dscp set cs1 || return 1
	fi
	rx r4 b "$LG" --duration 60 && rx r6 b "$LG6" --duration 60 || return 1
	tx a "$LG" --count 200 --rate 1000pps --dscp ef &&
	tx a "$LG6" --count 150 --rate 1000pps --dscp af41 || return 1
	rx_stop r4 r6 || return 1
	if [ $how = tc ]; then
		# the filter's first action (pedit) counts what it rewrote
		got4=$(ip netns exec "$PFX-a" tc -s filter show dev eth0 egress |
		       sed -n 's/.*Sent [0-9]* bytes \([0-9]*\) pkt.*/\1/p' | head -n1)
	else
		got4=$(nft_count b netdev lab remark4)
	fi
	got6=$(nft_count b netdev lab remark6)
	[ "$got4" = 200 ] && [ "$got6" = 150 ] ||
		{ fail "remarked: $got4 IPv4 by $how (want 200), $got6 IPv6 by nft (want 150)"; return 1; }
	expect_rx r4 "$got4" && expect_rx r6 "$got6" || return 1
	jis r4 dscp_sent 46 && jis r4 dscp 8 && has_text "$T/r4.json" '"remarked":true' &&
	jis r6 dscp_sent 34 && jis r6 dscp 8 && has_text "$T/r6.json" '"remarked":true'
}

# Two senders to one SSM group from two addresses: the (S,G) receiver gets
# only S's datagrams, while an any-source receiver on the same host shows
# that both reached it.
test_lab_ssm_only_chosen_source() {
	local S=232.1.1.1:5000 S6='[ff35::1]:5000' p
	lan || return 1
	ip -n "$PFX-a" addr add 198.18.0.3/24 dev eth0
	ip -n "$PFX-a" -6 addr add 2001:db8::3/64 dev eth0 nodad
	rx one b "$S" --source 198.18.0.1 --duration 60 && rx all b "$S" --duration 60 &&
	rx one6 b "$S6" --source 2001:db8::1 --duration 60 || return 1
	tx a "$S" --bind 198.18.0.3 --count 200 --rate 1000pps &
	p=$!
	tx a "$S" --bind 198.18.0.1 --count 300 --rate 1000pps || return 1
	wait $p || return 1
	tx a "$S6" --bind 2001:db8::3 --count 200 --rate 1000pps &&
	tx a "$S6" --bind 2001:db8::1 --count 300 --rate 1000pps || return 1
	rx_stop one all one6 || return 1
	expect_rx one 300 && has_text "$T/one.json" '"from":"198.18.0.1:' &&
	expect_rx all 500 2 && has_text "$T/all.json" '"from":"198.18.0.3:' &&
	expect_rx one6 300 && has_text "$T/one6.json" '"from":"[2001:db8::1]:'
}

# ---- status ----------------------------------------------------------------------

# status shows the groups a receiver joined, from the kernel's tables, with
# the source of an (S,G) join and the IGMP version; they go when it leaves.
test_lab_status_shows_membership() {
	local out=$T/status.txt js=$T/status.json
	lan || return 1
	rx r4 b "$LG" --duration 60 && rx s4 b 232.1.1.1:5000 --source 198.18.0.1 --duration 60 &&
	rx r6 b "$LG6" --duration 60 || return 1

	nsx b "$MCTUN" status -i eth0 >"$out" || { fail "status failed"; return 1; }
	grep -qE '^ +239\.1\.2\.3  \(users 1\)$' "$out" &&
	grep -qE '^ +232\.1\.1\.1 from 198\.18\.0\.1  \(users 1\)$' "$out" &&
	grep -qE '^ +ff15::1  \(users 1\)$' "$out" &&
	grep -qE '^  eth0 \(index [0-9]+\): IGMPv3, MLDv2$' "$out" ||
		{ fail "status -i eth0:"; sed 's/^/      /' "$out" >&2; return 1; }
	# the default groups only with --all; no other interface with -i
	lacks_text "$out" 224.0.0.1 && lacks_text "$out" "ff02::1 " && lacks_text "$out" "  lo " || return 1
	nsx b "$MCTUN" status -i eth0 --all >"$out" || return 1
	has_text "$out" "224.0.0.1  (users 1)" && has_text "$out" "ff02::1  (users 1)" || return 1

	nsx b "$MCTUN" status -i eth0 --json >"$js" || return 1
	has_text "$js" '{"interfaces":[{"name":"eth0",' && has_text "$js" '"igmp_version":3,' &&
	has_text "$js" '{"group":"239.1.2.3","users":1,"sources":[]}' &&
	has_text "$js" '{"group":"232.1.1.1","users":1,"sources":[{"source":"198.18.0.1","mode":"include"}]}' &&
	has_text "$js" '{"group":"ff15::1","users":1,"sources":[]}' &&
	has_text "$js" '"instances":[]' || return 1

	# the version in force follows the sysctl
	ip netns exec "$PFX-b" sysctl -qw net.ipv4.conf.eth0.force_igmp_version=2
	nsx b "$MCTUN" status -i eth0 >"$out" || return 1
	has_text "$out" "IGMPv2 (forced), MLDv2" || return 1

	rx_stop r4 s4 r6 || return 1
	nsx b "$MCTUN" status -i eth0 --json >"$js" || return 1
	lacks_text "$js" 239.1.2.3 && lacks_text "$js" 232.1.1.1 && lacks_text "$js" ff15::1 || return 1
	# an interface that is not there is a usage error
	nsx b "$MCTUN" status -i nosuch0 >/dev/null 2>&1
	[ $? = 2 ] || { fail "status -i nosuch0 did not exit 2"; return 1; }
}

# Interface names may hold any byte but '/', ':' and blanks: status's JSON
# stays valid for one with a quote, a backslash and a byte that is not
# UTF-8 (written as \ufffd), in the interface table and for the socket-mode
# instance on it, which states its interface itself.
test_lab_status_json_any_interface_name() {
	local js=$T/st.json name=$'q"\\\xffx' want='"q\"\\\ufffdx"'
	ns_add a && ns_add b || return 1
	ip link add "$name" netns "$PFX-a" type veth peer name eth0 netns "$PFX-b" || return 1
	ip -n "$PFX-a" link set "$name" up && ip -n "$PFX-b" link set eth0 up || return 1
	ip -n "$PFX-a" addr add 198.18.0.1/24 dev "$name" || return 1
	gw ga a --insecure -i "$name" -g "$LG" --mode socket --listen 127.0.0.1:7000 || return 1
	nsx a "$MCTUN" status -i "$name" --json >"$js" || { fail "status failed"; return 1; }
	has_text "$js" "{\"interfaces\":[{\"name\":$want," &&
	has_text "$js" "\"mode\":\"socket\",\"interface\":$want," || return 1
	# nothing of the name went out raw: no byte of the file is above 0x7f
	LC_ALL=C grep -q $'[\x80-\xff]' "$js" && { fail "raw bytes in $(cat -v "$js")"; return 1; }
	gw_stop ga
}

# status lists the instances of its own namespace from their pins (peer up,
# counters), a socket-mode one from /proc, every namespace's with --all, and
# a killed one as stale until the next start clears it.
test_lab_status_lists_instances() {
	local st=$T/st.json pins dir
	islands 2 || return 1
	gw g2 g2 --insecure -i isl -g "$LG" --mode socket --listen 198.19.12.2:7000 &&
	gw g1 g1 --insecure -i isl -g "$LG" --peer 198.19.12.2:7000 &&
	wait_log g1 "up (node" && wait_log g2 "up (node" || return 1
	rx r2 h2 "$LG" --duration 60 || return 1
	tx h1 "$LG" --count 500 --rate 1000pps --ttl 4 || return 1
	rx_stop r2 && expect_rx r2 500 || return 1
	sleep 0.5     # the daemon refreshes its published counters every 200 ms

	pins=$(ns_pin_dir g1)
	dir="$pins/isl"
	nsx g1 "$MCTUN" status --json >"$st" || { fail "status failed"; return 1; }
	has_text "$st" "\"pin_dir\":\"$dir\",\"netns\":${pins##*netns},\"interface\":\"isl\",\"pid\":$(gw_pid g1),\"alive\":true,\"stale\":false," &&
	has_text "$st" '"mode":"tc",' &&
	has_text "$st" '"groups":[{"group":"239.1.2.3:5000","packets":500,' &&
	has_text "$st" '"peers":[{"address":"198.19.12.2:7000","direction":"outbound","state":"up","node_id":"' &&
	has_text "$st" '"frames_out":500,' && has_text "$st" '"peers_up":1,' && has_text "$st" '"matched":500,' ||
		return 1
	nsx g1 "$MCTUN" status >"$T/st.txt" || return 1
	has_text "$T/st.txt" "Instance $dir" && has_text "$T/st.txt" "group 239.1.2.3:5000: packets 500," &&
	has_text "$T/st.txt" "peer 198.19.12.2:7000 outbound up, node " || return 1

	# socket mode publishes nothing: found in /proc
	nsx g2 "$MCTUN" status --json >"$st" || return 1
	has_text "$st" "\"pin_dir\":null,\"pid\":$(gw_pid g2),\"alive\":true,\"stale\":false,\"mode\":\"socket\",\"interface\":\"isl\"" &&
	has_text "$st" '"note":"socket mode: no counters published"' || return 1
	# each namespace sees its own; --all sees both
	nsx h1 "$MCTUN" status --json >"$st" && has_text "$st" '"instances":[]' || return 1
	"$MCTUN" status --all --json >"$st" || return 1
	has_text "$st" "\"pin_dir\":\"$dir\"" && has_text "$st" "\"pid\":$(gw_pid g2)," || return 1

	# killed: its pins stay, shown as stale; the next start clears them
	kill -KILL "$(gw_pid g1)"; wait "$(gw_pid g1)" 2>/dev/null; rm -f "$T/g1.pid"
	nsx g1 "$MCTUN" status --json >"$st" && has_text "$st" '"alive":false,"stale":true' || return 1
	nsx g1 "$MCTUN" status >"$T/st.txt" &&
	has_text "$T/st.txt" "stale: left by a killed instance; the next start on this interface clears it" ||
		return 1
	# a new name: gw would find "running on" in the old instance's log
	gw g1b g1 --insecure -i isl -g "$LG" --peer 198.19.12.2:7000 || return 1
	grep -q "cleared filters.* and pins left by a previous instance" "$T/g1b.log" ||
		{ fail "the restart did not clear the stale pins:"; sed 's/^/      /' "$T/g1b.log" >&2; return 1; }
	nsx g1 "$MCTUN" status --json >"$st" && has_text "$st" "\"pid\":$(gw_pid g1b),\"alive\":true" ||
		return 1
	gw_stop g1b && gw_stop g2 && gw_clean g1
}

# ---- doctor ----------------------------------------------------------------------

# doctor passes a healthy namespace, flags a strict reverse-path filter (the
# effective value is max(all, IF)) and is right about it: the source it
# names is dropped until its fix is applied. A rule dropping IGMP is flagged.
test_lab_doctor_rp_filter() {
	local S=232.1.1.1:5000 d=$T/doctor.txt rc
	lan || return 1
	nsx b "$MCTUN" doctor -i eth0 "$LG" >"$d" || { fail "doctor failed a healthy namespace:"; sed 's/^/      /' "$d" >&2; return 1; }
	lacks_text "$d" "FAIL" && has_text "$d" "0 failed," || return 1
	nsx b "$MCTUN" doctor -i eth0 "$S@198.18.0.1" --json >"$d" || return 1
	has_text "$d" '"fail":0,' || return 1

	# a second link in b, which the route back to 198.18.9.5 uses
	ip -n "$PFX-b" link add x0 type veth peer name x1 &&
	ip -n "$PFX-b" link set x0 up && ip -n "$PFX-b" link set x1 up &&
	ip -n "$PFX-b" addr add 198.18.9.1/24 dev x0 &&
	ip -n "$PFX-a" addr add 198.18.9.5/32 dev eth0 || return 1
	ip netns exec "$PFX-b" sysctl -qw net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.eth0.rp_filter=1

	nsx b "$MCTUN" doctor -i eth0 "$LG" >"$d"; rc=$?
	[ $rc = 0 ] && grep -qE '^WARN  rp_filter +strict on eth0 \(effective 1 = max\(all 0, eth0 1\)\)' "$d" &&
	has_text "$d" "fix: sysctl -w net.ipv4.conf.all.rp_filter=2 net.ipv4.conf.eth0.rp_filter=2" ||
		{ fail "no strict rp_filter warning (exit $rc):"; sed 's/^/      /' "$d" >&2; return 1; }
	nsx b "$MCTUN" doctor -i eth0 "$S@198.18.9.5" --json >"$d"; rc=$?
	[ $rc = 1 ] && has_text "$d" '{"name":"rp_filter","result":"FAIL","detail":"strict on eth0' &&
	has_text "$d" 'goes out of x0' || { fail "no rp_filter failure (exit $rc)"; return 1; }
	# and it is so: the source's datagrams never reach the socket
	rx r0 b "$S" --source 198.18.9.5 --iface eth0 --duration 60 || return 1
	tx a "$S" --bind 198.18.9.5 --count 100 --rate 1000pps || return 1
	rx_stop r0 && expect_rx r0 0 0 || return 1

	# strict through conf/all alone
	ip netns exec "$PFX-b" sysctl -qw net.ipv4.conf.all.rp_filter=1 net.ipv4.conf.eth0.rp_filter=0
	nsx b "$MCTUN" doctor -i eth0 "$S@198.18.9.5" >"$d"; rc=$?
	[ $rc = 1 ] && grep -qE '^FAIL  rp_filter +strict on eth0 \(effective 1 = max\(all 1, eth0 0\)\)' "$d" ||
		{ fail "all=1 not seen as strict (exit $rc):"; sed 's/^/      /' "$d" >&2; return 1; }

	# the fix it gave: loose
	ip netns exec "$PFX-b" sysctl -qw net.ipv4.conf.all.rp_filter=2 net.ipv4.conf.eth0.rp_filter=2
	nsx b "$MCTUN" doctor -i eth0 "$S@198.18.9.5" >"$d" ||
		{ fail "still failing after the fix:"; sed 's/^/      /' "$d" >&2; return 1; }
	grep -qE '^PASS  rp_filter +loose on eth0' "$d" || { fail "rp_filter not passed:"; cat "$d" >&2; return 1; }
	rx r1 b "$S" --source 198.18.9.5 --iface eth0 --duration 60 || return 1
	tx a "$S" --bind 198.18.9.5 --count 100 --rate 1000pps || return 1
	rx_stop r1 && expect_rx r1 100 || return 1

	# a firewall rule that drops IGMP
	command -v nft >/dev/null || return 0
	ip netns exec "$PFX-b" nft add table inet fw &&
	ip netns exec "$PFX-b" nft add chain inet fw out '{ type filter hook output priority 0; }' &&
	ip netns exec "$PFX-b" nft add rule inet fw out ip protocol igmp drop || return 1
	nsx b "$MCTUN" doctor -i eth0 "$LG" >"$d"
	grep -qE '^WARN  firewall .*ip protocol igmp drop' "$d" ||
		{ fail "firewall rule not flagged:"; sed 's/^/      /' "$d" >&2; return 1; }
}
