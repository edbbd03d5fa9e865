# shellcheck shell=bash
# Secure by default: `mctun run` refuses an unauthenticated tunnel unless
# --insecure says so, an insecure daemon says so everywhere (log, status,
# metrics, doctor), and `mctun genpsk` makes keys that --psk-file takes.
# Topology: islands() in lib.sh. Helpers from the other files: expect_error
# (t_lifecycle), has_text and lacks_text (t_lab), log_has (t_tunnel),
# scrape and expect_sample (t_metrics).

SG=239.1.2.3:5000

# refused WANT-RC ARGS...: `mctun run ARGS` in g1 exits WANT-RC with one
# line on stderr, kept in $T/refused.
refused() {
	local want=$1 rc; shift
	nsx g1 timeout 10 "$MCTUN" run "$@" >/dev/null 2>"$T/refused"; rc=$?
	[ "$rc" = "$want" ] || { fail "run $*: exit $rc, want $want:"; sed 's/^/      /' "$T/refused" >&2; return 1; }
	[ "$(grep -c . "$T/refused")" = 1 ] || { fail "run $*: not one line:"; sed 's/^/      /' "$T/refused" >&2; return 1; }
}

# Neither --psk-file nor --tls-* nor --insecure: exit 2 and one line that
# names both ways on, for --listen, for --peer and from a config file; the
# refused start leaves nothing behind.
test_secure_refuses_unauthenticated() {
	local w
	islands 2 || return 1
	for w in "--listen 198.19.12.1:7000" "--peer 198.19.12.2:7000" \
		 "--listen 0.0.0.0:7000 --peer 198.19.12.2:7000"; do
		# shellcheck disable=SC2086 # w is a list of options
		refused 2 -i isl -g "$SG" $w || return 1
		has_text "$T/refused" "run: refusing an unauthenticated tunnel" &&
		has_text "$T/refused" "mctun genpsk" && has_text "$T/refused" "--psk-file" &&
		has_text "$T/refused" "--insecure (config file: insecure yes)" || return 1
	done
	printf 'iface isl\ngroup %s\nlisten 198.19.12.1:7000\n' "$SG" >"$T/plain.conf"
	refused 2 --config "$T/plain.conf" && has_text "$T/refused" "mctun genpsk" || return 1
	echo "insecure no" >>"$T/plain.conf"
	refused 2 --config "$T/plain.conf" && has_text "$T/refused" "--insecure" || return 1
	# asking for both is a contradiction, not a choice
	nsx g1 "$MCTUN" genpsk "$T/psk" 2>/dev/null || return 1
	refused 2 -i isl -g "$SG" --listen 198.19.12.1:7000 --insecure --psk-file "$T/psk" &&
	has_text "$T/refused" "--insecure: not together with --tls-cert or --psk-file" || return 1
	gw_clean g1
}

# udptunnel framing cannot authenticate: it needs --insecure as well, and
# TLS is no way out for it.
test_secure_udptunnel_needs_insecure() {
	islands 2 || return 1
	refused 2 -i isl -g "$SG" --listen 198.19.12.1:7001 --framing udptunnel &&
	has_text "$T/refused" "--framing udptunnel: cannot authenticate (plain TCP, no TLS): say --insecure (config file: insecure yes)" ||
		return 1
	lacks_text "$T/refused" "genpsk" || return 1
	nsx g1 "$MCTUN" genpsk "$T/psk" 2>/dev/null || return 1
	refused 2 -i isl -g "$SG" --peer 198.19.12.2:7001 --framing udptunnel --psk-file "$T/psk" &&
	has_text "$T/refused" "--framing udptunnel: not with --tls-cert or --psk-file" || return 1
	gw ut g1 -i isl -g "$SG" --listen 198.19.12.1:7001 --framing udptunnel --insecure &&
	log_has ut "tunnel is unauthenticated and unencrypted (--insecure)" &&
	gw_stop ut && gw_clean g1
}

# --insecure starts as before and keeps saying it: the start line, a
# warning for the listener beyond loopback, each peer-up line, mctun status
# (text and JSON), mctun stats and both metrics servers (tc mode: the pinned
# info; socket mode: the daemon's memory). Traffic crosses exactly.
test_insecure_starts_and_says_unauthenticated() {
	local st
	islands 2 || return 1
	gw g2 g2 -i isl -g "$SG" --listen 0.0.0.0:7000 --insecure --metrics 127.0.0.1:9100 &&
	gw g1 g1 -i isl -g "$SG" --peer 198.19.12.2:7000 --insecure --mode socket \
		--metrics 127.0.0.1:9100 &&
	wait_log g1 "up (node" && wait_log g2 "up (node" || return 1
	rx r2 h2 "$SG" --duration 3 || return 1
	tx h1 "$SG" --count 300 --rate 1000pps --ttl 4 || return 1
	rx_wait r2 && expect_rx r2 300 || return 1

	log_has g2 "tunnel is unauthenticated and unencrypted (--insecure)" &&
	log_has g2 "--insecure: anyone who reaches 0.0.0.0:7000 can inject datagrams into isl" &&
	log_has g2 "up (node [0-9a-f]*, inbound); unauthenticated (--insecure)" &&
	log_has g1 "up (node [0-9a-f]*, outbound); unauthenticated (--insecure)" || return 1
	# g1 only connects out: nothing of it listens
	grep -q -- "--insecure: anyone who reaches" "$T/g1.log" &&
		{ fail "g1 warns of a listener it does not have"; return 1; }

	st=$T/status.txt
	nsx g2 "$MCTUN" status >"$st" || { fail "status failed"; return 1; }
	has_text "$st" "authentication: none (--insecure): UNAUTHENTICATED and unencrypted, listening on an address other than loopback" ||
		return 1
	nsx g2 "$MCTUN" status --json >"$T/status.json" || return 1
	has_text "$T/status.json" '"mode":"tc","auth":"none","insecure_public":true,' || return 1
	nsx g2 "$MCTUN" stats >"$T/stats.txt" &&
	nsx g2 "$MCTUN" stats --prometheus >"$T/stats.prom" || return 1
	has_text "$T/stats.txt" "authentication: none (--insecure)" &&
	has_text "$T/stats.prom" 'mctun_info{iface="isl",mode="tc",node_id="' &&
	grep -q 'auth="none"} 1$' "$T/stats.prom" ||
		{ fail "stats lacks auth=\"none\":"; grep mctun_info "$T/stats.prom" >&2; return 1; }
	[ "$(scrape g2 http://127.0.0.1:9100/metrics "$T/g2.prom")" = 200 ] &&
	[ "$(scrape g1 http://127.0.0.1:9100/metrics "$T/g1.prom")" = 200 ] || return 1
	grep -q '^mctun_info{iface="isl",mode="tc",.*auth="none"} 1$' "$T/g2.prom" &&
	grep -q '^mctun_info{iface="isl",mode="socket",.*auth="none"} 1$' "$T/g1.prom" ||
		{ fail "metrics lack auth=\"none\":"; grep -h mctun_info "$T"/g?.prom >&2; return 1; }
	gw_stop g1 && gw_stop g2 && gw_clean g1 && gw_clean g2
}

# A key from `mctun genpsk FILE` is taken by --psk-file: two gateways carry
# traffic both ways exactly, and status, stats and the metrics say psk.
test_genpsk_key_carries_traffic() {
	islands 2 || return 1
	"$MCTUN" genpsk "$T/psk" 2>"$T/genpsk.err" || { fail "genpsk: $(cat "$T/genpsk.err")"; return 1; }
	has_text "$T/genpsk.err" "wrote $T/psk (mode 0600, 256 bits, identity 'mctun')" || return 1
	gw g2 g2 -i isl -g "$SG" --listen 0.0.0.0:7000 --psk-file "$T/psk" --metrics 127.0.0.1:9100 &&
	gw g1 g1 -i isl -g "$SG" --peer 198.19.12.2:7000 --psk-file "$T/psk" &&
	wait_log g1 "up (node" && wait_log g2 "up (node" || return 1
	log_has g2 "peers authenticate with a TLS 1.3 pre-shared key (identity 'mctun', 256 bits" &&
	log_has g2 "up (node [0-9a-f]*, inbound, TLS_AES_128_GCM_SHA256, pre-shared key)" || return 1
	lacks_text "$T/g2.log" "unauthenticated" || return 1
	rx r1 h1 "$SG" --duration 3 && rx r2 h2 "$SG" --duration 3 || return 1
	tx h1 "$SG" --count 500 --rate 1000pps --size 1000 --ttl 4 &
	tx h2 "$SG" --count 200 --rate 500pps --size 8000 --ttl 4 || return 1
	wait $! || return 1
	rx_wait r1 && rx_wait r2 && expect_rx r1 700 2 && expect_rx r2 700 2 || return 1
	nsx g2 "$MCTUN" status >"$T/status.txt" && nsx g2 "$MCTUN" status --json >"$T/status.json" ||
		return 1
	has_text "$T/status.txt" "authentication: TLS 1.3 with a pre-shared key" &&
	has_text "$T/status.json" '"auth":"psk","insecure_public":false,' || return 1
	[ "$(scrape g2 http://127.0.0.1:9100/metrics "$T/g2.prom")" = 200 ] &&
	grep -q '^mctun_info{iface="isl",mode="tc",.*auth="psk"} 1$' "$T/g2.prom" ||
		{ fail "metrics lack auth=\"psk\":"; grep mctun_info "$T/g2.prom" >&2; return 1; }
	gw_stop g1 && gw_stop g2 && gw_clean g1 && gw_clean g2
}

# genpsk's output: the --psk-file line format, a new key each run, mode
# 0600 whatever the umask, an existing file never overwritten (and left
# as it was) unless --force, which replaces it whole.
test_genpsk_format_fresh_0600_no_overwrite() {
	local a b mode rc
	a=$("$MCTUN" genpsk 2>"$T/note") && b=$("$MCTUN" genpsk 2>/dev/null) || return 1
	[[ $a =~ ^mctun\ [0-9a-f]{64}$ ]] || { fail "not 'mctun HEX64': '$a'"; return 1; }
	[[ $b =~ ^mctun\ [0-9a-f]{64}$ ]] || { fail "not 'mctun HEX64': '$b'"; return 1; }
	[ "$a" != "$b" ] || { fail "two runs gave the same key"; return 1; }
	has_text "$T/note" "keep it in a file of mode 0600" || return 1
	a=$("$MCTUN" genpsk --bits 128 --identity site-a 2>/dev/null)
	[[ $a =~ ^site-a\ [0-9a-f]{32}$ ]] || { fail "--bits 128 --identity site-a: '$a'"; return 1; }
	"$MCTUN" genpsk --bits 100 2>/dev/null; rc=$?
	[ "$rc" = 2 ] || { fail "--bits 100: exit $rc, want 2"; return 1; }

	(umask 000 && "$MCTUN" genpsk "$T/k" 2>/dev/null) || { fail "genpsk FILE failed"; return 1; }
	mode=$(stat -c %a "$T/k")
	[ "$mode" = 600 ] || { fail "$T/k: mode $mode, want 600"; return 1; }
	grep -qxE 'mctun [0-9a-f]{64}' "$T/k" && [ "$(wc -l <"$T/k")" = 1 ] ||
		{ fail "$T/k: $(cat "$T/k")"; return 1; }
	cp "$T/k" "$T/old-key"
	"$MCTUN" genpsk "$T/k" 2>"$T/err"; rc=$?
	[ "$rc" = 1 ] || { fail "over an existing file: exit $rc, want 1"; return 1; }
	has_text "$T/err" "genpsk: $T/k exists: not overwriting a key (--force replaces it)" &&
	[ "$(grep -c . "$T/err")" = 1 ] || return 1
	cmp -s "$T/k" "$T/old-key" || { fail "the existing key was changed"; return 1; }
	# a symlink is not followed to a file elsewhere
	ln -s "$T/elsewhere" "$T/link"
	"$MCTUN" genpsk "$T/link" 2>/dev/null && { fail "wrote through a symlink"; return 1; }
	[ ! -e "$T/elsewhere" ] || { fail "created the symlink's target"; return 1; }
	(umask 000 && "$MCTUN" genpsk --force "$T/k" 2>/dev/null) || { fail "--force failed"; return 1; }
	mode=$(stat -c %a "$T/k")
	[ "$mode" = 600 ] || { fail "$T/k after --force: mode $mode, want 600"; return 1; }
	cmp -s "$T/k" "$T/old-key" && { fail "--force kept the old key"; return 1; }
	[ -z "$(find "$T" -name 'k.??????')" ] || { fail "temporary files left: $(ls "$T")"; return 1; }
	# the file is one --psk-file takes
	islands 1 || return 1
	gw g1 g1 -i isl -g "$SG" --listen 198.18.1.1:7000 --psk-file "$T/k" && gw_stop g1 && gw_clean g1
}

# doctor flags an instance that runs --insecure and listens beyond
# loopback (also one started with ip netns exec); one on loopback only, or
# with a key, passes. A reload that adds
# a public listener to a loopback one is seen too (the info flag follows).
test_doctor_flags_insecure_public_listener() {
	local d=$T/doctor.txt
	islands 2 || return 1
	nsx g1 "$MCTUN" doctor -i isl >"$d"
	has_text "$d" "no mctun instance in this network namespace" || return 1

	# started with ip netns exec: its pins are not ours to see, the kernel's maps are
	gw_ipns g1 g1 -i isl -g "$SG" --listen 0.0.0.0:7000 --insecure || return 1
	nsx g1 "$MCTUN" doctor -i isl >"$d"
	has_text "$d" "WARN  auth          1 instance runs --insecure and listens on an address other than loopback: isl (pid $(gw_pid g1))" &&
	has_text "$d" "fix: mctun genpsk /etc/mctun/psk" || return 1
	nsx g1 "$MCTUN" doctor -i isl --json >"$T/doctor.json"
	has_text "$T/doctor.json" '{"name":"auth","result":"WARN","detail":"1 instance runs --insecure' ||
		return 1
	gw_stop g1 || return 1

	printf 'iface isl\ngroup %s\nlisten 127.0.0.1:7000\ninsecure yes\n' "$SG" >"$T/g1.conf"
	gw g1 g1 --config "$T/g1.conf" || return 1
	lacks_text "$T/g1.log" "anyone who reaches" || return 1
	nsx g1 "$MCTUN" doctor -i isl >"$d"
	has_text "$d" "PASS  auth          1 instance: 0 authenticate peers; the --insecure ones listen on loopback only" ||
		return 1
	nsx g1 "$MCTUN" status --json >"$T/status.json" &&
	has_text "$T/status.json" '"auth":"none","insecure_public":false,' || return 1
	echo "listen 198.19.12.1:7000" >>"$T/g1.conf"
	kill -HUP "$(gw_pid g1)" && wait_log g1 "reload: done" || return 1
	log_has g1 "--insecure: anyone who reaches 198.19.12.1:7000 can inject datagrams into isl" ||
		return 1
	nsx g1 "$MCTUN" doctor -i isl >"$d"
	has_text "$d" "WARN  auth          1 instance runs --insecure" || return 1
	sed -i '$d' "$T/g1.conf"
	kill -HUP "$(gw_pid g1)" && wait_log g1 "reload: done" 2 || return 1
	nsx g1 "$MCTUN" doctor -i isl >"$d"
	has_text "$d" "PASS  auth" || return 1
	gw_stop g1 || return 1

	nsx g1 "$MCTUN" genpsk "$T/psk" 2>/dev/null &&
	gw g1 g1 -i isl -g "$SG" --listen 0.0.0.0:7000 --psk-file "$T/psk" || return 1
	nsx g1 "$MCTUN" doctor -i isl >"$d"
	has_text "$d" "PASS  auth          1 instance: 1 authenticates peers" || return 1
	gw_stop g1 && gw_clean g1
}
