# shellcheck shell=bash
# Group ranges: a prefix, any port or both, matched by the most specific
# entry, in the BPF program (an LPM trie beside the exact groups' hash)
# and in the daemon (frames from the tunnel), with direction and rewrite.
# Topology: see islands() in lib.sh; pair() and log_has() in t_tunnel.sh.

R16='239.192.0.0/16:*'

# Any group of the range, on any port, crosses; one outside it does not;
# the range's counters say so, and so does `mctun status`.
test_range_any_group_any_port() {
	islands 2 && pair tc -g "$R16" || return 1
	rx a h2 239.192.1.1:5000 --duration 30 && rx b h2 239.192.200.7:6000 --duration 30 &&
	rx out h2 239.193.0.1:5000 --duration 30 || return 1
	tx h1 239.192.1.1:5000 --count 300 --rate 2000pps --ttl 4 &&
	tx h1 239.192.200.7:6000 --count 200 --rate 2000pps --ttl 4 &&
	tx h1 239.193.0.1:5000 --count 100 --rate 2000pps --ttl 4 || return 1
	rx_stop a b out || return 1
	expect_rx a 300 && expect_rx b 200 && expect_rx out 0 0 || return 1
	nsx g1 "$MCTUN" status >"$T/status" 2>&1
	grep -q "239.192.0.0/16:\*" "$T/status" ||
		{ fail "status does not list the range:"; sed 's/^/      /' "$T/status" >&2; return 1; }
	gw_stop g1 && gw_stop g2 || return 1
	log_has g1 "group 239.192.0.0/16:\*: packets 500 " && log_has g2 "injected 500 "
}

test_range_ipv6() {
	islands 2 && pair tc -g '[ff15::/16]:*' || return 1
	rx a h2 '[ff15::1:2]:7000' --duration 30 && rx b h2 '[ff15::9]:7001' --duration 30 || return 1
	tx h1 '[ff15::1:2]:7000' --count 150 --rate 2000pps --ttl 4 &&
	tx h1 '[ff15::9]:7001' --count 50 --rate 2000pps --ttl 4 || return 1
	rx_stop a b && expect_rx a 150 && expect_rx b 50
}

# The most specific entry decides: the longest prefix, then a port before
# any port. Entries of direction in are never captured, so which entry a
# datagram fell in shows in what crosses.
test_range_most_specific_wins() {
	islands 2 || return 1
	gw_ipns g2 g2 --insecure -i isl -g "$R16" --listen 198.19.12.2:7000 &&
	gw g1 g1 --insecure -i isl -g "$R16" -g '239.192.5.5:5000 direction in' \
		-g '239.192.7.0/24:* direction in' -g '239.192.7.0/25:5000' \
		--peer 198.19.12.2:7000 && wait_log g1 "up (node" && wait_log g2 "up (node" || return 1
	local g n
	# group:port  -> datagrams expected on island 2
	local -A want=(
		[239.192.5.5:5000]=0      # the exact group (direction in) beats the /16
		[239.192.5.5:5001]=40     # only the /16 has this port
		[239.192.7.9:5000]=40     # /25:5000 is longer than /24:*
		[239.192.7.200:5000]=0    # outside the /25: /24:* (in) beats /16
		[239.192.8.1:5000]=40     # the /16 alone
	)
	for g in "${!want[@]}"; do
		rx "r${g//[.:]/_}" h2 "$g" --duration 30 || return 1
	done
	for g in "${!want[@]}"; do
		tx h1 "$g" --count 40 --rate 2000pps --ttl 4 || return 1
	done
	for g in "${!want[@]}"; do n+=" r${g//[.:]/_}"; done
	# shellcheck disable=SC2086
	rx_stop $n || return 1
	for g in "${!want[@]}"; do
		if [ "${want[$g]}" = 0 ]; then
			expect_rx "r${g//[.:]/_}" 0 0 || { note "group $g"; return 1; }
		else
			expect_rx "r${g//[.:]/_}" "${want[$g]}" || { note "group $g"; return 1; }
		fi
	done
	gw_stop g1 || return 1
	log_has g1 "dir_in 80\b"
}

# A range rewritten to a range of its length keeps the host bits (and,
# with any port, the port); a range rewritten to one group funnels into it.
test_range_rewrite() {
	islands 2 || return 1
	gw_ipns g2 g2 --insecure -i isl -g "$R16 rewrite 239.193.0.0/16:*" \
		-g '239.194.0.0/16:5000 rewrite 239.9.9.9:6000' --listen 198.19.12.2:7000 &&
	gw g1 g1 --insecure -i isl -g "$R16" -g '239.194.0.0/16:5000' --peer 198.19.12.2:7000 &&
	wait_log g1 "up (node" && wait_log g2 "up (node" || return 1
	rx kept h2 239.193.3.4:5050 --duration 30 && rx orig h2 239.192.3.4:5050 --duration 30 &&
	rx funnel h2 239.9.9.9:6000 --duration 30 || return 1
	tx h1 239.192.3.4:5050 --count 120 --rate 2000pps --ttl 4 &&
	tx h1 239.194.1.1:5000 --count 30 --rate 2000pps --ttl 4 &&
	tx h1 239.194.2.2:5000 --count 20 --rate 2000pps --ttl 4 || return 1
	rx_stop kept orig funnel || return 1
	expect_rx kept 120 && expect_rx orig 0 0 && expect_rx funnel 50 2
}

# Fragmented datagrams of a range are not carried (reassembly needs a
# socket joined to the group, and nobody joins a whole range): counted,
# and the unfragmented ones of the same group still cross.
test_range_fragments_counted() {
	islands 2 && pair tc -g "$R16" || return 1
	rx r h2 239.192.1.1:5000 --duration 30 || return 1
	tx h1 239.192.1.1:5000 --count 7 --rate 100pps --size 3000 --ttl 4 &&
	tx h1 239.192.1.1:5000 --count 60 --rate 2000pps --size 200 --ttl 4 || return 1
	rx_stop r && expect_rx r 60 || return 1
	gw_stop g1 || return 1
	log_has g1 "range_frags 7\b"
}

# A range joins nothing: the interface is held in all-multicast mode
# while one is captured, so a NIC does not filter its groups out.
test_range_holds_allmulti() {
	islands 2 || return 1
	ip -d -n "$PFX-g1" link show isl | grep -q ' allmulti [0-9]' ||
		return "$SKIP"   # iproute2 or kernel without IFLA_ALLMULTI: nothing to read it with
	pair tc -g "$R16" || return 1
	ip -d -n "$PFX-g1" link show isl | grep -q ' allmulti 1 ' ||
		{ fail "isl is not held in all-multicast mode:"; ip -d -n "$PFX-g1" link show isl >&2; return 1; }
	gw_stop g1 || return 1
	ip -d -n "$PFX-g1" link show isl | grep -q ' allmulti 0 ' ||
		{ fail "all-multicast mode not released:"; ip -d -n "$PFX-g1" link show isl >&2; return 1; }
}
