# shellcheck shell=bash
# Local targets (--to): the TC program copies the configured groups'
# datagrams, in the kernel, to interfaces of the gateway's host (a Linux
# bridge with "containers" behind it, a veth into another namespace), with
# no routing hop: TTL 1 arrives, the source stays.
#
# Topology (local_host): h1 on the island (isl, 198.18.1.0/24) of g1; on g1
# a bridge br0 (snooping off) with c1 and c2 behind it (198.18.100.0/24),
# and c3 behind a veth of its own, vc3 (198.18.101.0/24).
#
# Uses has_text (t_lab.sh), scrape, prom_check and expect_sample
# (t_metrics.sh), pkg_make and pkg_clog (t_package.sh); dockerd_start is in
# lib.sh.

# local_host: the topology above; islands 2 gives the rest (h1, g1, ...).
local_host() {
	local c
	ip -n "$PFX-g1" link add br0 type bridge mcast_snooping 0 2>/dev/null ||
		{ echo "the kernel has no bridge (CONFIG_BRIDGE)"; return "$SKIP"; }
	ip -n "$PFX-g1" addr add 198.18.100.1/24 dev br0
	ip -n "$PFX-g1" -6 addr add 2001:db8:100::1/64 dev br0 nodad
	ip -n "$PFX-g1" link set br0 up
	for c in 1 2; do
		ns_add "c$c" && veth g1 "vc$c" "c$c" eth0 || return 1
		ip -n "$PFX-g1" link set "vc$c" master br0
		ip -n "$PFX-c$c" addr add "198.18.100.$((c + 1))/24" dev eth0
		ip -n "$PFX-c$c" -6 addr add "2001:db8:100::$((c + 1))/64" dev eth0 nodad
	done
	ns_add c3 && veth g1 vc3 c3 eth0 || return 1
	ip -n "$PFX-g1" addr add 198.18.101.1/24 dev vc3
	ip -n "$PFX-c3" addr add 198.18.101.2/24 dev eth0
	for c in 1 2 3; do
		ip -n "$PFX-c$c" route add 224.0.0.0/4 dev eth0
		ip -n "$PFX-c$c" -6 route add ff15::/16 dev eth0 table local 2>/dev/null ||
			ip -n "$PFX-c$c" -6 route add ff15::/16 dev eth0
	done
}

# ifindex NS IFACE: the interface's index in namespace NS.
ifindex() { ip -n "$PFX-$1" -o link show "$2" | cut -d: -f1; }

# tg_status ROW...: `mctun status` in g1 lists these target rows, in order.
tg_status() {
	local row want=""
	nsx g1 "$MCTUN" status >"$T/status.txt" || { fail "status in g1"; return 1; }
	for row in "$@"; do want+="  target $row"$'\n'; done
	[ "$(grep '^  target ' "$T/status.txt")"$'\n' = "$want" ] && return 0
	fail "status: target rows are not:"; printf '%s' "$want" | sed 's/^/      /' >&2
	sed 's/^/      /' "$T/status.txt" >&2
	return 1
}

# tg_json OBJECTS: `mctun stats --json` in g1 has exactly these targets.
tg_json() {
	nsx g1 "$MCTUN" stats --json >"$T/stats.json" || { fail "stats --json in g1"; return 1; }
	has_text "$T/stats.json" "\"targets\":[$1],"
}

# tg_ttl NAME WANT: receiver NAME saw TTL WANT.
tg_ttl() {
	local got; got=$(jnum "$T/$1.json" ttl)
	[ "$got" = "$2" ] || { fail "$1: TTL $got, want $2"; return 1; }
}

# tg_from NAME WANT: every sender of receiver NAME came from WANT.
tg_from() {
	local got
	got=$(grep -o '"from":"[^"]*"' "$T/$1.json" | sort -u | tr '\n' ' ')
	[ "$got" = "\"from\":\"$2\" " ] || { fail "$1: senders ${got:-none}, want $2"; return 1; }
}

# Datagrams sent on the island with TTL 1 reach the containers behind the
# bridge and the veth exactly once, with TTL 1 (vc3: set to 9) and h1 as
# their source, whole and in fragments, IPv4 and IPv6; a group that is not
# configured reaches nobody. No tunnel: --to alone needs no peer and no key.
# mctun status, mctun stats (table, JSON, Prometheus) and --metrics count
# each target's copies exactly.
test_targets_bridge_and_veth() {
	local n p b js L='{iface="isl",target=' code
	islands 1 && local_host || return $?
	gw g1 g1 -i isl --to br0 --to 'vc3 ttl 9' -g 239.1.1.1:5000 -g '[ff15::1]:5000' \
		--metrics 127.0.0.1:9100 || return 1
	log_has g1 "no tunnel (local targets only); copies to br0, vc3" || return 1
	nsx g1 "$MCTUN" status | grep -q "authentication: no tunnel (local targets only)" ||
		{ fail "status does not say there is no tunnel:"; nsx g1 "$MCTUN" status >&2; return 1; }
	tg_status "br0 (ttl as sent): packets 0, bytes 0, errors 0" \
		"vc3 (ttl 9): packets 0, bytes 0, errors 0" || return 1
	rx a c1 239.1.1.1:5000 --duration 60 && rx b c2 239.1.1.1:5000 --duration 60 &&
	rx c c3 239.1.1.1:5000 --duration 60 && rx a6 c1 '[ff15::1]:5000' --duration 60 &&
	rx x c1 239.1.1.2:5000 --duration 60 || return 1
	tx h1 239.1.1.1:5000 --count 200 --rate 2000pps --size 200 --source-port 4321 --ttl 1 &&
	tx h1 239.1.1.1:5000 --count 20 --rate 500pps --size 4000 --source-port 4321 --ttl 1 &&
	tx h1 '[ff15::1]:5000' --count 100 --rate 2000pps --size 200 --source-port 4322 --ttl 1 &&
	tx h1 239.1.1.2:5000 --count 50 --rate 2000pps --size 200 --ttl 1 || return 1
	rx_stop a b c a6 x || return 1
	expect_rx a 220 2 && expect_rx b 220 2 && expect_rx c 220 2 && expect_rx a6 100 &&
		expect_rx x 0 0 || return 1
	tg_ttl a 1 && tg_ttl b 1 && tg_ttl c 9 && tg_ttl a6 1 || return 1
	tg_from a 198.18.1.2:4321 && tg_from c 198.18.1.2:4321 && tg_from a6 '[2001:db8:1::2]:4322' ||
		return 1
	# per target: 200 + 20 x 3 fragments (IPv4) + 100 (IPv6) packets; bytes
	# from the IP header on: 200 x (20 + 8 + 200), 20 x (1500 + 1500 + 20 +
	# 1048, the 4008 UDP bytes in 1480-byte pieces at MTU 1500), 100 x
	# (40 + 8 + 200)
	p=$((200 + 20 * 3 + 100)) b=$((200 * 228 + 20 * (1500 + 1500 + 1068) + 100 * 248))
	tg_status "br0 (ttl as sent): packets $p, bytes $b, errors 0" \
		"vc3 (ttl 9): packets $p, bytes $b, errors 0" || return 1
	js="{\"ifname\":\"br0\",\"ifindex\":$(ifindex g1 br0),\"ttl\":0,\"packets\":$p,\"bytes\":$b,\"errors\":0},{\"ifname\":\"vc3\",\"ifindex\":$(ifindex g1 vc3),\"ttl\":9,\"packets\":$p,\"bytes\":$b,\"errors\":0}"
	tg_json "$js" && has_text "$T/stats.json" "\"copies\":$((2 * p)),\"copy_errors\":0}" || return 1
	# from the host's network namespace: the names are the instance's, not ours
	"$MCTUN" status --all --json >"$T/all.json" || { fail "status --all from the host"; return 1; }
	has_text "$T/all.json" "\"targets\":[$js]," || return 1
	nsx g1 "$MCTUN" stats >"$T/stats.txt" || { fail "stats in g1"; return 1; }
	grep -qE "^  br0 +$(ifindex g1 br0) +as sent +$p +$b +0\$" "$T/stats.txt" &&
	grep -qE "^  vc3 +$(ifindex g1 vc3) +9 +$p +$b +0\$" "$T/stats.txt" ||
		{ fail "stats table:"; sed 's/^/      /' "$T/stats.txt" >&2; return 1; }
	nsx g1 "$MCTUN" stats --prometheus >"$T/stats.prom" || { fail "stats --prometheus"; return 1; }
	prom_check "$T/stats.prom" &&
	expect_sample "$T/stats.prom" "mctun_target_packets_total$L\"br0\"}" "$p" &&
	expect_sample "$T/stats.prom" "mctun_target_bytes_total$L\"br0\"}" "$b" &&
	expect_sample "$T/stats.prom" "mctun_target_errors_total$L\"br0\"}" 0 &&
	expect_sample "$T/stats.prom" "mctun_target_packets_total$L\"vc3\"}" "$p" &&
	expect_sample "$T/stats.prom" "mctun_target_bytes_total$L\"vc3\"}" "$b" &&
	expect_sample "$T/stats.prom" "mctun_target_errors_total$L\"vc3\"}" 0 || return 1
	# the daemon's --metrics: the same families, the same numbers
	code=$(scrape g1 http://127.0.0.1:9100/metrics "$T/g1.http") && [ "$code" = 200 ] ||
		{ fail "GET /metrics on g1: $code"; return 1; }
	diff <(grep '^mctun_target_\|^# [A-Z]* mctun_target_' "$T/stats.prom") \
		<(grep '^mctun_target_\|^# [A-Z]* mctun_target_' "$T/g1.http") >"$T/diff" &&
		[ "$(grep -c '^mctun_target_' "$T/g1.http")" = 6 ] ||
		{ fail "--metrics and stats --prometheus differ on targets:"; sed 's/^/      /' "$T/diff" >&2
		  return 1; }
	gw_stop g1 || return 1
	n=$((2 * p))
	log_has g1 "copies $n copy_errors 0" &&
	log_has g1 "bpf: target br0: packets $p bytes $b errors 0" &&
	log_has g1 "bpf: target vc3: packets $p bytes $b errors 0" &&
	# with no tunnel nothing goes through the ring: the copies are all
	log_has g1 "captured 0 (ring 0, socket 0," && log_has g1 " pushed 0 "
}

# What comes from the tunnel reaches the local targets too: g2 re-injects
# onto its island and its TC program copies that at egress to its targets,
# once; with --keep-source (the raw socket's marked packets) from h1.
targets_from_tunnel() {
	local keep=$1
	islands 2 || return 1
	ip -n "$PFX-g2" link add br0 type bridge mcast_snooping 0 2>/dev/null ||
		{ echo "the kernel has no bridge (CONFIG_BRIDGE)"; return "$SKIP"; }
	ip -n "$PFX-g2" link set br0 up
	ns_add c1 && veth g2 vc1 c1 eth0 || return 1
	ip -n "$PFX-g2" link set vc1 master br0
	ip -n "$PFX-c1" addr add 198.18.100.2/24 dev eth0
	ip -n "$PFX-c1" route add 224.0.0.0/4 dev eth0
	gw g2 g2 --insecure -i isl -g 239.1.1.1:5000 --to br0 $keep --listen 198.19.12.2:7000 &&
	gw g1 g1 --insecure -i isl -g 239.1.1.1:5000 --peer 198.19.12.2:7000 &&
		wait_log g1 "up (node" && wait_log g2 "up (node" || return 1
	rx a c1 239.1.1.1:5000 --duration 60 && rx h h2 239.1.1.1:5000 --duration 60 || return 1
	tx h1 239.1.1.1:5000 --count 300 --rate 2000pps --size 200 --source-port 4321 --ttl 4 &&
	tx h1 239.1.1.1:5000 --count 20 --rate 500pps --size 4000 --source-port 4321 --ttl 4 ||
		return 1
	rx_stop a h && expect_rx a 320 2 && expect_rx h 320 2 || return 1
	if [ -n "$keep" ]; then tg_from a 198.18.1.2:4321 || return 1; fi
	gw_stop g2 && gw_stop g1 || return 1
	log_has g2 "injected 320 (errors 0," && log_has g2 "captured 0 (" && log_has g1 "injected 0 (" &&
	# a copy per datagram on the wire: UDP GSO batches by their datagrams,
	# a 4000-byte one by its 3 fragments
	log_has g2 "copies 360 copy_errors 0"
}

test_targets_from_tunnel() { targets_from_tunnel ""; }
test_targets_from_tunnel_keep_source() { targets_from_tunnel --keep-source; }

# A target's interface deleted and made again under the same name (as a
# container's veth is when it restarts) is followed without a restart.
test_targets_follow_a_new_interface() {
	islands 1 && local_host || return $?
	gw g1 g1 -i isl --to vc3 -g 239.1.1.1:5000 || return 1
	ip -n "$PFX-g1" link del vc3
	wait_log g1 "--to vc3: the interface is gone" || return 1
	tx h1 239.1.1.1:5000 --count 10 --rate 1000pps --size 200 --ttl 1 || return 1
	# while it is gone: named, no index, nothing copied
	tg_status "vc3 (ttl as sent, gone): packets 0, bytes 0, errors 0" &&
	tg_json '{"ifname":"vc3","ifindex":0,"ttl":0,"packets":0,"bytes":0,"errors":0}' || return 1
	veth g1 vc3 c3 eth0 || return 1
	ip -n "$PFX-c3" addr add 198.18.101.2/24 dev eth0
	ip -n "$PFX-c3" route add 224.0.0.0/4 dev eth0
	wait_log g1 "--to vc3: the interface is back" || return 1
	rx c c3 239.1.1.1:5000 --duration 60 || return 1
	tx h1 239.1.1.1:5000 --count 100 --rate 2000pps --size 200 --ttl 1 || return 1
	rx_stop c && expect_rx c 100 || return 1
	tg_status "vc3 (ttl as sent): packets 100, bytes 22800, errors 0" &&
	tg_json "{\"ifname\":\"vc3\",\"ifindex\":$(ifindex g1 vc3),\"ttl\":0,\"packets\":100,\"bytes\":22800,\"errors\":0}" ||
		return 1
	gw_stop g1 && log_has g1 "copies 100 copy_errors 0"
}

# Refusals: one line each, naming the value and the cause.
# tg_refused SECS 'ARGS|WANT'...: each `mctun run -g 239.1.1.1:5000 ARGS`
# in g1 stops within SECS with one line that holds WANT (ARGS are read by
# the shell again: 'br0 ttl 0' stays one argument).
tg_refused() {
	local secs=$1 args out; shift
	for args in "$@"; do
		# shellcheck disable=SC2086
		out=$(eval nsx g1 timeout "$secs" '"$MCTUN"' run -g 239.1.1.1:5000 ${args%%|*} 2>&1)
		[ "$(wc -l <<<"$out")" = 1 ] && grep -qF -- "${args#*|}" <<<"$out" ||
			{ fail "run ${args%%|*}: '$out', want one line with '${args#*|}'"; return 1; }
	done
}

test_targets_refused() {
	islands 1 && local_host || return $?
	tg_refused 5 "-i isl --to nosuch|--to nosuch: no such interface" \
		"-i isl --to isl|--to: 'isl' is the island interface (-i) itself" \
		"-i isl --to br0 --mode socket|--to, --netns, --container: need --mode tc" \
		"-i isl --to br0 --to br0|--to: 'br0' is already a target" \
		"-i isl --to 'br0 ttl 0'|--to: 0 is out of range" \
		"-i isl --netns /nonexistent|--netns /nonexistent: no such namespace" \
		"-i isl --netns /proc/self/ns/net|--netns /proc/self/ns/net: no veth leads there from here" \
		"-i isl --netns c1|--netns: 'c1' is not an absolute path" \
		"--to br0 -i vc1|--to br0: the island interface vc1 is a port of br0" \
		"--to vc2 -i br0|--to vc2: vc2 is a port of the island bridge br0"
}

# The targets cannot change on SIGHUP (the program is loaded for them): a
# changed list is refused with its line, and copying goes on to the old one.
test_targets_reload_refuses_a_change() {
	islands 1 && local_host || return $?
	conf g1 <<-EOF
	iface isl
	group 239.1.1.1:5000
	to br0
	EOF
	gw g1 g1 --config "$T/g1.conf" || return 1
	echo "to vc3" >>"$T/g1.conf"
	reload g1 1 && log_has g1 "$T/g1.conf:4: to: cannot change at run time (restart mctun for that)" &&
		log_has g1 "reload refused: keeping the running configuration" || return 1
	rx a c1 239.1.1.1:5000 --duration 60 && rx c c3 239.1.1.1:5000 --duration 60 || return 1
	tx h1 239.1.1.1:5000 --count 100 --rate 2000pps --size 200 --ttl 1 || return 1
	rx_stop a c && expect_rx a 100 && expect_rx c 0 0
}

# --netns: the target is the veth that leads into the namespace (c3's
# vc3, and c1's bridge port vc1), found without naming it; when the
# namespace is made anew with a new veth (a restarted container), the new
# one is followed.
test_targets_netns() {
	islands 1 && local_host || return $?
	gw g1 g1 -i isl -g 239.1.1.1:5000 --netns "/run/netns/$PFX-c3" \
		--netns "/run/netns/$PFX-c1 ttl 7" || return 1
	rx c c3 239.1.1.1:5000 --duration 60 && rx a c1 239.1.1.1:5000 --duration 60 &&
		rx b c2 239.1.1.1:5000 --duration 60 || return 1
	tx h1 239.1.1.1:5000 --count 100 --rate 2000pps --size 200 --ttl 1 || return 1
	# c2, on the bridge but not a target, gets nothing
	rx_stop c a b && expect_rx c 100 && expect_rx a 100 && expect_rx b 0 0 || return 1
	tg_ttl c 1 && tg_ttl a 7 || return 1
	# c3 "restarts": a new namespace under the same name, a new veth
	ip netns del "$PFX-c3"
	wait_log g1 "--netns /run/netns/$PFX-c3: the interface is gone" || return 1
	ns_add c3 && veth g1 vnew c3 eth0 || return 1
	ip -n "$PFX-c3" addr add 198.18.101.2/24 dev eth0
	ip -n "$PFX-c3" route add 224.0.0.0/4 dev eth0
	wait_log g1 "--netns /run/netns/$PFX-c3: copying to vnew" || return 1
	rx c c3 239.1.1.1:5000 --duration 60 || return 1
	tx h1 239.1.1.1:5000 --count 100 --rate 2000pps --size 200 --ttl 1 || return 1
	rx_stop c && expect_rx c 100 || return 1
	gw_stop g1 && log_has g1 "copies to netns /run/netns/$PFX-c3, netns /run/netns/$PFX-c1" &&
		log_has g1 "bpf: target vnew (netns /run/netns/$PFX-c3): packets 200 "
}

# tg_cjoined CONTAINER GROUP: the container runs and its receiver has joined
# GROUP's address on its eth0.
tg_cjoined() {
	local pid
	pid=$(docker inspect -f '{{.State.Pid}}' "$1" 2>/dev/null)
	[ "${pid:-0}" -gt 0 ] &&
	within 5 sh -c 'nsenter -t "$1" -n ip maddr show dev eth0 | grep -qw "inet *$2"' sh "$pid" "${2%:*}" ||
		{ fail "$1 (pid ${pid:-?}) did not join ${2%:*}:"; docker logs "$1" 2>&1 | sed 's/^/      /' >&2
		  return 1; }
}

# tg_cveth NETWORK-BRIDGE: the host end of the only veth on that bridge.
tg_cveth() { ip -n "$PFX-g1" -o link show master "$1" | awk -F': ' '{ print $2 }' | cut -d@ -f1; }

# tg_cam HOW...: dockerd in g1, the image (sets the caller's I), an
# internal network whose bridge is mcbr1, and on it the caller's container
# C, receiving G with the image's mctun recv, made by `docker HOW...`
# (create: not started yet; run -d: running).
tg_cam() {
	dockerd_start g1 || return $?
	pkg_make image || return 1
	I="mctun:$(cat "$ROOT/VERSION")"
	# (Docker warns that forwarding is off: nothing is forwarded here)
	docker network create --internal --subnet 198.18.200.0/24 \
		-o com.docker.network.bridge.name=mcbr1 "$PFX-cams" >"$T/docker.out" 2>&1 &&
	docker "$@" --name "$C" --network "$PFX-cams" --cap-drop ALL --user 65534:65534 \
		"$I" recv "$G" --iface eth0 >>"$T/docker.out" 2>&1 ||
		{ fail "docker network create, $*:"; sed 's/^/      /' "$T/docker.out" >&2; return 1; }
}

# --container: a container of an isolated bridge network of Docker (a
# daemon of the test's own, in g1: its bridge and veths are there) found by
# its name through the Docker Engine API. Refused at start, one line each:
# an unknown container, an unreachable Docker, a name that is none, a
# DOCKER_HOST other than unix://. Accepted while it is only created; once
# started, it gets the island's TTL-1 datagrams through its veth, exactly;
# restarted (docker restart: a new veth, a new process), it is followed
# without restarting mctun, exactly again; stopped, the log says it is gone
# and status shows its last veth gone, nothing copied meanwhile; removed
# and made again under its name, followed again. Its receiver (the image's
# mctun recv) reports each run in docker logs.
test_targets_container() {
	local I C="$PFX-cam1" G=239.1.1.1:5000 v1 v2 n out t0 b=$((100 * 228))
	islands 1 || return 1
	tg_cam create || return $?

	tg_refused 10 "-i isl --container $PFX-nosuch|--container $PFX-nosuch: no such container (Docker at $T/docker.sock)" \
		"-i isl --container $C --docker-socket $T/nothere|--container $C: Docker at $T/nothere: connect: No such file or directory" \
		"-i isl --container a/b|--container: 'a/b' is not a container's name or id" \
		"-i isl --container $C --mode socket|--to, --netns, --container: need --mode tc" || return 1
	out=$(DOCKER_HOST=tcp://198.18.1.1:2375 nsx g1 timeout 10 "$MCTUN" run -i isl -g "$G" \
		--container "$C" 2>&1)
	[ "$out" = "mctun: --container $C: DOCKER_HOST 'tcp://198.18.1.1:2375' is not unix://PATH (an absolute path of at most 107 bytes): give --docker-socket PATH" ] ||
		{ fail "DOCKER_HOST tcp://: '$out'"; return 1; }

	# created, not started: accepted, and followed once it starts
	gw g1 g1 -i isl -g "$G" --container "$C" --docker-socket "$T/docker.sock" || return 1
	log_has g1 "no tunnel (local targets only); copies to container $C" &&
	log_has g1 "--container $C: not running (created): no copies until it starts" &&
	tg_status "? (ttl as sent, gone): packets 0, bytes 0, errors 0" || return 1
	docker start "$C" >/dev/null || { fail "docker start $C"; return 1; }
	wait_log g1 "--container $C: copying to " && tg_cjoined "$C" "$G" || return 1
	v1=$(tg_cveth mcbr1)
	log_has g1 "--container $C: copying to $v1 (index $(ifindex g1 "$v1")) from now on" || return 1
	tx h1 "$G" --count 100 --rate 2000pps --size 200 --source-port 4321 --ttl 1 || return 1
	sleep 0.3
	tg_status "$v1 (ttl as sent): packets 100, bytes $b, errors 0" || return 1

	# restarted: a new veth, followed
	docker restart -t 5 "$C" >/dev/null || { fail "docker restart $C"; return 1; }
	wait_log g1 "--container $C: copying to " 2 || return 1
	t0=$(date -d "$(docker inspect -f '{{.State.StartedAt}}' "$C")" +%s%N)
	note "copies resumed $((($(date +%s%N) - t0) / 1000000)) ms after the restarted container started (State.StartedAt; the log polled every 50 ms)"
	tg_cjoined "$C" "$G" || return 1
	v2=$(tg_cveth mcbr1)
	[ -n "$v2" ] && [ "$v2" != "$v1" ] || { fail "no new veth: $v1, then ${v2:-none}"; return 1; }
	log_has g1 "--container $C: copying to $v2 (index $(ifindex g1 "$v2")) from now on" || return 1
	tx h1 "$G" --count 100 --rate 2000pps --size 200 --source-port 4321 --ttl 1 || return 1
	sleep 0.3
	tg_status "$v2 (ttl as sent): packets 200, bytes $((2 * b)), errors 0" || return 1

	# stopped: gone, nothing copied, the counters keep its last veth
	n=$(grep -c -- "--container $C: the interface is gone: no copies until it is back" "$T/g1.log")
	docker stop -t 5 "$C" >/dev/null || { fail "docker stop $C"; return 1; }
	wait_log g1 "--container $C: the interface is gone: no copies until it is back" $((n + 1)) ||
		return 1
	tx h1 "$G" --count 10 --rate 1000pps --size 200 --ttl 1 || return 1
	tg_status "$v2 (ttl as sent, gone): packets 200, bytes $((2 * b)), errors 0" &&
	tg_json "{\"ifname\":\"$v2\",\"ifindex\":0,\"ttl\":0,\"packets\":200,\"bytes\":$((2 * b)),\"errors\":0}" ||
		return 1
	# each run of the receiver: h1's 100, whole, with TTL 1
	pkg_clog cam "$C" || return 1
	[ "$(grep -c "^recv $G: received 100 in .* senders 1," "$T/cam.log")" = 2 ] &&
	[ "$(grep -c "^  received 100  unique 100  lost 0  duplicates 0 " "$T/cam.log")" = 2 ] &&
	[ "$(grep -c "^  ttl 1 (sent 1, 0 hops)" "$T/cam.log")" = 2 ] &&
	[ "$(grep -c "^sender [0-9a-f]* from 198.18.1.2:4321\$" "$T/cam.log")" = 2 ] ||
		{ fail "the container's receiver:"; sed 's/^/      /' "$T/cam.log" >&2; return 1; }

	# removed, and made again under its name: followed too
	docker rm "$C" >/dev/null || { fail "docker rm $C"; return 1; }
	wait_log g1 "--container $C: no such container now (Docker at $T/docker.sock): no copies until it is back" &&
	docker run -d --name "$C" --network "$PFX-cams" --cap-drop ALL --user 65534:65534 \
		"$I" recv "$G" --iface eth0 >>"$T/docker.out" 2>&1 &&
	wait_log g1 "--container $C: copying to " 3 && tg_cjoined "$C" "$G" || return 1
	v1=$(tg_cveth mcbr1)
	tx h1 "$G" --count 100 --rate 2000pps --size 200 --ttl 1 || return 1
	sleep 0.3
	tg_status "$v1 (ttl as sent): packets 300, bytes $((3 * b)), errors 0" || return 1
	gw_stop g1 && log_has g1 "bpf: target $v1 (container $C): packets 300 bytes $((3 * b)) errors 0" &&
		log_has g1 "copies 300 copy_errors 0"
}

# --container with a Docker that hangs (its daemon stopped with SIGSTOP:
# connections are taken, nothing is answered): its events stream falls
# silent, and the thread's next safety question (every 10 s) gives up
# after 3 s, once logged; the copies go on into the process Docker named
# last and the event loop goes on (SIGUSR1 answered at once, SIGHUP's
# reload of the config file that names the container done at once); Docker
# back, that is logged too (at the next safety question); and SIGTERM
# during a hung exchange (the one 10 s after that) ends mctun at once (the
# thread is told to stop, not waited out).
test_targets_container_docker_hangs() {
	local I C="$PFX-cam1" G=239.1.1.1:5000 v dpid t0 ms b=$((100 * 228))
	islands 1 || return 1
	tg_cam run -d || return $?
	tg_cjoined "$C" "$G" || return 1
	# from a config file (the socket from DOCKER_HOST, as dockerd_start set it)
	printf 'iface isl\ngroup %s\ncontainer %s\n' "$G" "$C" >"$T/g1.conf"
	gw g1 g1 --config "$T/g1.conf" || return 1
	v=$(tg_cveth mcbr1)
	dpid=$(cat "$T/dockerd.main")
	kill -STOP "$dpid"
	within 20 grep -q -- "--container $C: Docker at $T/docker.sock: no answer within 3 s (following its last known process meanwhile)" "$T/g1.log" ||
		{ kill -CONT "$dpid"; fail "no 'no answer within 3 s' within 20 s:"
		  sed 's/^/      /' "$T/g1.log" >&2; return 1; }
	tx h1 "$G" --count 100 --rate 2000pps --size 200 --ttl 1 || { kill -CONT "$dpid"; return 1; }
	sleep 0.3
	kill -USR1 "$(gw_pid g1)"
	within 0.5 grep -q "bpf: target $v (container $C): packets 100 bytes $b errors 0" "$T/g1.log" ||
		{ kill -CONT "$dpid"; fail "no SIGUSR1 line with 100 copies to $v within 0.5 s:"
		  sed 's/^/      /' "$T/g1.log" >&2; return 1; }
	[ "$(grep -c "no answer within 3 s" "$T/g1.log")" = 1 ] ||
		{ kill -CONT "$dpid"; fail "the hang is logged more than once"; return 1; }
	# a reload asks no Docker: the same file is taken at once
	kill -HUP "$(gw_pid g1)"
	within 0.5 grep -q "reload: done" "$T/g1.log" ||
		{ kill -CONT "$dpid"; fail "no 'reload: done' within 0.5 s:"; sed 's/^/      /' "$T/g1.log" >&2
		  return 1; }
	kill -CONT "$dpid"
	within 20 grep -q -- "--container $C: Docker at $T/docker.sock answers again" "$T/g1.log" ||
		{ fail "no 'answers again' within 20 s:"; sed 's/^/      /' "$T/g1.log" >&2; return 1; }
	# hung again; 10.5 s after that answer the thread is about 0.5 s into
	# its next safety question, which would last 3 s
	kill -STOP "$dpid"
	sleep 10.5
	t0=$(date +%s%N)
	gw_stop g1 || { kill -CONT "$dpid"; return 1; }
	ms=$((($(date +%s%N) - t0) / 1000000))
	kill -CONT "$dpid"
	[ "$ms" -lt 1000 ] || { fail "mctun took $ms ms to stop during a hung exchange"; return 1; }
	note "stopped in $ms ms during a hung exchange"
	log_has g1 "copies 100 copy_errors 0"
}

# --container across a restart of Docker itself: the events stream ends
# with dockerd (SIGTERM; it stops the container), the thread asks at once
# (Docker gone: logged, the last process followed meanwhile), then asks for
# the stream again with a bounded backoff (100 ms doubling to 2 s); dockerd
# back (same data root) restarts the container (--restart always), and
# mctun follows it to its new veth, exactly, without a restart of its own.
test_targets_container_dockerd_restart() {
	local I C="$PFX-cam1" G=239.1.1.1:5000 v1 v2 dpid i t0 b=$((100 * 228))
	islands 1 || return 1
	tg_cam run -d --restart always || return $?
	tg_cjoined "$C" "$G" || return 1
	gw g1 g1 -i isl -g "$G" --container "$C" --docker-socket "$T/docker.sock" || return 1
	v1=$(tg_cveth mcbr1)
	tx h1 "$G" --count 100 --rate 2000pps --size 200 --ttl 1 || return 1
	sleep 0.3
	tg_status "$v1 (ttl as sent): packets 100, bytes $b, errors 0" || return 1
	tg_stream || return 1

	dpid=$(cat "$T/dockerd.main")
	kill -TERM "$dpid"
	for ((i = 0; i < 6 * WAIT_STEPS; i++)); do
		kill -0 "$dpid" 2>/dev/null || break
		sleep 0.05
	done
	kill -0 "$dpid" 2>/dev/null && { fail "dockerd did not stop"; return 1; }
	wait_log g1 "--container $C: Docker at $T/docker.sock: connect: .* (following its last known process meanwhile)" &&
	wait_log g1 "--container $C: the interface is gone: no copies until it is back" || return 1
	[ "$(grep -c "Docker at $T/docker.sock: connect" "$T/g1.log")" = 1 ] ||
		{ fail "Docker's absence is logged more than once:"; sed 's/^/      /' "$T/g1.log" >&2; return 1; }
	dockerd_start g1 || return 1
	t0=$(date +%s%N)
	wait_log g1 "--container $C: Docker at $T/docker.sock answers again" &&
	wait_log g1 "--container $C: copying to " || return 1
	note "copies resumed $((($(date +%s%N) - t0) / 1000000)) ms after the restarted dockerd answered (the log polled every 50 ms)"
	tg_cjoined "$C" "$G" || return 1
	v2=$(tg_cveth mcbr1)
	[ -n "$v2" ] && [ "$v2" != "$v1" ] || { fail "no new veth: $v1, then ${v2:-none}"; return 1; }
	log_has g1 "--container $C: copying to $v2 (index $(ifindex g1 "$v2")) from now on" || return 1
	tx h1 "$G" --count 100 --rate 2000pps --size 200 --ttl 1 || return 1
	sleep 0.3
	tg_status "$v2 (ttl as sent): packets 200, bytes $((2 * b)), errors 0" && tg_stream || return 1
	gw_stop g1 && log_has g1 "copies 200 copy_errors 0"
}

# tg_stream: g1's mctun follows Docker's events: it holds one stream
# socket connected (to Docker: it has no other), the same one 1.5 s later,
# when a thread that asked again and again would have had others.
tg_stream() {
	local a b
	a=$(nsx g1 ss -xHp state established 2>/dev/null | awk -v p="pid=$(gw_pid g1)," '$1 == "u_str" && index($0, p) { print $5 }')
	sleep 1.5
	b=$(nsx g1 ss -xHp state established 2>/dev/null | awk -v p="pid=$(gw_pid g1)," '$1 == "u_str" && index($0, p) { print $5 }')
	[ -n "$a" ] && [ "$(wc -l <<<"$a")" = 1 ] && [ "$a" = "$b" ] ||
		{ fail "no one stream to Docker held open: sockets '$a', then '$b'"; return 1; }
}

# --container 'NAME network NET': a container on two user-defined networks
# (docker network connect) gets its copies through its veth on the one
# named. Without a network named, one on a single network works as ever;
# on several it is refused at start, one line naming the container and its
# networks, and while running (connected to a second network) it gets no
# copies, logged once, until it is on one again; a network it is not on is
# refused too, and logged when it is disconnected from it while running.
test_targets_container_networks() {
	local I C="$PFX-cam1" G=239.1.1.1:5000 N1="$PFX-cams" N2="$PFX-other" v1 v2 b=$((100 * 228))
	islands 1 || return 1
	tg_cam run -d || return $?
	tg_cjoined "$C" "$G" || return 1
	gw g1 g1 -i isl -g "$G" --container "$C" --docker-socket "$T/docker.sock" || return 1
	v1=$(tg_cveth mcbr1)
	tx h1 "$G" --count 100 --rate 2000pps --size 200 --ttl 1 || return 1
	sleep 0.3
	tg_status "$v1 (ttl as sent): packets 100, bytes $b, errors 0" || return 1

	# a second network: which one is meant is no longer clear
	docker network create --internal --subnet 198.18.201.0/24 \
		-o com.docker.network.bridge.name=mcbr2 "$N2" >>"$T/docker.out" 2>&1 &&
	docker network connect "$N2" "$C" >>"$T/docker.out" 2>&1 ||
		{ fail "docker network create, connect:"; sed 's/^/      /' "$T/docker.out" >&2; return 1; }
	wait_log g1 "--container $C: on several networks ($N1, $N2): choose one with '$C network NET': no copies meanwhile" &&
	wait_log g1 "--container $C: the interface is gone: no copies until it is back" || return 1
	tx h1 "$G" --count 10 --rate 1000pps --size 200 --ttl 1 || return 1
	tg_status "$v1 (ttl as sent, gone): packets 100, bytes $b, errors 0" && gw_stop g1 || return 1
	[ "$(grep -c "on several networks" "$T/g1.log")" = 1 ] ||
		{ fail "logged more than once:"; sed 's/^/      /' "$T/g1.log" >&2; return 1; }

	tg_refused 10 "-i isl --container $C --docker-socket $T/docker.sock|--container $C: on several networks ($N1, $N2): choose one with '$C network NET'" \
		"-i isl --container '$C network nosuch' --docker-socket $T/docker.sock|--container $C: not on network nosuch (on: $N1, $N2)" \
		"-i isl --container '$C network a/b'|--container: 'a/b' is not a Docker network's name or id" \
		"-i isl --container '$C bridge $N2'|--container: '$C bridge $N2': after the container only 'network NET' and 'ttl N' may follow" ||
		return 1

	# the one named: its veth on that network's bridge
	gw g1 g1 -i isl -g "$G" --container "$C network $N2" --docker-socket "$T/docker.sock" || return 1
	v2=$(tg_cveth mcbr2)
	[ -n "$v2" ] && [ "$v2" != "$v1" ] || { fail "no veth on mcbr2: ${v2:-none}"; return 1; }
	tx h1 "$G" --count 100 --rate 2000pps --size 200 --ttl 1 || return 1
	sleep 0.3
	tg_status "$v2 (ttl as sent): packets 100, bytes $b, errors 0" || return 1
	# cut off it: no copies, logged once
	docker network disconnect "$N2" "$C" >>"$T/docker.out" 2>&1 ||
		{ fail "docker network disconnect:"; sed 's/^/      /' "$T/docker.out" >&2; return 1; }
	wait_log g1 "--container $C: not on network $N2 (on: $N1): no copies meanwhile" &&
	wait_log g1 "--container $C: the interface is gone: no copies until it is back" || return 1
	tx h1 "$G" --count 10 --rate 1000pps --size 200 --ttl 1 || return 1
	tg_status "$v2 (ttl as sent, gone): packets 100, bytes $b, errors 0" || return 1
	# and on it again: followed to its new veth there
	docker network connect "$N2" "$C" >>"$T/docker.out" 2>&1 ||
		{ fail "docker network connect again:"; sed 's/^/      /' "$T/docker.out" >&2; return 1; }
	wait_log g1 "--container $C: copying to " || return 1
	v2=$(tg_cveth mcbr2)
	tx h1 "$G" --count 100 --rate 2000pps --size 200 --ttl 1 || return 1
	sleep 0.3
	tg_status "$v2 (ttl as sent): packets 200, bytes $((2 * b)), errors 0" &&
	gw_stop g1 && log_has g1 "copies 200 copy_errors 0"
}
