# mk/static.mk - the static release binary (spec/build.md 3-6): third-party libraries from Debian
# source through the cache (mk/third-party.sh), static link (a static PIE with STATIC_PIE=1),
# stripped copy, debug file, and the check-static guards.

DEPS_APT += dpkg-dev meson ninja-build gperf python3-jinja2 libcap-dev libmount-dev libzstd-dev \
	    liblz4-dev binutils file xz-utils
# test and tooling packages of the build area (fuzz, lint, format, valgrind, bench)
DEPS_APT += clang libclang-rt-14-dev clang-format clang-tidy cppcheck shellcheck valgrind hyperfine

THIRD_PARTY_CACHE ?= /var/cache/flatctl/third-party
export THIRD_PARTY_CACHE
STATIC_TP := $(abspath build/third_party)

# Libraries of the static link, after our objects (spec/build.md 5). Fragments may add archives
# of their own with STATIC_LIBS_EXTRA (before the system libraries).
STATIC_LIBS_EXTRA ?=
STATIC_TP_LIBS := $(STATIC_TP)/curl/lib/libcurl.a $(STATIC_TP)/libxml2/lib/libxml2.a \
	$(STATIC_TP)/libsystemd/lib/libsystemd.a
STATIC_SYS_LIBS := -lprotobuf-c -ljansson -lblkid -lssl -lcrypto -lz -lbz2 -lzstd -llz4 -llzma \
	-lcap -lm -pthread

# STATIC_PIE=1 links a static PIE (the image gets ASLR) instead of a static non-PIE executable.
# The default is the non-PIE: a static PIE relocates itself at every start, and with openssl,
# curl and libxml2 linked that is ~26,500 relocations over 488 KiB of .data.rel.ro, ~130
# copy-on-write page faults that made `flatctl --version` 1.47x `cgpt --help` instead of 0.71x
# (bench/startup; spec/build.md 5 names plain -static as the fallback). Full RELRO either way.
STATIC_PIE ?= 0
export STATIC_PIE
# its own build dir, so the two kinds of objects never mix
STATIC_B  := build/static$(if $(filter 1,$(STATIC_PIE)),-pie)
ifeq ($(VARIANT),static)
ifeq ($(STATIC_PIE),1)
OPT_CFLAGS := -O2 -D_FORTIFY_SOURCE=2 -fPIE -ffunction-sections -fdata-sections
# -z pack-relative-relocs (DT_RELR, glibc 2.36 + binutils 2.38): the relative relocations stored
# as RELA took 0.6 MB of the 8 MiB budget
BASE_LDFLAGS += -static-pie -Wl,-z,pack-relative-relocs
else
OPT_CFLAGS := -O2 -D_FORTIFY_SOURCE=2 -fno-pie -ffunction-sections -fdata-sections
BASE_LDFLAGS += -static -no-pie
endif
BASE_LDFLAGS += -Wl,--gc-sections -Wl,-z,relro,-z,now
PKG_CFLAGS := -DCURL_STATICLIB -I$(STATIC_TP)/curl/include -I$(STATIC_TP)/libxml2/include/libxml2 \
	-I$(STATIC_TP)/libsystemd/include $(shell $(PKG_CONFIG) --cflags blkid jansson libprotobuf-c 2>/dev/null)
PKG_LIBS := $(STATIC_LIBS_EXTRA) $(STATIC_TP_LIBS) $(STATIC_SYS_LIBS)
# the guards check these warnings against the known list; don't repeat them on every link
LINK_SHOW := grep -v -e 'in statically linked applications requires' -e ': in function ' --
endif

.PHONY: static static-bin check-static clean-cache

# The static build runs in its own make: B=build/static VARIANT=static.
STATIC_STAMPS := $(STATIC_TP)/curl/.stamp $(STATIC_TP)/libxml2/.stamp $(STATIC_TP)/libsystemd/.stamp
# `make -j2 deps static` (or `deps demo`, `deps check-static`): deps first
static: | $(filter deps,$(MAKECMDGOALS))
	@for s in $(STATIC_STAMPS); do test -f $$s || \
		{ echo "static: $$s missing: run 'make deps' first" >&2; exit 1; }; done
	$(Q)$(MAKE) --no-print-directory B=$(STATIC_B) VARIANT=static static-bin

static-bin: $(B)/flatctl $(B)/flatctl.stripped $(B)/flatctl.debug $(B)/linkcheck

$(B)/flatctl.debug: $(B)/flatctl
	$(Q)objcopy --only-keep-debug $< $@

$(B)/flatctl.stripped: $(B)/flatctl $(B)/flatctl.debug
	@$(if $(Q),echo "  STRIP   $@")
	$(Q)objcopy --strip-all --add-gnu-debuglink=$(B)/flatctl.debug $< $@

# Every library of the static link, called once (tests/static/linkcheck.c).
$(B)/linkcheck: tests/static/linkcheck.c $(B)/libflatctl.a
	@mkdir -p $(@D)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $< $(PKG_LIBS) $(LINK_LOG)

# The same suite (unit + e2e) against the static binary, then the guards of spec/build.md 6.4.
check-static: static
	$(Q)$(MAKE) --no-print-directory B=$(STATIC_B) VARIANT=static check \
		TEST_FLATCTL=$(abspath $(STATIC_B)/flatctl) FLATCTL_VARIANT=static
	$(STATIC_B)/linkcheck
	$(PROVE) --exec sh mk/static-guards.sh :: $(STATIC_B)

clean-cache:
	rm -rf $(THIRD_PARTY_CACHE)
