# make bench: the measuring harness (bench/run.sh). Included by the
# Makefile, after its own targets:
#
#   make bench            full run: sizes 64, 200, 1400; writes docs/BENCHMARKS.md
#                         and docs/bench-*.png (8 to 11 minutes, as root; the
#                         local targets, BENCH_TARGETS, about 3 more)
#   make bench QUICK=1    200 bytes, short steps; writes build/bench-quick/
#                         (about 2 minutes; the local targets about 1.5 more)
#   make soak [SOAK=330]  a PSK listener past OpenSSL's default session
#                         lifetime still takes a restarted peer (bench/psk-soak.sh)
#   make bench-floor      what sending onto the island alone costs a process, per
#                         batch size: the floor under g2's figure (bench/floor.sh)
#   make bench-report     the report again from the last run's records
#                         (build/bench/records.jsonl), into docs/ (OUT=DIR)
#
# Raw records and logs of the last run: build/bench/.

ifeq ($(.DEFAULT_GOAL),)
.DEFAULT_GOAL := all
endif

BENCH_SINK   := $(BUILD)/bench-sink
BENCH_FLOOR  := $(BUILD)/bench-floor
BENCH_CFLAGS := -O2 -g -std=gnu11 -Wall -Wextra -Werror -D_GNU_SOURCE

.PHONY: bench bench-floor bench-report soak

$(BENCH_SINK): bench/sink.c | $(BUILD)
	$(call msg,CC,$@)
	$(Q)$(CC) $(BENCH_CFLAGS) $< -o $@

$(BENCH_FLOOR): bench/floor.c | $(BUILD)
	$(call msg,CC,$@)
	$(Q)$(CC) $(BENCH_CFLAGS) $< -o $@

bench-floor: deps
	$(Q)$(MAKE) --no-print-directory -f $(firstword $(MAKEFILE_LIST)) all $(BENCH_FLOOR)
	$(Q)FLOOR=$(abspath $(BENCH_FLOOR)) bench/floor.sh

bench: deps
	$(Q)$(MAKE) --no-print-directory -f $(firstword $(MAKEFILE_LIST)) all $(BENCH_SINK)
	$(Q)QUICK=$(QUICK) SINK=$(abspath $(BENCH_SINK)) bench/run.sh

bench-report:
	$(Q)bench/report.sh $(BUILD)/bench/records.jsonl $(or $(OUT),docs)

soak: deps
	$(Q)$(MAKE) --no-print-directory -f $(firstword $(MAKEFILE_LIST)) all
	$(Q)SOAK=$(SOAK) bench/psk-soak.sh
