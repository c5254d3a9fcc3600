# mk/arm64.mk - cross builds and the suite under qemu-user (docs/build.md 10).
#
#   make deps-arm64      as root: the arm64 architecture in dpkg, gcc-aarch64-linux-gnu, qemu-user-static,
#                        the :arm64 -dev packages of the static link, then openssl/curl/libxml2/libsystemd
#                        cross-built for arm64 into the cache (a separate target: `make deps` stays fast)
#   make static ARCH=arm64   build/static-arm64/flatctl (+ .stripped, .debug, linkcheck)
#   make check-arm64     unit tests (cross-built) and the e2e suite against the arm64 binary under
#                        qemu-aarch64-static, with the host's tools; then the static guards
#
# binfmt_misc is not needed: every arm64 program is started as `qemu-aarch64-static -0 ARGV0 PATH`.
# The e2e suite gets FLATCTL=$(B)/emu/flatctl, a host script that does exactly that with its own
# $0, so the link names (ln -s "$FLATCTL" "$T/cgpt") keep their argv[0]; FLATCTL_BIN is the ELF.
# The rules are written for any Debian architecture (ARCH=<arch>, deps-<arch>, check-<arch>); only
# arm64 is wired up and tested (docs/build.md 10.2 says why s390x is not).

# Debian packages of a cross build for ARCH $(1) (the static link's archives, and what systemd's
# meson setup checks for); fragments may append to CROSS_DEPS_APT with pkg:$(1) names.
CROSS_DEPS_APT = qemu-user-static gcc-$(call cross_gnu,$(1)) libc6-dev:$(1) \
	$(addsuffix :$(1),libprotobuf-c-dev libjansson-dev libblkid-dev zlib1g-dev libbz2-dev \
	libzstd-dev liblz4-dev liblzma-dev libcap-dev libmount-dev) $(CROSS_DEPS_APT_EXTRA)
CROSS_DEPS_APT_EXTRA ?=
cross_gnu = $(or $(if $(filter arm64,$(1)),aarch64-linux-gnu),$(1)-linux-gnu)
cross_machine = $(or $(if $(filter arm64,$(1)),AArch64),$(if $(filter s390x,$(1)),IBM S/390),$(if $(filter amd64,$(1)),X86-64))

.PHONY: deps-arm64 check-arm64 check-emu
deps-arm64: deps-%:
	DEPS_APT="$(sort $(call CROSS_DEPS_APT,$*))" DEPS_FOREIGN_ARCH=$* DEPS_SOURCES=0 sh mk/deps.sh
	TP_ARCH=$* sh mk/third-party.sh build $(TP_NAMES)

check-arm64: check-%:
	$(Q)$(MAKE) --no-print-directory static ARCH=$*
	$(Q)$(MAKE) --no-print-directory B=build/static-$* VARIANT=static ARCH=$* check-emu

# Inside the static sub-make of a cross ARCH: wrappers that run each test program under qemu, then
# one prove run over unit tests, fuzz replays and e2e scripts; then the guards. Unit tests listed
# in tests/e2e/emu-gaps become TAP TODOs there (mk/emu-run.sh), e2e tests in tests/e2e/lib.sh.
EMU_DIR = $(B)/emu
# emu_wrapper ELF,SCRIPT: a host script that runs ELF under the emulator with the script's own
# $0 as argv[0], so that links to it (ln -s SCRIPT .../cgpt) keep their name
emu_wrapper = printf '\#!/bin/sh\nexec $(EMU) -0 "$$0" "%s" "$$@"\n' '$(abspath $(1))' >$(2) && chmod +x $(2)
# (UNIT_BIN and FUZZ_BIN are set after the fragments are read: build them from the recipe)
check-emu:
	$(Q)$(MAKE) --no-print-directory $(B)/flatctl $(UNIT_BIN) $(FUZZ_BIN) $(B)/linkcheck man \
		$(B)/fault-static/flatctl
	@rm -rf $(EMU_DIR) && mkdir -p $(EMU_DIR)/tests $(EMU_DIR)/fault
	@$(call emu_wrapper,$(B)/flatctl,$(EMU_DIR)/flatctl)
	@$(call emu_wrapper,$(B)/fault-static/flatctl,$(EMU_DIR)/fault/flatctl)
	@for t in $(UNIT_BIN) $(FUZZ_BIN); do \
		printf '#!/bin/sh\nexec sh %s %s %s "%s" "$$@"\n' $(abspath mk/emu-run.sh) $(EMU) \
			$(abspath tests/e2e/emu-gaps) "$(abspath .)/$$t" >$(EMU_DIR)/tests/$${t##*/}; \
		chmod +x $(EMU_DIR)/tests/$${t##*/}; done
	FLATCTL=$(abspath $(EMU_DIR)/flatctl) FLATCTL_BIN=$(abspath $(B)/flatctl) FLATCTL_EMU=$(EMU) \
		FLATCTL_FAULT_BIN=$(abspath $(EMU_DIR)/fault/flatctl) \
		FLATCTL_FAULT_ELF=$(abspath $(B)/fault-static/flatctl) \
		EXPECT_MACHINE='$(call cross_machine,$(DEB_ARCH))' FLATCTL_VARIANT=static \
		FLATCTL_SRC=$(CURDIR) FLATCTL_BUILD=$(abspath $(B)) \
		$(PROVE) -j$(PROVE_JOBS) --exec '' \
		$(addprefix $(EMU_DIR)/tests/,$(notdir $(UNIT_BIN) $(FUZZ_BIN))) $(E2E)
	$(EMU) $(B)/linkcheck
	EXPECT_MACHINE='$(call cross_machine,$(DEB_ARCH))' $(PROVE) --exec sh mk/static-guards.sh :: $(B)
