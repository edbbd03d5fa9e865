# shellcheck shell=bash
# The config file: equivalence with the command line, refusals with
# FILE:LINE, per-group direction and rewrite, and SIGHUP reloads that add
# and remove groups, peers and listeners without disturbing the rest.

GA=239.1.2.3:5000
GB=239.1.2.4:5000
GC=239.1.2.5:5000

# conf NAME: stdin into $T/NAME.conf (replaced whole, as an editor would).
conf() { cat >"$T/$1.conf.new" && mv "$T/$1.conf.new" "$T/$1.conf"; }

# reload NAME [COUNT]: SIGHUP, then wait for the COUNTth "reload:" verdict.
reload() {
	kill -HUP "$(gw_pid "$1")" || return 1
	wait_log "$1" "reload: done\|reload refused" "${2:-1}"
}

# cfg_error 'PATTERN' ARGS...: `mctun run ARGS` exits 2 with one line on
# stderr matching PATTERN.
cfg_error() {
	local pat=$1 rc out; shift
	out=$(nsx g1 timeout 10 "$MCTUN" run "$@" 2>&1 >/dev/null); rc=$?
	[ "$rc" = "${WANT_RC:-2}" ] || { fail "run $*: exit $rc, want ${WANT_RC:-2}: $out"; return 1; }
	grep -q -- "$pat" <<<"$out" || { fail "run $*: '$out' does not match '$pat'"; return 1; }
	[ "$(grep -c . <<<"$out")" = 1 ] || { fail "run $*: more than one line: $out"; return 1; }
}

# joined NS GROUP-ADDR-HEX: the gateway NS has joined the group on isl.
joined() { ip netns exec "$PFX-$1" grep -A20 isl /proc/net/igmp | grep -qi "$2"; }

# Everything of a command line, from files: IPv4 and IPv6, comments, CRLF.
test_config_file_equals_command_line() {
	islands 2 || return 1
	printf '%s\r\n' '# island 2' 'iface isl' "group $GA" 'group [ff15::1]:5000   # v6' \
		'listen 198.19.12.2:7000' 'ttl 3' 'mode tc' '' '   keepalive 500ms' \
		'insecure yes' >"$T/g2.conf"
	conf g1 <<-EOF
	iface isl
	group $GA
	group [ff15::1]:5000
	peer 198.19.12.2:7000
	dead-after 2
	insecure yes
	EOF
	gw g2 g2 --config "$T/g2.conf" && gw g1 g1 -c "$T/g1.conf" &&
	wait_log g1 "up (node" && wait_log g2 "up (node" || return 1
	grep -q "running on .*, config $T/g2.conf;" "$T/g2.log" || { fail "g2 does not name its config"; return 1; }
	rx r4 h2 "$GA" --duration 2.5 && rx r6 h2 '[ff15::1]:5000' --duration 2.5 || return 1
	tx h1 "$GA" --count 300 --rate 1000pps --ttl 4 &&
	tx h1 '[ff15::1]:5000' --count 200 --rate 1000pps --ttl 4 || return 1
	rx_wait r4 && rx_wait r6 && expect_rx r4 300 && expect_rx r6 200 || return 1
	[ "$(jnum "$T/r4.json" ttl)" = 3 ] && [ "$(jnum "$T/r6.json" ttl)" = 3 ] ||
		{ fail "ttl from the file: $(jnum "$T/r4.json" ttl), $(jnum "$T/r6.json" ttl)"; return 1; }
	gw_stop g1 && gw_stop g2 && gw_clean g1 && gw_clean g2
}

# The command line wins over the file's scalars; lists add up.
test_config_command_line_overrides_and_merges() {
	islands 2 || return 1
	conf g2 <<-EOF
	iface nosuch0
	group $GA
	ttl 3
	listen 198.19.12.2:7000
	EOF
	gw g2 g2 --insecure --config "$T/g2.conf" -i isl --ttl 5 -g "$GB" &&
	gw g1 g1 --insecure -i isl -g "$GA" -g "$GB" --peer 198.19.12.2:7000 &&
	wait_log g1 "up (node" || return 1
	rx ra h2 "$GA" --duration 2 && rx rb h2 "$GB" --duration 2 || return 1
	tx h1 "$GA" --count 100 --rate 1000pps --ttl 4 &&
	tx h1 "$GB" --count 150 --rate 1000pps --ttl 4 || return 1
	rx_wait ra && rx_wait rb && expect_rx ra 100 && expect_rx rb 150 || return 1
	[ "$(jnum "$T/ra.json" ttl)" = 5 ] || { fail "ttl $(jnum "$T/ra.json" ttl), want 5"; return 1; }
	# the same group from the file and the command line is one too many
	cfg_error "--group: '$GA' is given twice" --config "$T/g2.conf" -i isl -g "$GA"
}

test_config_bad_files_refused_with_file_and_line() {
	local f="$T/bad.conf"
	islands 1 || return 1
	bad() {   # LINE 'PATTERN' FILE-LINES...
		local line=$1 pat=$2; shift 2
		printf '%s\n' "$@" >"$f"
		cfg_error "^mctun: $f:$line: $pat" --config "$f"
	}
	bad 3 "unknown key 'bogus'" 'iface isl' "group $GA" 'bogus 1' &&
	bad 2 "group: '239.1.2.3' is not GROUP:PORT" '# c' 'group 239.1.2.3' &&
	bad 2 "group: '10.1.2.3:5000': 10.1.2.3 is not a multicast address" 'iface isl' 'group 10.1.2.3:5000' &&
	bad 1 "ttl: 'abc' is not a number" 'ttl abc' &&
	bad 1 "ttl: 300 is out of range (1 to 255)" 'ttl 300' &&
	bad 1 "ring-size: 3M is not a power of two" 'ring-size 3M' &&
	bad 1 "mode: 'fast' is not tc, xdp or socket" 'mode fast' &&
	bad 1 "peer: 'nonsense' is not HOST:PORT" 'peer nonsense' &&
	bad 3 "ttl is already set on line 1" 'ttl 2' '' 'ttl 3' &&
	bad 1 "ttl needs a value (ttl N)" 'ttl' &&
	bad 1 "verbose takes no value" 'verbose 2' &&
	bad 1 "insecure needs yes or no (insecure yes)" 'insecure' &&
	bad 2 "insecure needs yes or no (insecure yes)" 'iface isl' 'insecure maybe' &&
	bad 1 "'config' is an option of the command line only" "config $f" &&
	bad 2 "group: '$GA direction sideways': direction 'sideways' is not in, out or both" \
		'iface isl' "group $GA direction sideways" &&
	bad 1 "group: '$GA rewrite 239.9.9.9:6000 direction out': rewrite needs direction in or both" \
		"group $GA rewrite 239.9.9.9:6000 direction out" &&
	bad 1 "group: '$GA rewrite \[ff15::9\]:6000': the rewrite target is of another address family" \
		"group $GA rewrite [ff15::9]:6000" &&
	bad 1 "group: '$GA rewrite $GA': rewrite to the group itself" "group $GA rewrite $GA" &&
	bad 1 "group: '$GA frobnicate': 'frobnicate' is neither 'direction' nor 'rewrite'" \
		"group $GA frobnicate" &&
	bad 1 "group: '239.1.2.3/16:5000': 239.1.2.3 has bits set past the prefix length 16" \
		'group 239.1.2.3/16:5000' &&
	bad 1 "group: 33 is out of range (4 to 32)" 'group 239.0.0.0/33:5000' &&
	bad 1 "group: 3 is out of range (4 to 32)" 'group 224.0.0.0/3:5000' &&
	bad 2 "group: '\[ff15::/16\]:\*' is given twice" 'group [ff15::/16]:*' 'group [ff15::/16]:*' &&
	bad 1 "group: '239.192.0.0/16:\* rewrite 239.9.0.0/24:\*': a rewrite target is one group" \
		'group 239.192.0.0/16:* rewrite 239.9.0.0/24:*' &&
	bad 1 "group: '$GA rewrite 239.9.0.0/16:\*': a rewrite target is one group" \
		"group $GA rewrite 239.9.0.0/16:*" || return 1
	cfg_error "^mctun: --mode socket: cannot capture the range 239.192.0.0/16:5000" \
		-i isl --insecure --mode socket -g 239.192.0.0/16:5000 --listen 198.18.1.1:7000 || return 1
	printf 'ttl 1\0\n' >"$f"
	cfg_error "^mctun: $f:1: holds a NUL byte" --config "$f" || return 1
	WANT_RC=1 cfg_error "^mctun: $T/none.conf: No such file or directory" --config "$T/none.conf" &&
	WANT_RC=1 cfg_error "^mctun: $T: Is a directory" --config "$T" || return 1
	# complete only with the command line: what is missing is named
	printf 'iface isl\n' >"$f"
	cfg_error "run: no group" --config "$f" &&
	cfg_error "run: nothing to connect" --config "$f" -g "$GA" &&
	cfg_error "run: --config and --no-config exclude each other" --config "$f" --no-config
}

# direction in: only from the tunnel onto the island; out: only into it.
test_config_direction_in_and_out() {
	islands 2 || return 1
	conf g1 <<-EOF
	iface isl
	group $GA direction in
	group $GB direction out
	peer 198.19.12.2:7000
	EOF
	# the extras work on the command line too, as one argument
	gw g2 g2 --insecure -i isl -g "$GA direction both" -g "$GB" --listen 198.19.12.2:7000 &&
	gw g1 g1 --insecure --config "$T/g1.conf" && wait_log g1 "up (node" || return 1
	rx a1 h1 "$GA" --duration 3 && rx b1 h1 "$GB" --duration 3 &&
	rx a2 h2 "$GA" --duration 3 && rx b2 h2 "$GB" --duration 3 || return 1
	tx h1 "$GA" --count 300 --rate 1000pps --ttl 4 &&
	tx h1 "$GB" --count 200 --rate 1000pps --ttl 4 &&
	tx h2 "$GA" --count 150 --rate 1000pps --ttl 4 &&
	tx h2 "$GB" --count 100 --rate 1000pps --ttl 4 || return 1
	rx_wait a1 && rx_wait b1 && rx_wait a2 && rx_wait b2 || return 1
	# A (in at g1): island 2's comes in, island 1's stays home
	expect_rx a1 450 2 && expect_rx a2 150 1 || return 1
	# B (out at g1): island 1's goes out, island 2's is not re-injected
	expect_rx b1 200 1 && expect_rx b2 300 2 || return 1
	joined g1 "$(printf '%02X%02X%02X%02X' 4 2 1 239)" ||
		{ fail "g1 has not joined $GB (direction out)"; return 1; }
	joined g1 "$(printf '%02X%02X%02X%02X' 3 2 1 239)" &&
		{ fail "g1 joined $GA (direction in)"; return 1; }
	nsx g1 "$MCTUN" status | grep -q "group $GA direction in:" ||
		{ fail "status: $(nsx g1 "$MCTUN" status)"; return 1; }
	gw_stop g1 || return 1
	log_has g1 "direction-out 100 " && log_has g1 "group $GA: packets 0 " &&
	log_has g1 "dir_in 300\b" && log_has g1 "injected 150 " && gw_clean g1
}

# A group re-injected to another group and port. g2 swaps A and B: each is
# delivered to the other, never to itself, and nothing loops back although
# each target is a configured group.
test_config_rewrite_delivers_to_the_new_group_without_loops() {
	local GX=239.1.2.9:6000
	islands 2 || return 1
	conf g2 <<-EOF
	iface isl
	group $GA rewrite $GB
	group $GB direction both rewrite $GA
	group $GC direction in rewrite $GX
	listen 198.19.12.2:7000
	EOF
	gw g2 g2 --insecure --config "$T/g2.conf" &&
	gw g1 g1 --insecure -i isl -g "$GA" -g "$GB" -g "$GC" --peer 198.19.12.2:7000 &&
	wait_log g1 "up (node" || return 1
	rx a1 h1 "$GA" --duration 3 && rx b1 h1 "$GB" --duration 3 &&
	rx a2 h2 "$GA" --duration 3 && rx b2 h2 "$GB" --duration 3 &&
	rx c2 h2 "$GC" --duration 3 && rx x2 h2 "$GX" --duration 3 || return 1
	tx h1 "$GA" --count 300 --rate 1000pps --ttl 4 &&
	tx h1 "$GB" --count 200 --rate 1000pps --ttl 4 &&
	tx h1 "$GC" --count 100 --rate 1000pps --ttl 4 || return 1
	for r in a1 b1 a2 b2 c2 x2; do rx_wait "$r" || return 1; done
	expect_rx b2 300 && expect_rx a2 200 && expect_rx x2 100 && expect_rx c2 0 0 || return 1
	# island 1 hears only its own senders: nothing came back
	expect_rx a1 300 && expect_rx b1 200 || return 1
	gw_stop g2 && gw_stop g1 || return 1
	log_has g2 "injected 600 (errors 0, rewritten 600)" && log_has g1 "injected 0 " &&
	log_has g2 "captured 0 " && log_has g2 "matched 0 "
}

# SIGHUP: a group added flows, a group removed stops and is left; the group
# both keep loses nothing while the reload happens, nor do its counters.
test_reload_adds_and_removes_groups() {
	islands 2 || return 1
	local n
	for n in 1 2; do
		conf "g$n" <<-EOF
		iface isl
		group $GA
		group $GB
		EOF
	done
	echo "listen 198.19.12.2:7000" >>"$T/g2.conf"
	echo "peer 198.19.12.2:7000" >>"$T/g1.conf"
	gw g2 g2 --insecure --config "$T/g2.conf" && gw g1 g1 --insecure --config "$T/g1.conf" &&
	wait_log g1 "up (node" || return 1
	joined g1 "$(printf '%02X%02X%02X%02X' 4 2 1 239)" || { fail "g1 has not joined $GB"; return 1; }
	rx ra h2 "$GA" --duration 5 || return 1
	tx h1 "$GA" --count 3000 --rate 1000pps --ttl 4 &
	local txpid=$!
	sleep "$(scaled 1)"
	for n in 1 2; do
		# B goes, C and the first IPv6 group (a new send socket) come
		sed -i "s/^group $GB\$/group $GC/" "$T/g$n.conf"
		printf 'ttl 4\ngroup [ff15::5]:5000\n' >>"$T/g$n.conf"
		reload "g$n" || { wait "$txpid"; return 1; }
	done
	wait "$txpid" || return 1
	rx_wait ra && expect_rx ra 3000 || return 1
	log_has g1 "group $GB: removed" && log_has g1 "group $GC: added (direction both)" &&
	log_has g2 "reload: done: 3 groups, 1 listener, 0 peers" || return 1
	joined g1 "$(printf '%02X%02X%02X%02X' 4 2 1 239)" && { fail "g1 still in $GB"; return 1; }
	joined g1 "$(printf '%02X%02X%02X%02X' 5 2 1 239)" || { fail "g1 has not joined $GC"; return 1; }
	rx rb h2 "$GB" --duration 2 && rx rc h2 "$GC" --duration 2 &&
	rx r6 h2 '[ff15::5]:5000' --duration 2 || return 1
	tx h1 "$GB" --count 100 --rate 1000pps --ttl 4 &&
	tx h1 "$GC" --count 200 --rate 1000pps --ttl 4 &&
	tx h1 '[ff15::5]:5000' --count 50 --rate 1000pps --ttl 4 || return 1
	rx_wait rb && rx_wait rc && rx_wait r6 && expect_rx rb 0 0 && expect_rx rc 200 &&
	expect_rx r6 50 || return 1
	[ "$(jnum "$T/rc.json" ttl)" = 4 ] || { fail "ttl after reload $(jnum "$T/rc.json" ttl), want 4"; return 1; }
	gw_stop g1 && gw_stop g2 || return 1
	# A's BPF counters ran on through the reload
	log_has g1 "group $GA: packets 3000 " && log_has g1 "group $GC: packets 200 " &&
	log_has g2 "injected 3250 " && gw_clean g1 && gw_clean g2
}

# --busy-poll: datagrams cross as ever; while they flow the gateway polls
# instead of sleeping (most of a core, where a sleeping loop takes a few %
# at 1,000 pps), and once they stop it sleeps again: timers and keepalives
# do not keep it polling. SIGHUP turns it off like any other option.
uptime_ticks() { awk '{ printf "%d", $1 * 100 }' /proc/uptime; }
# cpu_share PID CMD...: % of a core PID used while CMD ran (CMD's status)
cpu_share() {
	local p=$1 c0 t0 rc; shift
	c0=$(cpu_ticks "$p") t0=$(uptime_ticks)
	"$@"; rc=$?
	SHARE=$((($(cpu_ticks "$p") - c0) * 100 / ($(uptime_ticks) - t0 + 1)))
	return $rc
}
test_busy_poll_spins_then_sleeps() {
	local p busy idle off
	islands 2 || return 1
	printf 'iface isl\ngroup %s\nlisten 198.19.12.2:7000\nbusy-poll 20ms\n' "$GA" | conf g2
	gw g2 g2 --insecure --config "$T/g2.conf" &&
	gw g1 g1 --insecure -i isl -g "$GA" --peer 198.19.12.2:7000 && wait_log g1 "up (node" || return 1
	p=$(gw_pid g2)
	rx r2 h2 "$GA" --duration "$(scaled 4)" || return 1
	cpu_share "$p" tx h1 "$GA" --count 2000 --rate 1000pps --size 200 --ttl 4 || return 1
	busy=$SHARE
	cpu_share "$p" sleep 2; idle=$SHARE
	rx_wait r2 && expect_rx r2 2000 || return 1
	sed -i 's/^busy-poll .*/busy-poll 0/' "$T/g2.conf"
	reload g2 && log_has g2 "reload: done" || return 1
	rx r2b h2 "$GA" --duration "$(scaled 4)" || return 1
	cpu_share "$p" tx h1 "$GA" --count 2000 --rate 1000pps --size 200 --ttl 4 || return 1
	off=$SHARE
	rx_wait r2b && expect_rx r2b 2000 || return 1
	note "g2 CPU, % of a core: $busy polling under traffic, $idle in the quiet after, $off under traffic after busy-poll 0"
	((busy >= 30)) || { fail "g2 used $busy % of a core under --busy-poll, want >= 30"; return 1; }
	((idle <= 10)) || { fail "g2 used $idle % of a core with no traffic, want <= 10"; return 1; }
	# relative: an emulated VM spends more per datagram, never half a core
	((off * 2 <= busy)) || { fail "g2 used $off % of a core after busy-poll 0, want <= $((busy / 2))"; return 1; }
	gw_stop g1 && gw_stop g2 && gw_clean g1 && gw_clean g2
}

# SIGHUP: a peer added connects, a peer removed is closed (and not called
# again); the peer kept loses nothing.
test_reload_adds_and_removes_peers() {
	islands 3 || return 1
	gw g2 g2 --insecure -i isl -g "$GA" --listen "$(wan_addr 2 1):7000" &&
	gw g3 g3 --insecure -i isl -g "$GA" --listen "$(wan_addr 3 1):7000" || return 1
	conf g1 <<-EOF
	iface isl
	group $GA
	peer $(wan_addr 2 1):7000
	EOF
	gw g1 g1 --insecure --config "$T/g1.conf" && wait_log g2 "up (node" || return 1
	rx r2 h2 "$GA" --duration 5 || return 1
	tx h1 "$GA" --count 3000 --rate 1000pps --ttl 4 &
	local txpid=$!
	sleep "$(scaled 1)"
	echo "peer $(wan_addr 3 1):7000" >>"$T/g1.conf"
	reload g1 || { wait "$txpid"; return 1; }
	wait_log g1 "peer $(wan_addr 3 1):7000: added" && wait_log g3 "up (node" ||
		{ wait "$txpid"; return 1; }
	wait "$txpid" || return 1
	rx_wait r2 && expect_rx r2 3000 || return 1
	sed -i "/^peer $(wan_addr 2 1):7000/d" "$T/g1.conf"
	reload g1 2 && wait_log g1 "peer $(wan_addr 2 1):7000: down: removed from the configuration" &&
	wait_log g2 "down:" || return 1
	rx r2b h2 "$GA" --duration 2.5 && rx r3 h3 "$GA" --duration 2.5 || return 1
	tx h1 "$GA" --count 500 --rate 1000pps --ttl 4 || return 1
	rx_wait r2b && rx_wait r3 && expect_rx r2b 0 0 && expect_rx r3 500 || return 1
	# a removed peer stays removed (the back-off would have retried by now)
	[ "$(grep -c "up (node" "$T/g2.log")" = 1 ] || { fail "g1 called g2 again"; return 1; }
	gw_stop g1 && gw_stop g2 && gw_stop g3 && gw_clean g1
}

# SIGHUP: listeners added and removed; a listener removed closes what it
# accepted; the same port on another address opens once the old one is shut.
test_reload_adds_and_removes_listeners() {
	islands 2 || return 1
	conf g2 <<-EOF
	iface isl
	group $GA
	listen 198.19.12.2:7000
	EOF
	gw g2 g2 --insecure --config "$T/g2.conf" &&
	gw g1 g1 --insecure -i isl -g "$GA" --peer 198.19.12.2:7000 && wait_log g1 "up (node" || return 1
	conf g2 <<-EOF
	iface isl
	group $GA
	listen 0.0.0.0:7000
	listen 198.19.12.2:7001
	EOF
	reload g2 && log_has g2 "reload: done" || return 1
	log_has g2 "listener 198.19.12.2:7000: removed" &&
	log_has g2 "down: its listener 198.19.12.2:7000 was removed" &&
	log_has g2 "listener 0.0.0.0:7000: added" && log_has g2 "listener 198.19.12.2:7001: added" ||
		return 1
	wait_log g1 "up (node" 2 || return 1
	# accepted there, and refused for not speaking mctun
	nsx g1 bash -c 'exec 3<>/dev/tcp/198.19.12.2/7001; printf "GET / HTTP/1.0\r\n\r\n" >&3; sleep 0.2' ||
		{ fail "nothing listens on 7001"; return 1; }
	wait_log g2 "refused: bad frame: not an mctun peer" || return 1
	rx r2 h2 "$GA" --duration 2 || return 1
	tx h1 "$GA" --count 200 --rate 1000pps --ttl 4 || return 1
	rx_wait r2 && expect_rx r2 200
}

# A bad file on SIGHUP is refused with FILE:LINE and changes nothing; so is
# a change of what cannot change at run time, with the line that changes
# it, or the one that set it before when it is gone. Traffic flows throughout.
test_reload_bad_file_keeps_the_old_config() {
	local fixed="cannot change at run time (restart mctun for that)"
	islands 2 || return 1
	conf g2 <<-EOF
	iface isl
	group $GA
	listen 198.19.12.2:7000
	queue-size 2M
	EOF
	gw g2 g2 --insecure --config "$T/g2.conf" &&
	gw g1 g1 --insecure -i isl -g "$GA" -g "$GB" --peer 198.19.12.2:7000 && wait_log g1 "up (node" ||
		return 1
	rx r2 h2 "$GA" --duration 5 || return 1
	tx h1 "$GA" --count 3000 --rate 1000pps --ttl 4 &
	local txpid=$!
	sleep "$(scaled 0.5)"
	conf g2 <<-EOF
	iface isl
	group $GA
	listen 198.19.12.2:7000
	queue-size 2M
	group $GB
	ttl x
	EOF
	reload g2 1 && log_has g2 "$T/g2.conf:6: ttl: 'x' is not a number" &&
	log_has g2 "reload refused: keeping the running configuration" || { wait "$txpid"; return 1; }
	sed -i 's/^ttl x$/mode socket/' "$T/g2.conf"
	reload g2 2 && log_has g2 "$T/g2.conf:6: mode: $fixed" ||
		{ wait "$txpid"; return 1; }
	sed -i -e '/^mode socket$/d' -e 's/^iface isl$/iface w12/' "$T/g2.conf"
	reload g2 3 && log_has g2 "$T/g2.conf:1: iface: $fixed" ||
		{ wait "$txpid"; return 1; }
	sed -i -e 's/^iface w12$/iface isl/' -e '/^queue-size 2M$/d' "$T/g2.conf"
	reload g2 4 && log_has g2 "$T/g2.conf: queue-size: no longer set (it was on line 4), and it $fixed" ||
		{ wait "$txpid"; return 1; }
	[ "$(grep -c "reload refused: keeping the running configuration" "$T/g2.log")" = 4 ] ||
		{ fail "not 4 refusals:"; sed 's/^/      /' "$T/g2.log" >&2; wait "$txpid"; return 1; }
	# a good file whose listener cannot open: what was opened for it (B's
	# socket and join) is undone
	sed -i '3a queue-size 2M' "$T/g2.conf"
	echo "listen 198.19.12.2:7100" >>"$T/g2.conf"
	gw busy g2 --insecure -i w12 -g 239.9.9.9:5000 --mode socket --listen 198.19.12.2:7100 &&
	reload g2 5 && log_has g2 "listen 198.19.12.2:7100: Address already in use" &&
	log_has g2 "reload refused: Address already in use; keeping the running configuration" ||
		{ wait "$txpid"; return 1; }
	joined g2 "$(printf '%02X%02X%02X%02X' 4 2 1 239)" && { fail "g2 joined $GB"; return 1; }
	gw_stop busy || { wait "$txpid"; return 1; }
	sed -i '/^listen 198.19.12.2:7100$/d' "$T/g2.conf"
	wait "$txpid" || return 1
	rx_wait r2 && expect_rx r2 3000 || return 1
	# nothing of the refused files took effect: B is not carried
	rx rb h2 "$GB" --duration 1.5 || return 1
	tx h1 "$GB" --count 100 --rate 1000pps --ttl 4 || return 1
	rx_wait rb && expect_rx rb 0 0 || return 1
	# the file fixed: the next SIGHUP takes it
	reload g2 6 && log_has g2 "group $GB: added" || return 1
	rx rb2 h2 "$GB" --duration 1.5 || return 1
	tx h1 "$GB" --count 100 --rate 1000pps --ttl 4 || return 1
	rx_wait rb2 && expect_rx rb2 100
}

# With TLS (a pre-shared key) a reload keeps the running TLS context: the
# peer stays up, a new connection after the reload authenticates, and a
# changed key file is refused (keys need a restart).
test_reload_keeps_tls() {
	local psk="$T/psk"
	islands 2 || return 1
	printf 'mctun-test %s\n' "$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')" >"$psk"
	chmod 600 "$psk"
	conf g2 <<-EOF
	iface isl
	group $GA
	listen 198.19.12.2:7000
	psk-file $psk
	EOF
	gw g2 g2 --config "$T/g2.conf" &&
	gw g1 g1 -i isl -g "$GA" -g "$GB" --peer 198.19.12.2:7000 --psk-file "$psk" &&
	wait_log g1 "up (node" || return 1
	grep -q "peers authenticate with a TLS 1.3 pre-shared key" "$T/g2.log" || { fail "g2 is not on TLS"; return 1; }
	printf 'group %s\nallow 198.19.12.0/24\n' "$GB" >>"$T/g2.conf"
	reload g2 && log_has g2 "group $GB: added" || return 1
	rx rb h2 "$GB" --duration 2 || return 1
	tx h1 "$GB" --count 200 --rate 1000pps --ttl 4 || return 1
	rx_wait rb && expect_rx rb 200 || return 1
	# a new connection after the reload: the carried-over context serves it
	gw_stop g1 && wait_log g2 "down:" || return 1
	gw g1 g1 -i isl -g "$GA" -g "$GB" --peer 198.19.12.2:7000 --psk-file "$psk" &&
	wait_log g1 "up (node" && wait_log g2 "up (node" 2 || return 1
	rx ra h2 "$GA" --duration 2 || return 1
	tx h1 "$GA" --count 200 --rate 1000pps --ttl 4 || return 1
	rx_wait ra && expect_rx ra 200 || return 1
	cp -p "$psk" "$T/psk.new" && sed -i "s|^psk-file .*|psk-file $T/psk.new|" "$T/g2.conf"
	reload g2 2 && log_has g2 "$T/g2.conf:4: psk-file: cannot change at run time (restart mctun for that)" &&
	log_has g2 "reload refused: keeping the running configuration"
}
