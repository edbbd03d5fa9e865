# vmtest/vmtest.mk: `make vmtest` runs the whole test suite (tests/run.sh,
# on the build/mctun built here) inside a QEMU VM that boots Debian 12's own
# kernel instead of the host's. See vmtest/README.md.
#
#   make vmtest                                  all tests
#   make vmtest VMTEST_TESTS="one_way_tc ..."    only these
#   make vmtest-ci                               those CI runs (vmtest/ci-tests)
#
# Included from the top Makefile; also works alone:
#   make -f vmtest/vmtest.mk vmtest
# Every VMTEST_* variable of vmtest/run.sh can be set on the command line.

VMTEST_TOP := $(abspath $(dir $(lastword $(MAKEFILE_LIST)))..)

export VMTEST_TESTS VMTEST_CACHE VMTEST_TIMEOUT VMTEST_TEST_TIMEOUT \
	VMTEST_WAIT_STEPS VMTEST_TIME_SCALE VMTEST_CPUS VMTEST_MEM \
	VMTEST_KERNEL_PKG VMTEST_RUNNER VMTEST_VNG_KERNEL VMTEST_PRELOAD \
	VMTEST_ACCEL VMTEST_PROBE_TIMEOUT VMTEST_QEMU_OPTS VMTEST_CMD

# The tests CI runs in the VM: vmtest/ci-tests says which and why.
VMTEST_CI_TESTS = $(shell sed 's/\#.*//' $(VMTEST_TOP)/vmtest/ci-tests)

.PHONY: vmtest vmtest-ci
# The host installs and builds (as `make test` does); only the tests run in
# the guest. The build goes through the top Makefile's own targets.
vmtest:
	@$(MAKE) --no-print-directory -C $(VMTEST_TOP) -f Makefile deps
	@$(MAKE) --no-print-directory -C $(VMTEST_TOP) -f Makefile all
	@$(VMTEST_TOP)/vmtest/run.sh

vmtest-ci:
	@$(MAKE) --no-print-directory -C $(VMTEST_TOP) -f Makefile vmtest \
		VMTEST_TESTS="$(strip $(VMTEST_CI_TESTS))"
