# shellcheck shell=bash
# Packaging: make static (a binary that needs nothing around it), make deb
# (what make install installs, as a Debian package), make image (a FROM
# scratch container image) and docker/compose.yaml (the gateway next to an
# isolated bridge network).
#
# Uses install_to, unit_value, gw_unit and UNIT_FILE (t_install.sh) and
# log_has (t_tunnel.sh), tg_wait_joined (t_targets.sh); dockerd_start and
# dockerd_stop are in lib.sh.

PKG_G=239.1.2.3:5000

# pkg_make TARGET [VAR=VALUE...]: make TARGET in the tree, quiet; only the
# build's progress lines (CC, LINK, ...) may come out, nothing else.
pkg_make() {
	make -C "$ROOT" --no-print-directory "$@" >"$T/make.log" 2>&1 ||
		{ fail "make $*:"; sed 's/^/      /' "$T/make.log" >&2; return 1; }
	# (and the notice of docker's client that it builds without BuildKit)
	if grep -v -e '^  [A-Z-]* ' -e "^make\(\[[0-9]*\]\)\{0,1\}: Nothing to be done for" -e "^DEPRECATED: The legacy builder" \
		-e "^ *Install the buildx component" -e "^ *https://docs.docker.com/go/buildx/" \
		"$T/make.log" | grep -q .; then
		fail "make $* said more than its progress:"; sed 's/^/      /' "$T/make.log" >&2
		return 1
	fi
}

# pkg_copies TEXT TARGET: TEXT (mctun status, or a log) counts 400 packets
# copied to TARGET and no error: h1's 300 datagrams, copied at ingress, and
# h2's 100, re-injected from the tunnel (a UDP GSO batch of them counts by
# its datagrams).
pkg_copies() {
	local n
	n=$(sed -n "s/.*target $2\( (ttl as sent)\)\{0,1\}: packets \([0-9]*\),\{0,1\} .*errors 0\$/\2/p" <<<"$1" |
		head -n1)
	[ "$n" = 400 ] && return 0
	fail "not 400 packets copied to $2, without errors:"; sed 's/^/      /' <<<"$1" >&2
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
	mkdir "$D/etc" && echo "198.18.99.7 gw-b.example" >"$D/etc/hosts" || return 1
	out=$(chroot "$D" /mctun run --no-config -i lo --insecure -g "$PKG_G" \
		--peer gw-b.example:7000 --peer 198.18.99.7:7000 2>&1)
	grep -qF "'198.18.99.7:7000' is given twice (as 'gw-b.example:7000' before)" <<<"$out" ||
		{ fail "gw-b.example is not 198.18.99.7 from /etc/hosts: '$out'"; return 1; }
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
	rx r1 h1 "$PKG_G" --duration 60 && tg_wait_joined vc1 "${PKG_G%:*}" || return 1
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

# pkg_dc ARGS...: docker-compose on docker/compose.yaml, as project $PFX.
pkg_dc() { docker-compose -f "$ROOT/docker/compose.yaml" -p "$PFX" "$@"; }

# pkg_cid SERVICE: the container of a service of the compose project.
pkg_cid() { pkg_dc ps -q "$1" 2>/dev/null; }

# pkg_clog NAME CONTAINER: its log (stdout and stderr) into $T/NAME.log.
pkg_clog() { docker logs "$2" >"$T/$1.log" 2>&1; }

# pkg_cwait NAME CONTAINER PATTERN [COUNT]: until its log has COUNT lines
# matching PATTERN.
pkg_cwait() {
	local i n
	for ((i = 0; i < 2 * WAIT_STEPS; i++)); do
		pkg_clog "$1" "$2"
		n=$(grep -c -- "$3" "$T/$1.log")
		[ "${n:-0}" -ge "${4:-1}" ] && return 0
		sleep 0.05
	done
	fail "$1: no ${4:-1} x '$3' in its log:"; sed 's/^/      /' "$T/$1.log" >&2
	return 1
}

# make image: offline (FROM scratch), an image of one layer holding one
# file, the stripped static binary, which a Docker daemon of the test's
# own runs with no network at all. Then docker/compose.yaml as it is, with
# g1's network as the host's: the gateway, with only the capabilities the
# file grants, tunnels the island's group with a pre-shared key to g2 and
# copies it (and what comes back) into the isolated bridge network, whose
# receiver gets every datagram; mctun status in the container counts them;
# killed, Docker restarts it and the new instance clears what the old one
# left (pinned in the bpffs mounted into it, here one of the test's own);
# without any one of its capabilities it stops at once, naming it; beside
# an instance outside the container it is refused; with /run/netns mounted
# it copies to a --netns target. At the end no image, network, container,
# process or mount is left, nor anything on g1's interface or in the bpffs.
test_docker_image() {
	local V I out pid c caps
	V=$(cat "$ROOT/VERSION") I="mctun:$(cat "$ROOT/VERSION")"
	islands 2 || return 1
	# the containers' bpffs: the test's own, the host's stays untouched
	mount_for_test bpffs -t bpf bpf || return 1
	dockerd_start g1 || return $?
	pkg_make image || return 1
	docker save -o "$T/image.tar" "$I" && mkdir "$T/img" && tar -xf "$T/image.tar" -C "$T/img" ||
		{ fail "docker save $I"; return 1; }
	out=$(find "$T/img" -name layer.tar)
	[ "$(wc -l <<<"$out")" = 1 ] || { fail "layers: $out"; return 1; }
	[ "$(tar -tf "$out" | tr '\n' ' ')" = "usr/ usr/sbin/ usr/sbin/mctun " ] ||
		{ fail "the layer holds: $(tar -tvf "$out")"; return 1; }
	tar -xOf "$out" usr/sbin/mctun | cmp -s - "$ROOT/build/image/mctun" ||
		{ fail "the image's mctun is not build/image/mctun"; return 1; }
	[ "$(docker image inspect -f '{{.Id}}' mctun:latest)" = "$(docker image inspect -f '{{.Id}}' "$I")" ] ||
		{ fail "mctun:latest is not $I"; return 1; }
	out=$(docker run --rm --network none "$I" --version 2>&1)
	[ "$out" = "mctun $V" ] || { fail "docker run --network none $I --version: '$out'"; return 1; }

	command -v docker-compose >/dev/null ||
		{ echo "docker-compose is not installed (tests/install-deps.sh): docker/compose.yaml not tested"
		  return "$SKIP"; }
	mkdir -m 0755 "$T/etc-mctun" && "$MCTUN" genpsk "$T/etc-mctun/psk" 2>/dev/null || return 1
	printf 'iface isl\ngroup %s\npeer 198.19.12.2:7000\npsk-file /etc/mctun/psk\n' "$PKG_G" \
		>"$T/etc-mctun/site-a.conf"
	gw g2 g2 -i isl -g "$PKG_G" --psk-file "$T/etc-mctun/psk" --listen 198.19.12.2:7000 || return 1
	export MCTUN_ETC="$T/etc-mctun" MCTUN_SITE=site-a MCTUN_IMAGE="$I" MCTUN_BPFFS="$T/bpffs"
	pkg_dc up -d >"$T/compose.log" 2>&1 || { fail "docker-compose up:"; sed 's/^/      /' "$T/compose.log" >&2; return 1; }
	pkg_cwait gateway "$(pkg_cid gateway)" "running on isl (tc mode)" &&
	pkg_cwait gateway "$(pkg_cid gateway)" "up (node" || return 1
	log_has gateway "copies to mcbr0" || return 1
	# the receiver has joined on its eth0
	pid=$(docker inspect -f '{{.State.Pid}}' "$(pkg_cid receiver)")
	within 5 sh -c 'nsenter -t "$1" -n ip maddr show dev eth0 | grep -q "239.1.2.3"' sh "$pid" ||
		{ fail "the receiver did not join:"; docker logs "$(pkg_cid receiver)" >&2; return 1; }
	# and the gateway learnt it (its query found it)
	tg_wait_joined mcbr0 "${PKG_G%:*}" || return 1
	rx r2 h2 "$PKG_G" --duration 60 && rx r1 h1 "$PKG_G" --duration 60 || return 1
	tx h1 "$PKG_G" --count 300 --rate 2000pps --ttl 1 &&
	tx h2 "$PKG_G" --count 100 --rate 2000pps --ttl 1 || return 1
	rx_stop r2 r1 && expect_rx r2 400 2 && expect_rx r1 400 2 || return 1
	out=$(pkg_dc exec -T gateway mctun status 2>&1)
	pkg_copies "$out" mcbr0 || return 1
	pkg_dc stop receiver >/dev/null 2>&1 && pkg_clog receiver "$(pkg_cid receiver)" || return 1
	log_has receiver "recv $PKG_G: received 400 in " || return 1
	[ "$(grep -c "^  received [0-9]*  unique [0-9]*  lost 0  duplicates 0 " "$T/receiver.log")" = 2 ] ||
		{ fail "the receiver's senders:"; sed 's/^/      /' "$T/receiver.log" >&2; return 1; }

	# killed: Docker restarts it (restart: unless-stopped), and the new
	# instance finds the old one's pins in the bpffs mounted into it
	kill -KILL "$(docker inspect -f '{{.State.Pid}}' "$(pkg_cid gateway)")"
	pkg_cwait gateway "$(pkg_cid gateway)" "running on isl" 2 || return 1
	log_has gateway "cleared filters.* and pins left by a previous instance" || return 1
	pkg_dc stop gateway >/dev/null 2>&1 || { fail "docker-compose stop gateway"; return 1; }
	[ "$(docker inspect -f '{{.State.ExitCode}}' "$(pkg_cid gateway)")" = 0 ] ||
		{ fail "the gateway exited $(docker inspect -f '{{.State.ExitCode}}' "$(pkg_cid gateway)")"; return 1; }
	gw_clean g1 isl || return 1
	# (a bpffs of the host's mount namespace shows the kernel's *.debug iterators)
	out=$(find "$T/bpffs" -mindepth 1 ! -name '*.debug')
	[ -z "$out" ] || { fail "pins left: $out"; return 1; }

	# each capability of the file is needed; 64 KiB of locked memory do
	caps=$(sed -n 's/^ *cap_add: *\[\(.*\)\]/\1/p' "$ROOT/docker/compose.yaml" | tr -d ' ' | tr ',' ' ')
	[ -n "$caps" ] || { fail "docker/compose.yaml adds no capability"; return 1; }
	pkg_captry all "$I" "$caps" ||
		{ fail "with $caps and 64 KiB of locked memory:"; sed 's/^/      /' "$T/all.log" >&2; return 1; }
	for c in $caps; do
		if pkg_captry "no_$c" "$I" "$(tr ' ' '\n' <<<"$caps" | grep -vx "$c")"; then
			fail "runs without $c"; return 1
		fi
		# without SYS_ADMIN, Docker 20.10 grants no CAP_BPF: that is the one named
		out=$(cat "$T/no_$c.log")
		[ "$c" = SYS_ADMIN ] && c=BPF
		[ "$(grep -c . <<<"$out")" = 1 ] && grep -q "lacks CAP_$c (" <<<"$out" ||
			{ fail "without $c: '$out'"; return 1; }
	done
	note "without SYS_ADMIN: $(cat "$T/no_SYS_ADMIN.log")"
	# a Docker that knows CAP_BPF (23 and later) runs it with BPF and PERFMON instead
	if docker run --rm --network none --cap-drop ALL --cap-add BPF "$I" --version >/dev/null 2>&1; then
		pkg_captry newcaps "$I" "NET_ADMIN BPF PERFMON" ||
			{ fail "with NET_ADMIN BPF PERFMON:"; sed 's/^/      /' "$T/newcaps.log" >&2; return 1; }
	else
		note "Docker $(docker version -f '{{.Server.Version}}') knows no CAP_BPF"
	fi

	# an instance outside the container holds isl: the container's is
	# refused (the lock is in the network namespace, which they share)
	gw outside g1 -i isl -g "$PKG_G" --to mcbr0 || return 1
	if pkg_crun second "$I" "$caps"; then
		pkg_cstop second; fail "a second instance runs on isl"; return 1
	fi
	log_has second "isl: mctun already runs on this interface" && gw_stop outside || return 1

	# --netns in the container: a namespace made after the daemon started,
	# seen through /run/netns mounted with propagation rslave
	ns_add c1 && veth g1 vc1 c1 eth0 || return 1
	ip -n "$PFX-c1" addr add 198.18.101.2/24 dev eth0
	ip -n "$PFX-c1" route add 224.0.0.0/4 dev eth0
	pkg_crun netns "$I" "$caps" -v /run/netns:/run/netns:rslave -- --netns "/run/netns/$PFX-c1" ||
		{ fail "with --netns:"; sed 's/^/      /' "$T/netns.log" >&2; return 1; }
	rx c c1 "$PKG_G" --duration 60 && tg_wait_joined vc1 "${PKG_G%:*}" || return 1
	tx h1 "$PKG_G" --count 100 --rate 2000pps --ttl 1 || return 1
	rx_stop c && expect_rx c 100 && pkg_cstop netns || return 1

	# all gone: containers, the network and its bridge, the images, the daemon
	pkg_dc down >"$T/compose.log" 2>&1 || { fail "docker-compose down:"; sed 's/^/      /' "$T/compose.log" >&2; return 1; }
	ip -n "$PFX-g1" link show mcbr0 >/dev/null 2>&1 && { fail "mcbr0 is left"; return 1; }
	out=$(docker ps -aq; docker network ls -q --filter type=custom)
	[ -z "$out" ] || { fail "left: $out"; return 1; }
	docker rmi "$I" mctun:latest >/dev/null && out=$(docker images -aq) && [ -z "$out" ] ||
		{ fail "images left: $(docker images -a)"; return 1; }
	umount_for_test bpffs && dockerd_stop || return 1
	out=$(dockerd_procs; awk -v t="$T/" 'index($5, t) == 1 { print $5 }' /proc/self/mountinfo; ls -d "$T/docker" "$T/dexec" 2>/dev/null)
	[ -z "$out" ] || { fail "left after dockerd_stop: $out"; return 1; }
}

# pkg_crun NAME IMAGE "CAP..." [DOCKER-ARGS...] [-- RUN-ARGS...]: `run` of
# the compose file's gateway (its config, --to mcbr0, the test's bpffs)
# in a container $PFX-NAME of IMAGE with only these capabilities and 64
# KiB of locked memory. 0 once it runs (left running), 1 if it exits first
# (then removed). Its log in $T/NAME.log.
pkg_crun() {
	local name=$1 image=$2 c dargs=() i st; shift 2
	for c in $1; do dargs+=(--cap-add "$c"); done
	shift
	while [ $# -gt 0 ] && [ "$1" != -- ]; do dargs+=("$1"); shift; done
	[ $# -gt 0 ] && shift
	docker run -d --name "$PFX-$name" --network host --cap-drop ALL "${dargs[@]}" \
		--ulimit memlock=65536:65536 -v "$T/bpffs:/sys/fs/bpf" -v "$T/etc-mctun:/etc/mctun:ro" \
		"$image" run --config /etc/mctun/site-a.conf --to mcbr0 "$@" >/dev/null || return 2
	for ((i = 0; i < 2 * WAIT_STEPS; i++)); do
		pkg_clog "$name" "$PFX-$name"
		grep -q "running on" "$T/$name.log" && return 0
		st=$(docker inspect -f '{{.State.Status}}' "$PFX-$name")
		# (its log read again: it may have exited after the read above)
		[ "$st" = exited ] && { pkg_clog "$name" "$PFX-$name"; docker rm "$PFX-$name" >/dev/null
					return 1; }
		sleep 0.05
	done
	fail "$name neither runs nor exits:"; sed 's/^/      /' "$T/$name.log" >&2
	return 1
}

# pkg_cstop NAME: docker stop; it exited 0. Removed; its log in $T/NAME.log.
pkg_cstop() {
	local st
	docker stop "$PFX-$1" >/dev/null
	st=$(docker inspect -f '{{.State.ExitCode}}' "$PFX-$1")
	pkg_clog "$1" "$PFX-$1"
	docker rm "$PFX-$1" >/dev/null
	[ "$st" = 0 ] || { fail "$1 exited $st:"; sed 's/^/      /' "$T/$1.log" >&2; return 1; }
}

# pkg_captry NAME IMAGE "CAP...": pkg_crun, then pkg_cstop if it runs.
pkg_captry() {
	pkg_crun "$@" || return 1
	pkg_cstop "$1"
}

# Counters from anywhere: the image, run by a Docker daemon of the test's
# own (in g1) as a container on an isolated bridge network with only the
# capabilities the README names and no bpffs mounted into it, is a tunnel
# server on its eth0; g1's gateway tunnels h1's 100 datagrams to it, which
# re-injects them. On the host (the test's namespace, no nsenter),
# `mctun status --all --json` lists it with its network namespace, the pid
# the host sees and its cgroup (the container's id), alive, and the text
# form says the same; `mctun stats --pin-dir` with the pin_dir status
# names reads its counters: exactly 100 injected, 100 frames in.
test_counters_container() {
	local I C="$PFX-srv" cpid ns cid j d out
	islands 1 || return 1
	# (mounted before dockerd starts, for its mount namespace to have it)
	mount_for_test bpffs -t bpf bpf || return 1
	dockerd_start g1 || return $?
	pkg_make image || return 1
	I="mctun:$(cat "$ROOT/VERSION")"
	mkdir -m 0755 "$T/etc-mctun" && "$MCTUN" genpsk "$T/etc-mctun/psk" 2>/dev/null || return 1
	docker network create --internal --subnet 198.18.200.0/24 \
		-o com.docker.network.bridge.name=mcbr2 "$PFX-cams" >"$T/docker.out" 2>&1 &&
	docker run -d --name "$C" --network "$PFX-cams" --ip 198.18.200.2 --cap-drop ALL \
		--cap-add NET_ADMIN --cap-add SYS_ADMIN -v "$T/etc-mctun:/etc/mctun:ro" "$I" \
		run --no-config -i eth0 -g "$PKG_G direction in" --listen 198.18.200.2:7000 \
		--psk-file /etc/mctun/psk >>"$T/docker.out" 2>&1 ||
		{ fail "docker network create, docker run:"; sed 's/^/      /' "$T/docker.out" >&2; return 1; }
	pkg_cwait srv "$C" "running on eth0 (tc mode)" || return 1
	gw g1 g1 -i isl -g "$PKG_G" --peer 198.18.200.2:7000 --psk-file "$T/etc-mctun/psk" &&
	wait_log g1 "up (node" && pkg_cwait srv "$C" "up (node" || return 1
	tx h1 "$PKG_G" --count 100 --rate 2000pps --size 200 --ttl 1 || return 1
	sleep 0.3

	cpid=$(docker inspect -f '{{.State.Pid}}' "$C")
	cid=$(docker inspect -f '{{.Id}}' "$C")
	ns=$(stat -L -c %i "/proc/$cpid/ns/net")
	"$MCTUN" status --all --json >"$T/status.json" || { fail "status --all --json"; return 1; }
	j=$(jq -c --argjson ns "$ns" '[.instances[] | select(.netns == $ns)]' "$T/status.json") ||
		{ fail "status --json is no JSON:"; sed 's/^/      /' "$T/status.json" >&2; return 1; }
	out=$(jq -r '.[] | [.interface, .pid, .ns_pid, .alive, .mode, .daemon.injected,
		(.peers | length), .peers[0].frames_in, .bpf.matched] | map(tostring) | join(" ")' <<<"$j")
	[ "$out" = "eth0 $cpid 1 true tc 100 1 100 0" ] &&
	jq -e --arg id "$cid" '.[0].cgroup | endswith($id)' <<<"$j" >/dev/null ||
		{ fail "status --all --json, network namespace $ns (pid $cpid): '$out'"
		  sed 's/^/      /' "$T/status.json" >&2; return 1; }
	d=$(jq -r '.[0].pin_dir' <<<"$j")
	[ "$d" = "/sys/fs/bpf/mctun/netns$ns/eth0" ] || { fail "pin_dir: $d"; return 1; }
	"$MCTUN" status --all >"$T/status.txt" || { fail "status --all"; return 1; }
	grep -A4 -x "Instance $d" "$T/status.txt" >"$T/inst.txt"
	grep -q "^  pid $cpid (running), interface eth0 (index [0-9]*), mode tc$" "$T/inst.txt" &&
	grep -q "^  in another pid namespace (a container): pid 1 there, namespace inode [0-9]*, cgroup .*$cid\$" "$T/inst.txt" &&
	grep -qx "  network namespace: inode $ns" "$T/inst.txt" ||
		{ fail "status --all, instance $d:"; sed 's/^/      /' "$T/status.txt" >&2; return 1; }
	"$MCTUN" stats --pin-dir "$d" --json >"$T/stats.json" ||
		{ fail "stats --pin-dir $d"; return 1; }
	out=$(jq -r '[.pid, .ns_pid, .alive, .daemon.injected, .peers[0].frames_in] | map(tostring) |
		join(" ")' "$T/stats.json")
	[ "$out" = "$cpid 1 true 100 100" ] ||
		{ fail "stats --pin-dir $d --json: '$out'"; sed 's/^/      /' "$T/stats.json" >&2; return 1; }
	"$MCTUN" stats --pin-dir "$d" >"$T/stats.txt" && grep -q "^mctun on eth0: pid $cpid (running)" "$T/stats.txt" ||
		{ fail "stats --pin-dir $d:"; sed 's/^/      /' "$T/stats.txt" >&2; return 1; }

	# stopped: gone from the kernel, and from status
	gw_stop g1 || return 1
	docker stop -t 5 "$C" >/dev/null && pkg_clog srv "$C" &&
	[ "$(docker inspect -f '{{.State.ExitCode}}' "$C")" = 0 ] ||
		{ fail "the container's mctun:"; sed 's/^/      /' "$T/srv.log" >&2; return 1; }
	"$MCTUN" status --all --json >"$T/status.json" &&
	[ "$(jq --argjson ns "$ns" '[.instances[] | select(.netns == $ns)] | length' "$T/status.json")" = 0 ] ||
		{ fail "still listed once stopped:"; sed 's/^/      /' "$T/status.json" >&2; return 1; }
	docker rm "$C" >/dev/null || { fail "docker rm $C"; return 1; }

	# a bpffs it cannot pin in (the test's own, read-only): it runs, says
	# so in one line, and status finds it all the same
	docker run -d --name "$C" --network "$PFX-cams" --ip 198.18.200.2 --cap-drop ALL \
		--cap-add NET_ADMIN --cap-add SYS_ADMIN -v "$T/etc-mctun:/etc/mctun:ro" \
		-v "$T/bpffs:/sys/fs/bpf:ro" "$I" run --no-config -i eth0 -g "$PKG_G direction in" \
		--listen 198.18.200.2:7000 --psk-file /etc/mctun/psk >>"$T/docker.out" 2>&1 ||
		{ fail "docker run, bpffs read-only:"; sed 's/^/      /' "$T/docker.out" >&2; return 1; }
	pkg_cwait srv "$C" "running on eth0 (tc mode)" || return 1
	cpid=$(docker inspect -f '{{.State.Pid}}' "$C")
	ns=$(stat -L -c %i "/proc/$cpid/ns/net")
	[ "$(grep -c "pins\|bpffs" "$T/srv.log")" = 1 ] &&
	log_has srv "^mctun: eth0: no pins in /sys/fs/bpf/mctun/netns$ns/eth0 (Read-only file system): mctun status and stats find this instance through the kernel's BPF objects (as root)\$" ||
		{ fail "read-only bpffs:"; sed 's/^/      /' "$T/srv.log" >&2; return 1; }
	"$MCTUN" status --all --json >"$T/status.json" &&
	out=$(jq -r --argjson ns "$ns" '.instances[] | select(.netns == $ns) |
		[.interface, .pid, .alive] | map(tostring) | join(" ")' "$T/status.json") &&
	[ "$out" = "eth0 $cpid true" ] ||
		{ fail "read-only bpffs: status --all --json: '$out'"; sed 's/^/      /' "$T/status.json" >&2; return 1; }
	docker stop -t 5 "$C" >/dev/null && pkg_clog srv "$C" &&
	[ "$(docker inspect -f '{{.State.ExitCode}}' "$C")" = 0 ] ||
		{ fail "the container's mctun:"; sed 's/^/      /' "$T/srv.log" >&2; return 1; }
	out=$(find "$T/bpffs" -mindepth 1 ! -name '*.debug')
	[ -z "$out" ] || { fail "pinned in a read-only bpffs: $out"; return 1; }
	docker rm "$C" >/dev/null && docker network rm "$PFX-cams" >/dev/null &&
	docker rmi "$I" mctun:latest >/dev/null || { fail "docker rm, network rm, rmi"; return 1; }
	umount_for_test bpffs && dockerd_stop
}
