# shellcheck shell=bash
# Subscriptions carried over the tunnel (user/tunnel/subs.c, the ANNOUNCE
# frame of user/lib/proto.c): tests/unit_subs.c wires several instances
# together in memory, no network, no namespace. Its lines are "ok - NAME"
# or "not ok - NAME: why", then "unit_subs: N ok, M not ok".

test_subs_unit() {
	local bin="$ROOT/build/unit_subs" rc
	# Built here so that `make test` needs nothing more than `make`.
	if ! make -C "$ROOT" -s --no-print-directory build/unit_subs >"$T/make.log" 2>&1; then
		fail "cannot build build/unit_subs:"; sed 's/^/      /' "$T/make.log" >&2
		return 1
	fi
	"$bin" >"$T/unit_subs.out" 2>&1; rc=$?
	if [ "$rc" != 0 ]; then
		fail "unit_subs exited $rc:"; grep -v '^ok' "$T/unit_subs.out" | sed 's/^/      /' >&2
		return 1
	fi
	# a summary line, so a run that tested nothing is noticed
	grep -q '^unit_subs: [1-9][0-9]* ok, 0 not ok$' "$T/unit_subs.out" ||
		{ fail "unit_subs ran no case:"; sed 's/^/      /' "$T/unit_subs.out" >&2; return 1; }
	return 0
}
