# shellcheck shell=bash
# make install, the systemd unit it installs, and the daemon run the way the
# unit runs it: an unprivileged user holding exactly the unit's capabilities.
# No systemd unit is started: the unit's sandbox is rebuilt by hand, in a
# mount namespace of the test's own.

UNIT_ID=65534    # the unit's user mctun, played by nobody

# install_to DIR: make install DESTDIR=DIR PREFIX=/usr.
install_to() {
	make -C "$ROOT" --no-print-directory install DESTDIR="$1" PREFIX=/usr >"$T/install.log" 2>&1 ||
		{ fail "make install: $(cat "$T/install.log")"; return 1; }
}

UNIT_FILE=usr/lib/systemd/system/mctun@.service

# unit_value KEY: the value of KEY= in the unit installed under $T/root.
unit_value() { sed -n "s/^$1=//p" "$T/root/$UNIT_FILE"; }

# setpriv_caps "CAP_A CAP_B": "+a,+b" for setpriv.
setpriv_caps() {
	local c out=
	for c in $1; do
		c=${c#CAP_}
		out+=",+${c,,}"
	done
	echo "${out#,}"
}

# unit_bpffs: a mount namespace, kept for the test, whose /sys/fs/bpf is a
# bpffs of its own, of mode 0700 as systemd mounts it: the host's stays
# untouched, and pins outlive a daemon as they would on the host.
unit_bpffs() {
	[ -e "$T/unitns.pid" ] && return 0
	unshare -m --propagation private -- sh -c \
		'mount -t bpf -o mode=0700 bpf /sys/fs/bpf && : >"$1" && exec sleep 600' \
		sh "$T/unitns.ready" &
	echo $! >"$T/unitns.pid"
	for ((i = 0; i < WAIT_STEPS; i++)); do
		[ -e "$T/unitns.ready" ] && return 0
		sleep 0.05
	done
	fail "no mount namespace with a bpffs"
}

unit_nsx() { nsenter --mount="/proc/$(cat "$T/unitns.pid")/ns/mnt" -- "$@"; }

# gw_unit NAME NS "CAPS" [ARGS...]: start the unit's ExecStart for instance
# NAME ($T/NAME.conf) in NS, as the unit would: a mount namespace of its
# own, from unit_bpffs's, where the unit's root ExecStartPre runs first,
# /proc has process directories only and
# others' processes hidden (ProcSubset=pid, ProtectProc=invisible), / read
# only (ProtectSystem=strict), 64 KiB of locked memory at most; then the
# daemon as uid/gid UNIT_ID with exactly CAPS (ambient, inheritable,
# bounding set) and no new privileges. ARGS are added to the command line.
# Waits until it runs; returns 1 if it exits first (its log in $T/NAME.log).
gw_unit() {
	local name=$1 ns=$2 caps pre start i; shift 2
	caps=$(setpriv_caps "$1"); shift
	unit_bpffs || return 1
	pre=$(unit_value ExecStartPre)
	[[ $pre == +*"-o mctun -g mctun"* ]] ||
		{ fail "ExecStartPre is not what this test knows how to play: $pre"; return 1; }
	pre=${pre#+}
	pre=${pre//-o mctun -g mctun/-o $UNIT_ID -g $UNIT_ID}
	start=$(unit_value ExecStart)
	start=${start//\/usr\/sbin\/mctun/$T/root/usr/sbin/mctun}
	start=${start//\/etc\/mctun\/%i.conf/$T/$name.conf}
	: >"$T/$name.log"
	# shellcheck disable=SC2086 # $start is the unit's command line, split as systemd would
	nsenter --net="/run/netns/$PFX-$ns" --mount="/proc/$(cat "$T/unitns.pid")/ns/mnt" -- \
		unshare -m --propagation private -- sh -c '
		'"$pre"' &&
		mount -t proc -o subset=pid,hidepid=invisible proc /proc &&
		mount -o remount,bind,ro / &&
		exec prlimit --memlock=65536 setpriv --reuid='$UNIT_ID' --regid='$UNIT_ID' \
			--clear-groups --no-new-privs --inh-caps=-all'"${caps:+,$caps}"' \
			--ambient-caps=-all'"${caps:+,$caps}"' --bounding-set=-all'"${caps:+,$caps}"' "$@"' \
		sh $start "$@" >>"$T/$name.log" 2>&1 &
	echo $! >"$T/$name.pid"
	for ((i = 0; i < WAIT_STEPS; i++)); do
		grep -q "running on" "$T/$name.log" && return 0
		kill -0 "$(cat "$T/$name.pid")" 2>/dev/null || break
		sleep 0.05
	done
	wait "$(cat "$T/$name.pid")" 2>/dev/null
	rm -f "$T/$name.pid"
	return 1
}

test_make_install_destdir() {
	local R="$T/root" f n=0 man
	install_to "$R" || return 1
	for f in usr/sbin/mctun:755 usr/share/man/man8/mctun.8:644 \
		 etc/mctun/mctun.conf.example:644 "$UNIT_FILE":644 usr/lib/sysusers.d/mctun.conf:644; do
		[ -f "$R/${f%:*}" ] || { fail "not installed: ${f%:*}"; return 1; }
		[ "$(stat -c %a "$R/${f%:*}")" = "${f##*:}" ] ||
			{ fail "${f%:*}: mode $(stat -c %a "$R/${f%:*}"), want ${f##*:}"; return 1; }
		n=$((n + 1))
	done
	[ "$(find "$R" -type f | wc -l)" = "$n" ] || { fail "unexpected files: $(find "$R" -type f)"; return 1; }
	cmp -s "$R/usr/sbin/mctun" "$ROOT/build/mctun" || { fail "the installed binary is not build/mctun"; return 1; }
	[ "$(unit_value ExecStart)" = "/usr/sbin/mctun run --config /etc/mctun/%i.conf" ] ||
		{ fail "ExecStart=$(unit_value ExecStart)"; return 1; }
	grep -q "^u mctun " "$R/usr/lib/sysusers.d/mctun.conf" || { fail "no user in sysusers.d"; return 1; }
	# PREFIX and sysconfdir reach the unit
	make -C "$ROOT" --no-print-directory install DESTDIR="$T/r2" sysconfdir=/opt/etc >/dev/null 2>&1 &&
	grep -qx "ExecStart=/usr/local/sbin/mctun run --config /opt/etc/mctun/%i.conf" \
		"$T/r2/usr/local/lib/systemd/system/mctun@.service" ||
		{ fail "PREFIX/sysconfdir not in the unit"; return 1; }
	# the example config is a working config (its interface, mode and key
	# file overridden), and a secure one: it names a key file
	islands 1 || return 1
	"$MCTUN" genpsk "$T/psk" 2>/dev/null &&
	gw ex g1 --config "$R/etc/mctun/mctun.conf.example" -i isl --mode socket \
		--psk-file "$T/psk" && gw_stop ex || return 1
	grep -q "peers authenticate with a TLS 1.3 pre-shared key" "$T/ex.log" ||
		{ fail "the example config is not on a key: $(head -n1 "$T/ex.log")"; return 1; }
	if command -v systemd-analyze >/dev/null; then
		# verified as installed, but pointing at the staged binary
		mkdir "$T/verify" &&
		sed "s|/usr/sbin/mctun|$R/usr/sbin/mctun|" "$R/$UNIT_FILE" >"$T/verify/mctun@.service" || return 1
		# the man page is checked with man(1) when there is one
		command -v man >/dev/null && man=yes || man=no
		MANPATH="$R/usr/share/man" systemd-analyze verify --man=$man \
			"$T/verify/mctun@site-a.service" \
			>"$T/verify.log" 2>&1 || { fail "systemd-analyze verify: $(cat "$T/verify.log")"; return 1; }
		[ ! -s "$T/verify.log" ] || { fail "systemd-analyze verify says: $(cat "$T/verify.log")"; return 1; }
	else
		note "systemd-analyze is not installed: the unit is not verified"
	fi
	make -C "$ROOT" --no-print-directory uninstall DESTDIR="$R" PREFIX=/usr >/dev/null 2>&1 &&
	[ -z "$(find "$R" -type f)" ] || { fail "uninstall left: $(find "$R" -type f)"; return 1; }
}

# With exactly the unit's capabilities the daemon starts, carries traffic
# both ways, reloads, and clears what a killed instance left; without any
# one of them it stops at once with one line naming it. Socket mode needs
# none.
test_unit_capabilities_are_enough_and_each_is_needed() {
	local G=239.1.2.3:5000 caps c others out rc
	command -v setpriv >/dev/null && command -v prlimit >/dev/null ||
		{ echo "setpriv or prlimit missing"; return 77; }
	islands 2 && install_to "$T/root" || return 1
	caps=$(unit_value AmbientCapabilities)
	[ "$caps" = "$(unit_value CapabilityBoundingSet)" ] ||
		{ fail "ambient ($caps) and bounding ($(unit_value CapabilityBoundingSet)) sets differ"; return 1; }
	[ -n "$caps" ] || { fail "the unit grants no capability"; return 1; }
	chmod 0711 "$T"       # the unit's user reads its config here
	printf 'iface isl\ngroup %s\npeer 198.19.12.2:7000\ninsecure yes\n' "$G" >"$T/g1.conf"
	chmod 0644 "$T/g1.conf"
	gw g2 g2 --insecure -i isl -g "$G" -g 239.1.2.4:5000 --listen 198.19.12.2:7000 &&
	gw_unit g1 g1 "$caps" || { fail "with $caps:"; sed 's/^/      /' "$T/g1.log" >&2; return 1; }
	wait_log g1 "up (node" || return 1
	rx r2 h2 "$G" --duration 2.5 || return 1
	tx h1 "$G" --count 1000 --rate 2000pps --ttl 4 || return 1
	rx_wait r2 && expect_rx r2 1000 || return 1
	rx r1 h1 "$G" --duration 2 || return 1
	tx h2 "$G" --count 500 --rate 2000pps --ttl 4 || return 1
	rx_wait r1 && expect_rx r1 500 || return 1
	# a reload joins a new group, unprivileged
	echo "group 239.1.2.4:5000" >>"$T/g1.conf"
	kill -HUP "$(gw_pid g1)" && wait_log g1 "reload: done: 2 groups" || return 1
	rx r2b h2 239.1.2.4:5000 --duration 2 || return 1
	tx h1 239.1.2.4:5000 --count 200 --rate 2000pps --ttl 4 || return 1
	rx_wait r2b && expect_rx r2b 200 || return 1
	# killed, it leaves its filters; the next start, as unprivileged, clears them
	kill -KILL "$(gw_pid g1)"; wait "$(gw_pid g1)" 2>/dev/null; rm -f "$T/g1.pid"
	ip netns exec "$PFX-g1" tc filter show dev isl ingress | grep -q mctun ||
		{ fail "expected the killed instance's filter to remain"; return 1; }
	gw_unit g1 g1 "$caps" || { fail "restart:"; sed 's/^/      /' "$T/g1.log" >&2; return 1; }
	grep -q "cleared filters.* and pins left by a previous instance" "$T/g1.log" ||
		{ fail "no clean-up after kill -9:"; sed 's/^/      /' "$T/g1.log" >&2; return 1; }
	gw_stop g1 || return 1
	out=$(ip netns exec "$PFX-g1" tc filter show dev isl ingress; ip netns exec "$PFX-g1" tc qdisc show dev isl)
	grep -q "mctun\|clsact" <<<"$out" && { fail "left on isl: $out"; return 1; }
	out=$(unit_nsx find /sys/fs/bpf/mctun -mindepth 1)
	[ -z "$out" ] || { fail "pins left: $out"; return 1; }

	for c in $caps; do
		others=$(tr ' ' '\n' <<<"$caps" | grep -vx "$c" | tr '\n' ' ')
		cp -p "$T/g1.conf" "$T/no_$c.conf"
		if gw_unit "no_$c" g1 "$others"; then
			gw_stop "no_$c"
			# only Linux 6.1's verifier wants CAP_PERFMON
			[ "$c" = CAP_PERFMON ] && { note "CAP_PERFMON is not needed on $(uname -r)"; continue; }
			fail "runs without $c"; return 1
		fi
		[ "$c" = CAP_PERFMON ] && { note "without CAP_PERFMON: $(tail -n1 "$T/no_$c.log")"; continue; }
		out=$(cat "$T/no_$c.log")
		[ "$(grep -c . <<<"$out")" = 1 ] && grep -q "lacks $c (" <<<"$out" ||
			{ fail "without $c: '$out'"; return 1; }
	done
	note "$(cat "$T/no_CAP_BPF.log")"
	# socket mode: no capability at all
	printf 'iface isl\ngroup %s\nlisten 198.19.12.1:7001\nmode socket\ninsecure yes\n' "$G" >"$T/s1.conf"
	chmod 0644 "$T/s1.conf"
	gw_unit s1 g1 "" || { fail "socket mode without capabilities:"; sed 's/^/      /' "$T/s1.log" >&2; return 1; }
	gw_stop s1
}

# The docs name every option the binary takes: each long option of
# `mctun run --help` is in README.md and in the man page, and each of
# status, stats, doctor and genpsk in the man page (send and recv: the man page
# sends the reader to their --help).
test_docs_name_every_option() {
	local man c o opts missing=()
	man=$(sed 's/\\//g' "$ROOT/docs/mctun.8")
	opts=$("$MCTUN" run --help | grep -o -- '--[a-z][a-z-]*' | sort -u)
	[ "$(wc -l <<<"$opts")" -ge 20 ] || { fail "run --help lists only: $opts"; return 1; }
	for o in $opts; do
		grep -q -- "$o" "$ROOT/README.md" || missing+=("README.md: run $o")
		grep -q -- "$o" <<<"$man" || missing+=("mctun.8: run $o")
	done
	for c in status stats doctor genpsk; do
		for o in $("$MCTUN" "$c" --help | grep -o -- '--[a-z][a-z-]*' | sort -u); do
			grep -q -- "$o" <<<"$man" || missing+=("mctun.8: $c $o")
		done
	done
	[ ${#missing[@]} = 0 ] || { fail "options not documented: ${missing[*]}"; return 1; }
}
