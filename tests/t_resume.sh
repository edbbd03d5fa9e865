# shellcheck shell=bash
# --resume: a WAN cut longer than --dead-after loses nothing that is still
# in the window; what left it is counted as a gap, exactly; a restarted far
# gateway is a new node (the documented cost); lying acknowledgements and
# resume requests are refused and counted. Uses pair(), G and log_has from
# t_tunnel.sh.

# rs_json NAME KEY: a daemon counter from `mctun status --json` in NAME's
# namespace.
rs_json() {
	nsx "$1" "$MCTUN" status --json >"$T/$1.st.json" || { fail "status in $1"; return 1; }
	jnum "$T/$1.st.json" "$2"
}

# rs_is NAME KEY VALUE: that counter has that value (published on the
# daemon's next tick: asked again for up to 2 s).
rs_is() { within 2 rs_is1 "$@"; }
rs_is1() { [ "$(rs_json "$1" "$2")" = "$3" ]; }

# rs_cut CUT RATE: h1 sends RATE pps for CUT + 3 s (RATE x (CUT + 3)
# datagrams of 200 bytes); 1 s in, the far end of the WAN link (g2's w12)
# goes down for CUT s. g1's connection attempts meanwhile wait on SYN
# retransmissions, so it is back within a few seconds of the link. Once g1
# is up again (and, with --resume, has resumed), h2's receiver is given 2 s
# for what is replayed, then stopped.
rs_cut() {
	local cut=$1 rate=$2 ups
	ups=$(grep -c "up (node" "$T/g1.log")
	rx r2 h2 "$G" --duration 120 || return 1
	tx h1 "$G" --count $((rate * (cut + 3))) --rate "${rate}pps" --size 200 --ttl 4 &
	local txpid=$!
	sleep 1
	ip -n "$PFX-g2" link set w12 down
	sleep "$cut"
	ip -n "$PFX-g2" link set w12 up
	wait "$txpid" || { fail "send"; return 1; }
	wait_log g1 "down: silent for" 1 || return 1
	# the back-off may be at 8 s by now, and a connect waits 5 s at most
	WAIT_STEPS=$((WAIT_STEPS * 3)) wait_log g1 "up (node" $((ups + 1)) || return 1
	sleep "$(scaled 2)"
	kill -INT "$(cat "$T/r2.rxpid")"; rx_wait r2
}

# rs_exact NAME SENT: every one of SENT arrived once, in order.
rs_exact() {
	expect_rx "$1" "$2" || return 1
	[ "$(jnum "$T/$1.json" reordered)" = 0 ] ||
		{ fail "$1: reordered $(jnum "$T/$1.json" reordered)"; return 1; }
}

# CUT s with --resume 30: all of it arrives once, in order, replayed by g1
# (counted, no gap); the same cut with --resume 0 loses: so the first half
# cannot pass without the feature.
rs_cut_both() {
	local cut=$1 rate=$2 sent=$(($2 * ($1 + 3))) got
	islands 2 && pair tc -g "$G" --resume 30 || return 1
	rs_cut "$cut" "$rate" || return 1
	rs_exact r2 "$sent" || return 1
	wait_log g1 "resumed: it had [0-9]* frames, [1-9][0-9]* to send again" || return 1
	rs_is g1 resume_gap 0 && rs_is g1 resume_refused 0 &&
		[ "$(rs_json g1 resume_replayed)" -gt 0 ] ||
		{ fail "g1's resume counters:"; cat "$T/g1.st.json" >&2; return 1; }
	rs_is g2 drop_dup 0 || { fail "g2 dropped duplicates"; return 1; }
	[ "${RS_CONTROL:-1}" = 1 ] || return 0
	gw_stop g1 && gw_stop g2 || return 1
	pair tc -g "$G" --resume 0 || return 1
	rs_cut "$cut" "$rate" || return 1
	got=$(jnum "$T/r2.json" received)
	[ "${got:-0}" -gt 0 ] && [ "$got" -lt "$sent" ] ||
		{ fail "--resume 0: received ${got:-?} of $sent, want fewer (the control)"; return 1; }
	! grep -q "resumed:" "$T/g1.log" || { fail "--resume 0 resumed"; return 1; }
}

test_resume_5s_cut_nothing_lost() { rs_cut_both 5 400; }

# A peer without the resume capability (as mctun spoke before --resume,
# emulated with MCTUN_PROTO_CAPS=1: subscriptions only): the connection
# comes up without resuming, a 5 s cut loses what was sent meanwhile as it
# always did, and nothing is refused or taken for a bad frame.
test_resume_old_peer_keeps_todays_behaviour() {
	local sent=$((400 * 8)) got
	islands 2 || return 1
	MCTUN_PROTO_CAPS=1 gw g2 g2 --insecure -i isl -g "$G" --listen 198.19.12.2:7000 &&
	gw g1 g1 --insecure -i isl -g "$G" --resume 30 --peer 198.19.12.2:7000 &&
	wait_log g1 "up (node" && wait_log g2 "up (node" || return 1
	! grep -q "resumes after a cut" "$T/g1.log" "$T/g2.log" ||
		{ fail "a connection to a peer without the capability resumes:"; cat "$T/g1.log" >&2; return 1; }
	rs_cut 5 400 || return 1
	got=$(jnum "$T/r2.json" received)
	[ "${got:-0}" -gt 0 ] && [ "$got" -lt "$sent" ] ||
		{ fail "received ${got:-?} of $sent, want fewer (no resume with this peer)"; return 1; }
	! grep -q "resumed:" "$T/g1.log" "$T/g2.log" || { fail "resumed with an old peer"; return 1; }
	rs_is g1 bad_frames 0 && rs_is g2 bad_frames 0 && rs_is g1 resume_refused 0 &&
		rs_is g1 resume_replayed 0
}

# 20 s: the control's loss is shown by the 5 s test; this one checks that
# a cut four times longer than the other still loses nothing.
test_resume_20s_cut_nothing_lost() { RS_CONTROL=0 rs_cut_both 20 100; }

# The window (3 s) is shorter than the cut (8 s): what left it is lost and
# counted, exactly: sent - delivered = g1's resume_gap; nothing twice.
test_resume_cut_longer_than_window_gap_counted() {
	islands 2 && pair tc -g "$G" --resume 3 || return 1
	local sent=$((200 * 11)) got dup gap
	rs_cut 8 200 || return 1
	got=$(jnum "$T/r2.json" received)
	dup=$(jnum "$T/r2.json" duplicates)
	sleep 0.3   # published on the tick
	gap=$(rs_json g1 resume_gap)
	[ "${gap:-0}" -gt 0 ] && [ "$dup" = 0 ] && [ $((sent - got)) = "$gap" ] ||
		{ fail "sent $sent, received $got, duplicates $dup, gap counted ${gap:-?}"; return 1; }
	[ "$(jnum "$T/r2.json" lost)" = "$gap" ] ||
		{ fail "recv lost $(jnum "$T/r2.json" lost), gap $gap"; return 1; }
	log_has g1 "frames it missed had left the --resume window: lost" || return 1
	[ "$(grep -c "frames it missed had left" "$T/g1.log")" = 1 ] ||
		{ fail "the gap was not logged once"; return 1; }
}

# The far gateway is killed (SIGKILL) and started again within the window.
# A restarted mctun is a new node (its node id is random per start), so, as
# README says: what was sent while it was down is lost, nothing of it is
# replayed, and nothing arrives twice. Checked exactly: 400 before, 400
# while it is down (none of them arrives), 400 after it is back.
test_resume_far_gateway_restarted() {
	islands 2 && pair tc -g "$G" --resume 30 || return 1
	rx r2 h2 "$G" --duration 60 || return 1
	tx h1 "$G" --count 400 --rate 400pps --size 200 --ttl 4 || return 1
	sleep 0.5
	kill -KILL "$(gw_pid g2)"; wait "$(gw_pid g2)" 2>/dev/null; rm -f "$T/g2.pid"
	wait_log g1 "down:" 1 || return 1
	tx h1 "$G" --count 400 --rate 400pps --size 200 --ttl 4 || return 1
	gw_ipns g2 g2 --insecure -i isl --mode tc -g "$G" --resume 30 --listen 198.19.12.2:7000 &&
		wait_log g1 "up (node" 2 || return 1
	# the new node resumes too, from nothing: a fresh start on both sides
	[ "$(grep -c "up (node.*; resumes after a cut (--resume)" "$T/g1.log")" = 2 ] ||
		{ fail "g1's connections did not both resume:"; cat "$T/g1.log" >&2; return 1; }
	sleep 0.5
	tx h1 "$G" --count 400 --rate 400pps --size 200 --ttl 4 || return 1
	sleep 0.5
	kill -INT "$(cat "$T/r2.rxpid")"; rx_wait r2 || return 1
	# three senders (one per batch): the first and the last whole, once; the
	# one sent while g2 was down never arrived at all
	expect_rx r2 800 2 || return 1
	! grep -q "resumed:" "$T/g1.log" || { fail "g1 resumed toward a new node"; return 1; }
	rs_is g1 resume_replayed 0 || { fail "g1 replayed"; return 1; }
}

# rs_hello CAPS: a hello from node 0x0102030405060708 offering CAPS (one
# byte), as bytes for printf.
rs_hello() {
	printf '%s' '\001\000\000\000\000\000\000\030MCTN\001\000\000\000\001\002\003\004\005\006\007\010\000\000\000'"$1"'\000\000\000\000'
}
# rs_frame TYPE N: a RESUME (5), REPLAY (6) or ACK (7) of N (< 256).
rs_frame() { printf '\\%03o\\000\\000\\000\\000\\000\\000\\010\\000\\000\\000\\000\\000\\000\\000\\%03o' "$1" "$2"; }

# rs_lie BYTES WHY: a crafted peer says BYTES after its hello; g2 closes
# the connection with WHY in one line.
rs_lie() {
	local n
	n=$(grep -c -- "$2" "$T/g2.log")
	nsx g1 bash -c "exec 3<>/dev/tcp/198.19.12.2/7000 && printf '$(rs_hello '\002')$1' >&3 &&
		timeout 5 cat <&3 >/dev/null; exec 3>&-" 2>/dev/null
	wait_log g2 "$2" $((n + 1))
}

# Acknowledgements and resume requests that lie are refused (the
# connection closed with one line) and counted: a resume after frames from
# a node never seen, an ack of frames never sent; an ack before the resume
# is a bad frame; so is any of them without the capability. The real peer
# goes on meanwhile.
test_resume_lies_refused_and_counted() {
	islands 2 && pair tc -g "$G" --resume 30 || return 1
	rs_lie "$(rs_frame 5 5)" "refused: resumes after frames from a node this gateway has no record of (5)" || return 1
	rs_lie "$(rs_frame 5 0)$(rs_frame 7 9)" "refused: acknowledges more frames than were sent (9)" || return 1
	rs_lie "$(rs_frame 7 0)" "bad frame: ACK before RESUME" || return 1
	rs_is g2 resume_refused 2 ||
		{ fail "g2 counted $(rs_json g2 resume_refused) refusals, want 2"; return 1; }
	nsx g2 "$MCTUN" stats --prometheus | grep -q '^mctun_resume_refused_total{.*} 2$' ||
		{ fail "no mctun_resume_refused_total 2 in the metrics"; return 1; }
	# a peer without the capability may not say any of them
	local n; n=$(grep -c "without the RESUME capability" "$T/g2.log")
	nsx g1 bash -c "exec 3<>/dev/tcp/198.19.12.2/7000 && printf '$(rs_hello '\000')$(rs_frame 7 0)' >&3 &&
		timeout 5 cat <&3 >/dev/null; exec 3>&-" 2>/dev/null
	wait_log g2 "without the RESUME capability" $((n + 1)) || return 1
	rx r2 h2 "$G" --duration 2 || return 1
	tx h1 "$G" --count 300 --rate 1000pps --ttl 4 || return 1
	rx_wait r2 && expect_rx r2 300
}

# A hub (g3) with spokes g1 and g2: the link to g2 is cut for 5 s while
# h1 sends. What g2 missed is relayed traffic (origin g1) in the hub's
# window toward g2: replayed by the hub, it reaches h2 whole, once and in
# order; h3 and the link to g1 never noticed.
test_resume_hub_replays_relayed_frames() {
	islands 3 || return 1
	gw g3 g3 --insecure -i isl -g "$G" --resume 30 --listen 0.0.0.0:7000 &&
	gw g1 g1 --insecure -i isl -g "$G" --resume 30 --peer "$(wan_addr 3 1):7000" &&
	gw g2 g2 --insecure -i isl -g "$G" --resume 30 --peer "$(wan_addr 3 2):7000" &&
	wait_log g3 "up (node" 2 || return 1
	rx r2 h2 "$G" --duration 120 && rx r3 h3 "$G" --duration 120 || return 1
	tx h1 "$G" --count 2400 --rate 300pps --size 200 --ttl 4 &
	local txpid=$!
	sleep 1
	ip -n "$PFX-g3" link set w23 down
	sleep 5
	ip -n "$PFX-g3" link set w23 up
	wait "$txpid" || { fail "send"; return 1; }
	wait_log g2 "down: silent for" 1 &&
		WAIT_STEPS=$((WAIT_STEPS * 3)) wait_log g2 "up (node" 2 || return 1
	wait_log g3 "resumed: it had [0-9]* frames, [1-9][0-9]* to send again" || return 1
	sleep "$(scaled 2)"
	kill -INT "$(cat "$T/r2.rxpid")" "$(cat "$T/r3.rxpid")"
	rx_wait r2 && rx_wait r3 || return 1
	rs_exact r2 2400 && rs_exact r3 2400 || return 1
	! grep -q "down:" "$T/g1.log" || { fail "g1's link went down"; return 1; }
	rs_is g3 resume_gap 0 && rs_is g2 drop_dup 0
}

# Two gateways that each --peer the other: with --resume a node has one
# connection, the one opened by the smaller node id, on both sides; the
# other is refused and retried with back-off, never replacing the first.
# One connection carries everything once (no duplicates to drop, which two
# connections made before).
test_resume_mutual_peers_keep_one_connection() {
	islands 2 || return 1
	gw g2 g2 --insecure -i isl -g "$G" --listen 198.19.12.2:7000 --peer 198.19.12.1:7000 &&
	gw g1 g1 --insecure -i isl -g "$G" --listen 198.19.12.1:7000 --peer 198.19.12.2:7000 &&
	wait_log g1 "already has a connection up here (one resumes)" 1 ||
		wait_log g2 "already has a connection up here (one resumes)" 1 || return 1
	rs_is g1 peers_up 1 && rs_is g2 peers_up 1 || { fail "not one peer up on each side"; return 1; }
	local u1 u2
	u1=$(grep -c "up (node" "$T/g1.log"); u2=$(grep -c "up (node" "$T/g2.log")
	rx r2 h2 "$G" --duration 4 || return 1
	tx h1 "$G" --count 1000 --rate 500pps --ttl 4 || return 1
	rx_wait r2 && rs_exact r2 1000 || return 1
	rs_is g2 drop_dup 0 && rs_is g1 peers_up 1 && rs_is g2 peers_up 1 ||
		{ fail "duplicates or a second connection"; return 1; }
	[ "$(grep -c "up (node" "$T/g1.log")" = "$u1" ] && [ "$(grep -c "up (node" "$T/g2.log")" = "$u2" ] ||
		{ fail "connections came up again (replacing each other):"; cat "$T/g1.log" "$T/g2.log" >&2; return 1; }
}

# The window on its own (tests/unit_replay.c): order, acks, resumes, the
# bounds by bytes and age, and the lies refused.
test_resume_unit() { UNIT_VALGRIND=1 unit_run unit_replay; }
