# shellcheck shell=bash
# Local targets (--to): the TC program copies the configured groups'
# datagrams, in the kernel, to interfaces of the gateway's host (a Linux
# bridge with "containers" behind it, a veth into another namespace), with
# no routing hop: TTL 1 arrives, the source stays.
#
# Topology (local_host): h1 on the island (isl, 198.18.1.0/24) of g1; on g1
# a bridge br0 (snooping off) with c1 and c2 behind it (198.18.100.0/24),
# and c3 behind a veth of its own, vc3 (198.18.101.0/24).
#
# Uses has_text, nft_load and nft_count (t_lab.sh), scrape, prom_check and expect_sample
# (t_metrics.sh), pkg_make and pkg_clog (t_package.sh); dockerd_start is in
# lib.sh.

# local_host: the topology above; islands 2 gives the rest (h1, g1, ...).
local_host() {
	local c
	ip -n "$PFX-g1" link add br0 type bridge mcast_snooping 0 2>/dev/null ||
		{ echo "the kernel has no bridge (CONFIG_BRIDGE)"; return "$SKIP"; }
	ip -n "$PFX-g1" addr add 198.18.100.1/24 dev br0
	ip -n "$PFX-g1" -6 addr add 2001:db8:100::1/64 dev br0 nodad
	ip -n "$PFX-g1" link set br0 up
	for c in 1 2; do
		ns_add "c$c" && veth g1 "vc$c" "c$c" eth0 || return 1
		ip -n "$PFX-g1" link set "vc$c" master br0
		ip -n "$PFX-c$c" addr add "198.18.100.$((c + 1))/24" dev eth0
		ip -n "$PFX-c$c" -6 addr add "2001:db8:100::$((c + 1))/64" dev eth0 nodad
	done
	ns_add c3 && veth g1 vc3 c3 eth0 || return 1
	ip -n "$PFX-g1" addr add 198.18.101.1/24 dev vc3
	ip -n "$PFX-c3" addr add 198.18.101.2/24 dev eth0
	for c in 1 2 3; do
		ip -n "$PFX-c$c" route add 224.0.0.0/4 dev eth0
		ip -n "$PFX-c$c" -6 route add ff15::/16 dev eth0 table local 2>/dev/null ||
			ip -n "$PFX-c$c" -6 route add ff15::/16 dev eth0
	done
}

# ifindex NS IFACE: the interface's index in namespace NS.
ifindex() { ip -n "$PFX-$1" -o link show "$2" | cut -d: -f1; }

# tg_status ROW...: `mctun status` in g1 lists these target rows, in order.
tg_status() {
	local row want=""
	nsx g1 "$MCTUN" status >"$T/status.txt" || { fail "status in g1"; return 1; }
	for row in "$@"; do want+="  target $row"$'\n'; done
	[ "$(grep '^  target ' "$T/status.txt")"$'\n' = "$want" ] && return 0
	fail "status: target rows are not:"; printf '%s' "$want" | sed 's/^/      /' >&2
	sed 's/^/      /' "$T/status.txt" >&2
	return 1
}

# tg_json OBJECTS: `mctun stats --json` in g1 has exactly these targets.
tg_json() {
	nsx g1 "$MCTUN" stats --json >"$T/stats.json" || { fail "stats --json in g1"; return 1; }
	has_text "$T/stats.json" "\"targets\":[$1],"
}

# tg_ttl NAME WANT: receiver NAME saw TTL WANT.
tg_ttl() {
	local got; got=$(jnum "$T/$1.json" ttl)
	[ "$got" = "$2" ] || { fail "$1: TTL $got, want $2"; return 1; }
}

# tg_from NAME WANT: every sender of receiver NAME came from WANT.
tg_from() {
	local got
	got=$(grep -o '"from":"[^"]*"' "$T/$1.json" | sort -u | tr '\n' ' ')
	[ "$got" = "\"from\":\"$2\" " ] || { fail "$1: senders ${got:-none}, want $2"; return 1; }
}

# tg_joined TARGET LIST [NS]: `mctun status` in NS (g1) says that receivers
# behind TARGET joined LIST ("239.1.1.1, ff15::1", or "none").
tg_joined() {
	nsx "${3:-g1}" "$MCTUN" status 2>/dev/null | awk -v t="  target $1 " -v w="    joined behind it: $2;" '
		f { ok = index($0, w) == 1; exit } index($0, t) == 1 { f = 1 } END { exit !ok }'
}

# tg_wait_joined TARGET LIST [NS]: within 5 s (bounded), tg_joined holds.
tg_wait_joined() {
	within 5 tg_joined "$@" && return 0
	fail "status: receivers behind $1 did not come to have joined $2:"
	nsx "${3:-g1}" "$MCTUN" status | sed 's/^/      /' >&2
	return 1
}

# tg_island NS GROUP...: g1's island interface has joined exactly these groups
# of the test's ranges (239/8, ff15::/16), by /proc/net/igmp and igmp6.
tg_island() {
	local want got="" dev="" a l g h k
	want=$(printf '%s\n' "$@" | sort | tr '\n' ' ')
	# igmp: a device line (its index), then its groups (8 hex digits, host
	# order: little-endian here)
	while read -r a l; do
		if [ ${#a} != 8 ]; then
			dev=${l%% *}
		elif [ "$dev" = isl ]; then
			got+="$((16#${a:6:2})).$((16#${a:4:2})).$((16#${a:2:2})).$((16#${a:0:2}))"$'\n'
		fi
	done < <(nsx g1 cat /proc/net/igmp | tail -n +2)
	# igmp6: index, device, the group's 32 hex digits (ff15::N here)
	while read -r _ dev a _; do
		[ "$dev" = isl ] && [ "${a:0:4}" = ff15 ] || continue
		g=""
		for ((k = 0; k < 32; k += 4)); do printf -v h '%x' "0x${a:k:4}"; g+="$h:"; done
		got+=$(sed 's/:$//; s/\(^\|:\)0\(:0\)\+\(:\|$\)/::/' <<<"$g")$'\n'
	done < <(nsx g1 cat /proc/net/igmp6)
	got=$(printf '%s' "$got" | grep '^239\.\|^ff15' | sort | tr '\n' ' ')
	[ "$got" = "$want" ]
}

tg_wait_island() {
	within 5 tg_island "$@" && return 0
	fail "g1's island joins are not: $*"
	nsx g1 sh -c 'cat /proc/net/igmp /proc/net/igmp6' | sed 's/^/      /' >&2
	return 1
}

# Only what receivers behind a target joined goes to it, learned from the
# IGMP/MLD reports coming out of it: c1 (behind the bridge br0) joins
# 239.1.1.1 and ff15::1, c3 (behind the veth vc3) 239.1.1.2 and ff15::2,
# c3's IPv4 one before mctun starts (found by the startup query). Each gets
# exactly its groups, neither target the other's (its counters), and the
# island joins exactly those groups; a receiver leaves: its copies stop and
# the island's join goes.
test_targets_learn_joins() {
	local js
	islands 1 && local_host || return $?
	ip -n "$PFX-c3" -6 addr add 2001:db8:101::2/64 dev eth0 nodad
	# c3 repeats its unsolicited report within 1 ms (not 1 s), long before
	# mctun runs: only a query of mctun's finds its join then
	nsx c3 sysctl -qw net.ipv4.conf.eth0.igmpv3_unsolicited_report_interval=1 ||
		{ fail "c3: igmpv3_unsolicited_report_interval"; return 1; }
	rx p c3 239.1.1.2:5000 --duration 60 || return 1
	gw g1 g1 -i isl --to br0 --to vc3 -g 239.1.1.1:5000 -g 239.1.1.2:5000 \
		-g '[ff15::1]:5000' -g '[ff15::2]:5000' || return 1
	tg_wait_joined vc3 "239.1.1.2" && tg_wait_joined br0 "none" || return 1
	rx a c1 239.1.1.1:5000 --duration 60 && rx a6 c1 '[ff15::1]:5000' --duration 60 &&
		rx p6 c3 '[ff15::2]:5000' --duration 60 || return 1
	tg_wait_joined br0 "239.1.1.1, ff15::1" && tg_wait_joined vc3 "239.1.1.2, ff15::2" &&
		tg_wait_island 239.1.1.1 239.1.1.2 ff15::1 ff15::2 || return 1
	log_has g1 "--to br0: 239.1.1.1 joined behind it: copying it there" &&
		log_has g1 "--to vc3: ff15::2 joined behind it: copying it there" || return 1
	tx h1 239.1.1.1:5000 --count 100 --rate 2000pps --size 200 --ttl 1 &&
	tx h1 239.1.1.2:5000 --count 60 --rate 2000pps --size 200 --ttl 1 &&
	tx h1 '[ff15::1]:5000' --count 40 --rate 2000pps --size 200 --ttl 1 &&
	tx h1 '[ff15::2]:5000' --count 30 --rate 2000pps --size 200 --ttl 1 || return 1
	rx_stop a6 p6 && expect_rx a6 40 && expect_rx p6 30 || return 1
	# the IPv6 receivers left (MLDv2 reports of their leave): gone at once
	# from the copies and from the island
	tg_wait_joined br0 "239.1.1.1" && tg_wait_joined vc3 "239.1.1.2" &&
		tg_wait_island 239.1.1.1 239.1.1.2 || return 1
	log_has g1 "--to br0: ff15::1 left behind it" || return 1
	# br0: 100 + 40 copied, 60 + 30 not; vc3: 60 + 30 copied, 100 + 40 not
	tg_status "br0 (ttl as sent): packets 140, bytes $((100 * 228 + 40 * 248)), errors 0" \
		"vc3 (ttl as sent): packets 90, bytes $((60 * 228 + 30 * 248)), errors 0" || return 1
	js="{\"ifname\":\"br0\",\"ifindex\":$(ifindex g1 br0),\"ttl\":0,\"groups\":\"learned\",\"joined\":[\"239.1.1.1\"],\"packets\":140,\"bytes\":$((100 * 228 + 40 * 248)),\"errors\":0,\"unjoined\":90}"
	js+=",{\"ifname\":\"vc3\",\"ifindex\":$(ifindex g1 vc3),\"ttl\":0,\"groups\":\"learned\",\"joined\":[\"239.1.1.2\"],\"packets\":90,\"bytes\":$((60 * 228 + 30 * 248)),\"errors\":0,\"unjoined\":140}"
	tg_json "$js" || return 1
	# c1 leaves 239.1.1.1: no more copies to br0, nor the island's join
	rx_stop a && expect_rx a 100 || return 1
	tg_wait_joined br0 "none" && tg_wait_island 239.1.1.2 || return 1
	tx h1 239.1.1.1:5000 --count 50 --rate 2000pps --size 200 --ttl 1 &&
	tx h1 239.1.1.2:5000 --count 20 --rate 2000pps --size 200 --ttl 1 &&
	tx h1 '[ff15::1]:5000' --count 10 --rate 2000pps --size 200 --ttl 1 || return 1
	rx_stop p && expect_rx p 80 2 || return 1
	tg_status "br0 (ttl as sent): packets 140, bytes $((100 * 228 + 40 * 248)), errors 0" \
		"vc3 (ttl as sent): packets 110, bytes $((80 * 228 + 30 * 248)), errors 0" || return 1
	gw_stop g1 && log_has g1 "copies 250 copy_errors 0"
}

# 'groups all' keeps the copies of every configured group for receivers
# that never report (and the island joins every group); the other target,
# learned, whose receivers joined nothing, gets none. Learning needs
# CAP_NET_RAW.
test_targets_groups_all() {
	local out
	islands 1 && local_host || return $?
	# learning needs CAP_NET_RAW: named at start; 'groups all' learns nothing
	out=$(nsx g1 setpriv --inh-caps=-net_raw --bounding-set=-net_raw timeout 5 "$MCTUN" run \
		-i isl -g 239.1.1.1:5000 --to 'br0 groups all' --to vc3 2>&1)
	[ "$out" = "mctun: --to vc3: learning what its receivers join: Operation not permitted: this process lacks CAP_NET_RAW (IGMP/MLD on a packet socket; a target of 'groups all' learns nothing)" ] ||
		{ fail "without CAP_NET_RAW: '$out'"; return 1; }
	gw g1 g1 -i isl --to 'br0 groups all' --to vc3 -g 239.1.1.1:5000 -g '[ff15::1]:5000' ||
		return 1
	tg_wait_island 239.1.1.1 ff15::1 || return 1
	rx a c1 239.1.1.1:5000 --duration 60 && rx a6 c1 '[ff15::1]:5000' --duration 60 || return 1
	tx h1 239.1.1.1:5000 --count 100 --rate 2000pps --size 200 --ttl 1 &&
	tx h1 '[ff15::1]:5000' --count 50 --rate 2000pps --size 200 --ttl 1 || return 1
	rx_stop a a6 && expect_rx a 100 && expect_rx a6 50 || return 1
	tg_status "br0 (ttl as sent, groups all): packets 150, bytes $((100 * 228 + 50 * 248)), errors 0" \
		"vc3 (ttl as sent): packets 0, bytes 0, errors 0" && tg_joined vc3 none || return 1
	nsx g1 "$MCTUN" status | grep -q "joined behind it: 239.1.1.1" &&
		{ fail "br0 (groups all) has a joined line"; return 1; }
	tg_refused 5 "-i isl --to 'br0 groups some'|--to: 'br0 groups some': groups 'some': 'all' or 'learned'"
}

# Datagrams sent on the island with TTL 1 reach the containers behind the
# bridge and the veth exactly once, with TTL 1 (vc3: set to 9) and h1 as
# their source, whole and in fragments, IPv4 and IPv6 (c3 joins only the
# IPv4 group, so vc3 gets only that); a group that is not configured
# reaches nobody. No tunnel: --to alone needs no peer and no key. mctun
# status, mctun stats (table, JSON, Prometheus) and --metrics count each
# target's copies exactly.
test_targets_bridge_and_veth() {
	local n p b p3 b3 js L='{iface="isl",target=' code
	islands 1 && local_host || return $?
	gw g1 g1 -i isl --to br0 --to 'vc3 ttl 9' -g 239.1.1.1:5000 -g '[ff15::1]:5000' \
		--metrics 127.0.0.1:9100 || return 1
	log_has g1 "no tunnel (local targets only); copies to br0, vc3" || return 1
	nsx g1 "$MCTUN" status | grep -q "authentication: no tunnel (local targets only)" ||
		{ fail "status does not say there is no tunnel:"; nsx g1 "$MCTUN" status >&2; return 1; }
	tg_status "br0 (ttl as sent): packets 0, bytes 0, errors 0" \
		"vc3 (ttl 9): packets 0, bytes 0, errors 0" || return 1
	rx a c1 239.1.1.1:5000 --duration 60 && rx b c2 239.1.1.1:5000 --duration 60 &&
	rx c c3 239.1.1.1:5000 --duration 60 && rx a6 c1 '[ff15::1]:5000' --duration 60 &&
	rx x c1 239.1.1.2:5000 --duration 60 || return 1
	# learned from their reports (239.1.1.2 is not configured: not learned)
	tg_wait_joined br0 "239.1.1.1, ff15::1" && tg_wait_joined vc3 "239.1.1.1" || return 1
	tx h1 239.1.1.1:5000 --count 200 --rate 2000pps --size 200 --source-port 4321 --ttl 1 &&
	tx h1 239.1.1.1:5000 --count 20 --rate 500pps --size 4000 --source-port 4321 --ttl 1 &&
	tx h1 '[ff15::1]:5000' --count 100 --rate 2000pps --size 200 --source-port 4322 --ttl 1 &&
	tx h1 239.1.1.2:5000 --count 50 --rate 2000pps --size 200 --ttl 1 || return 1
	rx_stop a b c a6 x || return 1
	expect_rx a 220 2 && expect_rx b 220 2 && expect_rx c 220 2 && expect_rx a6 100 &&
		expect_rx x 0 0 || return 1
	# they left: nobody behind either target wants anything now
	tg_wait_joined br0 none && tg_wait_joined vc3 none || return 1
	tg_ttl a 1 && tg_ttl b 1 && tg_ttl c 9 && tg_ttl a6 1 || return 1
	tg_from a 198.18.1.2:4321 && tg_from c 198.18.1.2:4321 && tg_from a6 '[2001:db8:1::2]:4322' ||
		return 1
	# per target: 200 + 20 x 3 fragments (IPv4) + 100 (IPv6) packets; bytes
	# from the IP header on: 200 x (20 + 8 + 200), 20 x (1500 + 1500 + 20 +
	# 1048, the 4008 UDP bytes in 1480-byte pieces at MTU 1500), 100 x
	# (40 + 8 + 200); vc3 the IPv4 ones only
	p=$((200 + 20 * 3 + 100)) b=$((200 * 228 + 20 * (1500 + 1500 + 1068) + 100 * 248))
	p3=$((200 + 20 * 3)) b3=$((200 * 228 + 20 * (1500 + 1500 + 1068)))
	tg_status "br0 (ttl as sent): packets $p, bytes $b, errors 0" \
		"vc3 (ttl 9): packets $p3, bytes $b3, errors 0" || return 1
	js="{\"ifname\":\"br0\",\"ifindex\":$(ifindex g1 br0),\"ttl\":0,\"groups\":\"learned\",\"joined\":[],\"packets\":$p,\"bytes\":$b,\"errors\":0,\"unjoined\":0},{\"ifname\":\"vc3\",\"ifindex\":$(ifindex g1 vc3),\"ttl\":9,\"groups\":\"learned\",\"joined\":[],\"packets\":$p3,\"bytes\":$b3,\"errors\":0,\"unjoined\":100}"
	tg_json "$js" && has_text "$T/stats.json" "\"copies\":$((p + p3)),\"copy_errors\":0,\"ended\":0}" || return 1
	# from the host's network namespace: the names are the instance's, not ours
	"$MCTUN" status --all --json >"$T/all.json" || { fail "status --all from the host"; return 1; }
	has_text "$T/all.json" "\"targets\":[$js]," || return 1
	nsx g1 "$MCTUN" stats >"$T/stats.txt" || { fail "stats in g1"; return 1; }
	grep -qE "^  br0 +$(ifindex g1 br0) +as sent +$p +$b +0\$" "$T/stats.txt" &&
	grep -qE "^  vc3 +$(ifindex g1 vc3) +9 +$p3 +$b3 +0\$" "$T/stats.txt" ||
		{ fail "stats table:"; sed 's/^/      /' "$T/stats.txt" >&2; return 1; }
	nsx g1 "$MCTUN" stats --prometheus >"$T/stats.prom" || { fail "stats --prometheus"; return 1; }
	prom_check "$T/stats.prom" &&
	expect_sample "$T/stats.prom" "mctun_target_packets_total$L\"br0\"}" "$p" &&
	expect_sample "$T/stats.prom" "mctun_target_bytes_total$L\"br0\"}" "$b" &&
	expect_sample "$T/stats.prom" "mctun_target_errors_total$L\"br0\"}" 0 &&
	expect_sample "$T/stats.prom" "mctun_target_packets_total$L\"vc3\"}" "$p3" &&
	expect_sample "$T/stats.prom" "mctun_target_bytes_total$L\"vc3\"}" "$b3" &&
	expect_sample "$T/stats.prom" "mctun_target_errors_total$L\"vc3\"}" 0 || return 1
	# the daemon's --metrics: the same families, the same numbers
	code=$(scrape g1 http://127.0.0.1:9100/metrics "$T/g1.http") && [ "$code" = 200 ] ||
		{ fail "GET /metrics on g1: $code"; return 1; }
	diff <(grep '^mctun_target_\|^# [A-Z]* mctun_target_' "$T/stats.prom") \
		<(grep '^mctun_target_\|^# [A-Z]* mctun_target_' "$T/g1.http") >"$T/diff" &&
		[ "$(grep -c '^mctun_target_' "$T/g1.http")" = 6 ] ||
		{ fail "--metrics and stats --prometheus differ on targets:"; sed 's/^/      /' "$T/diff" >&2
		  return 1; }
	gw_stop g1 || return 1
	n=$((p + p3))
	log_has g1 "copies $n copy_errors 0" &&
	log_has g1 "bpf: target br0: packets $p bytes $b errors 0" &&
	log_has g1 "bpf: target vc3: packets $p3 bytes $b3 errors 0" &&
	# with no tunnel nothing goes through the ring: the copies are all
	log_has g1 "captured 0 (ring 0, socket 0," && log_has g1 " pushed 0 "
}

# What comes from the tunnel reaches the local targets too: g2 re-injects
# onto its island and its TC program copies that at egress to its targets,
# once; with --keep-source (the raw socket's marked packets) from h1.
targets_from_tunnel() {
	local keep=$1
	islands 2 || return 1
	ip -n "$PFX-g2" link add br0 type bridge mcast_snooping 0 2>/dev/null ||
		{ echo "the kernel has no bridge (CONFIG_BRIDGE)"; return "$SKIP"; }
	ip -n "$PFX-g2" link set br0 up
	ns_add c1 && veth g2 vc1 c1 eth0 || return 1
	ip -n "$PFX-g2" link set vc1 master br0
	ip -n "$PFX-c1" addr add 198.18.100.2/24 dev eth0
	ip -n "$PFX-c1" route add 224.0.0.0/4 dev eth0
	gw g2 g2 --insecure -i isl -g 239.1.1.1:5000 --to br0 $keep --listen 198.19.12.2:7000 &&
	gw g1 g1 --insecure -i isl -g 239.1.1.1:5000 --peer 198.19.12.2:7000 &&
		wait_log g1 "up (node" && wait_log g2 "up (node" || return 1
	rx a c1 239.1.1.1:5000 --duration 60 && rx h h2 239.1.1.1:5000 --duration 60 &&
		tg_wait_joined br0 239.1.1.1 g2 || return 1
	tx h1 239.1.1.1:5000 --count 300 --rate 2000pps --size 200 --source-port 4321 --ttl 4 &&
	tx h1 239.1.1.1:5000 --count 20 --rate 500pps --size 4000 --source-port 4321 --ttl 4 ||
		return 1
	rx_stop a h && expect_rx a 320 2 && expect_rx h 320 2 || return 1
	if [ -n "$keep" ]; then tg_from a 198.18.1.2:4321 || return 1; fi
	gw_stop g2 && gw_stop g1 || return 1
	log_has g2 "injected 320 (errors 0," && log_has g2 "captured 0 (" && log_has g1 "injected 0 (" &&
	# a copy per datagram on the wire: UDP GSO batches by their datagrams,
	# a 4000-byte one by its 3 fragments
	log_has g2 "copies 360 copy_errors 0"
}

test_targets_from_tunnel() { targets_from_tunnel ""; }
test_targets_from_tunnel_keep_source() { targets_from_tunnel --keep-source; }

# tg_wanted NS GROUP: `mctun status` in NS says a gateway wants GROUP.
tg_wanted() { nsx "$1" "$MCTUN" status 2>/dev/null | grep -q "^  node .* wants .*$2"; }

# With a tunnel and --membership learn, a group wanted behind a target is
# wanted here: g2 announces what c1 (behind its bridge) joined, though
# nobody on its island did, g1 sends it, and g2 re-injects it, so the copy
# reaches c1; a group nobody wants is neither sent nor re-injected.
test_targets_learn_from_tunnel() {
	islands 2 || return 1
	ip -n "$PFX-g2" link add br0 type bridge mcast_snooping 0 2>/dev/null ||
		{ echo "the kernel has no bridge (CONFIG_BRIDGE)"; return "$SKIP"; }
	ip -n "$PFX-g2" link set br0 up
	ns_add c1 && veth g2 vc1 c1 eth0 || return 1
	ip -n "$PFX-g2" link set vc1 master br0
	ip -n "$PFX-c1" addr add 198.18.100.2/24 dev eth0
	ip -n "$PFX-c1" route add 224.0.0.0/4 dev eth0
	gw g2 g2 --insecure -i isl -g 239.1.1.1:5000 -g 239.1.1.2:5000 --to br0 \
		--membership learn --listen 198.19.12.2:7000 &&
	gw g1 g1 --insecure -i isl -g 239.1.1.1:5000 -g 239.1.1.2:5000 --membership learn \
		--peer 198.19.12.2:7000 && wait_log g1 "up (node" && wait_log g2 "up (node" || return 1
	rx a c1 239.1.1.1:5000 --duration 60 && tg_wait_joined br0 239.1.1.1 g2 || return 1
	within 5 tg_wanted g1 239.1.1.1 ||
		{ fail "g1 does not hear that g2 wants 239.1.1.1:"; nsx g1 "$MCTUN" status >&2; return 1; }
	tg_wanted g1 239.1.1.2 && { fail "g1 hears that g2 wants 239.1.1.2"; return 1; }
	tx h1 239.1.1.1:5000 --count 100 --rate 2000pps --size 200 --ttl 4 &&
	tx h1 239.1.1.2:5000 --count 50 --rate 2000pps --size 200 --ttl 4 || return 1
	rx_stop a && expect_rx a 100 || return 1
	gw_stop g2 && gw_stop g1 || return 1
	log_has g2 "injected 100 (errors 0," && log_has g2 "copies 100 copy_errors 0" &&
		log_has g1 "captured 100 ("
}

# A target's interface deleted and made again under the same name (as a
# container's veth is when it restarts) is followed without a restart.
test_targets_follow_a_new_interface() {
	islands 1 && local_host || return $?
	gw g1 g1 -i isl --to vc3 -g 239.1.1.1:5000 || return 1
	ip -n "$PFX-g1" link del vc3
	wait_log g1 "--to vc3: the interface is gone" || return 1
	tx h1 239.1.1.1:5000 --count 10 --rate 1000pps --size 200 --ttl 1 || return 1
	# while it is gone: named, no index, nothing copied
	tg_status "vc3 (ttl as sent, gone): packets 0, bytes 0, errors 0" &&
	tg_json '{"ifname":"vc3","ifindex":0,"ttl":0,"groups":"learned","joined":[],"packets":0,"bytes":0,"errors":0,"unjoined":0}' ||
		return 1
	veth g1 vc3 c3 eth0 || return 1
	ip -n "$PFX-c3" addr add 198.18.101.2/24 dev eth0
	ip -n "$PFX-c3" route add 224.0.0.0/4 dev eth0
	wait_log g1 "--to vc3: the interface is back" || return 1
	# learnt anew on the new interface
	rx c c3 239.1.1.1:5000 --duration 60 && tg_wait_joined vc3 239.1.1.1 || return 1
	tx h1 239.1.1.1:5000 --count 100 --rate 2000pps --size 200 --ttl 1 || return 1
	rx_stop c && expect_rx c 100 && tg_wait_joined vc3 none || return 1
	tg_status "vc3 (ttl as sent): packets 100, bytes 22800, errors 0" &&
	tg_json "{\"ifname\":\"vc3\",\"ifindex\":$(ifindex g1 vc3),\"ttl\":0,\"groups\":\"learned\",\"joined\":[],\"packets\":100,\"bytes\":22800,\"errors\":0,\"unjoined\":0}" ||
		return 1
	gw_stop g1 && log_has g1 "copies 100 copy_errors 0"
}

# Refusals: one line each, naming the value and the cause.
# tg_refused SECS 'ARGS|WANT'...: each `mctun run -g 239.1.1.1:5000 ARGS`
# in g1 stops within SECS with one line that holds WANT (ARGS are read by
# the shell again: 'br0 ttl 0' stays one argument).
tg_refused() {
	local secs=$1 args out; shift
	for args in "$@"; do
		# shellcheck disable=SC2086
		out=$(eval nsx g1 timeout "$secs" '"$MCTUN"' run -g 239.1.1.1:5000 ${args%%|*} 2>&1)
		[ "$(wc -l <<<"$out")" = 1 ] && grep -qF -- "${args#*|}" <<<"$out" ||
			{ fail "run ${args%%|*}: '$out', want one line with '${args#*|}'"; return 1; }
	done
}

test_targets_refused() {
	islands 1 && local_host || return $?
	tg_refused 5 "-i isl --to nosuch|--to nosuch: no such interface" \
		"-i isl --to isl|--to: 'isl' is the island interface (-i) itself" \
		"-i isl --to br0 --mode socket|--to, --netns, --container: need --mode tc" \
		"-i isl --to br0 --to br0|--to: 'br0' is already a target" \
		"-i isl --to 'br0 ttl 0'|--to: 0 is out of range" \
		"-i isl --netns /nonexistent|--netns /nonexistent: no such namespace" \
		"-i isl --netns /proc/self/ns/net|--netns /proc/self/ns/net: no veth leads there from here" \
		"-i isl --netns c1|--netns: 'c1' is not an absolute path" \
		"--to br0 -i vc1|--to br0: the island interface vc1 is a port of br0" \
		"--to vc2 -i br0|--to vc2: vc2 is a port of the island bridge br0" \
		"-i isl --to 'br0 direction up'|--to: 'br0 direction up': direction 'up' is not in, out or both" \
		"-i isl --to 'br0 direction'|--to: 'br0 direction': after the interface only 'ttl N', 'direction in|out|both' and 'groups all|learned' may follow" \
		"-i isl --to 'br0 direction both' --to vc1|--to vc1: a port of --to br0, another target, and one of them has direction out or both" \
		"-i isl --to br0 --netns '/run/netns/$PFX-c1 direction out'|--netns /run/netns/$PFX-c1: a port of --to br0, another target"
}

# The targets cannot change on SIGHUP (the program is loaded for them): a
# changed list is refused with its line, and copying goes on to the old one.
test_targets_reload_refuses_a_change() {
	islands 1 && local_host || return $?
	conf g1 <<-EOF
	iface isl
	group 239.1.1.1:5000
	to br0
	EOF
	gw g1 g1 --config "$T/g1.conf" || return 1
	echo "to vc3" >>"$T/g1.conf"
	reload g1 1 && log_has g1 "$T/g1.conf:4: to: cannot change at run time (restart mctun for that)" &&
		log_has g1 "reload refused: keeping the running configuration" || return 1
	rx a c1 239.1.1.1:5000 --duration 60 && rx c c3 239.1.1.1:5000 --duration 60 &&
		tg_wait_joined br0 239.1.1.1 || return 1
	tx h1 239.1.1.1:5000 --count 100 --rate 2000pps --size 200 --ttl 1 || return 1
	rx_stop a c && expect_rx a 100 && expect_rx c 0 0
}

# --netns: the target is the veth that leads into the namespace (c3's
# vc3, and c1's bridge port vc1), found without naming it; when the
# namespace is made anew with a new veth (a restarted container), the new
# one is followed.
test_targets_netns() {
	islands 1 && local_host || return $?
	gw g1 g1 -i isl -g 239.1.1.1:5000 --netns "/run/netns/$PFX-c3" \
		--netns "/run/netns/$PFX-c1 ttl 7" || return 1
	rx c c3 239.1.1.1:5000 --duration 60 && rx a c1 239.1.1.1:5000 --duration 60 &&
		rx b c2 239.1.1.1:5000 --duration 60 || return 1
	tg_wait_joined vc3 239.1.1.1 && tg_wait_joined vc1 239.1.1.1 || return 1
	tx h1 239.1.1.1:5000 --count 100 --rate 2000pps --size 200 --ttl 1 || return 1
	# c2, on the bridge but not a target, gets nothing
	rx_stop c a b && expect_rx c 100 && expect_rx a 100 && expect_rx b 0 0 || return 1
	tg_ttl c 1 && tg_ttl a 7 || return 1
	# c3 "restarts": a new namespace under the same name, a new veth
	ip netns del "$PFX-c3"
	wait_log g1 "--netns /run/netns/$PFX-c3: the interface is gone" || return 1
	ns_add c3 && veth g1 vnew c3 eth0 || return 1
	ip -n "$PFX-c3" addr add 198.18.101.2/24 dev eth0
	ip -n "$PFX-c3" route add 224.0.0.0/4 dev eth0
	wait_log g1 "--netns /run/netns/$PFX-c3: copying to vnew" || return 1
	rx c c3 239.1.1.1:5000 --duration 60 && tg_wait_joined vnew 239.1.1.1 || return 1
	tx h1 239.1.1.1:5000 --count 100 --rate 2000pps --size 200 --ttl 1 || return 1
	rx_stop c && expect_rx c 100 || return 1
	gw_stop g1 && log_has g1 "copies to netns /run/netns/$PFX-c3, netns /run/netns/$PFX-c1" &&
		log_has g1 "bpf: target vnew (netns /run/netns/$PFX-c3): packets 200 "
}

# tg_cjoined CONTAINER GROUP: the container runs and its receiver has joined
# GROUP's address on its eth0.
tg_cjoined() {
	local pid
	pid=$(docker inspect -f '{{.State.Pid}}' "$1" 2>/dev/null)
	[ "${pid:-0}" -gt 0 ] &&
	within 5 sh -c 'nsenter -t "$1" -n ip maddr show dev eth0 | grep -qw "inet *$2"' sh "$pid" "${2%:*}" ||
		{ fail "$1 (pid ${pid:-?}) did not join ${2%:*}:"; docker logs "$1" 2>&1 | sed 's/^/      /' >&2
		  return 1; }
}

# tg_cveth NETWORK-BRIDGE: the host end of the only veth on that bridge.
tg_cveth() { ip -n "$PFX-g1" -o link show master "$1" | awk -F': ' '{ print $2 }' | cut -d@ -f1; }

# tg_cam HOW...: dockerd in g1, the image (sets the caller's I), an
# internal network whose bridge is mcbr1, and on it the caller's container
# C, receiving G with the image's mctun recv, made by `docker HOW...`
# (create: not started yet; run -d: running).
tg_cam() {
	dockerd_start g1 || return $?
	pkg_make image || return 1
	I="mctun:$(cat "$ROOT/VERSION")"
	# (Docker warns that forwarding is off: nothing is forwarded here)
	docker network create --internal --subnet 198.18.200.0/24 \
		-o com.docker.network.bridge.name=mcbr1 "$PFX-cams" >"$T/docker.out" 2>&1 &&
	docker "$@" --name "$C" --network "$PFX-cams" --cap-drop ALL --user 65534:65534 \
		"$I" recv "$G" --iface eth0 >>"$T/docker.out" 2>&1 ||
		{ fail "docker network create, $*:"; sed 's/^/      /' "$T/docker.out" >&2; return 1; }
}

# --container: a container of an isolated bridge network of Docker (a
# daemon of the test's own, in g1: its bridge and veths are there) found by
# its name through the Docker Engine API. Refused at start, one line each:
# an unknown container, an unreachable Docker, a name that is none, a
# DOCKER_HOST other than unix://. Accepted while it is only created; once
# started, it gets the island's TTL-1 datagrams through its veth, exactly;
# restarted (docker restart: a new veth, a new process), it is followed
# without restarting mctun, exactly again; stopped, the log says it is gone
# and status shows its last veth gone, nothing copied meanwhile; removed
# and made again under its name, followed again. Its receiver (the image's
# mctun recv) reports each run in docker logs.
test_targets_container() {
	local I C="$PFX-cam1" G=239.1.1.1:5000 v1 v2 n out t0 b=$((100 * 228))
	islands 1 || return 1
	tg_cam create || return $?

	tg_refused 10 "-i isl --container $PFX-nosuch|--container $PFX-nosuch: no such container (Docker at $T/docker.sock)" \
		"-i isl --container $C --docker-socket $T/nothere|--container $C: Docker at $T/nothere: connect: No such file or directory" \
		"-i isl --container a/b|--container: 'a/b' is not a container's name or id" \
		"-i isl --container $C --mode socket|--to, --netns, --container: need --mode tc" || return 1
	out=$(DOCKER_HOST=tcp://198.18.1.1:2375 nsx g1 timeout 10 "$MCTUN" run -i isl -g "$G" \
		--container "$C" 2>&1)
	[ "$out" = "mctun: --container $C: DOCKER_HOST 'tcp://198.18.1.1:2375' is not unix://PATH (an absolute path of at most 107 bytes): give --docker-socket PATH" ] ||
		{ fail "DOCKER_HOST tcp://: '$out'"; return 1; }

	# created, not started: accepted, and followed once it starts
	gw g1 g1 -i isl -g "$G" --container "$C" --docker-socket "$T/docker.sock" || return 1
	log_has g1 "no tunnel (local targets only); copies to container $C" &&
	log_has g1 "--container $C: not running (created): no copies until it starts" &&
	tg_status "? (ttl as sent, gone): packets 0, bytes 0, errors 0" || return 1
	docker start "$C" >/dev/null || { fail "docker start $C"; return 1; }
	wait_log g1 "--container $C: copying to " && tg_cjoined "$C" "$G" || return 1
	v1=$(tg_cveth mcbr1)
	log_has g1 "--container $C: copying to $v1 (index $(ifindex g1 "$v1")) from now on" &&
		tg_wait_joined "$v1" 239.1.1.1 || return 1
	tx h1 "$G" --count 100 --rate 2000pps --size 200 --source-port 4321 --ttl 1 || return 1
	sleep 0.3
	tg_status "$v1 (ttl as sent): packets 100, bytes $b, errors 0" || return 1

	# restarted: a new veth, followed
	docker restart -t 5 "$C" >/dev/null || { fail "docker restart $C"; return 1; }
	wait_log g1 "--container $C: copying to " 2 || return 1
	t0=$(date -d "$(docker inspect -f '{{.State.StartedAt}}' "$C")" +%s%N)
	note "copies resumed $((($(date +%s%N) - t0) / 1000000)) ms after the restarted container started (State.StartedAt; the log polled every 50 ms)"
	tg_cjoined "$C" "$G" || return 1
	v2=$(tg_cveth mcbr1)
	[ -n "$v2" ] && [ "$v2" != "$v1" ] || { fail "no new veth: $v1, then ${v2:-none}"; return 1; }
	log_has g1 "--container $C: copying to $v2 (index $(ifindex g1 "$v2")) from now on" &&
		tg_wait_joined "$v2" 239.1.1.1 || return 1
	tx h1 "$G" --count 100 --rate 2000pps --size 200 --source-port 4321 --ttl 1 || return 1
	sleep 0.3
	tg_status "$v2 (ttl as sent): packets 200, bytes $((2 * b)), errors 0" || return 1

	# stopped: gone, nothing copied, the counters keep its last veth
	n=$(grep -c -- "--container $C: the interface is gone: no copies until it is back" "$T/g1.log")
	docker stop -t 5 "$C" >/dev/null || { fail "docker stop $C"; return 1; }
	wait_log g1 "--container $C: the interface is gone: no copies until it is back" $((n + 1)) ||
		return 1
	tx h1 "$G" --count 10 --rate 1000pps --size 200 --ttl 1 || return 1
	tg_status "$v2 (ttl as sent, gone): packets 200, bytes $((2 * b)), errors 0" &&
	tg_json "{\"ifname\":\"$v2\",\"ifindex\":0,\"ttl\":0,\"groups\":\"learned\",\"joined\":[],\"packets\":200,\"bytes\":$((2 * b)),\"errors\":0,\"unjoined\":0}" ||
		return 1
	# each run of the receiver: h1's 100, whole, with TTL 1
	pkg_clog cam "$C" || return 1
	[ "$(grep -c "^recv $G: received 100 in .* senders 1," "$T/cam.log")" = 2 ] &&
	[ "$(grep -c "^  received 100  unique 100  lost 0  duplicates 0 " "$T/cam.log")" = 2 ] &&
	[ "$(grep -c "^  ttl 1 (sent 1, 0 hops)" "$T/cam.log")" = 2 ] &&
	[ "$(grep -c "^sender [0-9a-f]* from 198.18.1.2:4321\$" "$T/cam.log")" = 2 ] ||
		{ fail "the container's receiver:"; sed 's/^/      /' "$T/cam.log" >&2; return 1; }

	# removed, and made again under its name: followed too
	docker rm "$C" >/dev/null || { fail "docker rm $C"; return 1; }
	wait_log g1 "--container $C: no such container now (Docker at $T/docker.sock): no copies until it is back" &&
	docker run -d --name "$C" --network "$PFX-cams" --cap-drop ALL --user 65534:65534 \
		"$I" recv "$G" --iface eth0 >>"$T/docker.out" 2>&1 &&
	wait_log g1 "--container $C: copying to " 3 && tg_cjoined "$C" "$G" || return 1
	v1=$(tg_cveth mcbr1)
	tg_wait_joined "$v1" 239.1.1.1 || return 1
	tx h1 "$G" --count 100 --rate 2000pps --size 200 --ttl 1 || return 1
	sleep 0.3
	tg_status "$v1 (ttl as sent): packets 300, bytes $((3 * b)), errors 0" || return 1
	gw_stop g1 && log_has g1 "bpf: target $v1 (container $C): packets 300 bytes $((3 * b)) errors 0" &&
		log_has g1 "copies 300 copy_errors 0"
}

# --container with a Docker that hangs (its daemon stopped with SIGSTOP:
# connections are taken, nothing is answered): its events stream falls
# silent, and the thread's next safety question (every 10 s) gives up
# after 3 s, once logged; the copies go on into the process Docker named
# last and the event loop goes on (SIGUSR1 answered at once, SIGHUP's
# reload of the config file that names the container done at once); Docker
# back, that is logged too (at the next safety question); and SIGTERM
# during a hung exchange (the one 10 s after that) ends mctun at once (the
# thread is told to stop, not waited out).
test_targets_container_docker_hangs() {
	local I C="$PFX-cam1" G=239.1.1.1:5000 v dpid t0 ms b=$((100 * 228))
	islands 1 || return 1
	tg_cam run -d || return $?
	tg_cjoined "$C" "$G" || return 1
	# from a config file (the socket from DOCKER_HOST, as dockerd_start set it)
	printf 'iface isl\ngroup %s\ncontainer %s\n' "$G" "$C" >"$T/g1.conf"
	gw g1 g1 --config "$T/g1.conf" || return 1
	v=$(tg_cveth mcbr1)
	# joined before mctun started: found by the startup query
	tg_wait_joined "$v" 239.1.1.1 || return 1
	dpid=$(cat "$T/dockerd.main")
	kill -STOP "$dpid"
	within 20 grep -q -- "--container $C: Docker at $T/docker.sock: no answer within 3 s (following its last known process meanwhile)" "$T/g1.log" ||
		{ kill -CONT "$dpid"; fail "no 'no answer within 3 s' within 20 s:"
		  sed 's/^/      /' "$T/g1.log" >&2; return 1; }
	tx h1 "$G" --count 100 --rate 2000pps --size 200 --ttl 1 || { kill -CONT "$dpid"; return 1; }
	sleep 0.3
	kill -USR1 "$(gw_pid g1)"
	within 0.5 grep -q "bpf: target $v (container $C): packets 100 bytes $b errors 0" "$T/g1.log" ||
		{ kill -CONT "$dpid"; fail "no SIGUSR1 line with 100 copies to $v within 0.5 s:"
		  sed 's/^/      /' "$T/g1.log" >&2; return 1; }
	[ "$(grep -c "no answer within 3 s" "$T/g1.log")" = 1 ] ||
		{ kill -CONT "$dpid"; fail "the hang is logged more than once"; return 1; }
	# a reload asks no Docker: the same file is taken at once
	kill -HUP "$(gw_pid g1)"
	within 0.5 grep -q "reload: done" "$T/g1.log" ||
		{ kill -CONT "$dpid"; fail "no 'reload: done' within 0.5 s:"; sed 's/^/      /' "$T/g1.log" >&2
		  return 1; }
	kill -CONT "$dpid"
	within 20 grep -q -- "--container $C: Docker at $T/docker.sock answers again" "$T/g1.log" ||
		{ fail "no 'answers again' within 20 s:"; sed 's/^/      /' "$T/g1.log" >&2; return 1; }
	# hung again; 10.5 s after that answer the thread is about 0.5 s into
	# its next safety question, which would last 3 s
	kill -STOP "$dpid"
	sleep 10.5
	t0=$(date +%s%N)
	gw_stop g1 || { kill -CONT "$dpid"; return 1; }
	ms=$((($(date +%s%N) - t0) / 1000000))
	kill -CONT "$dpid"
	[ "$ms" -lt 1000 ] || { fail "mctun took $ms ms to stop during a hung exchange"; return 1; }
	note "stopped in $ms ms during a hung exchange"
	log_has g1 "copies 100 copy_errors 0"
}

# ---- the reverse direction: from a target (direction out, both) ----------

# tg_froms NAME 'A B...': receiver NAME's senders came from exactly these
# (sorted, each once).
tg_froms() {
	local got want
	got=$(grep -o '"from":"[^"]*"' "$T/$1.json" | sed 's/"from":"\(.*\)"/\1/' | sort -u | tr '\n' ' ')
	want=$(tr ' ' '\n' <<<"$2" | sort -u | tr '\n' ' ')
	[ "$got" = "$want" ] || { fail "$1: senders from ${got:-none}, want $want"; return 1; }
}

# tg_c3v6: c3 (behind vc3) gets an IPv6 address to send from.
tg_c3v6() { ip -n "$PFX-c3" -6 addr add 2001:db8:101::2/64 dev eth0 nodad; }

# Direction both on the bridge br0 (--to) and on c3's veth (--netns): what
# c1 (behind the bridge) and c3 send with TTL 1 reaches h1 on the island
# exactly once, with TTL 1 and the sender's address and port, whole and in
# fragments, IPv4 and IPv6, in frames from the island interface's MAC; the other target's hosts get it once; the
# sender's own target never gets it back (each sender's own receiver has
# its datagrams once, by multicast loopback: a copy back would be a
# duplicate), nor does c2 (the bridge gave it c1's already). A group of
# direction in, and one not configured, go nowhere from a target. Counted
# per target in status, stats (table, JSON, Prometheus) and the log.
test_targets_reverse() {
	local p b fp fb L='{iface="isl",target=' i1 i3 js mac
	islands 1 && local_host || return $?
	tg_c3v6
	gw g1 g1 -i isl --to 'br0 direction both' --netns "/run/netns/$PFX-c3 direction both" \
		-g 239.1.1.1:5000 -g '[ff15::1]:5000' -g '239.1.1.3:5000 direction in' || return 1
	log_has g1 "copies to br0 (direction both), netns /run/netns/$PFX-c3 (direction both)" ||
		return 1
	# on h1, the frames of the group by their source MAC: g1's island's
	mac=$(ip -n "$PFX-g1" -o link show isl | grep -o 'link/ether [0-9a-f:]*' | cut -d' ' -f2)
	nft_load h1 "table netdev t {
		counter isl {}
		counter other {}
		chain c {
			type filter hook ingress device eth0 priority 0;
			ip daddr 239.1.1.1 ether saddr $mac counter name isl
			ip daddr 239.1.1.1 ether saddr != $mac counter name other
		}
	}" || return $?
	rx h h1 239.1.1.1:5000 --duration 60 && rx a c1 239.1.1.1:5000 --duration 60 &&
	rx b c2 239.1.1.1:5000 --duration 60 && rx c c3 239.1.1.1:5000 --duration 60 &&
	rx h6 h1 '[ff15::1]:5000' --duration 60 && rx a6 c1 '[ff15::1]:5000' --duration 60 &&
	rx c6 c3 '[ff15::1]:5000' --duration 60 && rx x h1 239.1.1.2:5000 --duration 60 &&
	rx y h1 239.1.1.3:5000 --duration 60 && rx z c3 239.1.1.3:5000 --duration 60 || return 1
	# copies into a target only once its receivers' joins are learned
	tg_wait_joined br0 "239.1.1.1, ff15::1" && tg_wait_joined vc3 "239.1.1.1, 239.1.1.3, ff15::1" ||
		return 1
	tx c1 239.1.1.1:5000 --count 100 --rate 2000pps --size 200 --source-port 4321 --ttl 1 &&
	tx c1 239.1.1.1:5000 --count 20 --rate 500pps --size 4000 --source-port 4321 --ttl 1 &&
	tx c3 239.1.1.1:5000 --count 50 --rate 2000pps --size 200 --source-port 4322 --ttl 1 &&
	tx c1 '[ff15::1]:5000' --count 60 --rate 2000pps --size 200 --source-port 4323 --ttl 1 &&
	tx c3 '[ff15::1]:5000' --count 40 --rate 2000pps --size 200 --source-port 4324 --ttl 1 &&
	tx c1 239.1.1.2:5000 --count 30 --rate 2000pps --size 200 --ttl 1 &&
	tx c1 239.1.1.3:5000 --count 30 --rate 2000pps --size 200 --ttl 1 || return 1
	rx_stop h a b c h6 a6 c6 x y z || return 1
	expect_rx h 170 3 && expect_rx a 170 3 && expect_rx b 170 3 && expect_rx c 170 3 &&
	expect_rx h6 100 2 && expect_rx a6 100 2 && expect_rx c6 100 2 &&
	expect_rx x 0 0 && expect_rx y 0 0 && expect_rx z 0 0 || return 1
	tg_ttl h 1 && tg_ttl h6 1 && tg_ttl c 1 && tg_ttl b 1 || return 1
	# c1's 100 + 20 x 3 fragments and c3's 50, from the island's MAC only
	[ "$(nft_count h1 netdev t isl)" = $((100 + 20 * 3 + 50)) ] &&
	[ "$(nft_count h1 netdev t other)" = 0 ] ||
		{ fail "frames on h1 from isl's MAC $mac: $(nft_count h1 netdev t isl), want 210;" \
			"from others: $(nft_count h1 netdev t other), want 0"; return 1; }
	tg_froms h "198.18.100.2:4321 198.18.101.2:4322" &&
	tg_froms c "198.18.100.2:4321 198.18.101.2:4322" &&
	tg_froms h6 "[2001:db8:100::2]:4323 [2001:db8:101::2]:4324" || return 1
	# from br0: c1's 100 + 20 x 3 fragments (IPv4) + 60 (IPv6); into it,
	# c3's 50 + 40; into and from vc3 the other way round
	fp=$((100 + 20 * 3 + 60)) fb=$((100 * 228 + 20 * (1500 + 1500 + 1068) + 60 * 248))
	p=$((50 + 40)) b=$((50 * 228 + 40 * 248))
	i1=$(ifindex g1 br0) i3=$(ifindex g1 vc3)
	tg_status "br0 (ttl as sent, direction both): packets $p, bytes $b, errors 0; from it: packets $fp, bytes $fb, errors 0" \
		"vc3 (ttl as sent, direction both): packets $fp, bytes $fb, errors 0; from it: packets $p, bytes $b, errors 0" ||
		return 1
	# the receivers stopped: their leaves are learned (the JSON below then
	# shows no group joined, however slow the machine)
	tg_wait_joined br0 none && tg_wait_joined vc3 none || return 1
	js="{\"ifname\":\"br0\",\"ifindex\":$i1,\"ttl\":0,\"direction\":\"both\",\"groups\":\"learned\",\"joined\":[],\"packets\":$p,\"bytes\":$b,\"errors\":0,\"unjoined\":0,\"from_packets\":$fp,\"from_bytes\":$fb,\"from_errors\":0},{\"ifname\":\"vc3\",\"ifindex\":$i3,\"ttl\":0,\"direction\":\"both\",\"groups\":\"learned\",\"joined\":[],\"packets\":$fp,\"bytes\":$fb,\"errors\":0,\"unjoined\":0,\"from_packets\":$p,\"from_bytes\":$b,\"from_errors\":0}"
	# the copies between targets are copies; with no tunnel nothing is captured
	tg_json "$js" && has_text "$T/stats.json" "\"copies\":$((p + fp)),\"copy_errors\":0,\"ended\":0}" ||
		return 1
	nsx g1 "$MCTUN" stats >"$T/stats.txt" || { fail "stats in g1"; return 1; }
	grep -qE "^  br0 +$i1 +as sent +$p +$b +0  both +$fp +$fb +0\$" "$T/stats.txt" &&
	grep -qE "^  vc3 +$i3 +as sent +$fp +$fb +0  both +$p +$b +0\$" "$T/stats.txt" ||
		{ fail "stats table:"; sed 's/^/      /' "$T/stats.txt" >&2; return 1; }
	nsx g1 "$MCTUN" stats --prometheus >"$T/stats.prom" || { fail "stats --prometheus"; return 1; }
	prom_check "$T/stats.prom" &&
	expect_sample "$T/stats.prom" "mctun_target_from_packets_total$L\"br0\"}" "$fp" &&
	expect_sample "$T/stats.prom" "mctun_target_from_bytes_total$L\"br0\"}" "$fb" &&
	expect_sample "$T/stats.prom" "mctun_target_from_errors_total$L\"br0\"}" 0 &&
	expect_sample "$T/stats.prom" "mctun_target_from_packets_total$L\"vc3\"}" "$p" &&
	expect_sample "$T/stats.prom" "mctun_target_packets_total$L\"vc3\"}" "$fp" || return 1
	gw_stop g1 || return 1
	log_has g1 "bpf: target br0: packets $p bytes $b errors 0 from_packets $fp from_bytes $fb from_errors 0" &&
	log_has g1 "captured 0 (ring 0, socket 0," && log_has g1 " pushed 0 " || return 1
	# stopped: no filter of ours is left on the targets, nor their qdiscs
	tg_filters 0 br0 vc3
}

# tg_filters N IFACE...: N filters of mctun on each of these interfaces
# of g1 (ingress), and with none, not the clsact qdisc it made either.
tg_filters() {
	local n=$1 i got; shift
	for i in "$@"; do
		got=$(ip netns exec "$PFX-g1" tc filter show dev "$i" ingress 2>&1 | grep -c mctun_tc_tgt)
		[ "$got" = "$n" ] || { fail "$i: $got filters of mctun, want $n:"
			ip netns exec "$PFX-g1" tc filter show dev "$i" ingress 2>&1 | sed 's/^/      /' >&2
			return 1; }
		[ "$n" = 0 ] && ip netns exec "$PFX-g1" tc qdisc show dev "$i" | grep -q clsact &&
			{ fail "$i: the clsact qdisc is left"; return 1; }
	done
	return 0
}

# Direction in (the default) forwards nothing from a target and attaches
# nothing to it; out forwards from it (onto the island, to the other
# targets) and copies nothing into it.
test_targets_direction_in_and_out() {
	islands 1 && local_host || return $?
	gw g1 g1 -i isl --to br0 --netns "/run/netns/$PFX-c3" -g 239.1.1.1:5000 || return 1
	tg_filters 0 br0 vc3 || return 1
	rx h h1 239.1.1.1:5000 --duration 60 && rx c c3 239.1.1.1:5000 --duration 60 || return 1
	tx c1 239.1.1.1:5000 --count 100 --rate 2000pps --size 200 --ttl 1 || return 1
	rx_stop h c && expect_rx h 0 0 && expect_rx c 0 0 || return 1
	tg_status "br0 (ttl as sent): packets 0, bytes 0, errors 0" \
		"vc3 (ttl as sent): packets 0, bytes 0, errors 0" && gw_stop g1 || return 1

	gw g1 g1 -i isl --to 'br0 direction out' --netns "/run/netns/$PFX-c3" -g 239.1.1.1:5000 ||
		return 1
	log_has g1 "copies to br0 (direction out), netns /run/netns/$PFX-c3$" &&
	tg_filters 1 br0 && tg_filters 0 vc3 || return 1
	rx h h1 239.1.1.1:5000 --duration 60 && rx a c1 239.1.1.1:5000 --duration 60 &&
	rx c c3 239.1.1.1:5000 --duration 60 && tg_wait_joined vc3 239.1.1.1 || return 1
	tx h1 239.1.1.1:5000 --count 50 --rate 2000pps --size 200 --source-port 4320 --ttl 1 &&
	tx c1 239.1.1.1:5000 --count 100 --rate 2000pps --size 200 --source-port 4321 --ttl 1 ||
		return 1
	# c1: its own 100 (loopback), none of h1's; c3 both; h1 its own and c1's
	rx_stop h a c && expect_rx h 150 2 && expect_rx a 100 && expect_rx c 150 2 || return 1
	tg_froms a 198.18.100.2:4321 || return 1
	tg_status "br0 (ttl as sent, direction out): packets 0, bytes 0, errors 0; from it: packets 100, bytes 22800, errors 0" \
		"vc3 (ttl as sent): packets 150, bytes 34200, errors 0" &&
	gw_stop g1 && tg_filters 0 br0 vc3
}

# With a tunnel: what c1 sends behind g1's br0 (direction both) reaches h1
# and, through the tunnel, h2 on the far island exactly once, its source
# kept (--keep-source on g2); nothing comes back (g1 re-injects nothing,
# c1 and h1 have each datagram once). A fragmented datagram goes onto the
# island but not into the tunnel (a target's fragments are not reassembled
# for the ring). IPv4 and IPv6.
test_targets_reverse_tunnel() {
	islands 2 || return 1
	ip -n "$PFX-g1" link add br0 type bridge mcast_snooping 0 2>/dev/null ||
		{ echo "the kernel has no bridge (CONFIG_BRIDGE)"; return "$SKIP"; }
	ip -n "$PFX-g1" link set br0 up
	ns_add c1 && veth g1 vc1 c1 eth0 || return 1
	ip -n "$PFX-g1" link set vc1 master br0
	ip -n "$PFX-c1" addr add 198.18.100.2/24 dev eth0
	ip -n "$PFX-c1" -6 addr add 2001:db8:100::2/64 dev eth0 nodad
	ip -n "$PFX-c1" route add 224.0.0.0/4 dev eth0
	ip -n "$PFX-c1" -6 route add ff15::/16 dev eth0 table local 2>/dev/null ||
		ip -n "$PFX-c1" -6 route add ff15::/16 dev eth0
	gw g2 g2 --insecure -i isl -g 239.1.1.1:5000 -g '[ff15::1]:5000' --keep-source \
		--listen 198.19.12.2:7000 &&
	gw g1 g1 --insecure -i isl -g 239.1.1.1:5000 -g '[ff15::1]:5000' --to 'br0 direction both' \
		--peer 198.19.12.2:7000 && wait_log g1 "up (node" && wait_log g2 "up (node" || return 1
	rx a c1 239.1.1.1:5000 --duration 60 && rx h h1 239.1.1.1:5000 --duration 60 &&
	rx f h2 239.1.1.1:5000 --duration 60 && rx f6 h2 '[ff15::1]:5000' --duration 60 &&
	rx h6 h1 '[ff15::1]:5000' --duration 60 || return 1
	tx c1 239.1.1.1:5000 --count 300 --rate 2000pps --size 200 --source-port 4321 --ttl 1 &&
	tx c1 239.1.1.1:5000 --count 10 --rate 500pps --size 4000 --source-port 4321 --ttl 1 &&
	tx c1 '[ff15::1]:5000' --count 100 --rate 2000pps --size 200 --source-port 4323 --ttl 1 ||
		return 1
	rx_stop a h f f6 h6 && expect_rx a 310 2 && expect_rx h 310 2 && expect_rx f 300 &&
		expect_rx f6 100 && expect_rx h6 100 || return 1
	tg_from f 198.18.100.2:4321 && tg_from f6 '[2001:db8:100::2]:4323' && tg_ttl h 1 || return 1
	gw_stop g1 && gw_stop g2 || return 1
	log_has g1 "captured 400 (ring 400," && log_has g1 "injected 0 (" &&
	log_has g2 "injected 400 (errors 0," && log_has g2 "captured 0 (" &&
	log_has g1 "bpf: target br0: packets 0 bytes 0 errors 0 from_packets $((300 + 30 + 100)) "
}

# kill -9 leaves the targets' filters (and qdiscs) behind: the next start
# on the island clears them, found through the dead instance's pinned
# mctun_targets, also on a target it is no longer given; copies are not
# doubled; a clean stop leaves nothing.
test_targets_reverse_kill9() {
	islands 1 && local_host || return $?
	gw a g1 -i isl --to 'br0 direction both' --netns "/run/netns/$PFX-c3 direction both" \
		-g 239.1.1.1:5000 || return 1
	kill -KILL "$(gw_pid a)"; wait "$(gw_pid a)" 2>/dev/null; rm -f "$T/a.pid"
	tg_filters 1 br0 vc3 || return 1
	gw b g1 -i isl --to 'br0 direction both' -g 239.1.1.1:5000 || return 1
	log_has b "isl: cleared filters, its qdisc, its targets' filters and pins left by a previous instance" &&
	tg_filters 1 br0 && tg_filters 0 vc3 || return 1
	rx h h1 239.1.1.1:5000 --duration 60 && rx c c3 239.1.1.1:5000 --duration 60 &&
		rx b c2 239.1.1.1:5000 --duration 60 || return 1
	tx c1 239.1.1.1:5000 --count 100 --rate 2000pps --size 200 --source-port 4321 --ttl 1 &&
	tx c3 239.1.1.1:5000 --count 50 --rate 2000pps --size 200 --source-port 4322 --ttl 1 ||
		return 1
	# c3 is no target now: nothing from it, nothing into it
	rx_stop h c b && expect_rx h 100 && expect_rx c 50 && expect_rx b 100 || return 1
	tg_froms h 198.18.100.2:4321 && tg_froms c 198.18.101.2:4322 || return 1
	gw_stop b && tg_filters 0 br0 vc3
}

# A target of direction both found through its namespace (--netns) is
# followed: the namespace made anew with a new veth, the filter moves to it.
test_targets_reverse_follows() {
	islands 1 && local_host || return $?
	gw g1 g1 -i isl --netns "/run/netns/$PFX-c3 direction both" -g 239.1.1.1:5000 || return 1
	tg_filters 1 vc3 || return 1
	ip netns del "$PFX-c3"
	wait_log g1 "--netns /run/netns/$PFX-c3: the interface is gone" || return 1
	ns_add c3 && veth g1 vnew c3 eth0 || return 1
	ip -n "$PFX-c3" addr add 198.18.101.2/24 dev eth0
	ip -n "$PFX-c3" route add 224.0.0.0/4 dev eth0
	wait_log g1 "--netns /run/netns/$PFX-c3: copying to vnew" && tg_filters 1 vnew || return 1
	rx h h1 239.1.1.1:5000 --duration 60 || return 1
	tx c3 239.1.1.1:5000 --count 50 --rate 2000pps --size 200 --source-port 4322 --ttl 1 ||
		return 1
	rx_stop h && expect_rx h 50 && tg_froms h 198.18.101.2:4322 || return 1
	gw_stop g1 && tg_filters 0 vnew &&
		log_has g1 "bpf: target vnew (netns /run/netns/$PFX-c3): packets 0 bytes 0 errors 0 from_packets 50 "
}

# A target of direction both that is another instance's island: each has
# its own filter there (another handle); the first to stop takes only its
# own, not the clsact qdisc it made while the other's filters are on it
# (which then stays, empty, once the other stops too: nobody owns it).
test_targets_reverse_target_is_an_island() {
	islands 1 && local_host || return $?
	gw a g1 -i isl --to 'br0 direction both' -g 239.1.1.1:5000 &&
	gw b g1 -i br0 --to vc3 -g 239.1.1.1:5000 || return 1
	tg_filters 1 br0 || return 1
	gw_stop a && tg_filters 0 vc3 || return 1
	[ "$(ip netns exec "$PFX-g1" tc filter show dev br0 ingress | grep -c 'mctun_tc_in')" = 1 ] &&
	[ "$(ip netns exec "$PFX-g1" tc filter show dev br0 ingress | grep -c 'mctun_tc_tgt')" = 0 ] ||
		{ fail "br0 after a stopped: $(ip netns exec "$PFX-g1" tc filter show dev br0 ingress)"
		  return 1; }
	# b still copies what c1 sends on its island br0 to its target
	rx c c3 239.1.1.1:5000 --duration 60 && tg_wait_joined vc3 239.1.1.1 || return 1
	tx c1 239.1.1.1:5000 --count 50 --rate 2000pps --size 200 --ttl 1 || return 1
	# then b stops: no filter of either is left (the clsact qdisc a made
	# stays, empty: b found it there, a left it to b's filters)
	rx_stop c && expect_rx c 50 && gw_stop b || return 1
	ip netns exec "$PFX-g1" tc filter show dev br0 ingress | grep -q mctun &&
		{ fail "a filter of mctun is left on br0"; return 1; }
	return 0
}

# --container 'NAME direction both' with a real Docker: what the container
# sends with TTL 1 (docker exec of the image's mctun send) reaches h1 on
# the island exactly once, from its address and port; across docker
# restart (a new veth) the filter moves to the new veth; stopped, mctun
# leaves no filter behind.
test_targets_reverse_container() {
	local I C="$PFX-cam1" G=239.1.1.1:5000 v1 v2 ca n
	islands 1 || return 1
	tg_cam run -d || return $?
	tg_cjoined "$C" "$G" || return 1
	gw g1 g1 -i isl -g "$G" --container "$C direction both" --docker-socket "$T/docker.sock" ||
		return 1
	v1=$(tg_cveth mcbr1)
	tg_filters 1 "$v1" || return 1
	for n in 1 2; do
		ca=$(docker inspect -f '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}' "$C")
		rx h h1 "$G" --duration 60 || return 1
		docker exec "$C" /usr/sbin/mctun send "$G" --iface eth0 --count 100 --rate 2000pps \
			--size 200 --source-port 4321 --ttl 1 --quiet >"$T/exec.out" 2>&1 ||
			{ fail "docker exec $C mctun send:"; sed 's/^/      /' "$T/exec.out" >&2; return 1; }
		rx_stop h && expect_rx h 100 && tg_froms h "$ca:4321" && tg_ttl h 1 || return 1
		[ "$n" = 2 ] && break
		docker restart -t 5 "$C" >/dev/null || { fail "docker restart $C"; return 1; }
		# (running at start: the first "copying to" is the restart's)
		wait_log g1 "--container $C: copying to " && tg_cjoined "$C" "$G" || return 1
		v2=$(tg_cveth mcbr1)
		[ -n "$v2" ] && [ "$v2" != "$v1" ] || { fail "no new veth: $v1, then ${v2:-none}"; return 1; }
		tg_filters 1 "$v2" || return 1
	done
	gw_stop g1 && tg_filters 0 "$v2" &&
		log_has g1 "bpf: target $v2 (container $C): packets 0 bytes 0 errors 0 from_packets 200 from_bytes 45600 from_errors 0"
}

# A receiver in a real container joins a second group and leaves it: the
# container's veth gets that group's TTL-1 datagrams exactly while it is
# joined, none after the leave (counted as unjoined), while the group its
# main receiver keeps joined goes on arriving; the island joins and leaves
# the second group with it.
test_targets_container_join_and_leave() {
	local I C="$PFX-cam1" G=239.1.1.1:5000 G2=239.1.1.2:5000 v b=228
	islands 1 || return 1
	tg_cam run -d || return $?
	tg_cjoined "$C" "$G" || return 1
	gw g1 g1 -i isl -g "$G" -g "$G2" --container "$C" --docker-socket "$T/docker.sock" || return 1
	v=$(tg_cveth mcbr1)
	tg_wait_joined "$v" 239.1.1.1 && tg_wait_island 239.1.1.1 || return 1
	# a second receiver in the container, for 239.1.1.2, for a while
	docker exec "$C" /usr/sbin/mctun recv "$G2" --iface eth0 --duration "$(scaled 4)" \
		>"$T/exec.out" 2>&1 &
	local xpid=$!
	tg_wait_joined "$v" "239.1.1.1, 239.1.1.2" && tg_wait_island 239.1.1.1 239.1.1.2 || return 1
	tx h1 "$G2" --count 50 --rate 2000pps --size 200 --ttl 1 &&
	tx h1 "$G" --count 20 --rate 2000pps --size 200 --ttl 1 || return 1
	wait "$xpid"
	grep -q "^recv $G2: received 50 in .* senders 1," "$T/exec.out" ||
		{ fail "the exec'd receiver:"; sed 's/^/      /' "$T/exec.out" >&2; return 1; }
	# it left: learned within about a second, the island leaves too
	tg_wait_joined "$v" 239.1.1.1 && tg_wait_island 239.1.1.1 || return 1
	tx h1 "$G2" --count 30 --rate 2000pps --size 200 --ttl 1 &&
	tx h1 "$G" --count 20 --rate 2000pps --size 200 --ttl 1 || return 1
	sleep 0.3
	tg_status "$v (ttl as sent): packets 90, bytes $((90 * b)), errors 0" || return 1
	nsx g1 "$MCTUN" status | grep -q "joined behind it: 239.1.1.1; not copied, nobody joined: 30$" ||
		{ fail "status:"; nsx g1 "$MCTUN" status | sed 's/^/      /' >&2; return 1; }
	gw_stop g1 && log_has g1 "copies 90 copy_errors 0" &&
	log_has g1 "--container $C: 239.1.1.2 joined behind it" &&
	log_has g1 "--container $C: 239.1.1.2 left behind it"
}

# --container across a restart of Docker itself: the events stream ends
# with dockerd (SIGTERM; it stops the container), the thread asks at once
# (Docker gone: logged, the last process followed meanwhile), then asks for
# the stream again with a bounded backoff (100 ms doubling to 2 s); dockerd
# back (same data root) restarts the container (--restart always), and
# mctun follows it to its new veth, exactly, without a restart of its own.
test_targets_container_dockerd_restart() {
	local I C="$PFX-cam1" G=239.1.1.1:5000 v1 v2 dpid i t0 b=$((100 * 228))
	islands 1 || return 1
	tg_cam run -d --restart always || return $?
	tg_cjoined "$C" "$G" || return 1
	gw g1 g1 -i isl -g "$G" --container "$C" --docker-socket "$T/docker.sock" || return 1
	v1=$(tg_cveth mcbr1)
	tg_wait_joined "$v1" 239.1.1.1 || return 1
	tx h1 "$G" --count 100 --rate 2000pps --size 200 --ttl 1 || return 1
	sleep 0.3
	tg_status "$v1 (ttl as sent): packets 100, bytes $b, errors 0" || return 1
	tg_stream || return 1

	dpid=$(cat "$T/dockerd.main")
	kill -TERM "$dpid"
	for ((i = 0; i < 6 * WAIT_STEPS; i++)); do
		kill -0 "$dpid" 2>/dev/null || break
		sleep 0.05
	done
	kill -0 "$dpid" 2>/dev/null && { fail "dockerd did not stop"; return 1; }
	wait_log g1 "--container $C: Docker at $T/docker.sock: connect: .* (following its last known process meanwhile)" &&
	wait_log g1 "--container $C: the interface is gone: no copies until it is back" || return 1
	[ "$(grep -c "Docker at $T/docker.sock: connect" "$T/g1.log")" = 1 ] ||
		{ fail "Docker's absence is logged more than once:"; sed 's/^/      /' "$T/g1.log" >&2; return 1; }
	dockerd_start g1 || return 1
	t0=$(date +%s%N)
	wait_log g1 "--container $C: Docker at $T/docker.sock answers again" &&
	wait_log g1 "--container $C: copying to " || return 1
	note "copies resumed $((($(date +%s%N) - t0) / 1000000)) ms after the restarted dockerd answered (the log polled every 50 ms)"
	tg_cjoined "$C" "$G" || return 1
	v2=$(tg_cveth mcbr1)
	[ -n "$v2" ] && [ "$v2" != "$v1" ] || { fail "no new veth: $v1, then ${v2:-none}"; return 1; }
	log_has g1 "--container $C: copying to $v2 (index $(ifindex g1 "$v2")) from now on" &&
		tg_wait_joined "$v2" 239.1.1.1 || return 1
	tx h1 "$G" --count 100 --rate 2000pps --size 200 --ttl 1 || return 1
	sleep 0.3
	tg_status "$v2 (ttl as sent): packets 200, bytes $((2 * b)), errors 0" && tg_stream || return 1
	gw_stop g1 && log_has g1 "copies 200 copy_errors 0"
}

# tg_stream: g1's mctun follows Docker's events: it holds one stream
# socket connected (to Docker: it has no other), the same one 1.5 s later,
# when a thread that asked again and again would have had others.
tg_stream() {
	local a b
	a=$(nsx g1 ss -xHp state established 2>/dev/null | awk -v p="pid=$(gw_pid g1)," '$1 == "u_str" && index($0, p) { print $5 }')
	sleep 1.5
	b=$(nsx g1 ss -xHp state established 2>/dev/null | awk -v p="pid=$(gw_pid g1)," '$1 == "u_str" && index($0, p) { print $5 }')
	[ -n "$a" ] && [ "$(wc -l <<<"$a")" = 1 ] && [ "$a" = "$b" ] ||
		{ fail "no one stream to Docker held open: sockets '$a', then '$b'"; return 1; }
}

# --container 'NAME network NET': a container on two user-defined networks
# (docker network connect) gets its copies through its veth on the one
# named. Without a network named, one on a single network works as ever;
# on several it is refused at start, one line naming the container and its
# networks, and while running (connected to a second network) it gets no
# copies, logged once, until it is on one again; a network it is not on is
# refused too, and logged when it is disconnected from it while running.
test_targets_container_networks() {
	local I C="$PFX-cam1" G=239.1.1.1:5000 N1="$PFX-cams" N2="$PFX-other" v1 v2 b=$((100 * 228))
	islands 1 || return 1
	tg_cam run -d || return $?
	tg_cjoined "$C" "$G" || return 1
	gw g1 g1 -i isl -g "$G" --container "$C" --docker-socket "$T/docker.sock" || return 1
	v1=$(tg_cveth mcbr1)
	tg_wait_joined "$v1" 239.1.1.1 || return 1
	tx h1 "$G" --count 100 --rate 2000pps --size 200 --ttl 1 || return 1
	sleep 0.3
	tg_status "$v1 (ttl as sent): packets 100, bytes $b, errors 0" || return 1

	# a second network: which one is meant is no longer clear
	docker network create --internal --subnet 198.18.201.0/24 \
		-o com.docker.network.bridge.name=mcbr2 "$N2" >>"$T/docker.out" 2>&1 &&
	docker network connect "$N2" "$C" >>"$T/docker.out" 2>&1 ||
		{ fail "docker network create, connect:"; sed 's/^/      /' "$T/docker.out" >&2; return 1; }
	wait_log g1 "--container $C: on several networks ($N1, $N2): choose one with '$C network NET': no copies meanwhile" &&
	wait_log g1 "--container $C: the interface is gone: no copies until it is back" || return 1
	tx h1 "$G" --count 10 --rate 1000pps --size 200 --ttl 1 || return 1
	tg_status "$v1 (ttl as sent, gone): packets 100, bytes $b, errors 0" && gw_stop g1 || return 1
	[ "$(grep -c "on several networks" "$T/g1.log")" = 1 ] ||
		{ fail "logged more than once:"; sed 's/^/      /' "$T/g1.log" >&2; return 1; }

	tg_refused 10 "-i isl --container $C --docker-socket $T/docker.sock|--container $C: on several networks ($N1, $N2): choose one with '$C network NET'" \
		"-i isl --container '$C network nosuch' --docker-socket $T/docker.sock|--container $C: not on network nosuch (on: $N1, $N2)" \
		"-i isl --container '$C network a/b'|--container: 'a/b' is not a Docker network's name or id" \
		"-i isl --container '$C bridge $N2'|--container: '$C bridge $N2': after the container only 'network NET', 'ttl N', 'direction in|out|both' and 'groups all|learned' may follow" ||
		return 1

	# the one named: its veth on that network's bridge (groups all: the
	# receiver joined the group on its first interface only)
	gw g1 g1 -i isl -g "$G" --container "$C network $N2 groups all" --docker-socket "$T/docker.sock" ||
		return 1
	v2=$(tg_cveth mcbr2)
	[ -n "$v2" ] && [ "$v2" != "$v1" ] || { fail "no veth on mcbr2: ${v2:-none}"; return 1; }
	tx h1 "$G" --count 100 --rate 2000pps --size 200 --ttl 1 || return 1
	sleep 0.3
	tg_status "$v2 (ttl as sent, groups all): packets 100, bytes $b, errors 0" || return 1
	# cut off it: no copies, logged once
	docker network disconnect "$N2" "$C" >>"$T/docker.out" 2>&1 ||
		{ fail "docker network disconnect:"; sed 's/^/      /' "$T/docker.out" >&2; return 1; }
	wait_log g1 "--container $C: not on network $N2 (on: $N1): no copies meanwhile" &&
	wait_log g1 "--container $C: the interface is gone: no copies until it is back" || return 1
	tx h1 "$G" --count 10 --rate 1000pps --size 200 --ttl 1 || return 1
	tg_status "$v2 (ttl as sent, gone, groups all): packets 100, bytes $b, errors 0" || return 1
	# and on it again: followed to its new veth there
	docker network connect "$N2" "$C" >>"$T/docker.out" 2>&1 ||
		{ fail "docker network connect again:"; sed 's/^/      /' "$T/docker.out" >&2; return 1; }
	wait_log g1 "--container $C: copying to " || return 1
	v2=$(tg_cveth mcbr2)
	tx h1 "$G" --count 100 --rate 2000pps --size 200 --ttl 1 || return 1
	sleep 0.3
	tg_status "$v2 (ttl as sent, groups all): packets 200, bytes $((2 * b)), errors 0" &&
	gw_stop g1 && log_has g1 "copies 200 copy_errors 0"
}
