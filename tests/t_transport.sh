# shellcheck shell=bash
# --transport mptcp: a tunnel connection over Multipath TCP uses both WAN
# links between two gateways and outlives the death of the one it was
# opened on; over plain TCP the same fault ends the connection and loses
# what was sent meanwhile. Uses G from t_tunnel.sh.

# mp_available: MPTCP sockets work in the test's namespaces (their
# net.mptcp.enabled is the namespace's own, 1 unless changed).
mp_available() {
	[ "$(ip netns exec "$PFX-g1" sysctl -n net.mptcp.enabled 2>/dev/null)" = 1 ] ||
		{ echo "no MPTCP in this kernel (net.mptcp.enabled missing or 0)"; return "$SKIP"; }
}

# mp_links: islands 2 with a second WAN link w12b (198.19.121.0/24) beside
# w12; the client g1 opens a subflow from its w12b address (the in-kernel
# path manager: endpoint and limits), the server g2 accepts one.
mp_links() {
	islands 2 || return 1
	mp_available || return $?
	veth g1 w12b g2 w12b || return 1
	ip -n "$PFX-g1" addr add 198.19.121.1/24 dev w12b
	ip -n "$PFX-g2" addr add 198.19.121.2/24 dev w12b
	ip -n "$PFX-g1" mptcp limits set subflows 2 add_addr_accepted 2 &&
	ip -n "$PFX-g2" mptcp limits set subflows 2 add_addr_accepted 2 &&
	ip -n "$PFX-g1" mptcp endpoint add 198.19.121.1 dev w12b subflow ||
		{ fail "ip mptcp: cannot configure the path manager"; return 1; }
}

# mp_pair TRANSPORT ARGS...: g2 listens, g1 connects, both over TRANSPORT,
# authenticated with a pre-shared key (TLS works over MPTCP unchanged).
mp_pair() {
	local tr=$1; shift
	nsx g1 "$MCTUN" genpsk "$T/psk" 2>/dev/null || { fail "genpsk"; return 1; }
	gw g2 g2 -i isl --psk-file "$T/psk" --transport "$tr" "$@" --listen 198.19.12.2:7000 &&
	gw g1 g1 -i isl --psk-file "$T/psk" --transport "$tr" "$@" --peer 198.19.12.2:7000 &&
	wait_log g1 "up (node" && wait_log g2 "up (node"
}

# mp_status NS PATTERN [ARGS]: `mctun status ARGS` in NS shows PATTERN.
mp_status() { nsx "$1" "$MCTUN" status ${3:+"$3"} | grep -q -- "$2"; }

# cut_and_send: h1 sends 6000 datagrams at 1000 pps; 1 s in, g1's w12 (the
# link the connection was opened on) goes down for 4 s, longer than
# --dead-after (3 s), and comes back before the end. h2 counts.
cut_and_send() {
	rx r2 h2 "$G" --duration 30 || return 1
	tx h1 "$G" --count 6000 --rate 1000pps --size 200 --ttl 4 &
	local txpid=$!
	sleep 1
	ip -n "$PFX-g1" link set w12 down
	sleep 4
	ip -n "$PFX-g1" link set w12 up
	wait "$txpid" || { fail "send"; return 1; }
	kill -INT "$(cat "$T/r2.rxpid")"; rx_wait r2
}

# Over MPTCP the connection lives on through the other link: every
# datagram arrives exactly once (recv counts loss and duplicates per
# sender), and no peer went silent or came up again (g2 sees the
# connection close only when g1 stops).
test_mptcp_survives_a_dead_link() {
	mp_links || return $?
	mp_pair mptcp -g "$G" || return 1
	log_has g1 "running on isl .* over mptcp" && log_has g1 "up (node .*, mptcp)" || return 1
	within 10 mp_status g1 "up, .*mptcp (2 subflows)" ||
		{ fail "g1 does not show 2 subflows:"; nsx g1 "$MCTUN" status >&2; return 1; }
	nsx g1 "$MCTUN" status --json >"$T/st.json" || return 1
	has_text "$T/st.json" '"transport":"mptcp","subflows":2,' || return 1
	cut_and_send || return 1
	expect_rx r2 6000 || return 1
	gw_stop g1 && gw_stop g2 || return 1
	for g in g1 g2; do
		[ "$(grep -c "up (node" "$T/$g.log")" = 1 ] && ! grep -q "down: silent" "$T/$g.log" ||
			{ fail "$g: the connection went down:"; sed 's/^/      /' "$T/$g.log" >&2; return 1; }
	done
}

# The control: the same fault over plain TCP ends the connection (silent
# for --dead-after), and what was sent while it was down is lost (with
# --resume 0: a resumed connection would replay it, t_resume.sh). So the
# test above cannot pass without MPTCP.
test_tcp_dies_with_its_link() {
	local got
	mp_links || return $?
	mp_pair tcp -g "$G" --resume 0 || return 1
	cut_and_send || return 1
	got=$(jnum "$T/r2.json" received)
	[ "${got:-0}" -lt 6000 ] || { fail "r2: received $got of 6000 over plain TCP"; return 1; }
	gw_stop g1 || return 1
	log_has g1 "down: silent for" || return 1
}

# A peer that does not take MPTCP: the connection falls back to plain TCP,
# says so, and carries traffic; doctor reports the path manager.
test_mptcp_falls_back_and_doctor_reports() {
	mp_links || return $?
	nsx g1 "$MCTUN" genpsk "$T/psk" 2>/dev/null || return 1
	gw g2 g2 -i isl --psk-file "$T/psk" -g "$G" --listen 198.19.12.2:7000 &&
	gw g1 g1 -i isl --psk-file "$T/psk" --transport mptcp -g "$G" --peer 198.19.12.2:7000 &&
	wait_log g1 "up (node" || return 1
	log_has g1 "up (node .*, plain TCP: MPTCP not taken)" || return 1
	within 5 mp_status g1 "up, .*plain TCP (MPTCP not taken)" &&
	within 5 mp_status g1 '"transport":"fallback","subflows":0,' --json &&
	within 5 mp_status g2 '"transport":"tcp","subflows":0,' --json ||
		{ fail "status does not tell the fallback:"; nsx g1 "$MCTUN" status >&2; return 1; }
	rx r2 h2 "$G" --duration 3 || return 1
	tx h1 "$G" --count 300 --rate 1000pps --ttl 4 || return 1
	rx_wait r2 && expect_rx r2 300 || return 1
	nsx g1 "$MCTUN" doctor -i isl >"$T/doc.txt"
	grep -q "^PASS  mptcp .*endpoints 198.19.121.1 dev w12b subflow; limits: subflows 2, add_addr_accepted 2" \
		"$T/doc.txt" || { fail "doctor on g1:"; sed 's/^/      /' "$T/doc.txt" >&2; return 1; }
	# MPTCP turned off in g2's namespace: doctor warns and says how to turn it on
	ip netns exec "$PFX-g2" sysctl -qw net.mptcp.enabled=0
	nsx g2 "$MCTUN" doctor -i isl >"$T/doc2.txt"
	grep -q "^WARN  mptcp .*the kernel refuses MPTCP sockets" "$T/doc2.txt" &&
	grep -q "fix: sysctl -w net.mptcp.enabled=1" "$T/doc2.txt" ||
		{ fail "doctor on g2:"; sed 's/^/      /' "$T/doc2.txt" >&2; return 1; }
}
