# shellcheck shell=bash
# Packet-level unit tests of the BPF program (tests/bpf_unit.c): packets run
# through mctun_tc_in, mctun_tc_out and mctun_xdp with BPF_PROG_TEST_RUN,
# no network and no namespace needed (unit_run in lib.sh).

test_bpf_unit() { unit_run bpf_unit; }
