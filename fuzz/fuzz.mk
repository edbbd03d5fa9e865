# Fuzzing, sanitizer builds and the BPF unit tests. Included at the end of
# the top Makefile (it uses BUILD, the skeleton rule and the CFLAGS there).
#
#   make fuzz [FUZZ_SECONDS=60]   every libFuzzer harness for that long, on fuzz/corpus/
#   make fuzz-regress             every harness once over fuzz/corpus/ and fuzz/crashes/
#   make fuzz-corpus              regenerate the seed corpus in fuzz/corpus/
#   make asan                     build-asan/mctun with ASan + UBSan
#   make test-asan [TESTS=...]    the test suite against build-asan/mctun (as root)
#   make valgrind                 a two-gateway tunnel session under valgrind (as root)
#   make $(BUILD)/bpf_unit        the BPF packet tests (run by tests/t_bpf_unit.sh)
#   make $(BUILD)/unit_mship      the IGMP/MLD membership tests (run by tests/t_membership.sh)
#   make $(BUILD)/unit_ippkt      the --keep-source packet builder tests (run by tests/t_keep_source.sh)
#   make $(BUILD)/unit_subs       the subscription tests (run by tests/t_subs.sh)
#   make $(BUILD)/unit_replay     the --resume window tests (run by tests/t_resume.sh)
#
# New inputs and crash artifacts go to $(BUILD)/fuzz/, never to fuzz/corpus/.

BUILD        ?= build
CLANG        ?= clang
FUZZ_CC      ?= $(CLANG)
FUZZ_SECONDS ?= 60
FUZZ_TIMEOUT ?= 5
FUZZ_DIR     := $(BUILD)/fuzz
ASAN_BUILD   ?= build-asan
ASAN_CC      ?= $(CLANG)
SAN_FLAGS    := -fsanitize=address,undefined -fno-omit-frame-pointer

ifeq ($(.DEFAULT_GOAL),)
.DEFAULT_GOAL := all
endif

FUZZ_CFLAGS := -g -O1 -fno-omit-frame-pointer -fsanitize=fuzzer-no-link,address,undefined \
	       -fno-sanitize-recover=undefined -std=gnu11 -Wall -Wextra -Werror -Wshadow \
	       -Wno-missing-field-initializers -D_GNU_SOURCE -Iinclude $(USER_DIRS:%=-I%) -MMD -MP
FUZZ_LDFLAGS := -fsanitize=fuzzer,address,undefined

# harness -> the project files it links
FUZZERS         := frame stream ut group options lab seen http config json mship subs docker replay
FUZZ_SRCS_frame   := proto
FUZZ_SRCS_stream  := proto
FUZZ_SRCS_ut      := utframe
FUZZ_SRCS_group   := addr util log
FUZZ_SRCS_options := addr util log
FUZZ_SRCS_config  := config options addr util log allow tls obuf
FUZZ_SRCS_lab     := lab
FUZZ_SRCS_seen    := seen
FUZZ_SRCS_http    := http
FUZZ_SRCS_json    := json
FUZZ_SRCS_mship   := mship_wire csum membership
FUZZ_SRCS_subs    := subs proto
FUZZ_SRCS_docker  := docker util log
FUZZ_SRCS_replay  := replay obuf
FUZZ_LIBS_group   := -lbpf
FUZZ_LIBS_options := -lbpf
FUZZ_LIBS_config  := -lbpf -lssl -lcrypto
FUZZ_LIBS_docker  := -lbpf -ljson-c
# per-harness libFuzzer options
FUZZ_OPTS_stream  := -max_len=16384
FUZZ_OPTS_ut      := -max_len=16384
FUZZ_OPTS_lab     := -max_len=8192
FUZZ_OPTS_http    := -max_len=4096
FUZZ_OPTS_mship   := -max_len=8192
FUZZ_OPTS_docker  := -max_len=16384

FUZZ_BINS := $(FUZZERS:%=$(FUZZ_DIR)/fuzz_%)

.PHONY: fuzz fuzz-build fuzz-regress fuzz-corpus asan test-asan valgrind clean-asan

$(FUZZ_DIR)/obj:
	$(Q)mkdir -p $@

$(FUZZ_DIR)/obj/%.o: %.c | $(FUZZ_DIR)/obj
	$(call msg,FUZZ-CC,$@)
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) -c $< -o $@

$(FUZZ_DIR)/obj/fuzz_%.o: fuzz/fuzz_%.c | $(FUZZ_DIR)/obj
	$(call msg,FUZZ-CC,$@)
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) -c $< -o $@

.SECONDEXPANSION:
$(FUZZ_BINS): $(FUZZ_DIR)/fuzz_%: $(FUZZ_DIR)/obj/fuzz_%.o \
		$$(addprefix $(FUZZ_DIR)/obj/,$$(addsuffix .o,$$(FUZZ_SRCS_$$*)))
	$(call msg,FUZZ-LD,$@)
	$(Q)$(FUZZ_CC) $(FUZZ_LDFLAGS) $^ $(FUZZ_LIBS_$*) -o $@

fuzz-build: deps $(FUZZ_BINS)

# Each harness runs FUZZ_SECONDS on its seed corpus (fuzz/run.sh says where
# what it learns goes). All harnesses run; the target fails if any of them
# found something.
fuzz: fuzz-build
	$(Q)failed=; \
	$(foreach h,$(FUZZERS),fuzz/run.sh $(FUZZ_DIR) $(h) $(FUZZ_SECONDS) $(FUZZ_TIMEOUT) \
		$(FUZZ_OPTS_$(h)) || failed="$$failed $(h)";) \
	[ -z "$$failed" ] || { echo "fuzz: found something in:$$failed"; exit 1; }

# Replays the seed corpus and the saved crashes (regression seeds) once.
fuzz-regress: fuzz-build
	$(Q)failed=; for h in $(FUZZERS); do \
		files=$$(find fuzz/corpus/$$h fuzz/crashes/$$h -type f 2>/dev/null); \
		[ -n "$$files" ] || continue; \
		if $(FUZZ_DIR)/fuzz_$$h -timeout=$(FUZZ_TIMEOUT) $$files >$(FUZZ_DIR)/$$h.regress.log 2>&1; then \
			printf '  %-8s %-8s %s inputs ok\n' REGRESS $$h "$$(echo $$files | wc -w)"; \
		else \
			printf '  %-8s %-8s FAILED, log: %s\n' REGRESS $$h $(FUZZ_DIR)/$$h.regress.log; \
			failed="$$failed $$h"; \
		fi; \
	done; \
	[ -z "$$failed" ] || { echo "fuzz-regress: failed:$$failed"; exit 1; }

$(FUZZ_DIR)/gen_corpus: fuzz/gen_corpus.c user/lib/proto.c user/lab/lab.c user/lib/utframe.c \
		user/lib/mship_wire.c user/lib/csum.c | $(FUZZ_DIR)/obj
	$(call msg,CC,$@)
	$(Q)$(CC) -O1 -g -std=gnu11 -Wall -Wextra -Werror -D_GNU_SOURCE -Iinclude $(USER_DIRS:%=-I%) $^ -o $@

fuzz-corpus: $(FUZZ_DIR)/gen_corpus
	$(Q)$(FUZZ_DIR)/gen_corpus fuzz/corpus

# ---- sanitizer build ---------------------------------------------------------

# The same Makefile with another build folder and the sanitizers added to
# CFLAGS (through the environment, so the Makefile's own flags still apply).
asan: deps
	$(Q)CFLAGS='-O1 -g $(SAN_FLAGS)' $(MAKE) --no-print-directory BUILD=$(ASAN_BUILD) \
		CC=$(ASAN_CC) $(ASAN_BUILD)/mctun

# Every sanitizer report goes to a file under $(ASAN_BUILD)/reports: a daemon's
# stderr may be a log no test reads on success. Any report fails the run.
test-asan: asan
	$(Q)rm -rf $(ASAN_BUILD)/reports && mkdir -p $(ASAN_BUILD)/reports
	$(Q)rc=0; \
	MCTUN=$(CURDIR)/$(ASAN_BUILD)/mctun \
	ASAN_OPTIONS=abort_on_error=1:detect_leaks=1:log_path=$(CURDIR)/$(ASAN_BUILD)/reports/asan \
	UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1:log_path=$(CURDIR)/$(ASAN_BUILD)/reports/ubsan \
		tests/run.sh $(TESTS) || rc=$$?; \
	if [ -n "$$(ls -A $(ASAN_BUILD)/reports)" ]; then \
		echo "test-asan: sanitizer reports:"; \
		for f in $(ASAN_BUILD)/reports/*; do echo "== $$f"; head -n 60 "$$f"; done; \
		rc=1; \
	fi; \
	exit $$rc

clean-asan:
	$(call msg,CLEAN,$(ASAN_BUILD))
	$(Q)rm -rf $(ASAN_BUILD)

clean: clean-asan

# ---- valgrind --------------------------------------------------------------

valgrind: deps all
	$(Q)tests/valgrind.sh

# ---- BPF packet tests ------------------------------------------------------

$(BUILD)/bpf_unit: tests/bpf_unit.c $(BUILD)/mctun.skel.h include/mctun.h | $(BUILD)
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) $< $(LDLIBS) -o $@

# ---- membership unit tests -------------------------------------------------

# Pure code: the two modules and the test, nothing else linked.
UNIT_MSHIP_SRCS := tests/unit_mship.c user/lib/mship_wire.c user/lib/csum.c user/tunnel/membership.c

$(BUILD)/unit_mship: $(UNIT_MSHIP_SRCS) | $(BUILD)
	$(call msg,CC,$@)
	$(Q)$(CC) $(filter-out -MMD -MP,$(CFLAGS)) $(LDFLAGS) $(UNIT_MSHIP_SRCS) -o $@

# ---- packet builder unit tests ---------------------------------------------

# Pure code, as above: user/lib/ippkt.c and the checksum it uses.
UNIT_IPPKT_SRCS := tests/unit_ippkt.c user/lib/ippkt.c user/lib/csum.c

$(BUILD)/unit_ippkt: $(UNIT_IPPKT_SRCS) | $(BUILD)
	$(call msg,CC,$@)
	$(Q)$(CC) $(filter-out -MMD -MP,$(CFLAGS)) $(LDFLAGS) $(UNIT_IPPKT_SRCS) -o $@

$(BUILD)/unit_ippkt: $(wildcard user/lib/ippkt.h user/lib/csum.h include/mctun.h)

# ---- subscription tests ----------------------------------------------------

# No BPF, no root: the wire format and a network of struct subs in memory.
UNIT_SUBS_SRCS := tests/unit_subs.c user/tunnel/subs.c user/lib/proto.c

$(BUILD)/unit_subs: $(UNIT_SUBS_SRCS) | $(BUILD)
	$(call msg,CC,$@)
	$(Q)$(CC) $(filter-out -MMD -MP,$(CFLAGS)) $(LDFLAGS) $(UNIT_SUBS_SRCS) -o $@

$(BUILD)/unit_subs: $(wildcard user/tunnel/subs.h user/lib/proto.h include/mctun.h)

# ---- --resume window tests -------------------------------------------------

UNIT_REPLAY_SRCS := tests/unit_replay.c user/lib/replay.c user/lib/obuf.c

$(BUILD)/unit_replay: $(UNIT_REPLAY_SRCS) | $(BUILD)
	$(call msg,CC,$@)
	$(Q)$(CC) $(filter-out -MMD -MP,$(CFLAGS)) $(LDFLAGS) $(UNIT_REPLAY_SRCS) -o $@

$(BUILD)/unit_replay: $(wildcard user/lib/replay.h user/lib/obuf.h)

# The harness they share.
$(BUILD)/unit_mship $(BUILD)/unit_ippkt $(BUILD)/unit_subs $(BUILD)/unit_replay: tests/unit.h

-include $(wildcard $(FUZZ_DIR)/obj/*.d)
