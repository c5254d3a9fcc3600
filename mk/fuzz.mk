# mk/fuzz.mk - `make fuzz`: every tests/fuzz/fuzz-<name>.c built with clang and libFuzzer
# (-fsanitize=fuzzer,address,undefined) into build/fuzz/, then run for FUZZ_SECONDS each over
# tests/fuzz/corpus/<name>/. New inputs go to build/fuzz/corpus/<name>/ (the tracked seeds stay
# untouched), crashes to build/fuzz/artifacts/. `make check` replays the seeds with
# tests/fuzz/driver.c instead (Makefile). tests/fuzz/fuzz-<name>.options, when present, holds
# more libFuzzer flags for that target (one line; e.g. a larger -max_len where size is the attack).
#
# `make fuzz-ci`: every target for FUZZ_CI_SECONDS (15), FUZZ_CI_JOBS (2) at a time, each input
# limited to FUZZ_CI_TIMEOUT (10) seconds; fails on any crash, leak, timeout or out-of-memory and
# prints the runs of each target (docs/testing.md §6).

FUZZ_SECONDS ?= 60
FUZZ_CI_SECONDS ?= 15
FUZZ_CI_JOBS ?= 2
FUZZ_CI_TIMEOUT ?= 10
FUZZ_CC ?= clang
FUZZ_TARGETS := $(sort $(wildcard tests/fuzz/fuzz-*.c))
FUZZ_NAMES := $(patsubst tests/fuzz/fuzz-%.c,%,$(FUZZ_TARGETS))

ifeq ($(VARIANT),fuzz)
# clang warns where gcc (the gate for -Werror) does not, e.g. -Wshadow on a parameter named
# optarg; show those warnings but don't stop the fuzzer build on them
OPT_CFLAGS := -O1 -fno-omit-frame-pointer -fsanitize=fuzzer-no-link,address,undefined \
	-fno-sanitize-recover=all -Wno-error
BASE_LDFLAGS += -fsanitize=address,undefined
endif

.PHONY: fuzz fuzz-run fuzz-ci fuzz-ci-run
fuzz:
	$(Q)$(MAKE) --no-print-directory B=build/fuzz VARIANT=fuzz CC=$(FUZZ_CC) fuzz-run

fuzz-run: $(patsubst tests/fuzz/%.c,$(B)/libfuzzer/%,$(FUZZ_TARGETS))
	$(Q)set -e; for n in $(FUZZ_NAMES); do \
		mkdir -p $(B)/corpus/$$n $(B)/artifacts; \
		echo "fuzz: $$n for $(FUZZ_SECONDS) s"; \
		$(B)/libfuzzer/fuzz-$$n -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 \
			$$(cat tests/fuzz/fuzz-$$n.options 2>/dev/null) \
			-artifact_prefix=$(abspath $(B))/artifacts/$$n- \
			$(B)/corpus/$$n tests/fuzz/corpus/$$n 2>$(B)/fuzz-$$n.log || \
			{ tail -n 40 $(B)/fuzz-$$n.log; echo "fuzz: $$n: crash, see $(B)/artifacts/" >&2; exit 1; }; \
		grep -E '^(stat::number_of_executed_units|stat::new_units_added)' $(B)/fuzz-$$n.log | \
			sed "s/^/fuzz: $$n: /"; \
	done

$(B)/libfuzzer/fuzz-%: tests/fuzz/fuzz-%.c $(B)/libflatctl.a
	@mkdir -p $(@D)
	@$(if $(Q),echo "  CC      $@")
	$(Q)$(CC) $(ALL_CFLAGS) -fsanitize=fuzzer $(ALL_LDFLAGS) -o $@ $< $(B)/libflatctl.a $(PKG_LIBS)

fuzz-ci:
	$(Q)start=$$(date +%s); \
	$(MAKE) --no-print-directory -j$(FUZZ_CI_JOBS) B=build/fuzz VARIANT=fuzz CC=$(FUZZ_CC) \
		fuzz-ci-run && \
	echo "fuzz-ci: $(words $(FUZZ_NAMES)) targets passed in $$(($$(date +%s) - start)) s"

fuzz-ci-run: $(addprefix $(B)/fuzz-ci/,$(FUZZ_NAMES))

# One target's bounded run, logged to $@.log (kept when it fails); the target is a stamp,
# rerun every time (FORCE).
$(B)/fuzz-ci/%: $(B)/libfuzzer/fuzz-% FORCE
	$(Q)mkdir -p $(@D) $(B)/corpus/$* $(B)/artifacts
	$(Q)$< -max_total_time=$(FUZZ_CI_SECONDS) -timeout=$(FUZZ_CI_TIMEOUT) -print_final_stats=1 \
		$$(cat tests/fuzz/fuzz-$*.options 2>/dev/null) \
		-artifact_prefix=$(abspath $(B))/artifacts/$*- \
		$(B)/corpus/$* tests/fuzz/corpus/$* >$@.log 2>&1 || \
		{ tail -n 40 $@.log; echo "fuzz-ci: $*: FAILED, log $@.log, input in $(B)/artifacts/" >&2; \
		  exit 1; }
	$(Q)echo "fuzz-ci: $*: $$(sed -n 's/^stat::number_of_executed_units: *//p' $@.log) runs," \
		"$$(sed -n 's/^stat::new_units_added: *//p' $@.log) new units," \
		"peak RSS $$(sed -n 's/^stat::peak_rss_mb: *//p' $@.log) MB"
	$(Q)touch $@
