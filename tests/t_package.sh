# shellcheck shell=bash
# Packaging: make static, a binary that needs nothing around it.
#
# Uses log_has (t_tunnel.sh).

PKG_G=239.1.2.3:5000

# pkg_make TARGET [VAR=VALUE...]: make TARGET in the tree, quiet; only the
# build's progress lines (CC, LINK, ...) may come out, nothing else.
pkg_make() {
	make -C "$ROOT" --no-print-directory "$@" >"$T/make.log" 2>&1 ||
		{ fail "make $*:"; sed 's/^/      /' "$T/make.log" >&2; return 1; }
	if grep -v -e '^  [A-Z-]* ' -e "^make: Nothing to be done for" "$T/make.log" | grep -q .; then
		fail "make $* said more than its progress:"; sed 's/^/      /' "$T/make.log" >&2
		return 1
	fi
}

# pkg_copies TEXT TARGET: TEXT (mctun status, or a log) counts 300 to 400
# packets copied to TARGET and no error: h1's 300 datagrams, copied one by
# one at ingress, and h2's 100, re-injected from the tunnel, where a run
# of them leaves as one UDP GSO batch, copied and counted as one packet.
pkg_copies() {
	local n
	n=$(sed -n "s/.*target $2\( (ttl as sent)\)\{0,1\}: packets \([0-9]*\),\{0,1\} .*errors 0\$/\2/p" <<<"$1" |
		head -n1)
	[ -n "$n" ] && [ "$n" -ge 300 ] && [ "$n" -le 400 ] && return 0
	fail "not 300 to 400 packets copied to $2, without errors:"; sed 's/^/      /' <<<"$1" >&2
	return 1
}

# pkg_islands: islands 2, and a "container" c1 behind the veth vc1 of g1.
pkg_islands() {
	islands 2 && ns_add c1 && veth g1 vc1 c1 eth0 || return 1
	ip -n "$PFX-c1" addr add 198.18.101.2/24 dev eth0
	ip -n "$PFX-c1" route add 224.0.0.0/4 dev eth0
}

# make static: build/mctun-static has no dynamic section and no
# interpreter, and runs with nothing around it. Alone in an empty folder,
# chrooted there, it prints its version, resolves a peer's name from
# /etc/hosts (glibc's built-in files source: no NSS module to load) and
# makes a key (OpenSSL's random generator, no /dev). In a mount namespace
# of its own where that folder holds only the binary, the key, /proc, /sys
# and a bpffs, it runs the tunnel daemon in tc mode: its embedded BPF
# program captures the island's group, copies it to a veth (--to) and
# hands it to TLS with the pre-shared key, to a gateway running build/mctun;
# what comes back is re-injected, and copied too.
test_static_binary_alone() {
	local S="$ROOT/build/mctun-static" D="$T/alone" out pid
	pkg_make static || return 1
	out=$(readelf -d "$S" 2>&1)
	grep -q "There is no dynamic section" <<<"$out" || { fail "a dynamic section: $out"; return 1; }
	out=$(readelf -l "$S" 2>&1)
	grep -q "INTERP" <<<"$out" && { fail "an interpreter: $(grep -A1 INTERP <<<"$out")"; return 1; }
	mkdir "$D" && cp "$S" "$D/mctun" || return 1
	out=$(chroot "$D" /mctun --version 2>&1)
	[ "$out" = "mctun $(cat "$ROOT/VERSION")" ] || { fail "chrooted --version: '$out'"; return 1; }
	mkdir "$D/etc" && echo "198.51.100.7 gw-b.example" >"$D/etc/hosts" || return 1
	out=$(chroot "$D" /mctun run --no-config -i lo --insecure -g "$PKG_G" \
		--peer gw-b.example:7000 --peer 198.51.100.7:7000 2>&1)
	grep -qF "'198.51.100.7:7000' is given twice (as 'gw-b.example:7000' before)" <<<"$out" ||
		{ fail "gw-b.example is not 198.51.100.7 from /etc/hosts: '$out'"; return 1; }
	rm -r "${D:?}/etc" && chroot "$D" /mctun genpsk /psk 2>/dev/null &&
	[ "$(stat -c %a "$D/psk")" = 600 ] || { fail "chrooted genpsk"; return 1; }
	mkdir "$D/proc" "$D/sys" || return 1
	out=$(find "$D" -mindepth 1 -printf '%P\n' | sort | tr '\n' ' ')
	[ "$out" = "mctun proc psk sys " ] || { fail "the folder holds: $out"; return 1; }

	pkg_islands || return 1
	gw g2 g2 -i isl -g "$PKG_G" --psk-file "$D/psk" --listen 198.19.12.2:7000 || return 1
	: >"$T/g1.log"
	nsenter --net="/run/netns/$PFX-g1" -- unshare -m --propagation private -- sh -c '
		mount -t proc proc "$1/proc" && mount -t sysfs sysfs "$1/sys" &&
		mount -t bpf bpf "$1/sys/fs/bpf" &&
		exec chroot "$1" /mctun run --no-config -i isl -g "$2" --to vc1 --psk-file /psk \
			--peer 198.19.12.2:7000' sh "$D" "$PKG_G" >>"$T/g1.log" 2>&1 &
	echo $! >"$T/g1.pid"
	wait_log g1 "running on isl (tc mode)" && wait_log g1 "up (node" || return 1
	log_has g1 "peers authenticate with a TLS 1.3 pre-shared key" || return 1
	pid=$(gw_pid g1)
	rx c c1 "$PKG_G" --duration 60 && rx r2 h2 "$PKG_G" --duration 60 &&
	rx r1 h1 "$PKG_G" --duration 60 || return 1
	tx h1 "$PKG_G" --count 300 --rate 2000pps --ttl 1 &&
	tx h2 "$PKG_G" --count 100 --rate 2000pps --ttl 1 || return 1
	# (h1 and h2 receive their own datagrams too)
	rx_stop c r2 r1 && expect_rx c 400 2 && expect_rx r2 400 2 && expect_rx r1 400 2 || return 1
	# mctun status, by the static binary in its own namespaces, reads its pins
	out=$(nsenter -t "$pid" -n -m -- chroot "$D" /mctun status 2>&1)
	pkg_copies "$out" vc1 || return 1
	gw_stop g1 && pkg_copies "$(cat "$T/g1.log")" vc1 && gw_clean g1 isl
}
