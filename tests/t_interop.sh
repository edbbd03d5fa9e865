# shellcheck shell=bash
# Interoperability: `--framing udptunnel` against Debian's udptunnel, with
# mctun as the server and as the client; bad frames, empty datagrams and a
# dead peer. Topology: islands 2 (lib.sh); mctun runs on g1, udptunnel on
# g2, both carrying UG between h1's island and h2's.
#
# What udptunnel does (udptunnel(1), and seen with strace): a 16-bit length
# in network byte order before each datagram; it sends with the TTL given
# after the group (UG_TTL here) and multicast loopback off; it exits when
# its TCP peer closes. And one quirk every count below is designed around:
# it forwards ONE datagram per read() of its TCP socket and keeps the rest
# buffered, in order, until more bytes arrive. Whenever it falls behind
# (two frames in one read), a datagram stays behind until one more read
# has happened, and stays for good if none comes. So N datagrams sent to
# udptunnel are all out once N reads have each found a whole frame, however
# they were coalesced: after them h1 sends MARKERS >= N small markers from
# another sender, paced so that each arrives alone and is a read of its
# own. The N datagrams under test are then counted exactly. Of the markers,
# udptunnel may still hold as many as fell behind; for them the test checks
# that what arrived is a gapless, duplicate-free prefix, and that mctun's
# own count of frames sent to udptunnel is exact.

UG=239.1.2.3:5000
UG_TTL=3               # udptunnel's TTL for what it sends on island 2
UT_PORT=7001
N_UT=100               # datagrams under test towards udptunnel
MARKERS=150            # >= N_UT, of 40 bytes: all that may wait in udptunnel's
                       # buffer, 100 x 202 + 150 x 42 bytes, stays under the
                       # 64 KiB it exits on

# ut_start NAME NS ARGS...: `udptunnel -v ARGS` in NS, its log in
# $T/NAME.log, its pid in $T/NAME.pid (cleanup_test ends it).
ut_start() {
	local name=$1 ns=$2; shift 2
	command -v udptunnel >/dev/null ||
		{ echo "udptunnel is not installed (tests/install-deps.sh installs it)"; return 77; }
	: >"$T/$name.log"
	nsenter --net="/run/netns/$PFX-$ns" -- udptunnel -v "$@" >>"$T/$name.log" 2>&1 &
	echo $! >"$T/$name.pid"
}

# ut_gone NAME: the udptunnel exits (bounded wait).
ut_gone() {
	local pid i
	pid=$(cat "$T/$1.pid") || return 1
	for ((i = 0; i < WAIT_STEPS; i++)); do
		kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null; rm -f "$T/$1.pid"; return 0; }
		sleep 0.05
	done
	fail "udptunnel $1 (pid $pid) still runs"
}

# ut_islands: two islands; g2 routes the multicast range to its island
# (udptunnel joins and sends by the routing table; mctun names its interface).
ut_islands() {
	islands 2 || return 1
	ip -n "$PFX-g2" route add 224.0.0.0/4 dev isl
}

# txid NAME NS ARGS...: `mctun send UG ARGS` in NS, in the foreground; the
# sender's id goes to $T/NAME.id.
txid() {
	local name=$1 ns=$2; shift 2
	nsx "$ns" "$MCTUN" send "$UG" "$@" --json --quiet >"$T/$name.send.json" 2>"$T/tx.err" ||
		{ fail "send $*:"; cat "$T/tx.err" >&2; return 1; }
	sed -n 's/.*"sender_id":"\([0-9a-f]*\)".*/\1/p' "$T/$name.send.json" >"$T/$name.id"
	[ -s "$T/$name.id" ] || { fail "send $name: no sender_id in $(cat "$T/$name.send.json")"; return 1; }
}

# sender_num RX NAME KEY: KEY of sender NAME in receiver RX's report.
sender_num() {
	sed 's/{"id":/\n{"id":/g' "$T/$1.json" | grep -F "\"id\":\"$(cat "$T/$2.id")\"" |
		grep -o "\"$3\": *-\?[0-9.]*" | head -n1 | sed 's/.*: *//'
}

# expect_sender RX NAME COUNT [KEY=VALUE...]: RX got exactly COUNT datagrams
# from sender NAME, each once, sequence numbers 0 .. COUNT-1, none corrupt;
# and each KEY (ttl, dscp, ...) has VALUE.
expect_sender() {
	local rx=$1 name=$2 n=$3 kv got; shift 3
	for kv in received="$n" unique="$n" lost=0 duplicates=0 corrupt=0 first_seq=0 \
		  last_seq=$((n - 1)) "$@"; do
		got=$(sender_num "$rx" "$name" "${kv%%=*}")
		[ "$got" = "${kv#*=}" ] && continue
		fail "$rx: sender $name: ${kv%%=*} = ${got:-none}, want ${kv#*=}"
		sed 's/^/      /' "$T/$rx.json" >&2
		return 1
	done
}

# expect_markers RX NAME SENT: of SENT markers, RX got a gapless prefix
# (sequence numbers 0 .. received-1), each once: udptunnel holds the rest.
expect_markers() {
	local got
	got=$(sender_num "$1" "$2" received)
	got=${got:-0}
	((got <= $3)) || { fail "$1: $got markers of $3"; return 1; }
	((got > 0)) || return 0
	expect_sender "$1" "$2" "$got"
}

# peer_line NAME: the udptunnel-framed peer's counters in gateway NAME's
# log (logged at exit).
peer_line() { grep "udptunnel framing, framing drops" "$T/$1.log" | tail -n1; }

# both_ways: h2 (udptunnel's island) sends 300 datagrams, h1 (mctun's) sends
# N_UT and the markers; each island gets the other's exactly once, and
# nothing echoes.
both_ways() {
	rx r1 h1 "$UG" --duration 30 && rx r2 h2 "$UG" --duration 30 || return 1
	# udptunnel frames each datagram as it reads it; mctun takes every whole
	# frame it has read: this direction needs no markers.
	txid a h2 --count 300 --rate 500pps --ttl 4 --dscp ef || return 1
	txid b h1 --count "$N_UT" --rate 500pps --ttl 4 --dscp ef && markers h1 || return 1
	rx_stop r1 r2 || return 1
	# mctun re-injects at its --ttl (1); the framing carries no DSCP, so 0.
	expect_sender r1 a 300 ttl=1 dscp=0 && expect_sender r1 b "$N_UT" && expect_sender r1 m "$MARKERS" ||
		return 1
	# udptunnel sends at the TTL it was given, with no DSCP either. h2's own
	# datagrams once each: mctun did not send them back.
	expect_sender r2 b "$N_UT" ttl=$UG_TTL dscp=0 && expect_sender r2 a 300 &&
	expect_markers r2 m "$MARKERS" || return 1
	# and nothing else: on h2, the markers' sender unless udptunnel held all
	local k n
	for k in r1 r2; do
		n=3
		[ "$k" = r2 ] && [ -z "$(sender_num r2 m received)" ] && n=2
		[ "$(jsenders "$T/$k.json")" = "$n" ] && [ "$(jnum "$T/$k.json" foreign)" = 0 ] ||
			{ fail "$k: want $n senders, nothing foreign:"; sed 's/^/      /' "$T/$k.json" >&2; return 1; }
	done
}

# markers NS: the trailing markers (see the top), 10 ms apart.
markers() { txid m "$1" --count "$MARKERS" --rate 100pps --size 40 --ttl 4; }

# expect_counts NAME IN: the counters mctun logged at exit for its udptunnel
# peer: IN 200-byte datagrams in, N_UT of them and the markers out, each
# with its 2-byte length.
expect_counts() {
	local line want
	line=$(peer_line "$1")
	want=": in $2 frames $(($2 * 202)) bytes, out $((N_UT + MARKERS)) frames"
	want+=" $((N_UT * 202 + MARKERS * 42)) bytes, queue drops 0,"
	grep -qF -- "$want" <<<"$line" || { fail "$1: udptunnel peer: $line; want '$want'"; return 1; }
}

# mctun --listen, udptunnel -c connects to it.
test_interop_mctun_server_udptunnel_client() {
	ut_islands || return 1
	gw g1 g1 --insecure -i isl -g "$UG" --listen "198.19.12.1:$UT_PORT" --framing udptunnel || return 1
	ut_start ut g2 -c "198.19.12.1/$UT_PORT" "${UG%:*}/${UG#*:}/$UG_TTL" || return $?
	wait_log ut "Connected TCP" && wait_log g1 "up (udptunnel framing, inbound)" || return 1
	both_ways || return 1
	# mctun status names the framing (published every 200 ms)
	sleep 0.5
	nsx g1 "$MCTUN" status >"$T/st.txt" && nsx g1 "$MCTUN" status --json >"$T/st.json" ||
		{ fail "mctun status failed"; return 1; }
	grep -q "peer 198.19.12.2:[0-9]* inbound up, udptunnel framing, up since" "$T/st.txt" &&
	grep -q '"node_id":null,"up_since_ns":[0-9]*,"up_s":[0-9.]*,"framing":"udptunnel","transport":"tcp","subflows":0,"frames_in":300,' "$T/st.json" &&
	grep -q '"framing_drops":0,' "$T/st.json" ||
		{ fail "status:"; cat "$T/st.txt" "$T/st.json" >&2; return 1; }
	gw_stop g1 && expect_counts g1 300 || return 1
	# udptunnel exits once its peer has closed
	ut_gone ut && gw_clean g1
}

# mctun --peer connects to udptunnel -s.
test_interop_mctun_client_udptunnel_server() {
	ut_islands || return 1
	ut_start ut g2 -s "$UT_PORT" "${UG%:*}/${UG#*:}/$UG_TTL" || return $?
	wait_log ut "Listening for TCP" || return 1
	gw g1 g1 --insecure -i isl -g "$UG" --peer "198.19.12.2:$UT_PORT" --framing udptunnel &&
	wait_log g1 "up (udptunnel framing, outbound)" && wait_log ut "connection from" || return 1
	both_ways || return 1
	gw_stop g1 && expect_counts g1 300 || return 1
	ut_gone ut && gw_clean g1
}

# A frame longer than any IPv4 datagram closes its own connection, after
# the whole frame before it was delivered; the udptunnel peer keeps flowing.
test_interop_bad_frame_closes_only_that_connection() {
	ut_islands || return 1
	gw g1 g1 --insecure -i isl -g "$UG" --listen "198.19.12.1:$UT_PORT" --framing udptunnel || return 1
	ut_start ut g2 -c "198.19.12.1/$UT_PORT" "${UG%:*}/${UG#*:}/$UG_TTL" || return $?
	wait_log g1 "up (udptunnel framing, inbound)" || return 1
	rx r1 h1 "$UG" --duration 30 && rx r2 h2 "$UG" --duration 30 || return 1
	# "abc" in a frame, then a length of 65535
	nsx g2 bash -c "exec 3<>/dev/tcp/198.19.12.1/$UT_PORT; printf '\\000\\003abc\\377\\377xyz' >&3; sleep 0.3" ||
		return 1
	wait_log g1 "down: bad frame: length 65535 over the largest datagram of IPv4 (65507)" || return 1
	txid a h2 --count 300 --rate 500pps --ttl 4 || return 1
	rx_stop r1 r2 || return 1
	# "abc" reached both islands: re-injected on h1's, and passed on to
	# udptunnel (a lone frame: udptunnel forwards it at once)
	expect_sender r1 a 300 && [ "$(jnum "$T/r1.json" foreign)" = 1 ] &&
	[ "$(jnum "$T/r2.json" foreign)" = 1 ] ||
		{ fail "want 300 from h2 and 1 foreign on h1, 1 foreign on h2:"; cat "$T/r1.json" "$T/r2.json" >&2; return 1; }
	kill -0 "$(cat "$T/ut.pid")" || { fail "udptunnel exited"; return 1; }
	gw_stop g1 || return 1
	grep -q "bad frames 1;" "$T/g1.log" || { fail "g1: bad frames not 1"; return 1; }
	grep -q ": in 300 frames 60600 bytes, out 1 frames 5 bytes, queue drops 0," <<<"$(peer_line g1)" ||
		{ fail "udptunnel peer: $(peer_line g1), want in 300 frames, out 1"; return 1; }
	ut_gone ut && gw_clean g1
}

# An empty datagram is never framed: udptunnel exits when its socket reads
# one and mcasttunnel takes a zero length for the end of the stream. It is
# counted; everything else still crosses.
test_interop_empty_datagram_not_framed() {
	ut_islands || return 1
	gw g1 g1 --insecure -i isl -g "$UG" --listen "198.19.12.1:$UT_PORT" --framing udptunnel || return 1
	ut_start ut g2 -c "198.19.12.1/$UT_PORT" "${UG%:*}/${UG#*:}/$UG_TTL" || return $?
	wait_log g1 "up (udptunnel framing, inbound)" || return 1
	rx r2 h2 "$UG" --duration 30 || return 1
	# The empty datagram: a udptunnel on h1 sends one for a zero-length frame.
	ut_start gen h1 -s 7100 "${UG%:*}/${UG#*:}/4" && wait_log gen "Listening for TCP" || return 1
	nsx h1 bash -c 'exec 3<>/dev/tcp/127.0.0.1/7100; printf "\000\000" >&3; sleep 0.3' || return 1
	ut_gone gen || return 1
	txid b h1 --count "$N_UT" --rate 500pps --ttl 4 && markers h1 || return 1
	rx_stop r2 || return 1
	expect_sender r2 b "$N_UT" && expect_markers r2 m "$MARKERS" || return 1
	[ "$(jnum "$T/r2.json" foreign)" = 0 ] || { fail "h2 got something foreign:"; cat "$T/r2.json" >&2; return 1; }
	gw_stop g1 || return 1
	grep -q "framing 1; bad frames 0;" "$T/g1.log" || { fail "g1: framing drops not 1:"; cat "$T/g1.log" >&2; return 1; }
	expect_counts g1 0 && grep -q "framing drops 1$" <<<"$(peer_line g1)" ||
		{ fail "udptunnel peer: $(peer_line g1), want framing drops 1"; return 1; }
	ut_gone ut && gw_clean g1
}

# udptunnel sends no keepalive: TCP keepalives find the peer dead when the
# link goes silent, within --dead-after (3 s); the client reconnects with
# back-off once a new udptunnel listens (udptunnel serves one connection).
test_interop_dead_peer_found_by_tcp_keepalive() {
	ut_islands || return 1
	ut_start ut g2 -s "$UT_PORT" "${UG%:*}/${UG#*:}/$UG_TTL" || return $?
	wait_log ut "Listening for TCP" || return 1
	gw g1 g1 --insecure -i isl -g "$UG" --peer "198.19.12.2:$UT_PORT" --framing udptunnel &&
	wait_log g1 "up (udptunnel framing, outbound)" || return 1
	ip -n "$PFX-g2" link set w12 down
	local t0=$SECONDS
	wait_log g1 "down: .*Connection timed out" || return 1
	(( SECONDS - t0 <= $(scaled 5) )) || { fail "took $((SECONDS - t0)) s"; return 1; }
	ip -n "$PFX-g2" link set w12 up
	kill "$(cat "$T/ut.pid")" && ut_gone ut || return 1
	ut_start ut g2 -s "$UT_PORT" "${UG%:*}/${UG#*:}/$UG_TTL" &&
	wait_log g1 "up (udptunnel framing, outbound)" 2 || return 1
	rx r1 h1 "$UG" --duration 30 || return 1
	txid a h2 --count 200 --rate 500pps --ttl 4 || return 1
	rx_stop r1 && expect_sender r1 a 200
}

# The framing names no group: exactly one -g, or a clear refusal.
test_interop_framing_needs_one_group() {
	ns_add a || return 1
	local rc=0
	nsx a "$MCTUN" run -i lo -g "$UG" -g 239.1.2.4:5000 --listen 127.0.0.1:7001 \
		--framing udptunnel >"$T/out" 2>&1 || rc=$?
	[ "$rc" = 2 ] && grep -q -- "--framing udptunnel: carries exactly one group (-g), 2 given" "$T/out" ||
		{ fail "exit $rc: $(cat "$T/out")"; return 1; }
	rc=0
	nsx a "$MCTUN" run -i lo -g "$UG" --listen 127.0.0.1:7001 --framing rtp >"$T/out" 2>&1 || rc=$?
	[ "$rc" = 2 ] && grep -q -- "--framing: 'rtp' is not mctun or udptunnel" "$T/out" ||
		{ fail "exit $rc: $(cat "$T/out")"; return 1; }
}
