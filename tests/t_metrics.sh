# shellcheck shell=bash
# `mctun stats` and `mctun run --metrics`: the counters of a running instance
# equal what crossed, exactly; the Prometheus text parses and says the same
# as JSON and as the HTTP server; a silent HTTP client never stalls the
# tunnel and is closed after its time; a client past the cap closes the
# oldest, counted. Uses has_text, lacks_text and rx_stop from t_lab.sh.

MG=239.1.2.3:5000
MG6='[ff15::1]:5000'
METRICS_CAP=16        # METRICS_MAX_CLIENTS

# metrics_pair [ARGS...]: g2 listens and serves --metrics on its WAN address,
# g1 connects and serves --metrics on [::1] (IPv6, loopback of its namespace).
metrics_pair() {
	islands 2 || return 1
	gw g2 g2 --insecure -i isl -g "$MG" -g "$MG6" "$@" --listen 198.19.12.2:7000 \
		--metrics 198.19.12.2:9100 &&
	gw g1 g1 --insecure -i isl -g "$MG" -g "$MG6" "$@" --peer 198.19.12.2:7000 --metrics '[::1]:9100' &&
	wait_log g1 "up (node" && wait_log g2 "up (node" &&
	wait_log g2 "metrics: serving http://198.19.12.2:9100/metrics"
}

# scrape NS URL OUT: curl the URL inside NS; the body lands in OUT, the
# status code is printed.
scrape() {
	nsx "$1" curl -sS -g --max-time "$(scaled 10)" -o "$3" -w '%{http_code}' "$2"
}

# stats NS OUT ARGS...: `mctun stats ARGS` in NS, stdout in OUT.
# table_aligned FILE: in the BPF program and Daemon tables of `mctun stats`,
# every name starts, and every value ends, in its column's place on every
# row, whatever the longest name (refused_pending) or value.
table_aligned() {
	awk '/^(BPF program|Daemon)$/ { t = 1; rows++; next } /^$/ { t = 0 }
	t {
		rest = $0; pos = 0; k = 0
		while (match(rest, /[^ ]+/)) {
			k++; s = pos + RSTART; e = s + RLENGTH - 1
			at = k % 2 ? s : e          # names by their start, values by their end
			if (k in col && col[k] != at) { print "misaligned: " $0; bad = 1 }
			col[k] = at; pos = e; rest = substr(rest, RSTART + RLENGTH)
		}
	}
	END { exit bad || rows != 2 }' "$1" && return 0
	fail "stats tables are not aligned (or not both there):"; sed 's/^/      /' "$1" >&2
	return 1
}

stats() {
	local ns=$1 out=$2; shift 2
	nsx "$ns" "$MCTUN" stats "$@" >"$out" 2>"$out.err" ||
		{ fail "stats $* in $ns:"; cat "$out.err" >&2; return 1; }
}

# prom_check FILE: FILE is well-formed Prometheus text (format 0.0.4): HELP
# then TYPE (counter or gauge) once per family, its samples right after, each
# `name{label="value",...} integer`, counters named *_total and gauges not,
# every sample labelled with iface, no series twice, no other line.
prom_check() {
	awk '
	function bad(why) { printf "line %d: %s: %s\n", NR, why, $0; err = 1; exit 1 }
	/^# HELP / { if ($3 in help) bad("second HELP"); help[$3] = 1; fam = ""; next }
	/^# TYPE / {
		if (!($3 in help)) bad("TYPE without HELP");
		if (($3 in type)) bad("second TYPE");
		if ($4 != "counter" && $4 != "gauge") bad("type " $4);
		if ($4 == "counter" && $3 !~ /_total$/) bad("counter not named _total");
		if ($4 == "gauge" && $3 ~ /_total$/) bad("gauge named _total");
		if ($3 !~ /^mctun_[a-z0-9_]+$/) bad("family name");
		type[$3] = $4; fam = $3; next
	}
	{
		if (!match($0, /^[a-zA-Z_:][a-zA-Z0-9_:]*/)) bad("no metric name");
		name = substr($0, 1, RLENGTH); rest = substr($0, RLENGTH + 1);
		if (name != fam) bad("sample outside its family");
		if (rest !~ /^\{iface="[^"]*"(,[a-z_]+="[^"\\]*")*\} [0-9]+$/) bad("sample syntax");
		series = name substr(rest, 1, index(rest, "}"));
		if (series in seen) bad("series twice"); seen[series] = 1; n++
	}
	END { if (!err && n < 10) { printf "only %d samples\n", n; exit 1 } }
	' "$1" && return 0
	fail "$(basename "$1") is not valid Prometheus text:"; sed 's/^/      /' "$1" | head -n 80 >&2
	return 1
}

# sample FILE SERIES: the value of one series, named in full (labels in order).
sample() { grep -F -- "$2 " "$1" | awk '{ print $NF }'; }

# expect_sample FILE SERIES VALUE
expect_sample() {
	local got
	got=$(sample "$1" "$2")
	[ "$got" = "$3" ] && return 0
	fail "$(basename "$1"): $2 = ${got:-missing}, want $3"
	return 1
}

# json_peer FILE: the address of the first peer in a stats --json file.
json_peer() { grep -o '"address":"[^"]*"' "$1" | head -n1 | sed 's/.*:"\(.*\)"/\1/'; }

# Exact traffic both ways, then every view of the counters agrees with it:
# stats --json, stats --prometheus, and GET /metrics on either gateway.
test_metrics_stats_match_traffic() {
	local j1=$T/g1.json j2=$T/g2.json p2=$T/g2.prom h2=$T/g2.http p1=$T/g1.http peer code
	metrics_pair || return 1
	rx r2 h2 "$MG" --duration 60 && rx r1 h1 "$MG6" --duration 60 || return 1
	# 300 x 200 bytes from island 1, 200 x 100 bytes from island 2
	tx h1 "$MG" --count 300 --size 200 --rate 2000pps --ttl 4 &&
	tx h2 "$MG6" --count 200 --size 100 --rate 2000pps --ttl 4 || return 1
	rx_stop r2 r1 && expect_rx r2 300 && expect_rx r1 200 || return 1
	sleep 0.5     # the daemons publish their counters every 200 ms

	# JSON: a data frame is 8 + 56 bytes of headers plus the payload ("queued"
	# may hold a keepalive when the pins are refreshed)
	stats g1 "$j1" --json && stats g2 "$j2" --json || return 1
	has_text "$j1" '{"group":"239.1.2.3:5000","packets":300,"bytes":60000,"fragments":0,"ring_full":0}' &&
	has_text "$j1" '{"group":"[ff15::1]:5000","packets":0,"bytes":0,' &&
	has_text "$j1" '"matched":300,"ingress":300,"egress":0,"pushed":300,"pushed_bytes":60000,"ring_full":0,"self":200,' &&
	has_text "$j1" '"cap_ring":300,"cap_sock":0,"cap_self":0,"injected":200,"inject_errors":0,"drop_loop":0,"drop_dup":0,"drop_hops":0,"drop_group":0,"framing_drops":0,"bad_frames":0,"refused":0,"queue_drops":0,"peers_up":1,' &&
	has_text "$j1" '"address":"198.19.12.2:7000","direction":"outbound","state":"up",' &&
	has_text "$j1" '"frames_in":200,"bytes_in":32800,"frames_out":300,"bytes_out":79200,"queue_drops":0,"queued":' ||
		return 1
	has_text "$j2" '{"group":"[ff15::1]:5000","packets":200,"bytes":20000,"fragments":0,"ring_full":0}' &&
	has_text "$j2" '{"group":"239.1.2.3:5000","packets":0,"bytes":0,' &&
	has_text "$j2" '"matched":200,"ingress":200,"egress":0,"pushed":200,"pushed_bytes":20000,"ring_full":0,"self":300,' &&
	has_text "$j2" '"cap_ring":200,"cap_sock":0,"cap_self":0,"injected":300,"inject_errors":0,' &&
	has_text "$j2" '"direction":"inbound","state":"up",' &&
	has_text "$j2" '"frames_in":300,"bytes_in":79200,"frames_out":200,"bytes_out":32800,"queue_drops":0,"queued":' &&
	has_text "$j2" '"http_ok":0,"http_errors":0,"http_refused":0,"http_timeouts":0,' || return 1
	peer=$(json_peer "$j2")
	[ -n "$peer" ] || { fail "no peer address in $j2"; return 1; }

	# HTTP: the same numbers, and this request already counted
	code=$(scrape g2 http://198.19.12.2:9100/metrics "$h2") && [ "$code" = 200 ] ||
		{ fail "GET /metrics on g2: $code"; return 1; }
	code=$(scrape g1 'http://[::1]:9100/metrics' "$p1") && [ "$code" = 200 ] ||
		{ fail "GET /metrics on g1: $code"; return 1; }
	prom_check "$h2" && prom_check "$p1" || return 1
	local L='{iface="isl"'
	expect_sample "$h2" "mctun_bpf_pushed_packets_total$L}" 200 &&
	expect_sample "$h2" "mctun_bpf_pushed_bytes_total$L}" 20000 &&
	expect_sample "$h2" "mctun_bpf_matched_packets_total$L,direction=\"ingress\"}" 200 &&
	expect_sample "$h2" "mctun_bpf_skipped_packets_total$L,reason=\"self\"}" 300 &&
	expect_sample "$h2" "mctun_group_packets_total$L,group=\"[ff15::1]:5000\"}" 200 &&
	expect_sample "$h2" "mctun_group_bytes_total$L,group=\"[ff15::1]:5000\"}" 20000 &&
	expect_sample "$h2" "mctun_group_packets_total$L,group=\"239.1.2.3:5000\"}" 0 &&
	expect_sample "$h2" "mctun_captured_datagrams_total$L,source=\"ring\"}" 200 &&
	expect_sample "$h2" "mctun_injected_datagrams_total$L}" 300 &&
	expect_sample "$h2" "mctun_dropped_frames_total$L,reason=\"duplicate\"}" 0 &&
	expect_sample "$h2" "mctun_peers_up$L}" 1 &&
	expect_sample "$h2" "mctun_peer_up$L,peer=\"$peer\",connection=\"inbound\"}" 1 &&
	expect_sample "$h2" "mctun_peer_frames_total$L,peer=\"$peer\",connection=\"inbound\",direction=\"in\"}" 300 &&
	expect_sample "$h2" "mctun_peer_frames_total$L,peer=\"$peer\",connection=\"inbound\",direction=\"out\"}" 200 &&
	expect_sample "$h2" "mctun_peer_bytes_total$L,peer=\"$peer\",connection=\"inbound\",direction=\"in\"}" 79200 &&
	expect_sample "$h2" "mctun_metrics_requests_total$L,result=\"ok\"}" 1 || return 1
	local P1='peer="198.19.12.2:7000",connection="outbound"'
	expect_sample "$p1" "mctun_bpf_pushed_packets_total$L}" 300 &&
	expect_sample "$p1" "mctun_group_bytes_total$L,group=\"239.1.2.3:5000\"}" 60000 &&
	expect_sample "$p1" "mctun_injected_datagrams_total$L}" 200 &&
	expect_sample "$p1" "mctun_peer_frames_total$L,$P1,direction=\"out\"}" 300 &&
	expect_sample "$p1" "mctun_peer_bytes_total$L,$P1,direction=\"out\"}" 79200 &&
	expect_sample "$p1" "mctun_peer_frames_total$L,$P1,direction=\"in\"}" 200 &&
	expect_sample "$p1" "mctun_info$L,mode=\"tc\",node_id=\"$(grep -o '"node_id":"[0-9a-f]*"' "$j1" | head -n1 | cut -d'"' -f4)\",auth=\"none\"}" 1 ||
		return 1

	# stats --prometheus, once the daemon has published the request count,
	# is what the server sent, to the byte; but for two samples that move on
	# their own: the BPF program also sees IGMP, MLD and ND packets (seen),
	# and a keepalive may sit in the queue when the pins are refreshed
	sleep 0.5
	stats g2 "$p2" --prometheus && prom_check "$p2" || return 1
	local moving='^mctun_(bpf_seen_packets_total|peer_queued_bytes)\{'
	diff <(grep -Ev "$moving" "$h2") <(grep -Ev "$moving" "$p2") >"$T/diff" ||
		{ fail "GET /metrics and stats --prometheus differ:"; sed 's/^/      /' "$T/diff" >&2; return 1; }

	# other paths, methods and malformed heads: answered, counted, no body of counters
	code=$(scrape g2 http://198.19.12.2:9100/other "$T/404") && [ "$code" = 404 ] &&
	code=$(scrape g2 http://198.19.12.2:9100/ "$T/404b") && [ "$code" = 404 ] &&
	code=$(nsx g2 curl -sS -o "$T/405" -w '%{http_code}' -X POST -d x http://198.19.12.2:9100/metrics) &&
	[ "$code" = 405 ] &&
	code=$(nsx g2 curl -sS -o "$T/431" -w '%{http_code}' -H "X-Big: $(head -c 5000 /dev/zero | tr '\0' a)" \
		http://198.19.12.2:9100/metrics) && [ "$code" = 431 ] ||
		{ fail "an error path answered ${code:-nothing}"; return 1; }
	lacks_text "$T/404" mctun_ && lacks_text "$T/405" mctun_ || return 1
	code=$(nsx g2 curl -sS -I -o "$T/head" -w '%{http_code}' http://198.19.12.2:9100/metrics) &&
	[ "$code" = 200 ] && has_text "$T/head" "Content-Type: text/plain; version=0.0.4" || return 1
	sleep 0.5
	stats g2 "$p2" --prometheus || return 1
	expect_sample "$p2" "mctun_metrics_requests_total$L,result=\"error\"}" 4 &&
	expect_sample "$p2" "mctun_metrics_requests_total$L,result=\"ok\"}" 2 &&
	expect_sample "$p2" "mctun_metrics_timeouts_total$L}" 0 || return 1

	# the table names the same numbers
	stats g2 "$T/g2.txt" || return 1
	grep -qE '^  \[ff15::1\]:5000 +200 +20000 +0 +0$' "$T/g2.txt" &&
	grep -qE "^  $peer +inbound +up +300 +79200 +200 +32800 +0 +[0-9]+\$" "$T/g2.txt" ||
		{ fail "stats table:"; sed 's/^/      /' "$T/g2.txt" >&2; return 1; }
	table_aligned "$T/g2.txt" || return 1
	gw_stop g1 && gw_stop g2 && gw_clean g1 && gw_clean g2
}

# idle_client NS HOST NAME: connect to HOST:9100 from NS and send nothing;
# $T/NAME.out says how it ended: "1 MS" is closed by the server MS ms after
# the connect began (the server's clock starts later, at accept).
idle_client() {
	nsenter --net="/run/netns/$PFX-$1" -- bash -c '
		start=${EPOCHREALTIME/./}
		exec 3<>"/dev/tcp/$1/9100" || exit 9
		read -r -t "$2" -u 3 line; rc=$?
		echo "$rc $(((${EPOCHREALTIME/./} - start) / 1000))"' _ "$2" "$(scaled 30)" \
		>"$T/$3.out" 2>&1 &
	echo $! >"$T/$3.pid"
}

# ended NAME N: exactly N of the idle clients $T/NAME*.out have ended, told
# EOF by the server (waits for the Nth; fails on one more or another end).
ended() {
	local i n=0
	for ((i = 0; i < 4 * WAIT_STEPS; i++)); do
		n=$(cat "$T/$1"*.out 2>/dev/null | grep -c .)
		[ "$n" -ge "$2" ] && break
		sleep 0.05
	done
	sleep 0.2
	n=$(cat "$T/$1"*.out 2>/dev/null | grep -c '^1 ')
	[ "$n" = "$2" ] && [ "$(cat "$T/$1"*.out 2>/dev/null | grep -c .)" = "$2" ] && return 0
	fail "$n of the clients $1* were closed (EOF), want $2:"; cat "$T/$1"*.out >&2
	return 1
}

# wait_established NS PORT N: until NS has N established connections to PORT.
wait_established() {
	local i n
	for ((i = 0; i < 2 * WAIT_STEPS; i++)); do
		n=$(nsx "$1" ss -Htn state established "( sport = :$2 )" | wc -l)
		[ "$n" = "$3" ] && return 0
		sleep 0.05
	done
	fail "$1: $n connections to port $2, want $3"
}

# Every client slot taken by clients that say nothing: the tunnel carries
# exact counts meanwhile, a client past the cap is answered at once and the
# oldest silent one closed and counted; silent clients are closed after
# --metrics-timeout and counted.
test_metrics_silent_clients_do_not_stall() {
	local i out code rc ms
	islands 2 || return 1
	# g2 holds silent clients far longer than the test; g1 closes them after 1 s
	gw g2 g2 --insecure -i isl -g "$MG" -g "$MG6" --listen 198.19.12.2:7000 \
		--metrics 198.19.12.2:9100 --metrics-timeout 600 &&
	gw g1 g1 --insecure -i isl -g "$MG" -g "$MG6" --peer 198.19.12.2:7000 \
		--metrics 127.0.0.1:9100 --metrics-timeout 1 &&
	wait_log g1 "up (node" && wait_log g2 "up (node" || return 1

	for ((i = 1; i <= METRICS_CAP; i++)); do idle_client g2 198.19.12.2 "hold$i"; done
	wait_established g2 9100 "$METRICS_CAP" || return 1
	# one more: answered at once, the oldest silent one closed for it
	code=$(scrape g2 http://198.19.12.2:9100/metrics "$T/busy") && [ "$code" = 200 ] ||
		{ fail "a client past the cap got ${code:-nothing}, want 200"; return 1; }
	ended hold 1 || return 1

	rx r2 h2 "$MG" --duration 60 && rx r1 h1 "$MG6" --duration 60 || return 1
	tx h1 "$MG" --count 500 --rate 2000pps --ttl 4 &&
	tx h2 "$MG6" --count 400 --rate 2000pps --ttl 4 || return 1
	rx_stop r2 r1 && expect_rx r2 500 && expect_rx r1 400 || return 1
	# ... and all that while the other silent clients held their slots
	wait_established g2 9100 $((METRICS_CAP - 1)) || return 1
	for ((i = 1; i <= METRICS_CAP; i++)); do
		kill "$(cat "$T/hold$i.pid")" 2>/dev/null; wait "$(cat "$T/hold$i.pid")" 2>/dev/null
		rm -f "$T/hold$i.pid"
	done
	wait_established g2 9100 0 || return 1

	code=$(scrape g2 http://198.19.12.2:9100/metrics "$T/g2.prom") && [ "$code" = 200 ] ||
		{ fail "GET /metrics once the slots are free: $code"; return 1; }
	out=$T/g2.prom
	expect_sample "$out" 'mctun_metrics_refused_connections_total{iface="isl"}' 1 &&
	expect_sample "$out" 'mctun_metrics_timeouts_total{iface="isl"}' 0 &&
	expect_sample "$out" 'mctun_metrics_requests_total{iface="isl",result="ok"}' 2 &&
	expect_sample "$out" 'mctun_metrics_requests_total{iface="isl",result="error"}' 0 &&
	expect_sample "$out" 'mctun_injected_datagrams_total{iface="isl"}' 500 &&
	expect_sample "$out" 'mctun_bpf_pushed_packets_total{iface="isl"}' 400 || return 1

	# g1: silent clients are closed by the server (EOF), not before 1 s
	for ((i = 1; i <= METRICS_CAP; i++)); do idle_client g1 127.0.0.1 "idle$i"; done
	for ((i = 1; i <= METRICS_CAP; i++)); do
		wait "$(cat "$T/idle$i.pid")" 2>/dev/null; rm -f "$T/idle$i.pid"
		read -r rc ms <"$T/idle$i.out"
		[ "$rc" = 1 ] || { fail "idle$i: $(cat "$T/idle$i.out") (want EOF: 1 MS)"; return 1; }
		[ "$ms" -ge 1000 ] || { fail "idle$i closed after $ms ms, before its 1 s"; return 1; }
	done
	sleep 0.5
	stats g1 "$T/g1.json" --json || return 1
	has_text "$T/g1.json" '"http_ok":0,"http_errors":0,"http_refused":0,"http_timeouts":16,' &&
	has_text "$T/g1.json" '"frames_in":400,' && has_text "$T/g1.json" '"frames_out":500,' || return 1
	gw_stop g1 && gw_stop g2
}

# Socket mode pins nothing: stats says so, --metrics still serves the
# daemon's counters (no BPF or per-group families).
test_metrics_socket_mode() {
	local code
	metrics_pair --mode socket || return 1
	rx r2 h2 "$MG" --duration 60 || return 1
	tx h1 "$MG" --count 200 --rate 2000pps --ttl 4 || return 1
	rx_stop r2 && expect_rx r2 200 || return 1
	code=$(scrape g1 'http://[::1]:9100/metrics' "$T/g1.prom") && [ "$code" = 200 ] || return 1
	prom_check "$T/g1.prom" || return 1
	expect_sample "$T/g1.prom" 'mctun_captured_datagrams_total{iface="isl",source="socket"}' 200 &&
	expect_sample "$T/g1.prom" 'mctun_info{iface="isl",mode="socket",node_id="'"$(grep -o 'node [0-9a-f]*' "$T/g1.log" | head -n1 | cut -d' ' -f2)"'",auth="none"}' 1 &&
	expect_sample "$T/g1.prom" 'mctun_peer_frames_total{iface="isl",peer="198.19.12.2:7000",connection="outbound",direction="out"}' 200 &&
	lacks_text "$T/g1.prom" mctun_bpf_ && lacks_text "$T/g1.prom" mctun_group_ || return 1
	nsx g1 "$MCTUN" stats >/dev/null 2>"$T/err"
	[ $? = 1 ] && has_text "$T/err" "no mctun runs in this network namespace (socket-mode instances pin no counters: use their --metrics)" ||
		return 1
	gw_stop g1 && gw_stop g2
}

# stats picks the only instance, refuses to guess between two, finds one by
# -i or --pin-dir (from another namespace), and says why when there is none.
test_stats_chooses_the_instance() {
	local rc dir
	islands 2 || return 1
	gw a g1 --insecure -i isl -g "$MG" --listen 198.18.1.1:7000 &&
	gw b g1 --insecure -i w12 -g "$MG" --listen 198.19.12.1:7000 || return 1

	nsx g1 "$MCTUN" stats >/dev/null 2>"$T/err"; rc=$?
	[ "$rc" = 2 ] && has_text "$T/err" "stats: 2 instances run in this network namespace (on isl, w12): choose one with -i IF" ||
		{ fail "stats with two instances exited $rc"; return 1; }
	[ "$(grep -c . "$T/err")" = 1 ] || { fail "more than one line of error"; return 1; }
	stats g1 "$T/w12.json" -i w12 --json || return 1
	has_text "$T/w12.json" '"interface":"w12",' && has_text "$T/w12.json" "\"pid\":$(gw_pid b)," || return 1

	# from the host's namespace, by its pin directory
	dir="$(ns_pin_dir g1)/isl"
	"$MCTUN" stats --pin-dir "$dir" --json >"$T/isl.json" || { fail "stats --pin-dir $dir"; return 1; }
	has_text "$T/isl.json" "\"pin_dir\":\"$dir\"" && has_text "$T/isl.json" "\"pid\":$(gw_pid a)," || return 1

	gw_stop b || return 1
	stats g1 "$T/only.prom" --prometheus && prom_check "$T/only.prom" || return 1
	has_text "$T/only.prom" 'mctun_info{iface="isl",mode="tc",' || return 1

	nsx h1 "$MCTUN" stats >/dev/null 2>"$T/err"; rc=$?
	[ "$rc" = 1 ] && has_text "$T/err" "stats: no mctun runs in this network namespace" || return 1
	nsx g1 "$MCTUN" stats -i w12 >/dev/null 2>"$T/err"; rc=$?
	[ "$rc" = 1 ] && has_text "$T/err" "stats: no mctun runs on w12 in this network namespace" || return 1
	nsx g1 "$MCTUN" stats -i nosuch0 >/dev/null 2>&1; rc=$?
	[ "$rc" = 2 ] || { fail "stats -i nosuch0 exited $rc, want 2"; return 1; }
	nsx g1 "$MCTUN" stats --json --prometheus >/dev/null 2>"$T/err"; rc=$?
	[ "$rc" = 2 ] && has_text "$T/err" "--json and --prometheus exclude each other" || return 1

	# a killed instance's pins are not a running instance
	kill -KILL "$(gw_pid a)"; wait "$(gw_pid a)" 2>/dev/null; rm -f "$T/a.pid"
	nsx g1 "$MCTUN" stats >/dev/null 2>"$T/err"; rc=$?
	[ "$rc" = 1 ] && has_text "$T/err" "(only the stale pins of a killed one)" || return 1
	"$MCTUN" stats --pin-dir "$dir" >/dev/null 2>"$T/err"; rc=$?
	[ "$rc" = 1 ] && has_text "$T/err" "is gone: stale pins" || return 1
	# the next start clears them (the runner checks nothing is left)
	gw a2 g1 --insecure -i isl -g "$MG" --listen 198.18.1.1:7000 && gw_stop a2 && gw_clean g1
}

# --metrics values: a bad one is a usage error (2), a port in use exits 1,
# each with one line naming it.
test_metrics_option_errors() {
	islands 2 || return 1
	expect_error g1 "--metrics: 'nonsense' is not HOST:PORT" -i isl -g "$MG" \
		--listen 198.19.12.1:7000 --metrics nonsense &&
	expect_error g1 "--metrics: given twice" -i isl -g "$MG" --listen 198.19.12.1:7000 \
		--metrics 127.0.0.1:9100 --metrics 127.0.0.1:9101 || return 1
	nsx g1 "$MCTUN" run -i isl -g "$MG" --listen 198.19.12.1:7000 --metrics nonsense >/dev/null 2>&1
	[ $? = 2 ] || { fail "a bad --metrics did not exit 2"; return 1; }
	gw a g1 --insecure -i isl -g "$MG" --listen 198.19.12.1:7000 --metrics 127.0.0.1:9100 || return 1
	expect_error g1 "--metrics 127.0.0.1:9100: Address already in use" -i w12 -g "$MG" \
		--listen 198.19.12.1:7001 --insecure --metrics 127.0.0.1:9100 || return 1
	gw_stop a
}

# More groups than one batched map read takes (1024): every group is listed
# once, in order, with its own counts, by stats and by the server alike.
test_stats_many_groups() {
	local args=() i n
	islands 2 || return 1
	# group i is 239.2.(i / 250).(i % 250 + 1):5000, id i
	for ((i = 0; i < 1100; i++)); do args+=(-g "239.2.$((i / 250)).$((i % 250 + 1)):5000"); done
	gw g2 g2 --insecure -i isl "${args[@]}" --listen 198.19.12.2:7000 &&
	gw g1 g1 --insecure -i isl "${args[@]}" --peer 198.19.12.2:7000 --metrics 127.0.0.1:9100 &&
	wait_log g1 "up (node" || return 1
	# ids 0, 1023 and 1024 (either side of a batch), 1099 (the last)
	tx h1 239.2.0.1:5000 --count 11 --ttl 4 && tx h1 239.2.4.24:5000 --count 12 --ttl 4 &&
	tx h1 239.2.4.25:5000 --count 13 --ttl 4 && tx h1 239.2.4.100:5000 --count 14 --ttl 4 ||
		return 1
	sleep 0.5
	stats g1 "$T/g1.json" --json || return 1
	n=$(grep -o '{"group":"[^"]*"' "$T/g1.json" | wc -l)
	[ "$n" = 1100 ] || { fail "stats lists $n groups, want 1100"; return 1; }
	grep -o '{"group":"[^"]*"' "$T/g1.json" | sed 's/.*:"//; s/"$//' >"$T/listed"
	for ((i = 0; i < 1100; i++)); do echo "239.2.$((i / 250)).$((i % 250 + 1)):5000"; done >"$T/want"
	cmp -s "$T/listed" "$T/want" || { fail "groups not listed in id order"; return 1; }
	has_text "$T/g1.json" '{"group":"239.2.0.1:5000","packets":11,' &&
	has_text "$T/g1.json" '{"group":"239.2.4.24:5000","packets":12,' &&
	has_text "$T/g1.json" '{"group":"239.2.4.25:5000","packets":13,' &&
	has_text "$T/g1.json" '{"group":"239.2.4.100:5000","packets":14,' &&
	has_text "$T/g1.json" '"pushed":50,' || return 1
	[ "$(grep -o '"packets":0,' "$T/g1.json" | wc -l)" = 1096 ] || { fail "other groups counted"; return 1; }
	[ "$(scrape g1 http://127.0.0.1:9100/metrics "$T/g1.prom")" = 200 ] && prom_check "$T/g1.prom" || return 1
	expect_sample "$T/g1.prom" 'mctun_group_packets_total{iface="isl",group="239.2.4.25:5000"}' 13 &&
	expect_sample "$T/g1.prom" 'mctun_group_packets_total{iface="isl",group="239.2.4.100:5000"}' 14 || return 1
	[ "$(grep -c '^mctun_group_packets_total{' "$T/g1.prom")" = 1100 ] ||
		{ fail "the server lists $(grep -c '^mctun_group_packets_total{' "$T/g1.prom") groups"; return 1; }
	gw_stop g1 && gw_stop g2
}

# Slow clients cannot lock a scraper out: 40 silent clients come and go
# through the 16 slots, each newcomer closing the oldest, and a scrape after
# them is answered on its first try, three times in a row, while the silent
# clients would hold their slots for 600 s. Uses insecure (t_tunnel.sh).
test_metrics_silent_flood_scrape_first_try() {
	local i code
	islands 2 || return 1
	# shellcheck disable=SC2046 # insecure prints an option or nothing
	gw g2 g2 -i isl -g "$MG" --listen 198.19.12.2:7000 $(insecure) \
		--metrics 198.19.12.2:9100 --metrics-timeout 600 || return 1
	for ((i = 1; i <= 40; i++)); do idle_client g1 198.19.12.2 "slow$i"; done
	# 24 of them closed for newer ones (EOF), 16 wait
	ended slow 24 && wait_established g2 9100 16 || return 1
	for i in 1 2 3; do
		code=$(scrape g1 http://198.19.12.2:9100/metrics "$T/m$i.prom")
		[ "$code" = 200 ] || { fail "scrape $i got ${code:-nothing}, want 200"; return 1; }
	done
	# the first scrape closed one more silent client; the others may have
	# found the slot it left
	expect_sample "$T/m1.prom" 'mctun_metrics_refused_connections_total{iface="isl"}' 25 &&
	expect_sample "$T/m3.prom" 'mctun_metrics_timeouts_total{iface="isl"}' 0 &&
	expect_sample "$T/m3.prom" 'mctun_metrics_requests_total{iface="isl",result="ok"}' 3 ||
		return 1
	for ((i = 1; i <= 40; i++)); do
		kill "$(cat "$T/slow$i.pid")" 2>/dev/null; wait "$(cat "$T/slow$i.pid")" 2>/dev/null
		rm -f "$T/slow$i.pid"
	done
}
