# shellcheck shell=bash
# Packaging: make static (a binary that needs nothing around it) and make
# deb (what make install installs, as a Debian package).
#
# Uses install_to, unit_value, gw_unit and UNIT_FILE (t_install.sh) and
# log_has (t_tunnel.sh).

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

# make deb: the package holds exactly what make install PREFIX=/usr
# stages, with the project's version, this machine's architecture,
# Depends naming the package of every library the binary links, and the
# file under /etc as a conffile. dpkg installs it into a root of the
# test's own (checking Depends against this machine's installed packages;
# postinst creates the user there), the installed binary runs on the
# system's libraries, the packaged unit's ExecStart runs the daemon as the
# unit would (t_install.sh's gw_unit) and carries traffic; dpkg removes
# and purges it, leaving none of its files.
test_deb_package() {
	local deb R="$T/root" A lib pkg dep out f G=239.1.2.3:5000 caps
	command -v dpkg-deb >/dev/null && command -v dpkg-shlibdeps >/dev/null ||
		{ echo "dpkg-deb or dpkg-shlibdeps (dpkg-dev) is missing"; return "$SKIP"; }
	pkg_make deb || return 1
	deb="$ROOT/build/mctun_$(cat "$ROOT/VERSION")_$(dpkg --print-architecture).deb"
	[ -f "$deb" ] || { fail "no $deb: $(ls "$ROOT"/build/*.deb 2>&1)"; return 1; }
	# contents: the make install staging, file for file, mode for mode
	install_to "$T/stage" && dpkg-deb -x "$deb" "$T/x" || { fail "dpkg-deb -x"; return 1; }
	diff -r "$T/stage" "$T/x" >"$T/diff" 2>&1 || { fail "deb and make install differ:"; sed 's/^/      /' "$T/diff" >&2; return 1; }
	diff <(cd "$T/stage" && find . -type f -printf '%m %p\n' | sort) \
		<(dpkg-deb -c "$deb" | awk '$1 ~ /^-/ { print $1, $2, $6 }' | sort -k3 |
		  while read -r m o p; do
			[ "$o" = root/root ] || echo "owner $o: $p"
			echo "$(perm_octal "$m") $p"
		  done | sort) >"$T/diff" ||
		{ fail "deb and make install list other files or modes:"; sed 's/^/      /' "$T/diff" >&2; return 1; }
	# control
	for f in "Package=mctun" "Version=$(cat "$ROOT/VERSION")" \
		 "Architecture=$(dpkg --print-architecture)"; do
		out=$(dpkg-deb -f "$deb" "${f%%=*}")
		[ "$out" = "${f#*=}" ] || { fail "${f%%=*}: '$out', want '${f#*=}'"; return 1; }
	done
	dep=$(dpkg-deb -f "$deb" Depends)
	for lib in $(readelf -d "$ROOT/build/mctun" | sed -n 's/.*Shared library: \[\(.*\)\]/\1/p'); do
		f=$(ldd "$ROOT/build/mctun" | awk -v l="$lib" '$1 == l { print $3 }')
		pkg=$(dpkg -S "$f" 2>/dev/null || dpkg -S "/usr$f" 2>/dev/null || dpkg -S "${f#/usr}" 2>/dev/null)
		pkg=${pkg%%:*}
		[ -n "$pkg" ] || { fail "no package holds $lib ($f)"; return 1; }
		grep -qE "(^|, )$pkg( |,|$)" <<<"$dep" || { fail "Depends ($dep) lacks $pkg, for $lib"; return 1; }
	done
	[ "$(dpkg-deb -I "$deb" conffiles)" = /etc/mctun/mctun.conf.example ] ||
		{ fail "conffiles: $(dpkg-deb -I "$deb" conffiles)"; return 1; }
	dpkg-deb -f "$deb" Maintainer Description | grep -q . || { fail "no Maintainer or Description"; return 1; }

	# installed by dpkg into $R; its database knows only this machine's
	# packages that mctun depends on
	A="$R/var/lib/dpkg"
	mkdir -p "$A/info" "$A/updates" && : >"$A/available" || return 1
	# shellcheck disable=SC2046 # one package name per word
	dpkg-query --status $(sed 's/([^)]*)//g; s/|/,/g; s/,/ /g' <<<"$dep") >"$A/status" ||
		{ fail "a dependency is not installed here: $dep"; return 1; }
	# their file lists, empty: dpkg needs none of their files
	for pkg in $(dpkg-query --admindir="$A" -W -f='${binary:Package}\n'); do
		: >"$A/info/$pkg.list"
	done
	dpkg --root="$R" --log="$T/dpkg.log" --force-script-chrootless -i "$deb" >"$T/dpkg.out" 2>&1 ||
		{ fail "dpkg -i:"; sed 's/^/      /' "$T/dpkg.out" >&2; return 1; }
	[ "$(dpkg-query --root="$R" -W -f='${Status} ${Version}' mctun)" = "install ok installed $(cat "$ROOT/VERSION")" ] ||
		{ fail "dpkg-query: $(dpkg-query --root="$R" -W mctun 2>&1)"; return 1; }
	out=$(dpkg --root="$R" --verify mctun 2>&1)
	[ -z "$out" ] || { fail "dpkg --verify: $out"; return 1; }
	if command -v systemd-sysusers >/dev/null; then
		grep -q "^mctun:x:[0-9]*:[0-9]*:.*:/usr/sbin/nologin$" "$R/etc/passwd" ||
			{ fail "postinst made no user mctun: $(cat "$R/etc/passwd" 2>&1)"; return 1; }
	else
		note "systemd-sysusers is not installed: postinst made no user"
	fi
	out=$("$R/usr/sbin/mctun" --version 2>&1)
	[ "$out" = "mctun $(cat "$ROOT/VERSION")" ] || { fail "installed --version: '$out'"; return 1; }
	ldd "$R/usr/sbin/mctun" | grep -q "not found" && { fail "$(ldd "$R/usr/sbin/mctun")"; return 1; }

	# the packaged unit's command line, as the unit runs it
	islands 2 || return 1
	caps=$(unit_value AmbientCapabilities)
	[ -n "$caps" ] || { fail "the packaged unit grants no capability"; return 1; }
	chmod 0711 "$T"
	printf 'iface isl\ngroup %s\npeer 198.19.12.2:7000\ninsecure yes\n' "$G" >"$T/g1.conf"
	chmod 0644 "$T/g1.conf"
	gw g2 g2 --insecure -i isl -g "$G" --listen 198.19.12.2:7000 &&
	gw_unit g1 g1 "$caps" || { fail "the packaged unit with $caps:"; sed 's/^/      /' "$T/g1.log" >&2; return 1; }
	wait_log g1 "up (node" || return 1
	rx r2 h2 "$G" --duration 60 || return 1
	tx h1 "$G" --count 500 --rate 2000pps --ttl 4 || return 1
	rx_stop r2 && expect_rx r2 500 || return 1
	gw_stop g1 || return 1

	# removed, then purged: none of its files is left
	dpkg --root="$R" --log="$T/dpkg.log" --force-script-chrootless -r mctun >"$T/dpkg.out" 2>&1 ||
		{ fail "dpkg -r:"; sed 's/^/      /' "$T/dpkg.out" >&2; return 1; }
	[ -f "$R/etc/mctun/mctun.conf.example" ] || { fail "dpkg -r removed the conffile"; return 1; }
	dpkg --root="$R" --log="$T/dpkg.log" --force-script-chrootless -P mctun >"$T/dpkg.out" 2>&1 ||
		{ fail "dpkg -P:"; sed 's/^/      /' "$T/dpkg.out" >&2; return 1; }
	out=$(cd "$T/x" && find . -mindepth 1 | while read -r f; do
		[ -e "$R/$f" ] && { [ ! -d "$R/$f" ] || [ -z "$(ls -A "$R/$f")" ]; } && echo "$f"
	done)
	[ -z "$out" ] || { fail "left after purge: $out"; return 1; }
}

# perm_octal -rwxr-xr-x: 755.
perm_octal() {
	local s=${1:1} n=0 i
	for ((i = 0; i < 9; i++)); do
		n=$((n * 2))
		[ "${s:i:1}" != - ] && n=$((n + 1))
	done
	printf '%o\n' "$n"
}
