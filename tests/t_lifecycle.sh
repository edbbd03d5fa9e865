# shellcheck shell=bash
# Start-up errors, signals, and clean-up after clean and unclean exits.

# expect_error NS 'PATTERN' ARGS...: `mctun run ARGS` exits non-zero with
# exactly one line on stderr that matches PATTERN.
expect_error() {
	local ns=$1 pat=$2 rc out lines; shift 2
	out=$(nsx "$ns" timeout 10 "$MCTUN" run "$@" 2>&1 >/dev/null); rc=$?
	lines=$(printf '%s\n' "$out" | grep -c .)
	[ "$rc" != 0 ] && [ "$rc" != 124 ] || { fail "run $* exited $rc, want an error"; return 1; }
	grep -q -- "$pat" <<<"$out" || { fail "run $*: '$out' does not match '$pat'"; return 1; }
	[ "$lines" = 1 ] || { fail "run $*: $lines lines of error, want 1: $out"; return 1; }
}

test_startup_errors_are_one_clear_line() {
	local G=239.1.2.3:5000 L="--listen 198.19.12.1:7000 --insecure"
	islands 2 || return 1
	expect_error g1 "interface 'nosuch0': no such interface" -i nosuch0 -g $G $L &&
	expect_error g1 "'10.1.2.3' is not a multicast address\|10.1.2.3 is not a multicast address" \
		-i isl -g 10.1.2.3:5000 $L &&
	expect_error g1 "'239.1.2.3' is not GROUP:PORT" -i isl -g 239.1.2.3 $L &&
	expect_error g1 "70000 is out of range" -i isl -g 239.1.2.3:70000 $L &&
	expect_error g1 "source must be a unicast address" -i isl -g 232.1.1.1:5000@239.1.1.1 $L &&
	expect_error g1 "--mode: 'xyz' is not tc, xdp or socket" -i isl -g $G $L --mode xyz &&
	expect_error g1 "--ttl: 0 is out of range" -i isl -g $G $L --ttl 0 &&
	expect_error g1 "--busy-poll: 2s is out of range (0 to 1 seconds)" -i isl -g $G $L --busy-poll 2s &&
	expect_error g1 "nothing to connect" -i isl -g $G &&
	expect_error g1 "--listen: 'nonsense' is not HOST:PORT" -i isl -g $G --listen nonsense ||
		return 1
	# the listening port in use: a second instance on another interface
	gw first g1 -i isl -g $G $L || return 1
	expect_error g1 "listen 198.19.12.1:7000: Address already in use" -i w12 -g $G $L &&
	# a second instance on the same interface
	expect_error g1 "isl: mctun (pid $(gw_pid first)) already runs on this interface" \
		-i isl -g $G --listen 198.19.12.1:7001 --insecure || return 1
	gw_stop first && gw_clean g1
}

test_unprivileged_tc_mode_says_why() {
	islands 1 || return 1
	command -v setpriv >/dev/null || { echo "setpriv missing"; return 77; }
	local out rc
	out=$(nsx g1 setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all \
		--bounding-set=-all "$MCTUN" run -i isl -g 239.1.2.3:5000 --listen 198.18.1.1:7000 --insecure 2>&1)
	rc=$?
	[ "$rc" != 0 ] || { fail "unprivileged run succeeded"; return 1; }
	grep -q "Operation not permitted\|Permission denied" <<<"$out" &&
	grep -q "mode socket" <<<"$out" || { fail "unclear error: $out"; return 1; }
	gw_clean g1
}

test_sigint_and_sigterm_exit_zero() {
	islands 1 || return 1
	local pid rc
	gw a g1 --insecure -i isl -g 239.1.2.3:5000 --listen 198.18.1.1:7000 || return 1
	pid=$(gw_pid a)
	kill -INT "$pid"; wait "$pid"; rc=$?
	rm -f "$T/a.pid"
	[ "$rc" = 0 ] || { fail "SIGINT: exit $rc"; return 1; }
	gw_clean g1 || return 1
	gw b g1 --insecure -i isl -g 239.1.2.3:5000 --listen 198.18.1.1:7000 && gw_stop b && gw_clean g1
}

# After kill -9 the filters and pins stay; the next start clears them.
test_restart_after_kill9_clears_leftovers() {
	islands 2 || return 1
	gw a g1 --insecure -i isl -g 239.1.2.3:5000 --listen 198.19.12.1:7000 || return 1
	kill -KILL "$(gw_pid a)"; wait "$(gw_pid a)" 2>/dev/null; rm -f "$T/a.pid"
	ip netns exec "$PFX-g1" tc filter show dev isl ingress | grep -q mctun ||
		{ fail "expected the killed instance's filter to remain"; return 1; }
	[ -n "$(pins_left "$(ns_pin_dir g1)")" ] || { fail "expected pins to remain"; return 1; }
	gw b g1 --insecure -i isl -g 239.1.2.3:5000 --listen 198.19.12.1:7000 || return 1
	grep -q "cleared filters.* and pins left by a previous instance" "$T/b.log" ||
		{ fail "no clean-up message"; cat "$T/b.log" >&2; return 1; }
	# exactly one filter of ours per direction now
	[ "$(ip netns exec "$PFX-g1" tc filter show dev isl ingress | grep -c 'mctun_tc_in')" = 1 ] ||
		{ fail "ingress filters: $(ip netns exec "$PFX-g1" tc filter show dev isl ingress)"; return 1; }
	gw_stop b && gw_clean g1
}

# A clsact qdisc that was there before us, with someone else's filter,
# stays after we exit; only our filters go.
test_foreign_qdisc_and_filter_kept() {
	islands 1 || return 1
	ip netns exec "$PFX-g1" tc qdisc add dev isl clsact &&
	# a classic-BPF filter that matches nothing (returns 0): harmless
	ip netns exec "$PFX-g1" tc filter add dev isl ingress prio 1 bpf bytecode '1,6 0 0 0,' ||
		return 1
	gw a g1 --insecure -i isl -g 239.1.2.3:5000 --listen 198.18.1.1:7000 && gw_stop a || return 1
	ip netns exec "$PFX-g1" tc qdisc show dev isl | grep -q clsact ||
		{ fail "the foreign clsact qdisc was removed"; return 1; }
	ip netns exec "$PFX-g1" tc filter show dev isl ingress | grep -q "bytecode '1,6 0 0 0'" ||
		{ fail "the foreign filter was removed"; return 1; }
	ip netns exec "$PFX-g1" tc filter show dev isl ingress | grep -q mctun &&
		{ fail "our filter is still there"; return 1; }
	[ -z "$(pins_left "$(ns_pin_dir g1)")" ] || { fail "pins left"; return 1; }
}

# Started with `ip netns exec` (a mount namespace of its own, so its pins are
# seen by nobody else), an instance is still found through the kernel: a
# second start on its interface is refused, stats and status find it from
# either way in, and after kill -9 the next start clears its filters and
# its qdisc, so a clean stop leaves the interface as it found it.
test_ip_netns_exec_instance_found_through_the_kernel() {
	local G=239.1.2.3:5000 pid out
	islands 2 || return 1
	gw_ipns a g1 --insecure -i isl -g $G --listen 198.19.12.1:7000 &&
	gw b g2 --insecure -i isl -g $G --peer 198.19.12.1:7000 &&
	wait_log a "up (node" && wait_log b "up (node" || return 1
	pid=$(gw_pid a)
	out=$(ip netns exec "$PFX-g1" timeout 10 "$MCTUN" run -i isl -g $G \
		--listen 198.19.12.1:7001 --insecure 2>&1); [ $? != 0 ] ||
		{ fail "a second ip netns exec start on isl was not refused"; return 1; }
	grep -q "isl: mctun (pid $pid) already runs on this interface" <<<"$out" ||
		{ fail "second start: '$out'"; return 1; }
	# the first still carries everything
	rx r2 h2 $G --duration 30 || return 1
	tx h1 $G --count 500 --rate 2000pps --ttl 4 && rx_stop r2 && expect_rx r2 500 || return 1
	# stats and status, from ip netns exec, from nsenter and from the host
	out=$(ip netns exec "$PFX-g1" "$MCTUN" stats --json) ||
		{ fail "stats from ip netns exec: $out"; return 1; }
	[ "$(jnum <(echo "$out") pid)" = "$pid" ] || { fail "stats (ip netns exec): $out"; return 1; }
	out=$(nsx g1 "$MCTUN" stats -i isl --json) || { fail "stats from nsenter: $out"; return 1; }
	[ "$(jnum <(echo "$out") pid)" = "$pid" ] || { fail "stats (nsenter): $out"; return 1; }
	out=$(nsx g1 "$MCTUN" status --json) || { fail "status: $out"; return 1; }
	grep -q "\"pid\":$pid,\"alive\":true" <<<"$out" || { fail "status: $out"; return 1; }
	out=$("$MCTUN" status --all --json) || { fail "status --all from the host: $out"; return 1; }
	grep -q "\"pid\":$pid,\"alive\":true" <<<"$out" || { fail "status --all: $out"; return 1; }
	# kill -9: status calls it stale; the next ip netns exec start clears it
	kill -KILL "$pid"; wait "$pid" 2>/dev/null; rm -f "$T/a.pid"
	out=$(nsx g1 "$MCTUN" status --json)
	grep -q "\"pid\":$pid,\"alive\":false,\"stale\":true" <<<"$out" ||
		{ fail "status after kill -9: $out"; return 1; }
	gw_ipns c g1 --insecure -i isl -g $G --listen 198.19.12.1:7000 || return 1
	grep -q "cleared filters, its qdisc and pins left by a previous instance" "$T/c.log" ||
		{ fail "no clean-up message:"; cat "$T/c.log" >&2; return 1; }
	[ "$(ip netns exec "$PFX-g1" tc filter show dev isl ingress | grep -c 'mctun_tc_in')" = 1 ] ||
		{ fail "ingress filters: $(ip netns exec "$PFX-g1" tc filter show dev isl ingress)"; return 1; }
	wait_log b "up (node" 2 || return 1
	rx r2b h2 $G --duration 30 || return 1
	tx h1 $G --count 300 --rate 2000pps --ttl 4 && rx_stop r2b && expect_rx r2b 300 || return 1
	gw_stop c && gw_stop b && gw_clean g1 && gw_clean g2
}
