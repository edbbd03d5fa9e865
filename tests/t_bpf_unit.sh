# shellcheck shell=bash
# Packet-level unit tests of the BPF program (tests/bpf_unit.c): packets run
# through mctun_tc_in, mctun_tc_out and mctun_xdp with BPF_PROG_TEST_RUN,
# no network and no namespace needed. Its lines are "ok - NAME" or
# "not ok - NAME: why"; known problems end in "# TODO" and do not fail.

test_bpf_unit() {
	local bin="$ROOT/build/bpf_unit" rc
	# Built here so that `make test` needs nothing more than `make`.
	if ! make -C "$ROOT" -s --no-print-directory build/bpf_unit >"$T/make.log" 2>&1 &&
	   ! make -C "$ROOT" -s --no-print-directory -f Makefile -f fuzz/fuzz.mk build/bpf_unit \
		>>"$T/make.log" 2>&1; then
		fail "cannot build build/bpf_unit:"; sed 's/^/      /' "$T/make.log" >&2
		return 1
	fi
	"$bin" >"$T/bpf_unit.out" 2>&1; rc=$?
	if [ "$rc" != 0 ]; then
		fail "bpf_unit exited $rc:"; sed 's/^/      /' "$T/bpf_unit.out" >&2
		return 1
	fi
	# a summary line, so a run that tested nothing is noticed
	grep -q '^bpf_unit: [1-9][0-9]* ok, 0 not ok' "$T/bpf_unit.out" ||
		{ fail "bpf_unit ran no case:"; sed 's/^/      /' "$T/bpf_unit.out" >&2; return 1; }
	grep '# TODO' "$T/bpf_unit.out" | sed 's/^/    /' >&2
	return 0
}
