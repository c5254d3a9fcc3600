# mk/static.mk - the static release binary (docs/build.md 3-6): third-party libraries from Debian
# source through the cache (mk/third-party.sh), a static PIE with full RELRO (a static non-PIE
# with STATIC_PIE=0), stripped copy, debug file, and the check-static guards. ARCH=arm64 cross-
# builds it (mk/arm64.mk).

DEPS_APT += dpkg-dev meson ninja-build gperf python3-jinja2 libcap-dev libmount-dev libzstd-dev \
	    liblz4-dev binutils file xz-utils perl
# test and tooling packages of the build area (fuzz, lint, format, valgrind, bench)
DEPS_APT += clang libclang-rt-14-dev clang-format clang-tidy cppcheck shellcheck valgrind hyperfine

THIRD_PARTY_CACHE ?= /var/cache/flatctl/third-party
export THIRD_PARTY_CACHE

# --- target architecture ------------------------------------------------------------------------
# ARCH: x86-64 (amd64) natively, arm64 (aarch64) or s390x cross-built. DEB_ARCH is Debian's name
# (packages, cache keys), SYSEXT_ARCH systemd's (ARCHITECTURE=, artifact names), GNU_TYPE the
# toolchain's triplet, QEMU_ARCH qemu-user's name.
NATIVE_DEB_ARCH := $(shell dpkg --print-architecture 2>/dev/null || echo amd64)
ARCH ?= $(NATIVE_DEB_ARCH)
arch_deb = $(or $(if $(filter x86-64 x86_64 amd64,$(1)),amd64),$(if $(filter arm64 aarch64,$(1)),arm64),$(1))
DEB_ARCH := $(call arch_deb,$(ARCH))
SYSEXT_ARCH := $(or $(if $(filter amd64,$(DEB_ARCH)),x86-64),$(DEB_ARCH))
GNU_TYPE := $(or $(if $(filter amd64,$(DEB_ARCH)),x86_64-linux-gnu),$(if $(filter arm64,$(DEB_ARCH)),aarch64-linux-gnu),$(if $(filter s390x,$(DEB_ARCH)),s390x-linux-gnu),$(DEB_ARCH)-linux-gnu)
QEMU_ARCH := $(firstword $(subst -, ,$(GNU_TYPE)))
CROSS := $(if $(filter $(NATIVE_DEB_ARCH),$(DEB_ARCH)),,$(GNU_TYPE)-)
# how to run a binary of ARCH here: directly, or under qemu-user (no binfmt_misc needed)
EMU := $(if $(CROSS),qemu-$(QEMU_ARCH)-static)

comma := ,
STATIC_TP := $(abspath build/third_party/$(DEB_ARCH))

# Libraries of the static link, after our objects (docs/build.md 5). Fragments may add archives
# of their own with STATIC_LIBS_EXTRA (before the system libraries); Debian's -l archives are
# taken from /usr/lib/<triplet> of ARCH (multiarch).
STATIC_LIBS_EXTRA ?=
# Fragments add their own rebuilt libraries with TP_NAMES_EXTRA (a recipe mk/third-party/NAME.sh)
# and their include directories with STATIC_CFLAGS_EXTRA.
TP_NAMES := openssl curl libxml2 libsystemd $(TP_NAMES_EXTRA)
STATIC_TP_LIBS := $(STATIC_TP)/curl/lib/libcurl.a $(STATIC_TP)/libxml2/lib/libxml2.a \
	$(STATIC_TP)/libsystemd/lib/libsystemd.a $(STATIC_TP)/openssl/lib/libssl.a \
	$(STATIC_TP)/openssl/lib/libcrypto.a
STATIC_SYS_LIBS := -lprotobuf-c -ljansson -lblkid -lz -lbz2 -lzstd -llz4 -llzma -lcap -lm -pthread

# STATIC_PIE=0 links a static non-PIE executable (fixed image address) instead of the default
# static PIE. Both get full RELRO (-z relro -z now). The PIE relocates its pointer tables at each
# start; mk/third-party/*.sh keep those small (docs/build.md 8 has the figures).
STATIC_PIE ?= 1
export STATIC_PIE
# each kind and architecture has its own build dir, so objects never mix
STATIC_B := build/static$(if $(filter 1,$(STATIC_PIE)),,-nopie)$(if $(CROSS),-$(DEB_ARCH))
ifeq ($(VARIANT),static)
CC := $(CROSS)gcc
ifneq ($(CROSS),)
PKG_CONFIG := env -u PKG_CONFIG_PATH PKG_CONFIG_LIBDIR=/usr/lib/$(GNU_TYPE)/pkgconfig:/usr/share/pkgconfig pkg-config
endif
ifeq ($(STATIC_PIE),1)
OPT_CFLAGS := -O2 -D_FORTIFY_SOURCE=2 -fPIE -ffunction-sections -fdata-sections
# -z pack-relative-relocs (DT_RELR; glibc 2.36's static-pie start-up applies it; binutils 2.40
# has it for x86-64 only): the relative relocations take 8 KiB instead of 0.4 MB of RELA
# entries. It shrinks the table, not the pages the start-up writes.
BASE_LDFLAGS += -static-pie $(if $(filter amd64,$(DEB_ARCH)),-Wl$(comma)-z$(comma)pack-relative-relocs)
else
OPT_CFLAGS := -O2 -D_FORTIFY_SOURCE=2 -fno-pie -ffunction-sections -fdata-sections
BASE_LDFLAGS += -static -no-pie
endif
BASE_LDFLAGS += -Wl,--gc-sections -Wl,-z,relro,-z,now
PKG_CFLAGS := -DCURL_STATICLIB -I$(STATIC_TP)/openssl/include -I$(STATIC_TP)/curl/include \
	-I$(STATIC_TP)/libxml2/include/libxml2 -I$(STATIC_TP)/libsystemd/include \
	$(STATIC_CFLAGS_EXTRA) $(shell $(PKG_CONFIG) --cflags blkid jansson libprotobuf-c 2>/dev/null)
PKG_LIBS := $(STATIC_LIBS_EXTRA) $(STATIC_TP_LIBS) $(STATIC_SYS_LIBS)
# the guards check these warnings against the known list; don't repeat them on every link
LINK_SHOW := grep -v -e 'in statically linked applications requires' -e ': in function ' --
endif

.PHONY: static static-bin check-static clean-cache third-party

# The static build runs in its own make: B=$(STATIC_B) VARIANT=static.
STATIC_STAMPS := $(TP_NAMES:%=$(STATIC_TP)/%/.stamp)
# `make -j2 deps static` (or `deps demo`, `deps check-static`): deps first
static: | $(filter deps deps-arm64 third-party,$(MAKECMDGOALS))
	@for s in $(STATIC_STAMPS); do test -f $$s || \
		{ echo "static: $$s missing: run 'make deps$(if $(CROSS),-$(DEB_ARCH))' first" >&2; exit 1; }; done
	$(Q)$(MAKE) --no-print-directory B=$(STATIC_B) VARIANT=static static-bin

# the third-party libraries of ARCH through the cache (part of `make deps`)
third-party:
	TP_ARCH=$(DEB_ARCH) sh mk/third-party.sh build $(TP_NAMES)

static-bin: $(B)/flatctl $(B)/flatctl.stripped $(B)/flatctl.debug $(B)/linkcheck

$(B)/flatctl.debug: $(B)/flatctl
	$(Q)$(CROSS)objcopy --only-keep-debug $< $@

$(B)/flatctl.stripped: $(B)/flatctl $(B)/flatctl.debug
	@$(if $(Q),echo "  STRIP   $@")
	$(Q)$(CROSS)objcopy --strip-all --add-gnu-debuglink=$(B)/flatctl.debug $< $@

# Every library of the static link, called once (tests/static/linkcheck.c).
$(B)/linkcheck: tests/static/linkcheck.c $(B)/libflatctl.a
	@mkdir -p $(@D)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $< $(PKG_LIBS) $(LINK_LOG)

# The same suite (unit + e2e) against the static binary, then the guards of docs/build.md 6.4.
check-static: static
	$(Q)$(MAKE) --no-print-directory B=$(STATIC_B) VARIANT=static check \
		TEST_FLATCTL=$(abspath $(STATIC_B)/flatctl) FLATCTL_VARIANT=static
	$(STATIC_B)/linkcheck
	$(PROVE) --exec sh mk/static-guards.sh :: $(STATIC_B)

clean-cache:
	rm -rf $(THIRD_PARTY_CACHE)
