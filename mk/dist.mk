# mk/dist.mk - `make dist` (docs/build.md 11): for each architecture of DIST_ARCHS the static
# binary, then what `make install` installs packed by mk/dist.sh as flatctl-VERSION-ARCH.tar.gz
# and the systemd-sysext image flatctl-VERSION-ARCH.raw, and SHA256SUMS over all of them, in
# DIST_DIR. SOURCE_DATE_EPOCH defaults to the commit's time, so two runs from one commit give
# the same bytes (`make dist-repro` proves it from two clean builds).

DEPS_APT += squashfs-tools systemd-container

DIST_ARCHS ?= amd64 arm64
DIST_DIR ?= build/dist
SOURCE_DATE_EPOCH ?= $(shell git log -1 --format=%ct 2>/dev/null || echo 0)
export SOURCE_DATE_EPOCH

.PHONY: dist dist-pack dist-repro
dist:
	rm -rf $(DIST_DIR)
	$(Q)set -e; for a in $(DIST_ARCHS); do \
		$(MAKE) --no-print-directory static ARCH=$$a; \
		$(MAKE) --no-print-directory dist-pack ARCH=$$a; \
	done
	cd $(DIST_DIR) && sha256sum $$(ls *.tar.gz *.raw | LC_ALL=C sort) >SHA256SUMS.tmp && \
		mv SHA256SUMS.tmp SHA256SUMS
	@cat $(DIST_DIR)/SHA256SUMS

# One architecture: stage `make install` (DIST_BIN, default the stripped static binary of ARCH)
# and pack it. t0012 calls this with the binary under test and its own DIST_DIR.
DIST_BIN ?= $(STATIC_B)/flatctl.stripped
DIST_STAGE = $(DIST_DIR)/.stage-$(SYSEXT_ARCH)
dist-pack: man
	rm -rf $(DIST_STAGE)
	$(Q)$(MAKE) --no-print-directory install-files PREFIX=/usr DESTDIR=$(abspath $(DIST_STAGE)) \
		INSTALL_BIN=$(DIST_BIN) >/dev/null
	sh mk/dist.sh $(DIST_STAGE) $(DIST_DIR) $(VERSION) $(SYSEXT_ARCH)
	rm -rf $(DIST_STAGE)

# Two `make dist` from clean static builds (objects, link, packing), compared byte for byte.
dist-repro:
	rm -rf build/dist-repro && mkdir -p build/dist-repro
	$(Q)set -e; for run in 1 2; do \
		rm -rf $(foreach a,$(DIST_ARCHS),build/static$(if $(filter $(NATIVE_DEB_ARCH),$(call arch_deb,$(a))),,-$(call arch_deb,$(a)))); \
		$(MAKE) --no-print-directory dist DIST_DIR=build/dist-repro/$$run; \
	done
	cmp build/dist-repro/1/SHA256SUMS build/dist-repro/2/SHA256SUMS
	@echo "dist-repro: two clean builds gave identical artifacts"
