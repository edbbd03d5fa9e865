# shellcheck shell=bash
# Unit tests of the IGMP/MLD membership modules (tests/unit_mship.c):
# user/lib/mship_wire.c on messages built byte by byte and
# user/tunnel/membership.c driven by them on a clock of its own. No network
# and no namespace needed. Its lines are "ok - NAME" or "not ok - NAME: why";
# it runs again under valgrind when that is installed.

test_mship_unit() {
	local bin="$ROOT/build/unit_mship" rc
	# Built here so that `make test` needs nothing more than `make`.
	if ! make -C "$ROOT" -s --no-print-directory build/unit_mship >"$T/make.log" 2>&1 &&
	   ! make -C "$ROOT" -s --no-print-directory -f Makefile -f fuzz/fuzz.mk build/unit_mship \
		>>"$T/make.log" 2>&1; then
		fail "cannot build build/unit_mship:"; sed 's/^/      /' "$T/make.log" >&2
		return 1
	fi
	"$bin" >"$T/unit_mship.out" 2>&1; rc=$?
	if [ "$rc" != 0 ]; then
		fail "unit_mship exited $rc:"; grep -v '^ok' "$T/unit_mship.out" | sed 's/^/      /' >&2
		return 1
	fi
	# a summary line, so a run that tested nothing is noticed
	grep -q '^unit_mship: [1-9][0-9]* ok, 0 not ok' "$T/unit_mship.out" ||
		{ fail "unit_mship ran no case:"; sed 's/^/      /' "$T/unit_mship.out" >&2; return 1; }
	# the module allocates per group and source: nothing may leak (a second)
	if command -v valgrind >/dev/null; then
		valgrind -q --leak-check=full --error-exitcode=1 "$bin" >"$T/valgrind.out" 2>&1 ||
			{ fail "unit_mship under valgrind:"; grep -v '^ok' "$T/valgrind.out" |
				sed 's/^/      /' >&2; return 1; }
	fi
	return 0
}
