# shellcheck shell=bash
# Helpers for the namespace tests. Sourced by tests/run.sh; every test runs
# in a subshell with its own namespaces (prefix $PFX) and temp folder, and
# its clean-up runs on any exit.
#
# Topology of `islands N` (N = 2 or 3), all in namespaces this run creates:
#
#   hX (eth0, 198.18.X.2, 2001:db8:X::2) --- gX (isl, 198.18.X.1, 2001:db8:X::1)
#   gX (wXY, 198.19.XY.X) --- gY (wXY, 198.19.XY.Y)     for every gateway pair
#
# Islands are joined by unicast links only: multicast crosses them through
# mctun or not at all.

ROOT=${ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
MCTUN=${MCTUN:-$ROOT/build/mctun}
WAIT_STEPS=${WAIT_STEPS:-100}        # x 0.05 s: bound of every wait loop
TIME_SCALE=${TIME_SCALE:-1}          # stretches receive windows and time bounds (slow VMs)

# scaled SECS: SECS x TIME_SCALE, for windows and bounds a slow machine needs longer.
scaled() { awk -v s="$1" -v k="$TIME_SCALE" 'BEGIN { printf "%g", s * k }'; }

fail() { echo "    FAIL: $*" >&2; return 1; }
note() { echo "    $*" >&2; }

# ---- namespaces ----------------------------------------------------------

ns_add() {   # NAME
	ip netns add "$PFX-$1" || return 1
	ip -n "$PFX-$1" link set lo up
}

# Run in a namespace's network stack, keeping our mount namespace so the
# bpffs pins are the host's (ip netns exec would hide them).
nsx() {      # NAME CMD...
	local n=$1; shift
	nsenter --net="/run/netns/$PFX-$n" -- "$@"
}

veth() {     # NS1 IF1 NS2 IF2
	ip link add "$2" netns "$PFX-$1" type veth peer name "$4" netns "$PFX-$3" || return 1
	ip -n "$PFX-$1" link set "$2" up
	ip -n "$PFX-$3" link set "$4" up
}

# islands N: hosts h1..hN, gateways g1..gN, a full mesh of unicast links.
islands() {
	local n=$1 i j
	for ((i = 1; i <= n; i++)); do
		ns_add "h$i" && ns_add "g$i" || return 1
		veth "g$i" isl "h$i" eth0 || return 1
		ip -n "$PFX-g$i" addr add "198.18.$i.1/24" dev isl
		ip -n "$PFX-h$i" addr add "198.18.$i.2/24" dev eth0
		ip -n "$PFX-g$i" -6 addr add "2001:db8:$i::1/64" dev isl nodad
		ip -n "$PFX-h$i" -6 addr add "2001:db8:$i::2/64" dev eth0 nodad
		ip -n "$PFX-h$i" route add default via "198.18.$i.1"
		ip -n "$PFX-h$i" route add 224.0.0.0/4 dev eth0
		ip -n "$PFX-h$i" -6 route add ff15::/16 dev eth0 table local 2>/dev/null ||
			ip -n "$PFX-h$i" -6 route add ff15::/16 dev eth0
	done
	for ((i = 1; i <= n; i++)); do
		for ((j = i + 1; j <= n; j++)); do
			veth "g$i" "w$i$j" "g$j" "w$i$j" || return 1
			ip -n "$PFX-g$i" addr add "198.19.$i$j.$i/24" dev "w$i$j"
			ip -n "$PFX-g$j" addr add "198.19.$i$j.$j/24" dev "w$i$j"
		done
	done
}

# Address of gateway I on its link to gateway J.
wan_addr() { local a=$1 b=$2; ((a < b)) && echo "198.19.$a$b.$a" || echo "198.19.$b$a.$a"; }

# ---- daemons -------------------------------------------------------------

# gw NAME NS ARGS...: start `mctun run` in NS, log in $T/NAME.log, and wait
# until it runs (or fail with its log).
gw() { gw_start nsenter "$@"; }
# gw_ipns NAME NS ARGS...: the same, started the way most people do, with
# `ip netns exec`, which also gives it a mount namespace of its own.
gw_ipns() { gw_start ipns "$@"; }

gw_start() {
	local how=$1 name=$2 ns=$3 i; shift 3
	# emptied here, not by the child, so an old "running on" cannot count
	: >"$T/$name.log"
	# nsenter and ip netns exec exec mctun: $! is the daemon's own pid
	if [ "$how" = ipns ]; then
		ip netns exec "$PFX-$ns" "$MCTUN" run "$@" >>"$T/$name.log" 2>&1 &
	else
		nsenter --net="/run/netns/$PFX-$ns" -- "$MCTUN" run "$@" >>"$T/$name.log" 2>&1 &
	fi
	echo $! >"$T/$name.pid"
	for ((i = 0; i < WAIT_STEPS; i++)); do
		grep -q "running on" "$T/$name.log" && return 0
		kill -0 "$(cat "$T/$name.pid")" 2>/dev/null || break
		sleep 0.05
	done
	fail "$name did not start:"; sed 's/^/      /' "$T/$name.log" >&2
	return 1
}

gw_pid() { cat "$T/$1.pid"; }

# From a walk of the page tables: VmRSS lags on Linux 6.1 (per-thread
# counters folded in every 64 faults), so the ring buffer's pages, mapped at
# start, would seem to appear later.
rss_kb() { awk '/^Rss:/ {print $2}' "/proc/$1/smaps_rollup"; }
# What malloc, stacks and anonymous mmaps hold (a leak grows it), without
# the file pages that first use of a code path faults in or the BPF maps
# the daemon mmaps.
anon_kb() { awk '/^Anonymous:/ {print $2}' "/proc/$1/smaps_rollup"; }
# cpu_ticks PID: its utime + stime in clock ticks (0 once it is gone); the
# fields are counted after the ") " that ends a name which may hold blanks.
cpu_ticks() {
	local s
	s=$(cat "/proc/$1/stat" 2>/dev/null) || { echo 0; return; }
	s=${s##*) }
	# shellcheck disable=SC2086
	set -- $s
	echo $((${12} + ${13}))
}

# gw_stop NAME: SIGTERM, wait (bounded), and check it exited 0.
gw_stop() {
	local pid i rc
	pid=$(gw_pid "$1") || return 1
	kill -TERM "$pid" 2>/dev/null
	for ((i = 0; i < WAIT_STEPS; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.05
	done
	if kill -0 "$pid" 2>/dev/null; then
		kill -KILL "$pid"
		fail "$1 (pid $pid) ignored SIGTERM"
		return 1
	fi
	wait "$pid" 2>/dev/null; rc=$?
	rm -f "$T/$1.pid"
	[ "$rc" = 0 ] || [ "$rc" = 127 ] || { fail "$1 exited $rc"; return 1; }
}

# wait_log NAME PATTERN [COUNT]: until the log has COUNT matching lines.
wait_log() {
	local i n want=${3:-1}
	for ((i = 0; i < 2 * WAIT_STEPS; i++)); do
		n=$(grep -c -- "$2" "$T/$1.log" 2>/dev/null)
		[ "${n:-0}" -ge "$want" ] && return 0
		sleep 0.05
	done
	fail "$1: no $want x '$2' in its log:"; sed 's/^/      /' "$T/$1.log" >&2
	return 1
}

# within SECS CMD...: CMD holds within SECS (x TIME_SCALE); checked every 50 ms.
within() {
	local n i; n=$(awk -v s="$(scaled "$1")" 'BEGIN { printf "%d", s * 20 + 1 }'); shift
	for ((i = 0; i < n; i++)); do "$@" && return 0; sleep 0.05; done
	return 1
}

# ---- traffic ---------------------------------------------------------------

# rx NAME NS GROUP [ARGS...]: start `mctun recv --json` in the background;
# returns once it has joined. Its JSON lands in $T/NAME.json.
rx() {
	local name=$1 ns=$2 group=$3 i a prev= args=(); shift 3
	for a in "$@"; do      # --duration V becomes V x TIME_SCALE
		if [ "${prev:-}" = --duration ]; then a=$(scaled "$a"); fi
		args+=("$a"); prev=$a
	done
	set -- "${args[@]}"
	rm -f "$T/$name.ready"
	nsenter --net="/run/netns/$PFX-$ns" -- \
		"$MCTUN" recv "$group" --json --quiet --ready-file "$T/$name.ready" "$@" \
		>"$T/$name.json" 2>"$T/$name.err" &
	echo $! >"$T/$name.rxpid"
	for ((i = 0; i < WAIT_STEPS; i++)); do
		[ -e "$T/$name.ready" ] && return 0
		sleep 0.05
	done
	fail "receiver $name did not join:"; cat "$T/$name.err" >&2
	return 1
}

# rx_seen GW ADDR [COUNT]: gateway GW has seen (COUNT times) that an
# application on it joined group address ADDR on the island: until then
# it re-injects the group without multicast loopback (localrx.h; it reads
# the kernel's counts every 200 ms and logs each change).
rx_seen() { wait_log "$1" "local receivers: $2 joined" "${3:-1}"; }

# rx_wait NAME: wait for a receiver started with --duration or --count.
rx_wait() {
	local pid i
	pid=$(cat "$T/$1.rxpid")
	for ((i = 0; i < 6 * WAIT_STEPS; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.05
	done
	kill -0 "$pid" 2>/dev/null && kill -INT "$pid"
	wait "$pid" 2>/dev/null
	[ -s "$T/$1.json" ] || { fail "receiver $1 wrote no report:"; cat "$T/$1.err" >&2; return 1; }
}

# rx_stop NAME...: the senders are done; give their last datagrams a moment,
# then end these receivers (started with a long --duration as a bound) and
# wait for their reports. No timing guess decides what a test counts.
rx_stop() {
	local n
	sleep 0.3
	for n in "$@"; do kill -INT "$(cat "$T/$n.rxpid")" 2>/dev/null; done
	for n in "$@"; do rx_wait "$n" || return 1; done
}

# tx NS GROUP ARGS...: send in the foreground (quiet).
tx() {
	local ns=$1; shift
	nsx "$ns" "$MCTUN" send "$@" --quiet >/dev/null 2>"$T/tx.err" ||
		{ fail "send $*:"; cat "$T/tx.err" >&2; return 1; }
}

# jnum FILE KEY: first numeric value of "KEY" in a JSON file.
jnum() {
	grep -o "\"$2\": *-\?[0-9.]*" "$1" | head -n1 | sed 's/.*: *//'
}

# jsenders FILE: how many sender objects a recv report holds.
jsenders() { grep -o '"id": *"' "$1" | wc -l; }

# expect_rx NAME RECEIVED [SENDERS]: a report with exactly RECEIVED datagrams
# from SENDERS senders (default 1), none lost, duplicated or corrupt.
expect_rx() {
	local f="$T/$1.json" got k
	got=$(jnum "$f" received)
	[ "$got" = "$2" ] || { fail "$1: received ${got:-?}, want $2"; sed 's/^/      /' "$f" >&2; return 1; }
	[ "$(jsenders "$f")" = "${3:-1}" ] || { fail "$1: $(jsenders "$f") senders, want ${3:-1}"; return 1; }
	[ "$2" = 0 ] && return 0
	for k in lost duplicates corrupt; do
		got=$(grep -o "\"$k\": *[0-9]*" "$f" | sed 's/.*: *//' | sort -n | tail -n1)
		[ "${got:-0}" = 0 ] || { fail "$1: $k = $got"; sed 's/^/      /' "$f" >&2; return 1; }
	done
	got=$(jnum "$f" foreign)
	[ "${got:-0}" = 0 ] || { fail "$1: foreign = $got"; return 1; }
}

# ---- unit binaries -----------------------------------------------------------

# unit_run NAME: build build/NAME (so that `make test` needs nothing more
# than `make`) and run it. It prints "ok - CASE" or "not ok - CASE: why" per
# case and ends with "NAME: N ok, M not ok"; that line must say N > 0, so a
# run that tested nothing fails. Known problems end in "# TODO" and are
# shown, not failed. With valgrind installed, binaries that allocate run
# again under it (UNIT_VALGRIND=1).
unit_run() {
	local name=$1 bin="$ROOT/build/$1" rc
	if ! make -C "$ROOT" -s --no-print-directory "build/$name" >"$T/make.log" 2>&1 &&
	   ! make -C "$ROOT" -s --no-print-directory -f Makefile -f fuzz/fuzz.mk "build/$name" \
		>>"$T/make.log" 2>&1; then
		fail "cannot build build/$name:"; sed 's/^/      /' "$T/make.log" >&2
		return 1
	fi
	"$bin" >"$T/$name.out" 2>&1; rc=$?
	if [ "$rc" != 0 ]; then
		fail "$name exited $rc:"; grep -v '^ok' "$T/$name.out" | sed 's/^/      /' >&2
		return 1
	fi
	grep -q "^$name: [1-9][0-9]* ok, 0 not ok" "$T/$name.out" ||
		{ fail "$name ran no case:"; sed 's/^/      /' "$T/$name.out" >&2; return 1; }
	grep '# TODO' "$T/$name.out" | sed 's/^/    /' >&2
	if [ "${UNIT_VALGRIND:-0}" = 1 ] && command -v valgrind >/dev/null; then
		valgrind -q --leak-check=full --error-exitcode=1 "$bin" >"$T/valgrind.out" 2>&1 ||
			{ fail "$name under valgrind:"; grep -v '^ok' "$T/valgrind.out" |
				sed 's/^/      /' >&2; return 1; }
	fi
	return 0
}

# ---- what the kernel has ----------------------------------------------------

# kernel_features: one line naming the kernel features some tests need or
# skip without, so a skip or a failure on another machine explains itself:
#   kernel 6.1.0-18-amd64: mroute yes, netem yes, pedit yes, tls yes, udp-gso yes, btf yes
# Modules are loaded when modprobe can; qdiscs and actions are tried in a
# namespace made for it and deleted; "?" where a probe could not run.
kernel_features() {
	local ns="mctun-probe-$$" mr=no netem=no pedit=no tls=no gso=no btf=no m
	if command -v modprobe >/dev/null; then
		for m in sch_netem act_pedit act_csum cls_u32 tls; do modprobe -q "$m" 2>/dev/null; done
	fi
	if [ -e /proc/net/ip_mr_vif ] && [ -e /proc/net/ip6_mr_vif ]; then mr=yes
	elif [ -e /proc/net/ip_mr_vif ]; then mr="ipv4 only"
	elif [ -e /proc/net/ip6_mr_vif ]; then mr="ipv6 only"
	fi
	if ip netns add "$ns" 2>/dev/null; then
		ip -n "$ns" link set lo up
		ip netns exec "$ns" tc qdisc add dev lo root netem delay 1ms 2>/dev/null && netem=yes
		ip netns exec "$ns" tc qdisc add dev lo clsact 2>/dev/null &&
		ip netns exec "$ns" tc filter add dev lo egress protocol ip prio 1 u32 \
			match ip dst 239.1.2.3/32 action pedit ex munge ip dsfield set 0x20 retain 0xfc \
			pipe action csum ip 2>/dev/null && pedit=yes
		ip netns del "$ns"
	else
		netem=? pedit=?
	fi
	# the tls module makes it in every namespace
	[ -e /proc/net/tls_stat ] && tls=yes
	# UDP_SEGMENT (SOL_UDP 17, option 103), as mctun asks for it; perl is
	# essential on Debian
	if command -v perl >/dev/null; then
		perl -MSocket -e 'socket(my $s, PF_INET, SOCK_DGRAM, 0) or exit 2;
			exit(setsockopt($s, 17, 103, pack("i", 0)) ? 0 : 1)' 2>/dev/null && gso=yes
	else
		gso=?
	fi
	[ -e /sys/kernel/btf/vmlinux ] && btf=yes
	echo "kernel $(uname -r): mroute $mr, netem $netem, pedit $pedit, tls $tls, udp-gso $gso, btf $btf"
}

# ---- clean-up --------------------------------------------------------------

# gw_clean NS [IFACE]: nothing of mctun left on the interface: no filter at
# our handle, no clsact qdisc we made, no pins.
gw_clean() {
	local ns=$1 ifc=${2:-isl} out
	out=$(ip netns exec "$PFX-$ns" tc filter show dev "$ifc" ingress 2>/dev/null)
	out+=$(ip netns exec "$PFX-$ns" tc filter show dev "$ifc" egress 2>/dev/null)
	[ -z "$out" ] || { fail "$ns: tc filters left on $ifc: $out"; return 1; }
	ip netns exec "$PFX-$ns" tc qdisc show dev "$ifc" | grep -q clsact &&
		{ fail "$ns: clsact qdisc left on $ifc"; return 1; }
	out=$(pins_left "$(ns_pin_dir "$ns")")
	[ -z "$out" ] || { fail "$ns: pins left: $out"; return 1; }
	return 0
}

# Where an instance in namespace NS pins its maps (see user/inspect/instances.h).
ns_pin_dir() { echo "/sys/fs/bpf/mctun/netns$(stat -L -c %i "/run/netns/$PFX-$1")"; }

pins_left() { find /sys/fs/bpf/mctun -mindepth 1 2>/dev/null | grep -F -- "$1" || true; }

# mount_for_test DIR ARGS...: mount ARGS... on $T/DIR (made), unmounted by
# cleanup_test (or umount_for_test DIR) whatever happens.
mount_for_test() {
	local d="$T/$1"; shift
	mkdir -p "$d" && mount "$@" "$d" || { fail "mount $* $d"; return 1; }
	echo "$d" >>"$T/mounts"
}

umount_for_test() {
	umount "$T/$1" || { fail "umount $T/$1"; return 1; }
	grep -vxF "$T/$1" "$T/mounts" >"$T/mounts.new"; mv "$T/mounts.new" "$T/mounts"
}

# Kills what a test started, checks it left nothing, deletes its namespaces.
cleanup_test() {
	local f pid n rc=0
	[ -e "$T/mounts" ] && tac "$T/mounts" | xargs -r -n1 umount -l 2>/dev/null
	rm -f "$T/mounts"
	dockerd_stop || rc=1
	for f in "$T"/*.pid "$T"/*.rxpid; do
		[ -e "$f" ] || continue
		pid=$(cat "$f")
		kill -TERM "$pid" 2>/dev/null
	done
	for f in "$T"/*.pid "$T"/*.rxpid; do
		[ -e "$f" ] || continue
		pid=$(cat "$f")
		for ((n = 0; n < WAIT_STEPS; n++)); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.05
		done
		kill -KILL "$pid" 2>/dev/null
	done
	for n in $(ip netns list | awk '{print $1}' | grep "^$PFX-"); do
		ip netns del "$n" || rc=1
	done
	n=$(ip netns list | grep -c "^$PFX-")
	[ "$n" = 0 ] || { echo "    FAIL: $n namespaces left" >&2; rc=1; }
	return $rc
}

# ---- docker ------------------------------------------------------------------

# dockerd_start [NS]: a Docker daemon of the test's own (Debian's docker.io),
# with DOCKER_HOST (and DOCKER_CONFIG, the client's own files: $T/docker-cli)
# exported for the docker command. Everything of it is
# under $T: data root, exec root (its containerd's too), pid file, the
# socket $T/docker.sock, and its config ({}: not /etc/docker/daemon.json).
# It runs in a mount namespace of its own, a slave of the host's: it sees
# mounts made later (/run/netns/...), while its own (overlays, containers'
# namespaces) stay in it and go with it; there /etc/docker, where it makes
# key.json, is $T/etc-docker. It makes no network of its own: no default
# bridge, no iptables rule, no sysctl change; in NS (a namespace of this
# test), --network host is NS. Containers' cgroups go under $PFX-docker.
# Returns $SKIP with the reason when dockerd is missing or cannot start
# here. dockerd_stop (cleanup_test calls it too) removes it all.
dockerd_start() {
	local ns=${1:-} i d cmd
	command -v dockerd >/dev/null && command -v docker >/dev/null ||
		{ echo "dockerd or docker is not installed (Debian's docker.io: tests/install-deps.sh)"; return "$SKIP"; }
	[ -d /etc/docker ] || { echo "no /etc/docker (Debian's docker.io makes it)"; return "$SKIP"; }
	mkdir -p "$T/etc-docker" && echo '{}' >"$T/daemon.json" || return 1
	# what dockerd and containerd make under /run is removed again by
	# dockerd_stop if it was not there before and is empty then
	: >"$T/dockerd.rundirs"
	for d in /run/docker /run/containerd; do
		[ -e "$d" ] || echo "$d" >>"$T/dockerd.rundirs"
	done
	cmd=(unshare -m --propagation slave -- sh -c 'mount --bind "$1/etc-docker" /etc/docker &&
		exec dockerd --config-file "$1/daemon.json" --data-root "$1/docker" \
		--exec-root "$1/dexec" --pidfile "$1/dockerd.pid" -H "unix://$1/docker.sock" \
		--bridge=none --iptables=false --ip6tables=false --ip-forward=false \
		--userland-proxy=false --cgroup-parent "$2-docker"' sh "$T" "$PFX")
	[ -n "$ns" ] && cmd=(nsenter --net="/run/netns/$PFX-$ns" -- "${cmd[@]}")
	"${cmd[@]}" >"$T/dockerd.log" 2>&1 &
	# unshare, sh and nsenter exec: $! is dockerd
	echo $! >"$T/dockerd.main"
	export DOCKER_HOST="unix://$T/docker.sock" DOCKER_CONFIG="$T/docker-cli"
	for ((i = 0; i < 8 * WAIT_STEPS; i++)); do
		docker version >/dev/null 2>&1 && return 0
		kill -0 "$(cat "$T/dockerd.main")" 2>/dev/null || break
		sleep 0.05
	done
	if kill -0 "$(cat "$T/dockerd.main")" 2>/dev/null; then
		fail "dockerd did not answer within $((8 * WAIT_STEPS / 20)) s:"; tail -n 5 "$T/dockerd.log" >&2
		return 1
	fi
	dockerd_stop >/dev/null 2>&1
	echo "dockerd cannot start here: $(grep -v '^$' "$T/dockerd.log" | tail -n 1)"
	return "$SKIP"
}

# dockerd_procs: the processes of the test's Docker daemon: dockerd, its
# containerd and the containers' shims, which all name $T/docker (the data
# root, not the socket $T/docker.sock a client may name) or $T/dexec, and
# what runs in its containers (in cgroups under $PFX-docker).
dockerd_procs() {
	local p
	{
		for p in /proc/[0-9]*; do
			{ tr '\0' ' ' <"$p/cmdline"; } 2>/dev/null |
				grep -qF -e "$T/docker " -e "$T/docker/" -e "$T/dexec" && echo "${p#/proc/}"
		done
		find /sys/fs/cgroup -path "*/$PFX-docker/*" -name cgroup.procs -exec cat {} + 2>/dev/null
	} | sort -nu
}

# dockerd_stop: containers removed, dockerd stopped (SIGTERM: it stops its
# containerd), then checked: no process of it left, no mount under $T,
# its cgroups and what it made under /run removed, $T/docker and $T/dexec
# deleted. Does nothing when no daemon was started; fails naming what was
# left (killed and unmounted on the way, so that nothing outlives the test).
dockerd_stop() {
	local pid i left rc=0 d
	[ -e "$T/dockerd.main" ] || return 0
	pid=$(cat "$T/dockerd.main")
	if kill -0 "$pid" 2>/dev/null; then
		docker ps -aq 2>/dev/null | xargs -r docker rm -f >/dev/null 2>&1
		kill -TERM "$pid"
		for ((i = 0; i < 6 * WAIT_STEPS; i++)); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.05
		done
	fi
	left=$(dockerd_procs)
	if [ -n "$left" ]; then
		fail "left running: $(for i in $left; do tr '\0' ' ' <"/proc/$i/cmdline"; echo; done)"
		# shellcheck disable=SC2086
		kill -KILL $left 2>/dev/null
		sleep 0.2
		rc=1
	fi
	wait "$pid" 2>/dev/null
	# (but for the test's own, mount_for_test's)
	left=$(awk -v t="$T/" 'index($5, t) == 1 { print $5 }' /proc/self/mountinfo |
		grep -vxF -f <(cat "$T/mounts" 2>/dev/null; echo /nothing/))
	if [ -n "$left" ]; then
		fail "mounts left: $left"
		sort -r <<<"$left" | xargs -r -n1 umount -l
		rc=1
	fi
	for d in /sys/fs/cgroup/"$PFX-docker" /sys/fs/cgroup/*/"$PFX-docker"; do
		[ -d "$d" ] && { rmdir "$d" 2>/dev/null || { fail "cgroup left: $d"; rc=1; }; }
	done
	while read -r d; do
		[ -d "$d" ] && find "$d" -depth -type d -empty -delete 2>/dev/null
	done <"$T/dockerd.rundirs"
	rm -rf "$T/docker" "$T/dexec" "$T/etc-docker" "$T/docker-cli" "$T/dockerd.main" "$T/dockerd.pid"
	unset DOCKER_HOST DOCKER_CONFIG
	return $rc
}
