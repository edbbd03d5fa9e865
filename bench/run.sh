#!/usr/bin/env bash
# make bench: how fast, how lossless, how costly mctun carries multicast
# across a unicast-only link, against the direct path and udptunnel.
#
#   bench/run.sh            full run (sizes 64, 200, 1400; about 10 minutes,
#                           and 3 more for the local targets)
#   QUICK=1 bench/run.sh    200 bytes only, shorter steps (about 2 minutes,
#                           and 1.5 more for the local targets)
#
# Topology (tests/lib.sh `islands 2`, in namespaces this script creates):
#
#   h1 (sender) -- g1 [gateway] ==unicast link== g2 [gateway] -- h2 (receiver)
#
# Contenders: direct (no tunnel: the receiver in g1, on h1's own link),
# mctun --mode tc, --mode xdp, --mode socket, and Debian's udptunnel.
# The transport: mctun tc over TCP against --resume and --transport mptcp.
# Local targets (--to): h1's datagrams copied on g1 into a bridge br0 with a
# "container" c1 behind it, by mctun against tc's mirred (the floor of an
# in-kernel copy) and smcroute (where the kernel has multicast routing).
# Results: docs/BENCHMARKS.md and docs/bench-*.png (bench/report.sh writes
# them from the run's records); a QUICK run writes build/bench-quick/
# instead, so it never overwrites a full run's report. OUT=DIR overrides.
# Raw records and logs: build/bench/ (the last run's).
#
# Knobs (environment): QUICK, OUT, BENCH_SIZES, BENCH_CONTENDERS, BENCH_FANOUT,
# BENCH_GROUPS, BENCH_RANGES (lists; empty skips that part), BENCH_MEMBERSHIP
# (empty: skip it), BENCH_KEEP (sizes of the --keep-source runs; empty: none),
# BENCH_MPTCP (sizes of the tcp / --resume / --transport mptcp runs; empty: none),
# BENCH_TARGETS (sizes of the local-target runs; empty: none),
# BENCH_COST (sizes of the fixed-rate cost runs; empty: none), BENCH_COST_CONTENDERS,
# BENCH_COST_REPS,
# BENCH_STEP (seconds per search step), BENCH_TIMEOUT (whole run, seconds).
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
export ROOT
# shellcheck source=tests/lib.sh
. "$ROOT/tests/lib.sh"

[ "$(id -u)" = 0 ] || { echo "bench: builds namespaces and loads BPF: run as root" >&2; exit 1; }
[ -x "$MCTUN" ] || { echo "bench: $MCTUN is missing: run make first" >&2; exit 1; }

case ${QUICK:-0} in ''|0|no|false) QUICK=0 ;; *) QUICK=1 ;; esac
if [ "$QUICK" = 1 ]; then
	SIZES=${BENCH_SIZES:-200}
	STEP_S=${BENCH_STEP:-0.5}      # seconds of traffic per search step
	LAT_S=1                        # seconds of traffic per latency run
	BISECT=2                       # bisection steps after the bracket
	GROUP_BISECT=1                 # the same, in the groups searches
	FAN_S=1                        # seconds of fan-out traffic
	START_PPS=50000                # first offered rate of a search
	OUT=${OUT:-$ROOT/build/bench-quick}
	TIMEOUT=${BENCH_TIMEOUT:-600}
else
	SIZES=${BENCH_SIZES:-64 200 1400}
	STEP_S=${BENCH_STEP:-1}
	LAT_S=2
	BISECT=3
	GROUP_BISECT=3
	FAN_S=3
	START_PPS=25000
	OUT=${OUT:-$ROOT/docs}
	TIMEOUT=${BENCH_TIMEOUT:-1900}
fi
CONTENDERS=${BENCH_CONTENDERS-direct tc xdp socket tc-busy udptunnel}
BUSY_POLL=2ms         # tc-busy: mctun --mode tc --busy-poll $BUSY_POLL
FANOUT_NS=${BENCH_FANOUT-1 10 100}      # empty: no fan-out runs
FANOUT_RATE=10000
FANOUT_MODE=tc
GROUP_NS=${BENCH_GROUPS-1 100 10000}  # empty: no groups runs
RANGE_NS=${BENCH_RANGES-10000}       # empty: no ranges runs
MSHIP=${BENCH_MEMBERSHIP-1}          # empty: no membership runs
MSHIP_GROUPS=100                     # groups offered at once, one of them joined
MSHIP_PPS=100                        # per group: 10,000 pps in all, 200 bytes
KEEP_SIZES=${BENCH_KEEP-200 1400 4000}  # --keep-source runs; empty: none
MPTCP_SIZES=${BENCH_MPTCP-200 1400}     # --resume / --transport mptcp runs; empty: none
TARGET_SIZES=${BENCH_TARGETS-200 1400}   # local-target runs (--to); empty: none
TARGET_CONTENDERS="mctun mirred smcroute"
COST_SIZES=${BENCH_COST-64 200 1400}     # fixed-rate cost runs; empty: none
COST_CONTENDERS=${BENCH_COST_CONTENDERS:-direct tc xdp socket}
COST_REPS=${BENCH_COST_REPS:-3}
COST_S=3
[ "$QUICK" = 1 ] && COST_SIZES=${BENCH_COST-200} COST_S=2
if [ "$QUICK" = 1 ]; then
	TARGET_PPS=20000   # the fixed rate of the CPU-per-datagram steps
	TARGET_FIX_S=2     # seconds per fixed-rate step (and per idle window)
else
	TARGET_PPS=50000
	TARGET_FIX_S=3
fi
TARGET_REPS=3          # fixed-rate steps per contender and size (median)
MAX_DOUBLE=6          # 25k .. 800k
MAX_HALVE=6           # .. 390 pps
LOSS_PPM=1000         # a step passes with loss under 0.1 %
FLUSH_EXTRA=200       # trailing datagrams from a second sender: 64 KiB worth
FLUSH_RATE=4000       # of SIZE-byte datagrams plus these (see report)
DRAIN_S=0.25
SINK=${SINK:-$ROOT/build/bench-sink}
GROUP=239.1.0.1:5000
WAIT_STEPS=200        # x 0.05 s: bound of lib.sh's wait loops

RUN=$ROOT/build/bench  # the last run's records and logs
T=$(mktemp -d /tmp/mctun-bench.XXXXXX)
PFX="mctb$$"
export T PFX
HZ=$(getconf CLK_TCK)
T0=$(date +%s)
PIN_DIRS=()

say() { printf '\033[1m== %s\033[0m\n' "$*" >&2; }
log() { printf '   %s\n' "$*" >&2; }

cleanup() {
	local d
	trap - EXIT INT TERM
	[ -n "${DOG:-}" ] && kill "$DOG" 2>/dev/null
	# a local-target contender still up (interrupted): smcrouted, the TTL
	# rule, the clsact qdisc, mctun; then the namespaces take the rest
	[ -n "${TGT_UP:-}" ] && tgt_stop "$TGT_UP" >/dev/null 2>&1
	cleanup_test >/dev/null 2>&1
	cg_remove
	# a gateway that had to be killed may have left its pins: only ours
	for d in "${PIN_DIRS[@]}"; do
		[ -e "$d" ] && { log "removing pins left in $d"; rm -rf "$d"; }
	done
	ip netns list | grep -q "^$PFX-" && log "WARNING: namespaces $PFX-* left"
	[ -d "$T" ] && { mkdir -p "$RUN" && cp -a "$T"/. "$RUN"/ 2>/dev/null; rm -rf "$T"; }
}
trap cleanup EXIT
trap 'log "interrupted"; exit 130' INT TERM

# The whole run is bounded in time.
(
	trap 'kill "$sp" 2>/dev/null; exit 0' TERM
	sleep "$TIMEOUT" & sp=$!
	wait "$sp"
	log "bench: over ${TIMEOUT}s, stopping"
	kill -TERM $$
) &
DOG=$!

# ---- packages -------------------------------------------------------------

need=()
command -v udptunnel >/dev/null || need+=(udptunnel)
command -v gnuplot >/dev/null || need+=(gnuplot-nox)
command -v jq >/dev/null || need+=(jq)
if [ ${#need[@]} -gt 0 ]; then
	say "installing ${need[*]} (Debian packages)"
	export DEBIAN_FRONTEND=noninteractive
	apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null 2>&1 ||
		{ apt-get update -qq && apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null; } ||
		{ echo "bench: could not install ${need[*]}" >&2; exit 1; }
fi
if [ ! -x "$SINK" ] || [ "$ROOT/bench/sink.c" -nt "$SINK" ]; then
	mkdir -p "$(dirname "$SINK")"
	cc -O2 -std=gnu11 -Wall -Wextra -Werror -D_GNU_SOURCE "$ROOT/bench/sink.c" -o "$SINK" || exit 1
fi

rm -rf "$RUN"
# One binary for the whole run, even if build/mctun is rebuilt meanwhile.
cp "$MCTUN" "$T/mctun" || exit 1
MCTUN=$T/mctun
REC=$T/records.jsonl   # one JSON object per result, read by bench/report.sh
STEPS=$T/steps.jsonl   # every traffic step
: >"$REC"; : >"$STEPS"

rec() { jq -cn "$@" >>"$REC"; }

# ---- measuring ------------------------------------------------------------

hwm_kb() { awk '/^VmHWM:/ {print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }
busy_ticks() {  # the whole machine, all CPUs: every tick but idle and iowait
	local _c u n s i w q sq st _r
	read -r _c u n s i w q sq st _r </proc/stat
	echo $((u + n + s + q + sq + st))
}
us_per() { awk -v t="$1" -v n="$2" -v hz="$HZ" 'BEGIN { if (n > 0) printf "%.2f", t * 1e6 / hz / n; else print "null" }'; }

# The bench's own processes' CPU, in ns and not disturbed by other work on
# the machine: a cgroup of this run (cgroup v2, else v1's cpuacct) that
# steps with STEP_CG=1 put their sender, receiver and the contender's
# daemon in. On this path the kernel's work (veth, bridge, the copy) runs
# in the softirq of the sender's own send calls, charged to the sender;
# what is deferred to ksoftirqd is counted from its threads.
CG=
cg_setup() {
	local base
	if [ "$(stat -f -c %T /sys/fs/cgroup 2>/dev/null)" = cgroup2fs ]; then base=/sys/fs/cgroup
	elif [ "$(stat -f -c %T /sys/fs/cgroup/unified 2>/dev/null)" = cgroup2fs ]; then base=/sys/fs/cgroup/unified
	elif [ -e /sys/fs/cgroup/cpuacct/cpuacct.usage ]; then base=/sys/fs/cgroup/cpuacct
	else return 1
	fi
	mkdir "$base/$PFX" 2>/dev/null && [ -w "$base/$PFX/cgroup.procs" ] || return 1
	CG=$base/$PFX
}
cg_ns() {
	if [ -e "$CG/cpu.stat" ]; then awk '/^usage_usec / { printf "%.0f\n", $2 * 1000 }' "$CG/cpu.stat"
	else cat "$CG/cpuacct.usage"; fi
}
cg_add() { local p; for p; do echo "$p" >"$CG/cgroup.procs" 2>/dev/null; done; }
cg_remove() {  # what is left in it back to its parent, then the cgroup
	local p
	[ -n "$CG" ] && [ -d "$CG" ] || return 0
	while read -r p; do echo "$p" >"$(dirname "$CG")/cgroup.procs"; done <"$CG/cgroup.procs" 2>/dev/null
	rmdir "$CG" 2>/dev/null || log "WARNING: cgroup $CG left"
}
KSOFT=()
for _d in /proc/[0-9]*; do
	[[ $(cat "$_d/comm" 2>/dev/null) == ksoftirqd/* ]] && KSOFT+=("${_d#/proc/}")
done
ksoft_ns() {  # ksoftirqd's CPU time, all CPUs, ns (schedstat's first field)
	local p t=0 a _r
	for p in "${KSOFT[@]}"; do read -r a _r <"/proc/$p/schedstat" && t=$((t + a)); done
	echo "$t"
}
# in_cg CMD...: exec CMD, in the run's cgroup when the step measures it
in_cg() {
	[ -n "${STEP_CG:-}" ] && [ -n "$CG" ] && echo "$BASHPID" >"$CG/cgroup.procs" 2>/dev/null
	exec "$@"
}

# The processes of the tunnel under test (set by tunnel_start).
GW_PIDS=()
GW_NAMES=()
RX_NS=h2

# rx_stop NAME: end a receiver started with rx (lib.sh), bounded.
rx_stop() {
	local pid i
	pid=$(cat "$T/$1.rxpid" 2>/dev/null) || return 1
	kill -INT "$pid" 2>/dev/null
	for ((i = 0; i < 100; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.05
	done
	kill -KILL "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	rm -f "$T/$1.rxpid"
}

# settle: wait (at most 3 s) until the tunnel's processes use no more CPU,
# so that a step does not pay for the backlog of the one before.
settle() {
	local i a b p
	[ ${#GW_PIDS[@]} -gt 0 ] || return 0
	a=-1
	for ((i = 0; i < 30; i++)); do
		b=0
		for p in "${GW_PIDS[@]}"; do b=$((b + $(cpu_ticks "$p"))); done
		((b == a)) && return 0
		a=$b
		sleep 0.1
	done
}

# step CTX TARGET_PPS SIZE SECS: one traffic step. h1 sends at TARGET_PPS
# for SECS, then a second sender sends 64 KiB worth of datagrams plus
# FLUSH_EXTRA (so a tunnel that holds datagrams until more arrive delivers
# them: udptunnel does, one per TCP read, up to its 64 KiB buffer), then
# DRAIN_S.
# STEP_TTL=N: both senders send with TTL N (default: mctun send's).
# STEP_NOFLUSH=1: no second sender (a tunnel known not to hold datagrams
# back; the fixed-rate cost steps, whose per-datagram figures it would dilute).
# STEP_IDLE=SECS: first, with the receiver joined and nothing sent, count
# the machine's busy ticks over SECS (the work of everything else, other
# jobs included), and also give the step's whole-machine cost net of that
# rate (S_NET).
# Sets S_* and appends a step record.
step() {
	local ctx=$1 target=$2 size=$3 secs=$4 id c0=() c1=() m0 m1 i tl ttl_args=()
	S_PASS=0 S_SENT=0 S_DELIV=0 S_GAPS=0 S_OFF=0 S_BEHIND=false S_P50=null S_P99=null S_LOSS=null
	S_CPU=() S_MACH=null S_NET=null S_IDLE=null S_RTTL=null S_HOPS=null
	local w0 w1 w2 mt0 mt1 i0 i1 it0 it1 u0=0 u1=0 k0=0 k1=0
	S_CG=null
	[ -n "${STEP_TTL:-}" ] && ttl_args=(--ttl "$STEP_TTL")
	w0=$(date +%s%N)
	settle
	w1=$(date +%s%N)
	rx r "$RX_NS" "$GROUP" || return 1
	[ -n "${ECHO_CHECK:-}" ] && { rx e h1 "$GROUP" || return 1; }
	if [ -n "${STEP_IDLE:-}" ]; then
		it0=$(date +%s%N); i0=$(busy_ticks)
		sleep "$STEP_IDLE"
		it1=$(date +%s%N); i1=$(busy_ticks)
		# busy ticks per second of everything but this step's traffic
		S_IDLE=$(awk -v t=$((i1 - i0)) -v ns=$((it1 - it0)) 'BEGIN { printf "%.2f", t * 1e9 / ns }')
	fi
	[ -n "${STEP_CG:-}" ] && [ -n "$CG" ] && cg_add "$(cat "$T/r.rxpid")" "${GW_PIDS[@]}"
	for i in "${!GW_PIDS[@]}"; do c0[i]=$(cpu_ticks "${GW_PIDS[i]}"); done
	[ -n "${STEP_CG:-}" ] && [ -n "$CG" ] && { u0=$(cg_ns); k0=$(ksoft_ns); }
	m0=$(busy_ticks); mt0=$(date +%s%N)
	tl=$(awk -v s="$secs" 'BEGIN { printf "%d", s + 20 }')
	(in_cg timeout "$tl" nsenter --net="/run/netns/$PFX-h1" -- "$MCTUN" send "$GROUP" --rate "$target" \
		--duration "$secs" --size "$size" "${ttl_args[@]}" --json --quiet) >"$T/send.json" 2>"$T/send.err"
	[ -n "${STEP_NOFLUSH:-}" ] ||
	(in_cg timeout 10 nsenter --net="/run/netns/$PFX-h1" -- "$MCTUN" send "$GROUP" --rate "$FLUSH_RATE" \
		--count $((65536 / (size + 2) + FLUSH_EXTRA)) --size "$size" "${ttl_args[@]}" --quiet) >/dev/null 2>&1
	sleep "$DRAIN_S"
	for i in "${!GW_PIDS[@]}"; do c1[i]=$(cpu_ticks "${GW_PIDS[i]}"); done
	m1=$(busy_ticks); mt1=$(date +%s%N)
	[ -n "${STEP_CG:-}" ] && [ -n "$CG" ] && { u1=$(cg_ns); k1=$(ksoft_ns); }
	rx_stop r
	[ -n "${ECHO_CHECK:-}" ] && rx_stop e
	# one jq for everything: sender's report, receiver's, echo receiver's
	local vals all
	vals=$(jq -rn --slurpfile s "$T/send.json" --slurpfile r "$T/r.json" \
		--slurpfile e "$([ -n "${ECHO_CHECK:-}" ] && echo "$T/e.json" || echo /dev/null)" '
		($s[0] // {}) as $s | ($r[0] // {}) as $r
		| ([$r.senders[]? | select(.id == $s.sender_id)][0] // {}) as $d
		| [($s.sender_id // "-"), ($s.sent // 0), (($s.rate_pps // 0) | round), ($s.behind // false),
		   ($r.received // 0), ($d.unique // 0), ($d.lost // 0),
		   ($d.latency_us.p50 // null), ($d.latency_us.p99 // null),
		   (if ($e | length) > 0 then [$e[0].senders[]? | select(.from | startswith("198.18.1.2:") | not)
			| .received] | add // 0 else null end),
		   ($d.ttl // null), ($d.hops // null)]
		| map(tostring) | join(" ")' 2>/dev/null)
	local id
	read -r id S_SENT S_OFF S_BEHIND all S_DELIV S_GAPS S_P50 S_P99 S_ECHO S_RTTL S_HOPS <<<"${vals:--}"
	[ -n "$id" ] && [ "$id" != - ] || { log "step $ctx $target: send failed: $(head -c 300 "$T/send.err")"; return 1; }
	S_LOSS=$(awk -v s="$S_SENT" -v d="$S_DELIV" 'BEGIN { printf "%.4f", (s > 0 ? (s - d) * 100 / s : 100) }')
	if ((S_SENT > 0 && (S_SENT - S_DELIV) * 1000000 < LOSS_PPM * S_SENT)); then S_PASS=1; fi
	for i in "${!GW_PIDS[@]}"; do S_CPU[i]=$(us_per $((c1[i] - c0[i])) "$all"); done
	S_MACH=$(us_per $((m1 - m0)) "$all")
	[ "$S_IDLE" != null ] && S_NET=$(awk -v t=$((m1 - m0)) -v r="$S_IDLE" -v ns=$((mt1 - mt0)) \
		-v n="$all" -v hz="$HZ" 'BEGIN { if (n > 0) printf "%.2f", (t - r * ns / 1e9) * 1e6 / hz / n; else print "null" }')
	[ -n "${STEP_CG:-}" ] && [ -n "$CG" ] && S_CG=$(awk -v u=$((u1 - u0 + k1 - k0)) -v n="$all" \
		'BEGIN { if (n > 0) printf "%.2f", u / 1e3 / n; else print "null" }')
	w2=$(date +%s%N)
	jq -cn --arg ctx "$ctx" --argjson target "$target" --argjson size "$size" \
		--argjson settle_ms $(((w1 - w0) / 1000000)) --argjson wall_ms $(((w2 - w0) / 1000000)) \
		--argjson secs "$secs" --argjson offered "$S_OFF" --argjson sent "$S_SENT" \
		--argjson delivered "$S_DELIV" --argjson gaps "$S_GAPS" --argjson all "$all" --argjson loss_pct "$S_LOSS" \
		--argjson behind "$S_BEHIND" --argjson pass "$S_PASS" \
		--argjson p50 "$S_P50" --argjson p99 "$S_P99" --argjson mach_us "$S_MACH" --argjson echo "$S_ECHO" \
		--argjson mach_ticks $((m1 - m0)) --argjson mach_ms $(((mt1 - mt0) / 1000000)) \
		--argjson idle_tps "$S_IDLE" --argjson net_us "$S_NET" --argjson ttl_rx "$S_RTTL" --argjson hops "$S_HOPS" \
		--argjson cg_us "$S_CG" --argjson ksoft_ms $(((k1 - k0) / 1000000)) \
		--arg gw "${GW_NAMES[*]}" --arg cpu "${S_CPU[*]}" \
		'{ctx: $ctx, target: $target, size: $size, secs: $secs, offered: $offered, sent: $sent,
		  delivered: $delivered, lost_gaps: $gaps, lost_tail: ($sent - $delivered - $gaps), received_all: $all, loss_pct: $loss_pct, behind: $behind,
		  pass: ($pass == 1), echo: $echo, p50_us: $p50, p99_us: $p99, mach_us: $mach_us,
		  mach_ticks: $mach_ticks, mach_ms: $mach_ms, idle_ticks_per_s: $idle_tps, mach_net_us: $net_us,
		  ttl_rx: $ttl_rx, hops: $hops, cg_us: $cg_us, ksoftirqd_ms: $ksoft_ms,
		  settle_ms: $settle_ms, wall_ms: $wall_ms, gw: ($gw | split(" ")), cpu_us: ($cpu | split(" ") | map(tonumber? // null))}' >>"$STEPS"
	log "$(printf '%-22s target %7d offered %7d sent %8d delivered %8d loss %7s%% (tail %d) %s%s' \
		"$ctx" "$target" "$S_OFF" "$S_SENT" "$S_DELIV" "$S_LOSS" $((S_SENT - S_DELIV - S_GAPS)) \
		"$([ "$S_PASS" = 1 ] && echo pass || echo FAIL)" "$([ "$S_BEHIND" = true ] && echo ' (sender behind)')")"
}

# revive CTX: after a step, restart the tunnel if one of its processes
# died (udptunnel exits when its 64 KiB TCP buffer fills up); counted in
# DEATHS, and the search goes on with fresh processes.
DEATHS=0
revive() {
	tunnel_alive && return 0
	DEATHS=$((DEATHS + 1))
	log "$1: a tunnel process exited: restarting the tunnel"
	tunnel_stop "$TUNNEL"
	tunnel_start "$TUNNEL" "${TUNNEL_ARGS[@]}" || { log "$1: restart failed: $NOTE"; return 1; }
}

# keep: the step just run passed; remember it if it is the best so far.
keep() {
	if ((S_OFF > TOP)); then
		TOP=$S_OFF TOP_CAPPED=$S_BEHIND TOP_CPU=("${S_CPU[@]}") TOP_MACH=$S_MACH
		TOP_STEP=$(tail -n1 "$STEPS")
	fi
}

# search CTX SIZE START: the highest offered rate delivered with loss under
# 0.1 %: doubling from START until a step fails or the sender falls behind
# twice in a row (halving instead if the first one fails), then BISECT
# bisection steps
# between the last clean pass and that. A passing step whose sender fell
# behind still counts, at the rate it offered. Sets TOP (offered pps of the
# best passing step; 0 if none), TOP_CAPPED (that step's sender was behind:
# the path may carry more than the sender could offer), TOP_STEP (its
# record) and TOP_CPU/TOP_MACH (per datagram, in that step).
search() {
	local ctx=$1 size=$2 r=$3 lo=0 hi=0 i mid
	TOP=0 TOP_CAPPED=false TOP_STEP='{}' TOP_CPU=() TOP_MACH=null
	for ((i = 0; i < MAX_DOUBLE; i++)); do
		step "$ctx" "$r" "$size" "$STEP_S" || return 1
		revive "$ctx" || return 1
		[ "$S_PASS" = 1 ] && keep
		if [ "$S_PASS" != 1 ] || [ "$S_BEHIND" = true ]; then
			# the bracket's upper end: confirm it once (the cores are
			# shared: one slow second must not end the search low)
			step "$ctx" "$r" "$size" "$STEP_S" || return 1
			revive "$ctx" || return 1
			[ "$S_PASS" = 1 ] && keep
		fi
		if [ "$S_PASS" = 1 ] && [ "$S_BEHIND" != true ]; then
			lo=$r r=$((r * 2))
		else
			hi=$r; break
		fi
	done
	if ((lo == 0 && hi > 0)); then
		for ((i = 0; i < MAX_HALVE && lo == 0; i++)); do
			r=$((hi / 2))
			step "$ctx" "$r" "$size" "$STEP_S" || return 1
			revive "$ctx" || return 1
			[ "$S_PASS" = 1 ] && keep
			if [ "$S_PASS" = 1 ] && [ "$S_BEHIND" != true ]; then lo=$r; else hi=$r; fi
		done
	fi
	for ((i = 0; i < BISECT; i++)); do
		((lo > 0 && hi > lo && hi * 100 > lo * 106)) || break
		mid=$(((lo + hi) / 2))
		step "$ctx" "$mid" "$size" "$STEP_S" || return 1
		revive "$ctx" || return 1
		[ "$S_PASS" = 1 ] && keep
		if [ "$S_PASS" = 1 ] && [ "$S_BEHIND" != true ]; then lo=$mid; else hi=$mid; fi
	done
	return 0
}

# ---- the tunnels ----------------------------------------------------------

# pin dirs of our gateway namespaces, for the trap
pin_dirs() { PIN_DIRS=("$(ns_pin_dir g1)" "$(ns_pin_dir g2)"); }

wait_file_grep() {  # FILE PATTERN: bounded
	local i
	for ((i = 0; i < WAIT_STEPS; i++)); do
		grep -q -- "$2" "$1" 2>/dev/null && return 0
		sleep 0.05
	done
	return 1
}

# tunnel_start NAME [EXTRA GATEWAY ARGS...]: start a contender; on failure
# sets NOTE and returns 1.
NOTE=
tunnel_start() {
	local name=$1 gargs; shift
	NOTE= GW_PIDS=() GW_NAMES=() RX_NS=h2 ATTACH=
	TUNNEL=$name TUNNEL_ARGS=("$@")
	gargs=("$@")
	[ $# -gt 0 ] || gargs=(-g "$GROUP")
	case $name in
	direct)
		RX_NS=g1 ;;
	tc|xdp|socket|tc-busy)
		[ "$name" = tc-busy ] && gargs+=(--busy-poll "$BUSY_POLL")
		if ! gw g2 g2 --insecure -i isl --mode "${name%-busy}" --listen 198.19.12.2:7000 "${gargs[@]}" 2>/dev/null ||
		   ! gw g1 g1 --insecure -i isl --mode "${name%-busy}" --peer 198.19.12.2:7000 "${gargs[@]}" 2>/dev/null ||
		   ! wait_log g1 "up (node" 2>/dev/null || ! wait_log g2 "up (node" 2>/dev/null; then
			NOTE=$(cat "$T/g2.log" "$T/g1.log" 2>/dev/null | grep -v -e 'running on' -e ': up (node' | head -n1)
			NOTE="did not start: ${NOTE:-see build/bench/$name-g1.log}"
			tunnel_stop "$name"
			return 1
		fi
		GW_PIDS=("$(gw_pid g1)" "$(gw_pid g2)")
		GW_NAMES=(g1 g2)
		ATTACH=$(grep -m1 -o 'attached to isl in [a-z]* mode' "$T/g1.log") ;;
	udptunnel)
		nsenter --net="/run/netns/$PFX-g2" -- udptunnel -s 7001 -v "${GROUP%:*}/${GROUP#*:}/1" \
			>"$T/ut2.log" 2>&1 &
		echo $! >"$T/ut2.pid"
		wait_file_grep "$T/ut2.log" "Listening" || { NOTE="udptunnel -s did not start: $(head -n1 "$T/ut2.log")"; tunnel_stop udptunnel; return 1; }
		nsenter --net="/run/netns/$PFX-g1" -- udptunnel -c 198.19.12.2/7001 -v "${GROUP%:*}/${GROUP#*:}/1" \
			>"$T/ut1.log" 2>&1 &
		echo $! >"$T/ut1.pid"
		if ! wait_file_grep "$T/ut1.log" "Connected" || ! wait_file_grep "$T/ut2.log" "connection from"; then
			NOTE="udptunnel did not connect: $(cat "$T/ut1.log" "$T/ut2.log" | head -n2 | tr '\n' ' ')"
			tunnel_stop udptunnel; return 1
		fi
		GW_PIDS=("$(cat "$T/ut1.pid")" "$(cat "$T/ut2.pid")")
		GW_NAMES=(g1 g2) ;;
	tgt-mctun|tgt-mirred|tgt-smcroute)   # local targets (tgt_start, below)
		RX_NS=c1
		tgt_start "${name#tgt-}" || { tgt_stop "${name#tgt-}"; return 1; } ;;
	*)	NOTE="unknown contender"; return 1 ;;
	esac
	return 0
}

# tunnel_alive: every process of the tunnel still runs
tunnel_alive() {
	local p
	for p in "${GW_PIDS[@]}"; do kill -0 "$p" 2>/dev/null || return 1; done
}

tunnel_stop() {
	local name=$1 f pid i
	case $name in
	tc|xdp|socket|tc-busy)
		for f in g1 g2; do
			[ -e "$T/$f.pid" ] || continue
			gw_stop "$f" 2>>"$T/stop.err" || log "$name: $f: $(tail -n1 "$T/stop.err")"
			gw_clean "$f" 2>>"$T/stop.err" || log "$name: $f left state behind: $(tail -n1 "$T/stop.err")"
			ip -n "$PFX-$f" link show dev isl | grep -q 'xdp' && log "$name: $f: XDP program left on isl"
			cat "$T/$f.log" >>"$T/$name-$f.log" 2>/dev/null
		done ;;
	udptunnel)
		for f in ut1 ut2; do
			[ -e "$T/$f.pid" ] || continue
			pid=$(cat "$T/$f.pid")
			kill -TERM "$pid" 2>/dev/null
			for ((i = 0; i < WAIT_STEPS; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
			kill -KILL "$pid" 2>/dev/null
			wait "$pid" 2>/dev/null
			rm -f "$T/$f.pid"
		done ;;
	tgt-*)
		tgt_stop "${name#tgt-}" ;;
	esac
	GW_PIDS=() GW_NAMES=()
}

hwms() {  # peak memory of the tunnel's processes, kB, as a JSON array
	local p out=()
	for p in "${GW_PIDS[@]}"; do out+=("$(hwm_kb "$p")"); done
	printf '%s\n' "${out[@]}" | jq -sc 'map(tonumber? // null)'
}

# ---- local targets: the contenders -------------------------------------------
# tgt_start mctun|mirred|smcroute: copy GROUP's datagrams arriving on g1's
# isl into the bridge br0 (targets_topology); on failure sets NOTE and
# returns 1 (tunnel_start then calls tgt_stop). TGT_HOW: what runs, for the
# report.
TGT_HOW='' TGT_TTL='' TGT_UP='' TGT_COPIES=null TGT_PUSHED=null
TGT_SYSCTL=()   # g1's sysctls the smcroute contender changed: NAME=OLD
tgt_start() {
	local c=$1 g=${GROUP%:*} err i s
	TGT_HOW='' TGT_TTL='' TGT_COPIES=null TGT_PUSHED=null TGT_SYSCTL=()
	case $c in
	mctun)
		# --to alone: no tunnel, no key
		if ! gw g1 g1 -i isl --to br0 -g "$GROUP" 2>/dev/null; then
			NOTE="did not start: $(grep -v 'running on' "$T/g1.log" | head -n1)"
			return 1
		fi
		GW_PIDS=("$(gw_pid g1)") GW_NAMES=(g1)
		TGT_HOW="mctun run -i isl --to br0 -g $GROUP" ;;
	mirred)
		if ! err=$(ip netns exec "$PFX-g1" tc qdisc add dev isl clsact 2>&1); then
			NOTE="tc cannot add a clsact qdisc: $(head -n1 <<<"$err")"
			return 1
		fi
		TGT_UP=mirred
		if ! err=$(ip netns exec "$PFX-g1" tc filter add dev isl ingress protocol ip prio 1 u32 \
			match ip dst "$g/32" action mirred egress mirror dev br0 2>&1); then
			NOTE="the kernel lacks the u32 classifier or the mirred action (cls_u32, act_mirred); tc: $(head -n1 <<<"$err")"
			return 1
		fi
		TGT_HOW="tc filter add dev isl ingress protocol ip u32 match ip dst $g/32 action mirred egress mirror dev br0" ;;
	smcroute)
		[ -e /proc/net/ip_mr_vif ] || {
			NOTE="this kernel has no IPv4 multicast routing (CONFIG_IP_MROUTE is off: no /proc/net/ip_mr_vif), which smcroute needs"
			return 1; }
		command -v smcrouted >/dev/null ||
			{ NOTE="smcroute is not installed (Debian package smcroute)"; return 1; }
		TGT_UP=smcroute
		# The TTL rule as the workaround documents it (iptables), else the
		# same for this traffic in nft, which cannot add to a field: TTL 1
		# becomes 2, so it is 1 again after the routing hop.
		printf '%s\n' 'table ip mctb_ttl {' '	chain pre {' \
			'		type filter hook prerouting priority mangle; policy accept;' \
			"		iifname \"isl\" ip daddr $g ip ttl 1 ip ttl set 2" '	}' '}' >"$T/ttl.nft"
		if command -v iptables >/dev/null && ip netns exec "$PFX-g1" \
			iptables -t mangle -A PREROUTING -i isl -d "$g" -j TTL --ttl-inc 1 2>"$T/ttl.err"; then
			TGT_TTL=iptables
			TGT_HOW="iptables -t mangle -A PREROUTING -i isl -d $g -j TTL --ttl-inc 1"
		elif command -v nft >/dev/null && ip netns exec "$PFX-g1" nft -f "$T/ttl.nft" 2>>"$T/ttl.err"; then
			TGT_TTL=nft
			TGT_HOW="nft: iifname isl ip daddr $g ip ttl 1 ip ttl set 2, prerouting at mangle priority"
		else
			NOTE="no TTL rule: neither iptables' TTL target nor nft took it: $(head -n1 "$T/ttl.err")"
			return 1
		fi
		# rp_filter off, as the workaround says (h1 is on isl's own subnet
		# here, so strict mode would pass it too). net.ipv4.ip_forward is
		# not needed: the kernel's multicast routing forwards on an
		# interface with mc_forwarding, which it sets itself when
		# smcrouted adds the interface (a VIF); and this namespace's
		# FORWARD chain accepts (Docker's drops: it would need a rule).
		for s in all default isl br0; do
			s=net.ipv4.conf.$s.rp_filter
			TGT_SYSCTL+=("$s=$(ip netns exec "$PFX-g1" sysctl -n "$s")")
			ip netns exec "$PFX-g1" sysctl -qw "$s=0"
		done
		printf '%s\n' 'phyint isl enable' 'phyint br0 enable' \
			"mroute from isl source 198.18.1.2 group $g to br0" >"$T/smcroute.conf"
		nsenter --net="/run/netns/$PFX-g1" -- smcrouted -n -N -f "$T/smcroute.conf" \
			-u "$T/smcroute.sock" -P "$T/smcroute.run" -l notice >"$T/smcroute.log" 2>&1 &
		echo $! >"$T/smcroute.pid"
		for ((i = 0; i < WAIT_STEPS; i++)); do
			ip -n "$PFX-g1" mroute show 2>/dev/null | grep -q "(198.18.1.2, *$g)" && break
			kill -0 "$(cat "$T/smcroute.pid")" 2>/dev/null || break
			sleep 0.05
		done
		if ((i == WAIT_STEPS)) || ! kill -0 "$(cat "$T/smcroute.pid")" 2>/dev/null; then
			NOTE="smcrouted installed no route: $(grep -v '^$' "$T/smcroute.log" | tail -n1)"
			return 1
		fi
		GW_PIDS=("$(cat "$T/smcroute.pid")") GW_NAMES=(g1)
		TGT_HOW="smcrouted, mroute from isl source 198.18.1.2 group $g to br0; $TGT_HOW; rp_filter 0" ;;
	esac
	TGT_UP=$c
}

# tgt_stop NAME: the contender stopped and its state removed; what it
# copied into TGT_COPIES (mctun: also what its TC program put into the ring
# buffer, TGT_PUSHED).
tgt_stop() {
	local c=$1 g=${GROUP%:*} pid i s
	case $c in
	mctun)
		[ -e "$T/g1.pid" ] || return 0
		gw_stop g1 2>>"$T/stop.err" || log "local targets, mctun: $(tail -n1 "$T/stop.err")"
		gw_clean g1 2>>"$T/stop.err" || log "local targets, mctun: g1 left state behind: $(tail -n1 "$T/stop.err")"
		# its counters, logged at exit
		s=$(grep 'bpf: seen' "$T/g1.log" | tail -n1)
		TGT_COPIES=$(grep -o ' copies [0-9]*' <<<"$s" | awk '{ print $2 }')
		TGT_PUSHED=$(grep -o ' pushed [0-9]*' <<<"$s" | awk '{ print $2 }')
		TGT_COPIES=${TGT_COPIES:-null} TGT_PUSHED=${TGT_PUSHED:-null}
		cat "$T/g1.log" >>"$T/targets-mctun-g1.log" 2>/dev/null ;;
	mirred)
		TGT_COPIES=$(ip netns exec "$PFX-g1" tc -s filter show dev isl ingress 2>/dev/null |
			awk '/Sent [0-9]+ bytes/ { print $4; exit }')
		TGT_COPIES=${TGT_COPIES:-null}
		ip netns exec "$PFX-g1" tc qdisc del dev isl clsact 2>/dev/null ;;
	smcroute)
		TGT_COPIES=$(ip -n "$PFX-g1" -s mroute show 2>/dev/null |
			awk -v g="$g" 'index($0, ", " g ")") { f = 1; next } f && /packets/ { print $1; exit }')
		TGT_COPIES=${TGT_COPIES:-null}
		if [ -e "$T/smcroute.pid" ]; then
			pid=$(cat "$T/smcroute.pid")
			kill -TERM "$pid" 2>/dev/null
			for ((i = 0; i < WAIT_STEPS; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
			kill -KILL "$pid" 2>/dev/null
			wait "$pid" 2>/dev/null
			rm -f "$T/smcroute.pid"
			cat "$T/smcroute.log" >>"$T/targets-smcroute.log" 2>/dev/null
		fi
		case $TGT_TTL in
		iptables) ip netns exec "$PFX-g1" iptables -t mangle -D PREROUTING -i isl -d "$g" \
			-j TTL --ttl-inc 1 2>/dev/null ;;
		nft) ip netns exec "$PFX-g1" nft delete table ip mctb_ttl 2>/dev/null ;;
		esac
		TGT_TTL=
		for s in "${TGT_SYSCTL[@]}"; do ip netns exec "$PFX-g1" sysctl -qw "$s"; done
		TGT_SYSCTL=() ;;
	esac
	ip netns exec "$PFX-g1" tc qdisc show dev isl 2>/dev/null | grep -q clsact &&
		log "local targets, $c: a clsact qdisc is left on g1's isl"
	TGT_UP=
	return 0
}

# ---- the run --------------------------------------------------------------

say "mctun bench ($([ "$QUICK" = 1 ] && echo QUICK || echo full)): sizes $SIZES; contenders $CONTENDERS; steps of ${STEP_S}s"
load1=$(cut -d' ' -f1 /proc/loadavg)
awk -v l="$load1" 'BEGIN { exit !(l > 1.5) }' &&
	log "note: the machine is busy (load average $load1): expect noisy numbers"
islands 2 || exit 1
# Gateways route the multicast range to their island: udptunnel (which
# joins and sends through the routing table) and the direct receiver in g1
# need it; mctun names its interface and does not.
for g in g1 g2; do ip -n "$PFX-$g" route add 224.0.0.0/4 dev isl; done
pin_dirs

rec --arg date "$(date -u '+%Y-%m-%d %H:%M UTC')" --argjson quick "$QUICK" \
	--arg kernel "$(uname -r)" --arg cpu "$(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo)" \
	--argjson cores "$(nproc)" --arg mem "$(awk '/^MemTotal/ {printf "%.0f GiB", $2 / 1048576}' /proc/meminfo)" \
	--arg version "$("$MCTUN" run --version 2>/dev/null | head -n1)" \
	--arg rev "$(git -C "$ROOT" describe --always --dirty 2>/dev/null || echo unknown)" \
	--arg sha "$(sha256sum "$MCTUN" | cut -c1-12)" \
	--arg udptunnel "$(dpkg-query -W -f='${Version}' udptunnel 2>/dev/null)" \
	--arg load "$(cut -d' ' -f1-3 /proc/loadavg)" \
	--argjson othernetns "$(ip netns list | grep -vc "^$PFX-")" \
	--arg sizes "$SIZES" --argjson step_s "$STEP_S" --argjson lat_s "$LAT_S" --argjson bisect "$BISECT" \
	--argjson start "$START_PPS" --argjson flush "$FLUSH_EXTRA" --argjson flush_rate "$FLUSH_RATE" --argjson drain "$DRAIN_S" \
	--arg busy_poll "$BUSY_POLL" --argjson fan_rate "$FANOUT_RATE" --argjson fan_s "$FAN_S" --arg fan_mode "$FANOUT_MODE" \
	--arg tgt_sizes "$TARGET_SIZES" --argjson tgt_pps "$TARGET_PPS" --argjson tgt_fix_s "$TARGET_FIX_S" \
	--argjson tgt_reps "$TARGET_REPS" --argjson hz "$HZ" \
	--arg smcroute "$(dpkg-query -W -f='${Version}' smcroute 2>/dev/null)" \
	'{kind: "meta", date: $date, quick: ($quick == 1), kernel: $kernel, cpu: $cpu, cores: $cores,
	  mem: $mem, load: $load, other_netns: $othernetns, version: $version, rev: $rev, binary_sha256: $sha, udptunnel: $udptunnel, sizes: $sizes,
	  step_s: $step_s, lat_s: $lat_s, bisect: $bisect, start_pps: $start, flush_extra: $flush, flush_rate: $flush_rate,
	  drain_s: $drain, busy_poll: $busy_poll, fan_rate: $fan_rate, fan_s: $fan_s, fan_mode: $fan_mode,
	  hz: $hz, tgt_sizes: $tgt_sizes, tgt_pps: $tgt_pps, tgt_fix_s: $tgt_fix_s, tgt_reps: $tgt_reps,
	  smcroute: $smcroute}'

declare -A TOPS=()
for size in $SIZES; do
	for c in $CONTENDERS; do
		say "$c, $size-byte datagrams"
		if ! tunnel_start "$c"; then
			log "skipped: $NOTE"
			rec --arg c "$c" --argjson size "$size" --arg note "$NOTE" \
				'{kind: "contender", name: $c, size: $size, status: "skipped", note: $note}'
			continue
		fi
		# Latency at 1,000 pps first, on fresh processes; then the search;
		# then, on fresh processes again (a tunnel may keep a backlog from
		# the search's overloaded steps), latency at half the top rate.
		status=ok note=$ATTACH lat1k='{}' lathalf='{}' DEATHS=0
		ECHO_CHECK=1 step "$c/$size/lat1k" 1000 "$size" "$LAT_S" && lat1k=$(tail -n1 "$STEPS")
		revive "$c/$size/lat1k"
		search "$c/$size" "$size" "$START_PPS" || { status=error; note="a step or a restart failed"; }
		restarts=$DEATHS
		top=$TOP capped=$TOP_CAPPED topstep=$TOP_STEP
		topcpu=$(printf '%s\n' "${TOP_CPU[@]}" | jq -sc 'map(tonumber? // null)')
		topmach=$TOP_MACH
		TOPS[$c/$size]=$top
		mem=$(hwms)
		tunnel_stop "$c"
		half=$((top / 2))
		if ((half >= 1000)); then
			if tunnel_start "$c"; then
				step "$c/$size/lathalf" "$half" "$size" "$LAT_S" && lathalf=$(tail -n1 "$STEPS")
				mem=$(jq -c --argjson b "$(hwms)" '[., $b] | transpose | map(max)' <<<"$mem")
				tunnel_alive || restarts=$((restarts + 1))
				tunnel_stop "$c"
			else
				log "restart for the half-rate latency failed: $NOTE"
			fi
		fi
		rec --arg c "$c" --argjson size "$size" --arg status "$status" --arg note "$note" \
			--argjson top "$top" --argjson capped "$capped" --argjson topstep "$topstep" \
			--argjson cpu "$topcpu" --argjson mach "$topmach" --argjson hwm "$mem" \
			--argjson lat1k "$lat1k" --argjson lathalf "$lathalf" --argjson restarts "$restarts" \
			'{kind: "contender", name: $c, size: $size, status: $status, note: $note, restarts: $restarts,
			  top_pps: $top, capped: $capped, top_step: $topstep, cpu_us: $cpu, mach_us: $mach,
			  hwm_kb: $hwm, lat1k: $lat1k, lathalf: $lathalf}'
		log "top: $top pps$([ "$capped" = true ] && echo ' (sender-capped)'); CPU us/dgram g1,g2: ${TOP_CPU[*]:-n/a}; VmHWM kB: $mem"
	done
done

# ---- cost at a fixed rate -----------------------------------------------------
# What each contender costs the machine per datagram at a moderate fixed
# rate (100,000 pps at 64 and 200 bytes, 50,000 at 1,400), with a sender that
# paces by sleeping (mctun send: clock_nanosleep to absolute deadlines, never
# a spin). Whole machine: every non-idle tick of /proc/stat during the step,
# net of the rate of busy ticks measured just before it with nothing sent;
# the tunnel's overhead is a mode's figure minus the direct path's from the
# same run. Contenders interleaved, COST_REPS rounds, medians.
for size in $COST_SIZES; do
	pps=100000
	((size > 1000)) && pps=50000
	for ((r = 1; r <= COST_REPS; r++)); do
		for c in $COST_CONTENDERS; do
			say "cost: $c, $size-byte datagrams at $pps pps (round $r of $COST_REPS)"
			if ! tunnel_start "$c"; then
				log "skipped: $NOTE"
				rec --arg c "$c" --argjson size "$size" --arg note "$NOTE" \
					'{kind: "cost", name: $c, size: $size, status: "skipped", note: $note}'
				continue
			fi
			# a few datagrams first: the path is warm (neighbours, joins)
			nsx h1 "$MCTUN" send "$GROUP" --rate 1000 --count 50 --size "$size" --quiet >/dev/null 2>&1
			ok=0
			STEP_NOFLUSH=1 STEP_IDLE=1 step "cost/$c/$size/$r" "$pps" "$size" "$COST_S" && ok=1
			tunnel_stop "$c"
			((ok)) || continue
			rec --arg c "$c" --argjson size "$size" --argjson pps "$pps" --argjson round "$r" \
				--argjson step "$(tail -n1 "$STEPS")" --arg attach "$ATTACH" \
				'{kind: "cost", name: $c, size: $size, pps: $pps, round: $round, status: "ok",
				  attach: $attach, step: $step}'
			log "whole machine $S_MACH us/datagram (net of idle $S_NET); gateways ${S_CPU[*]:-n/a}"
		done
	done
done

# ---- fan-out: one gateway serving N peers ---------------------------------
# g1 listens; g2 (a real mctun peer, h2's receiver behind it) plus N-1 sink
# connections from bench/sink.c (in g2's namespace) are its N peers.
if [ -n "$FANOUT_NS" ]; then
	fan_count=$(awk -v r="$FANOUT_RATE" -v s="$FAN_S" 'BEGIN { printf "%d", r * s }')
	for n in $FANOUT_NS; do
		say "fan-out: g1 serves $n peer(s) at $FANOUT_RATE pps of 200 bytes"
		note= ok=1
		gw g1 g1 --insecure -i isl --mode "$FANOUT_MODE" -g "$GROUP" --listen 198.19.12.1:7000 --max-peers 256 &&
		gw g2 g2 --insecure -i isl --mode "$FANOUT_MODE" -g "$GROUP" --peer 198.19.12.1:7000 &&
		wait_log g2 "up (node" || { ok=0; note="gateways did not start"; }
		sinkup=0
		if ((ok && n > 1)); then
			rm -f "$T/sink.ready"
			nsenter --net="/run/netns/$PFX-g2" -- "$SINK" 198.19.12.1 7000 $((n - 1)) \
				--duration 60 --ready-file "$T/sink.ready" >"$T/sink.json" 2>"$T/sink.err" &
			echo $! >"$T/sink.pid"
			for ((i = 0; i < 200; i++)); do [ -s "$T/sink.ready" ] && break; sleep 0.05; done
			sinkup=$(cat "$T/sink.ready" 2>/dev/null || echo 0)
			((sinkup == n - 1)) || note="only $sinkup of $((n - 1)) sink connections up"
		fi
		if ((ok)); then
			sleep 0.3
			g1pid=$(gw_pid g1)
			rx r h2 "$GROUP"
			c0=$(cpu_ticks "$g1pid"); m0=$(busy_ticks)
			timeout 30 nsenter --net="/run/netns/$PFX-h1" -- "$MCTUN" send "$GROUP" --rate "$FANOUT_RATE" \
				--count "$fan_count" --size 200 --json --quiet >"$T/send.json" 2>"$T/send.err"
			sleep 0.5
			c1=$(cpu_ticks "$g1pid"); m1=$(busy_ticks)
			rx_stop r
			hwm=$(hwm_kb "$g1pid")
			rss=$(awk '/^VmRSS:/ {print $2}' "/proc/$g1pid/status")
			nl=$(wc -l <"$T/g1.log")
			nl2=$(wc -l <"$T/g2.log")
			kill -USR1 "$g1pid" "$(gw_pid g2)"; sleep 0.3
			dump=$(tail -n +"$((nl + 1))" "$T/g1.log")
			# what the real peer re-injected onto island 2
			g2inj=$(tail -n +"$((nl2 + 1))" "$T/g2.log" | grep -o 'injected [0-9]*' | head -n1 | awk '{ print $2 }')
			g2down=$(grep -c ': down:' "$T/g2.log")
			[ -n "$g2inj" ] && [ "$g2inj" != "$fan_count" ] && note="${note:+$note; }g2 (the real peer) injected $g2inj"
			((g2down > 0)) && note="${note:+$note; }g2 lost its connection to g1 $g2down time(s)"
			counters=false; grep -q 'daemon: node' <<<"$dump" && counters=true
			qdrops=$(grep -o 'queue drops [0-9]*' <<<"$dump" | awk '{ s += $3 } END { print s + 0 }')
			down=$(grep -c ': down:' "$T/g1.log")
			[ "$counters" = true ] || note="${note:+$note; }g1 did not answer SIGUSR1 within 0.3 s (busy)"
			((down > 0)) && note="${note:+$note; }g1 dropped $down peer(s) during the run"
			((qdrops > 0)) && note="${note:+$note; }g1 counted $qdrops queue drops"
			if [ -e "$T/sink.pid" ]; then
				pid=$(cat "$T/sink.pid"); kill -INT "$pid"
				for ((i = 0; i < 100; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
				kill -KILL "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; rm -f "$T/sink.pid"
				cp "$T/sink.json" "$T/sink-$n.json"
			else
				echo '{}' >"$T/sink.json"
			fi
			sent=$(jq '.sent // 0' "$T/send.json")
			id=$(jq -r '.sender_id // ""' "$T/send.json")
			real=$(jq --arg id "$id" '[.senders[]? | select(.id == $id) | .unique][0] // 0' "$T/r.json")
			all=$(jq '.received // 0' "$T/r.json")
			rec --argjson n "$n" --argjson sent "$sent" --argjson real "$real" \
				--argjson sink "$(cat "$T/sink.json")" --argjson sinkup "$sinkup" \
				--argjson cpu "$(us_per $((c1 - c0)) "$sent")" --argjson mach "$(us_per $((m1 - m0)) "$sent")" \
				--argjson hwm "${hwm:-0}" --argjson rss "${rss:-0}" --arg note "$note" \
				--arg mode "$FANOUT_MODE" --argjson down "$down" --argjson qdrops "$qdrops" \
				'{kind: "fanout", n: $n, mode: $mode, sent: $sent, real_delivered: $real,
				  peers_down: $down, queue_drops: $qdrops,
				  sink: $sink, sink_up: $sinkup, cpu_us: $cpu, mach_us: $mach, hwm_kb: $hwm,
				  rss_kb: $rss, note: $note}'
			log "sent $sent; real peer delivered $real; sinks min/avg $(jq -r '"\(.frames_min // "-")/\(.frames_avg // "-")"' "$T/sink.json"); g1 CPU $(us_per $((c1 - c0)) "$sent") us/dgram; VmHWM $hwm kB"
		else
			log "skipped: $note"
			rec --argjson n "$n" --arg note "$note" '{kind: "fanout", n: $n, note: $note, sent: 0}'
		fi
		cp "$T/g1.log" "$T/fanout-$n-g1.log" 2>/dev/null
		cp "$T/g2.log" "$T/fanout-$n-g2.log" 2>/dev/null
		tunnel_stop "$FANOUT_MODE"
		[ -e "$T/sink.pid" ] && { kill -KILL "$(cat "$T/sink.pid")" 2>/dev/null; rm -f "$T/sink.pid"; }
	done
fi

# ---- configured groups and ranges -------------------------------------------
# Both gateways carry N groups (or N ranges); one of them is active. The
# top rate should not depend on N.

# config_search KIND N ARGS...: the top rate with these -g ARGS, recorded as
# {kind: KIND, n: N, ...}.
config_search() {
	local kind=$1 n=$2 seed t_start startup rc argbytes alive mem; shift 2
	seed=${TOPS[tc/200]:-0}
	seed=$((seed > 8000 ? seed / 2 : START_PPS))
	say "$kind: $n configured, one active (tc mode, 200 bytes)"
	t_start=$(date +%s%N)
	WAIT_STEPS=1200 tunnel_start tc "$@"; rc=$?
	startup=$(awk -v a="$t_start" -v b="$(date +%s%N)" 'BEGIN { printf "%.1f", (b - a) / 1e9 }')
	if [ "$rc" != 0 ]; then
		log "skipped: $NOTE"
		rec --arg kind "$kind" --argjson n "$n" --arg note "$NOTE" \
			'{kind: $kind, n: $n, status: "skipped", note: $note}'
		return
	fi
	argbytes=$(tr '\0' ' ' <"/proc/$(gw_pid g1)/cmdline" | wc -c)
	DEATHS=0
	BISECT=$GROUP_BISECT search "$kind$n/200" 200 "$seed"
	alive=true; ((DEATHS == 0)) && tunnel_alive || alive=false
	mem=$(hwms)
	tunnel_stop tc
	rec --arg kind "$kind" --argjson n "$n" --argjson top "$TOP" --argjson capped "$TOP_CAPPED" \
		--argjson startup "$startup" --argjson hwm "$mem" --argjson alive "$alive" \
		--argjson argbytes "$argbytes" \
		--argjson cpu "$(printf '%s\n' "${TOP_CPU[@]}" | jq -sc 'map(tonumber? // null)')" \
		'{kind: $kind, n: $n, status: "ok", top_pps: $top, capped: $capped, startup_s: $startup,
		  hwm_kb: $hwm, alive: $alive, cmdline_bytes: $argbytes, cpu_us: $cpu}'
	log "top $TOP pps; start-up ${startup}s (both gateways); command line $argbytes bytes"
}

if [[ " $SIZES " == *" 200 "* ]]; then
	# groups: 239.1.x.y:5000 each, the active one last
	for n in $GROUP_NS; do
		args=()
		for ((i = 1; i < n; i++)); do args+=(-g "239.1.$((i / 250 + 1)).$((i % 250 + 1)):5000"); done
		config_search groups "$n" "${args[@]}" -g "$GROUP"
	done
	# ranges: N-1 /24s elsewhere (half of them any port, half port 5000:
	# two kinds of lookup in the trie) and the active group's /24 of any
	# port; no exact group, so every datagram is matched in the trie
	# after missing the exact groups' hash
	for n in $RANGE_NS; do
		args=()
		for ((i = 1; i < n; i++)); do
			args+=(-g "239.$((i / 256 + 2)).$((i % 256)).0/24:$( ((i % 2)) && echo '*' || echo 5000)")
		done
		config_search ranges "$n" "${args[@]}" -g "${GROUP%.*}.0/24:*"
	done
fi

# ---- learned membership ------------------------------------------------------
# 100 groups of 239.1.1.0/24 offered on island 1 (100 pps each, 200 bytes),
# a receiver on island 2 joined to one. static: both gateways carry the
# 100 groups (-g each); learn: both carry the range, and g2 learns what its
# island joined and subscribes to it. What crosses the WAN (g1's bytes to
# g2), and the gateways' CPU, over the same window; and, with learn, how
# long from the receiver's join to its first datagram.
mship_run() {  # static|learn
	local how=$1 args=() i pids=() t0 b0 b1 c0 c1 dur=4 first t_join
	if [ "$how" = static ]; then
		for ((i = 1; i <= MSHIP_GROUPS; i++)); do args+=(-g "239.1.1.$i:5000"); done
	else
		args=(-g '239.1.1.0/24:*' --membership learn)
	fi
	tunnel_start tc "${args[@]}" || { log "skipped: $NOTE"; return 1; }
	# the receiver joins first (static: it makes no difference)
	rx mr h2 239.1.1.1:5000 --duration 60 || { tunnel_stop tc; return 1; }
	sleep 1
	nsx g1 "$MCTUN" stats --json >"$T/m0.json"
	c0=$(($(cpu_ticks "$(gw_pid g1)") + $(cpu_ticks "$(gw_pid g2)")))
	t0=$(date +%s%N)
	for ((i = 1; i <= MSHIP_GROUPS; i++)); do
		nsx h1 "$MCTUN" send "239.1.1.$i:5000" --rate "${MSHIP_PPS}pps" --duration "$dur" \
			--ttl 4 --quiet >/dev/null 2>&1 &
		pids+=($!)
	done
	wait "${pids[@]}"
	sleep 0.3
	c1=$(($(cpu_ticks "$(gw_pid g1)") + $(cpu_ticks "$(gw_pid g2)")))
	nsx g1 "$MCTUN" stats --json >"$T/m1.json"
	rx_stop mr
	b0=$(grep -o '"bytes_out":[0-9]*' "$T/m0.json" | head -n1 | cut -d: -f2)
	b1=$(grep -o '"bytes_out":[0-9]*' "$T/m1.json" | head -n1 | cut -d: -f2)
	MS_WAN=$((b1 - b0)) MS_CPU=$(((c1 - c0) * 1000 / $(getconf CLK_TCK))) MS_RX=$(jnum "$T/mr.json" received)
	MS_JOIN=null
	if [ "$how" = learn ]; then
		# the join: a sender at 1000 pps already running to a group
		# nobody joined, then a receiver joins it
		nsx h1 "$MCTUN" send 239.1.1.200:5000 --rate 1000pps --duration 5 --ttl 4 --quiet \
			>/dev/null 2>&1 &
		i=$!
		t0=$(date +%s%N)
		sleep 1.5
		t_join=$(date +%s%N)
		rx mj h2 239.1.1.200:5000 --duration 60 && sleep 1.5 && rx_stop mj
		wait "$i"
		first=$(jnum "$T/mj.json" first_seq)
		# datagram k left at t0 + k ms (give or take the sender's start)
		[ -n "$first" ] && MS_JOIN=$(awk -v f="$first" -v a="$t0" -v j="$t_join" \
			'BEGIN { printf "%.0f", (a + f * 1e6 - j) / 1e6 }')
	fi
	tunnel_stop tc
	return 0
}
if [ -n "$MSHIP" ]; then
	for how in static learn; do
		say "membership: $MSHIP_GROUPS groups offered, one joined ($how)"
		if mship_run "$how"; then
			rec --arg how "$how" --argjson wan "$MS_WAN" --argjson cpu "$MS_CPU" \
				--argjson rx "${MS_RX:-0}" --argjson join "$MS_JOIN" \
				--argjson groups "$MSHIP_GROUPS" --argjson pps "$MSHIP_PPS" \
				'{kind: "membership", how: $how, groups: $groups, pps: $pps, wan_bytes: $wan,
				  cpu_ms: $cpu, received: $rx, join_ms: $join}'
			log "WAN $MS_WAN bytes, CPU ${MS_CPU} ms, received $MS_RX, join to first datagram ${MS_JOIN} ms"
		fi
	done
fi

# ---- re-injection with --keep-source --------------------------------------
# What keeping the sender's address and port costs g2, which re-injects:
# the same steps (fixed rate, then the top lossless rate) with g2 sending
# through its UDP socket (sendmmsg + UDP GSO) and through the header-
# included raw socket of --keep-source (a message per packet, the UDP
# checksum computed by mctun, fragments cut by mctun: 4000 bytes is three
# fragments at this MTU of 1500).
KEEP_PPS=$([ "$QUICK" = 1 ] && echo 20000 || echo 50000)
for size in $KEEP_SIZES; do
	for how in udp keep; do
		say "re-injection: $how, $size-byte datagrams"
		args=(-g "$GROUP")
		[ "$how" = keep ] && args+=(--keep-source)
		tunnel_start tc "${args[@]}" || { log "skipped: $NOTE"; continue; }
		fixed='{}'
		step "keep/$how/$size/fixed" "$KEEP_PPS" "$size" "$LAT_S" && fixed=$(tail -n1 "$STEPS")
		search "keep/$how/$size" "$size" "$START_PPS" || log "the search failed"
		rec --arg how "$how" --argjson size "$size" --argjson fixed "$fixed" \
			--argjson top "$TOP" --argjson capped "$TOP_CAPPED" \
			--argjson cpu "$(printf '%s\n' "${TOP_CPU[@]}" | jq -sc 'map(tonumber? // null)')" \
			'{kind: "keep_source", how: $how, size: $size, fixed: $fixed, top_pps: $top,
			  capped: $capped, top_cpu_us: $cpu}'
		log "at $KEEP_PPS pps: g2 $(jq -r '.cpu_us[1] // "?"' <<<"$fixed") us/datagram; top $TOP pps"
		tunnel_stop tc
	done
done

# ---- the transport: TCP, --resume, Multipath TCP ------------------------------
# What --resume and --transport mptcp cost, same run: mctun --mode tc with
# one group on the one WAN link of `islands 2`, both gateways with
#   tcp:    --transport tcp --resume 0 (neither),
#   resume: --transport tcp --resume 10 (the window: every frame kept until
#           acknowledged, acks every 256 frames or 200 ms),
#   mptcp:  --transport mptcp --resume 0 (no second subflow opens: the cost
#           of MPTCP itself, not of spreading),
# the same steps as --keep-source's (a fixed rate, then the top lossless
# rate): both gateways' CPU per datagram, the whole machine's, and the
# gateways' peak memory (VmHWM) after the fixed step.
MPTCP_PPS=$KEEP_PPS
for size in $MPTCP_SIZES; do
	for how in tcp resume mptcp; do
		case $how in
		tcp)    args=(--transport tcp --resume 0) ;;
		resume) args=(--transport tcp --resume 10) ;;
		mptcp)  args=(--transport mptcp --resume 0)
			[ "$(cat /proc/sys/net/mptcp/enabled 2>/dev/null)" = 1 ] || {
				say "transport: mptcp skipped: no MPTCP in this kernel (net.mptcp.enabled missing or 0)"
				continue; } ;;
		esac
		say "transport: $how, $size-byte datagrams"
		tunnel_start tc -g "$GROUP" "${args[@]}" || { log "skipped: $NOTE"; continue; }
		fixed='{}'
		step "transport/$how/$size/fixed" "$MPTCP_PPS" "$size" "$LAT_S" && fixed=$(tail -n1 "$STEPS")
		mem=$(hwms)
		search "transport/$how/$size" "$size" "$START_PPS" || log "the search failed"
		rec --arg how "$how" --argjson size "$size" --argjson fixed "$fixed" \
			--argjson top "$TOP" --argjson capped "$TOP_CAPPED" --argjson hwm "$mem" \
			'{kind: "transport", how: $how, size: $size, fixed: $fixed, top_pps: $top,
			  capped: $capped, hwm_kb: $hwm}'
		log "at $MPTCP_PPS pps: g1 $(jq -r '.cpu_us[0] // "?"' <<<"$fixed"), g2 $(jq -r '.cpu_us[1] // "?"' <<<"$fixed") us/datagram; VmHWM kB $mem; top $TOP pps"
		tunnel_stop tc
	done
done

# ---- local targets: LAN to container -----------------------------------------
# h1 sends on island 1 with TTL 1; on g1 a Linux bridge br0 (the kernel's
# defaults, as Docker makes one) with c1, a "container", behind a veth
# port; `mctun recv` in c1. Each contender copies the group's datagrams
# from g1's isl into br0: mctun --to (its TC program, bpf_clone_redirect to
# br0's egress), tc u32 + mirred (a clone to the same egress and nothing
# else: the floor of an in-kernel copy), smcroute (a multicast route from
# isl to br0 plus the TTL rule; needs the kernel's multicast routing). Per
# contender and size: TARGET_REPS steps at TARGET_PPS, each after an idle
# window as long, for the whole machine's CPU per datagram net of what else
# runs on it; then the top lossless rate, searched as above.
targets_topology() {
	ip -n "$PFX-g1" link add br0 type bridge 2>"$T/br.err" ||
		{ NOTE="the kernel has no bridge (CONFIG_BRIDGE): $(head -n1 "$T/br.err")"; return 1; }
	ip -n "$PFX-g1" addr add 198.18.100.1/24 dev br0
	ip -n "$PFX-g1" link set br0 up
	ns_add c1 && veth g1 vc1 c1 eth0 || { NOTE="could not make the namespace c1"; return 1; }
	ip -n "$PFX-g1" link set vc1 master br0
	ip -n "$PFX-c1" addr add 198.18.100.2/24 dev eth0
	ip -n "$PFX-c1" route add default via 198.18.100.1
	ip -n "$PFX-c1" route add 224.0.0.0/4 dev eth0
}
if [ -n "$TARGET_SIZES" ]; then
	say "local targets: h1 -> g1 (isl) => bridge br0 -> c1, TTL 1"
	if ! targets_topology; then
		log "skipped: $NOTE"
		rec --arg note "$NOTE" '{kind: "target", status: "skipped", note: $note}'
		TARGET_SIZES=
	elif ! cg_setup; then
		log "no cgroup of our own here: the bench processes' CPU is not measured"
	fi
fi
for size in $TARGET_SIZES; do
	for c in $TARGET_CONTENDERS; do
		say "local targets: $c, $size-byte datagrams"
		if ! tunnel_start "tgt-$c"; then
			log "skipped: $NOTE"
			rec --arg c "$c" --argjson size "$size" --arg note "$NOTE" \
				'{kind: "target", name: $c, size: $size, status: "skipped", note: $note}'
			continue
		fi
		status=ok note='' tfixed=() DEATHS=0
		for ((r = 1; r <= TARGET_REPS; r++)); do
			STEP_TTL=1 STEP_CG=1 STEP_IDLE=$TARGET_FIX_S step "tgt/$c/$size/fixed$r" "$TARGET_PPS" \
				"$size" "$TARGET_FIX_S" && tfixed+=("$(tail -n1 "$STEPS")")
			revive "tgt/$c/$size" || break
		done
		STEP_TTL=1 STEP_CG=1 search "tgt/$c/$size" "$size" "$START_PPS" ||
			{ status=error; note="a step or a restart failed"; }
		how=$TGT_HOW
		tunnel_stop "tgt-$c"
		rec --arg c "$c" --argjson size "$size" --arg status "$status" --arg note "$note" \
			--arg how "$how" --argjson pps "$TARGET_PPS" --argjson reps "$TARGET_REPS" \
			--argjson fix_s "$TARGET_FIX_S" --argjson hz "$HZ" \
			--argjson fixed "$(printf '%s\n' "${tfixed[@]}" | jq -sc .)" \
			--argjson top "$TOP" --argjson capped "$TOP_CAPPED" --argjson topstep "$TOP_STEP" \
			--argjson mach "$TOP_MACH" --argjson restarts "$DEATHS" \
			--argjson copies "$TGT_COPIES" --argjson pushed "$TGT_PUSHED" \
			'{kind: "target", name: $c, size: $size, status: $status, note: $note, how: $how,
			  pps: $pps, reps: $reps, fix_s: $fix_s, hz: $hz, fixed: $fixed, top_pps: $top, capped: $capped,
			  top_step: $topstep, mach_us: $mach, restarts: $restarts, copies: $copies, ring_pushed: $pushed}'
		log "at $TARGET_PPS pps, us/datagram: whole machine $(printf '%s\n' "${tfixed[@]}" | jq -rs 'map(.mach_us) | map(tostring) | join(", ")')" \
			"(net of idle: $(printf '%s\n' "${tfixed[@]}" | jq -rs 'map(.mach_net_us) | map(tostring) | join(", ")'));" \
			"bench processes $(printf '%s\n' "${tfixed[@]}" | jq -rs 'map(.cg_us) | map(tostring) | join(", ")');" \
			"top $TOP pps$([ "$TOP_CAPPED" = true ] && echo ' (sender-capped)'); copies $TGT_COPIES"
	done
done

# ---- report ---------------------------------------------------------------
elapsed=$(($(date +%s) - T0))
rec --argjson s "$elapsed" '{kind: "end", elapsed_s: $s}'
say "report ($elapsed s)"
mkdir -p "$OUT"
"$ROOT/bench/report.sh" "$REC" "$OUT" || exit 1
echo
cat "$OUT/BENCHMARKS.md"
