# SPDX-License-Identifier: MIT
# flatctl - one Makefile (docs/build.md 5). Sources are found by wildcard, sorted; areas add rules,
# packages and libraries through mk/*.mk fragments.

B        ?= build
VARIANT  ?= dev
V        ?= 0
Q        := $(if $(filter 1,$(V)),,@)

CC       ?= cc
PKG_CONFIG ?= pkg-config

# pkg-config modules and extra libraries of the dev build; fragments append.
PKGS     := libcurl libxml-2.0 jansson blkid libcrypto libssl libsystemd zlib liblzma libprotobuf-c
LIBS_EXTRA := -lbz2 -lm -pthread

# Debian packages `make deps` installs; fragments append (test tools included).
DEPS_APT := build-essential pkg-config libcurl4-openssl-dev libxml2-dev libjansson-dev \
	    libblkid-dev libssl-dev libsystemd-dev zlib1g-dev libbz2-dev liblzma-dev \
	    libprotobuf-c-dev protobuf-c-compiler scdoc gdisk cgpt util-linux perl

WARN     := -Wall -Wextra -Werror -Wshadow -Wformat=2 -Wundef -Wvla -Wdate-time \
	    -Wstrict-prototypes -Wmissing-prototypes -Wold-style-definition -Wpointer-arith \
	    -Wwrite-strings -Wimplicit-fallthrough -Wno-unused-parameter -fno-common
BASE_CFLAGS := -std=gnu17 -g $(WARN) -fstack-protector-strong -D_GNU_SOURCE \
	    -ffile-prefix-map=$(CURDIR)=. -Iinclude -I$(B)/gen
OPT_CFLAGS := -O2 -D_FORTIFY_SOURCE=2
BASE_LDFLAGS := -Wl,-z,relro,-z,now

# Generated sources (protobuf-c etc.) are added by fragments: GEN_SRC (paths under $(B)/gen).
GEN_SRC  :=
GEN_HDR  :=

# The default goal, before any fragment can define a target first.
all:

-include $(sort $(wildcard mk/*.mk))

ifeq ($(VARIANT),asan)
OPT_CFLAGS := -O1 -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all
BASE_LDFLAGS += -fsanitize=address,undefined
endif

ifneq ($(VARIANT),static)
PKG_CFLAGS := $(shell $(PKG_CONFIG) --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell $(PKG_CONFIG) --libs $(PKGS) 2>/dev/null) $(LIBS_EXTRA)
endif

# Link commands keep the linker's messages in $@.ld.log (the static guards read them) and show
# them through LINK_SHOW (mk/static.mk hides the known "statically linked" warnings).
LINK_SHOW ?= cat
LINK_LOG = 2>$@.ld.log; st=$$?; $(LINK_SHOW) $@.ld.log >&2; exit $$st

ALL_CFLAGS  = $(BASE_CFLAGS) $(OPT_CFLAGS) $(PKG_CFLAGS) $(CFLAGS)
ALL_LDFLAGS = $(BASE_LDFLAGS) $(LDFLAGS)

LIB_SRC  := $(sort $(wildcard lib/*/*.c))
CMD_SRC  := $(sort $(wildcard cmd/*.c))
UNIT_SRC := $(sort $(wildcard tests/unit/test-*.c))
FUZZ_SRC := $(sort $(wildcard tests/fuzz/fuzz-*.c))
E2E      := $(sort $(wildcard tests/e2e/t*.sh))

LIB_OBJ  := $(LIB_SRC:%.c=$(B)/obj/%.o) $(GEN_SRC:%.c=%.o)
CMD_OBJ  := $(CMD_SRC:%.c=$(B)/obj/%.o)
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(B)/tests/unit/%)
FUZZ_BIN := $(FUZZ_SRC:tests/fuzz/%.c=$(B)/tests/fuzz/%)

VERSION  := $(shell git describe --always --dirty --tags 2>/dev/null || cat VERSION 2>/dev/null || echo 0)

.PHONY: all deps check check-unit check-e2e asan static check-static install clean distclean \
	format check-format lint valgrind valgrind-unit man demo fuzz FORCE
.DELETE_ON_ERROR:

all: $(B)/flatctl man

$(B)/gen/version.h: FORCE
	@mkdir -p $(@D)
	@printf '#pragma once\n#define FLATCTL_VERSION "%s"\n' '$(VERSION)' > $@.tmp
	@cmp -s $@.tmp $@ && rm -f $@.tmp || mv $@.tmp $@

# The compiler and its flags: a change (another STATIC_PIE, ARCH or VARIANT into the same B)
# rebuilds every object.
$(B)/gen/cflags: FORCE
	@mkdir -p $(@D)
	@printf '%s\n' '$(CC) $(ALL_CFLAGS)' > $@.tmp
	@cmp -s $@.tmp $@ && rm -f $@.tmp || mv $@.tmp $@

$(B)/obj/%.o: %.c $(B)/gen/version.h $(B)/gen/cflags $(GEN_HDR)
	@mkdir -p $(@D)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(ALL_CFLAGS) -MMD -MP -c -o $@ $<

$(B)/libflatctl.a: $(LIB_OBJ)
	@$(if $(Q),echo "  AR      $@")
	$(Q)rm -f $@ && ar rcs $@ $^

$(B)/flatctl: $(CMD_OBJ) $(B)/libflatctl.a
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $(CMD_OBJ) $(B)/libflatctl.a $(PKG_LIBS) $(LINK_LOG)

$(B)/tests/unit/%: tests/unit/%.c tests/unit/tap.h $(B)/libflatctl.a
	@mkdir -p $(@D)
	@$(if $(Q),echo "  CC      $@")
	$(Q)$(CC) $(ALL_CFLAGS) -Itests/unit $(ALL_LDFLAGS) -o $@ $< $(B)/libflatctl.a $(PKG_LIBS) \
		$(LINK_LOG)

# Fuzz targets with the standalone driver: `make check` replays tests/fuzz/corpus/<name>/ as TAP
# (fuzz-conf.c -> corpus/conf/). `make fuzz` (mk/fuzz.mk) links them with libFuzzer instead.
$(B)/tests/fuzz/fuzz-%: tests/fuzz/fuzz-%.c tests/fuzz/driver.c $(B)/libflatctl.a
	@mkdir -p $(@D)
	@$(if $(Q),echo "  CC      $@")
	$(Q)$(CC) $(ALL_CFLAGS) -DFUZZ_CORPUS='"$(CURDIR)/tests/fuzz/corpus/$*"' $(ALL_LDFLAGS) \
		-o $@ $< tests/fuzz/driver.c $(B)/libflatctl.a $(PKG_LIBS) $(LINK_LOG)

-include $(LIB_OBJ:.o=.d) $(CMD_OBJ:.o=.d)
# generated sources have their own compile rules (fragments); they follow the flags too
$(GEN_SRC:%.c=%.o): $(B)/gen/cflags

# --- tests -----------------------------------------------------------------------------------
# FLATCTL: the binary under test; TEST_FLATCTL may point the suite at another build (static).
TEST_FLATCTL ?= $(abspath $(B)/flatctl)
PROVE ?= prove
PROVE_JOBS ?= 2

check-unit: $(UNIT_BIN) $(FUZZ_BIN)
	$(PROVE) -j$(PROVE_JOBS) --exec '' $(UNIT_BIN) $(FUZZ_BIN)

check-e2e: $(B)/flatctl man
	FLATCTL=$(TEST_FLATCTL) FLATCTL_SRC=$(CURDIR) FLATCTL_BUILD=$(abspath $(B)) \
		$(PROVE) -j$(PROVE_JOBS) --exec '' $(E2E)

check: $(B)/flatctl $(UNIT_BIN) $(FUZZ_BIN) man
	FLATCTL=$(TEST_FLATCTL) FLATCTL_SRC=$(CURDIR) FLATCTL_BUILD=$(abspath $(B)) \
		$(PROVE) -j$(PROVE_JOBS) --exec '' $(UNIT_BIN) $(FUZZ_BIN) $(E2E)

# The whole suite against build/asan: TEST_FLATCTL is set explicitly (an exported one must not
# win) and FLATCTL_VARIANT lets t0004 prove the e2e tests ran the sanitized binary.
asan:
	$(MAKE) B=build/asan VARIANT=asan check TEST_FLATCTL=$(abspath build/asan/flatctl) \
		FLATCTL_VARIANT=asan \
		ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:halt_on_error=1 \
		UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1

# Unit tests and fuzz replays under valgrind (valgrind-unit, in CI), then the e2e suite with every
# flatctl call under valgrind (tests/e2e/lib.sh honours FLATCTL_VALGRIND=1); docs/testing.md §7.
VALGRIND ?= valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite
valgrind-unit: $(UNIT_BIN) $(FUZZ_BIN)
	VALGRIND='$(VALGRIND)' $(PROVE) -j$(PROVE_JOBS) \
		--exec 'sh mk/emu-run.sh $(abspath mk/valgrind-run.sh) $(abspath tests/e2e/valgrind-gaps)' \
		$(UNIT_BIN) $(FUZZ_BIN)
valgrind: valgrind-unit $(B)/flatctl man
	FLATCTL_VALGRIND=1 FLATCTL=$(TEST_FLATCTL) FLATCTL_SRC=$(CURDIR) FLATCTL_BUILD=$(abspath $(B)) \
		$(PROVE) -j$(PROVE_JOBS) --exec '' $(E2E)

# --- man pages (scdoc, rendered at build) ------------------------------------------------------
MAN_SRC := $(sort $(wildcard man/*.scd))
MAN_OUT := $(MAN_SRC:man/%.scd=$(B)/man/%)
man: $(MAN_OUT)
$(B)/man/%: man/%.scd
	@mkdir -p $(@D)
	$(Q)scdoc < $< > $@

# --- deps --------------------------------------------------------------------------------------
# apt packages and the deb-src check (mk/deps.sh), then the third-party libraries of the static
# build through the cache (mk/third-party.sh, mk/static.mk).
deps:
	DEPS_APT="$(sort $(DEPS_APT))" sh mk/deps.sh
	TP_ARCH=$(NATIVE_DEB_ARCH) sh mk/third-party.sh build $(TP_NAMES)

# --- housekeeping ------------------------------------------------------------------------------
clean:
	rm -rf build

distclean: clean

# Formatting (docs/coding-style.md §8; .clang-format is pinned to Debian's clang-format 14). Not part of CI.
FORMAT_FILES = $(sort $(wildcard cmd/*.[ch] lib/*/*.[ch] include/*.h include/*/*.h \
	tests/unit/*.[ch] tests/fuzz/*.c tests/static/*.c tests/fault/*.c))
format:
	clang-format -i $(FORMAT_FILES)

check-format:
	clang-format --dry-run --Werror $(FORMAT_FILES)
