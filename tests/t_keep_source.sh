# shellcheck shell=bash
# --keep-source: datagrams re-injected as their original sender sent them
# (address and port), through a header-included raw socket, and never
# captured again although their source is another host's: the TC program
# and socket mode's filters know them by the socket's mark.
# Topology: islands() in lib.sh. h1 sends on island 1, g1 captures, g2
# re-injects on island 2 for h2 and for a receiver on g2 itself.

# ks_from NAME WANT: every sender in receiver NAME's report came from WANT.
ks_from() {
	local got
	got=$(grep -o '"from":"[^"]*"' "$T/$1.json" | sort -u | tr '\n' ' ')
	[ "$got" = "\"from\":\"$2\" " ] ||
		{ fail "$1: senders ${got:-none}, want $2 only"; sed 's/^/      /' "$T/$1.json" >&2; return 1; }
}

# keep_source MODE: IPv4 and IPv6, small datagrams and ones three times the
# MTU (fragmented by mctun itself, as a raw socket does not), to h2 and to
# an application on g2; each arrives once, from h1's address and port, and
# g2 sends none of it back to g1.
keep_source() {
	local mode=$1 n
	islands 2 || return 1
	gw g2 g2 --insecure -i isl --mode "$mode" -g 239.1.1.1:5000 -g '[ff15::1]:5000' \
		--keep-source --listen 198.19.12.2:7000 || return 1
	gw g1 g1 --insecure -i isl -g 239.1.1.1:5000 -g '[ff15::1]:5000' \
		--peer 198.19.12.2:7000 || return 1
	wait_log g1 "up (node" && wait_log g2 "up (node" || return 1
	rx r4 h2 239.1.1.1:5000 --duration 60 && rx l4 g2 239.1.1.1:5000 --iface isl --duration 60 &&
		rx r6 h2 '[ff15::1]:5000' --duration 60 && rx_seen g2 239.1.1.1 || return 1
	tx h1 239.1.1.1:5000 --count 100 --rate 2000pps --size 200 --source-port 4321 --ttl 4 &&
	tx h1 239.1.1.1:5000 --count 20 --rate 500pps --size 4000 --source-port 4321 --ttl 4 &&
	tx h1 '[ff15::1]:5000' --count 100 --rate 2000pps --size 200 --source-port 4322 --ttl 4 &&
	tx h1 '[ff15::1]:5000' --count 20 --rate 500pps --size 4000 --source-port 4322 --ttl 4 ||
		return 1
	rx_stop r4 l4 r6 || return 1
	# the two sends are two sender ids from one address and port
	expect_rx r4 120 2 && expect_rx l4 120 2 && expect_rx r6 120 2 || return 1
	ks_from r4 198.18.1.2:4321 && ks_from l4 198.18.1.2:4321 &&
		ks_from r6 '[2001:db8:1::2]:4322' || return 1
	# nothing of its own re-injection came back into g2's capture and to
	# g1 (socket mode has no maps for `mctun stats`: the logs say it)
	gw_stop g2 && gw_stop g1 || return 1
	log_has g2 "captured 0 (ring 0, socket 0, own skipped 0); injected 240 (errors 0," &&
		log_has g1 "injected 0 (errors 0,"
}

test_keep_source_tc() { keep_source tc; }
test_keep_source_socket() { keep_source socket; }

# SSM end to end: two senders to one group on island 1, h1 (S, its first
# address) and h1's second address; on island 2, h2 joins (S,G) with
# IGMPv3 or MLDv2. g2 learns the (S,G) join and tells g1, which joins (S,G)
# on island 1 and captures only S's datagrams: h2 gets every one of them,
# with S's address and port as the sender, and none of the other's.
# Without --keep-source h2's kernel would drop them all (wrong source).
# ssm FAMILY RANGE GROUP S OTHER FILTER: FILTER greps g1's /proc/net/mcfilter*
# line of the (S,G) join.
ssm() {
	local fam=$1 range=$2 group=$3 s=$4 other=$5 filter=$6 file
	islands 2 || return 1
	ip -n "$PFX-h1" addr add "$other" dev eth0 nodad 2>/dev/null ||
		ip -n "$PFX-h1" addr add "$other" dev eth0
	gw g2 g2 --insecure -i isl -g "$range" --membership learn --keep-source \
		--listen 198.19.12.2:7000 || return 1
	gw g1 g1 --insecure -i isl -g "$range" --peer 198.19.12.2:7000 || return 1
	wait_log g1 "up (node" && wait_log g2 "up (node" || return 1
	rx r h2 "$group" --source "$s" --duration 60 || return 1
	# g1 has joined (S,G) on island 1: its kernel's source filter says so
	file=/proc/net/mcfilter; [ "$fam" = 6 ] && file=/proc/net/mcfilter6
	within 2 eval 'ip netns exec "$PFX-g1" cat $file | grep -q -- "$filter"' ||
		{ fail "g1 did not join ($s, $group) on island 1:"; nsx g1 "$MCTUN" status >&2
		  ip netns exec "$PFX-g1" cat "$file" >&2; return 1; }
	tx h1 "$group" --bind "$s" --source-port 4321 --count 200 --rate 2000pps --ttl 4 &&
	tx h1 "$group" --bind "${other%/*}" --source-port 4321 --count 200 --rate 2000pps --ttl 4 ||
		return 1
	rx_stop r && expect_rx r 200 || return 1
	if [ "$fam" = 6 ]; then ks_from r "[$s]:4321"; else ks_from r "$s:4321"; fi || return 1
	# only S's datagrams crossed the WAN
	gw_stop g1 || return 1
	log_has g1 "captured 200 (ring 200,"
}

test_keep_source_ssm() {
	ssm 4 '232.1.1.0/24:*' 232.1.1.1:5000 198.18.1.2 198.18.1.3/24 \
		"isl *0xe8010101 *0xc6120102 *1 *0"
}

test_keep_source_ssm_ipv6() {
	ssm 6 '[ff15::/16]:*' '[ff15::1:1]:5000' 2001:db8:1::2 2001:db8:1::3/64 \
		"isl *ff150000000000000000000000010001 *20010db8000100000000000000000002 *1 *0"
}

# ---- the packet builder -----------------------------------------------------
# user/lib/ippkt.c on its own (tests/unit_ippkt.c): every packet of datagrams
# of many sizes and MTUs read back byte by byte, fragments reassembled, the
# UDP checksum worked out again. No network and no namespace (unit_run in
# lib.sh); again under valgrind when that is installed.
test_ippkt_unit() { UNIT_VALGRIND=1 unit_run unit_ippkt; }
