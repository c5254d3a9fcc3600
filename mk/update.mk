# mk/update.mk - the update pipeline (lib/update, cmd/update-verbs.c, cmd/update-frontends.c):
# test tools. e2e tests use python3 to read JSON, cgpt to read boot attributes, flock(1).
DEPS_APT += python3 cgpt gdisk util-linux
# The daemon's tests (t036x): a private dbus-daemon (dbus-daemon), busctl and systemd-analyze
# (systemd), dbus-send (dbus-bin), a real systemd user manager with its socket-activated session
# bus (dbus-user-session), unshare and setpriv (util-linux).
DEPS_APT += dbus-daemon dbus-bin dbus-user-session systemd
# t0720 checks `update status --prometheus` with promtool (Debian's prometheus package).
DEPS_APT += prometheus
# The extension payload tests (t074x) build real sysext images (mksquashfs) and mount them.
DEPS_APT += squashfs-tools

# `make install` (mk/install.mk's install-files) also installs the daemon's systemd units and
# its D-Bus policy (docs/update-daemon.md); @BINDIR@ in a unit becomes the installed binary's
# directory. No D-Bus activation file: a status query must never start updates that an admin
# stopped by disabling the unit.
UNITDIR ?= $(PREFIX)/lib/systemd/system
UPDATE_UNITS := $(sort $(wildcard dist/systemd/*.service))
.PHONY: install-update-dist
install-files: install-update-dist
install-update-dist:
	install -d $(DESTDIR)$(UNITDIR) $(DESTDIR)$(DBUSDIR)
	@set -e; for u in $(UPDATE_UNITS); do \
		echo "install $$u $(DESTDIR)$(UNITDIR)/"; \
		sed 's|@BINDIR@|$(BINDIR)|g' $$u >$(DESTDIR)$(UNITDIR)/.$${u##*/}.tmp; \
		chmod 0644 $(DESTDIR)$(UNITDIR)/.$${u##*/}.tmp; \
		mv -f $(DESTDIR)$(UNITDIR)/.$${u##*/}.tmp $(DESTDIR)$(UNITDIR)/$${u##*/}; \
	done
	install -m 0644 dist/dbus/com.coreos.update1.conf $(DESTDIR)$(DBUSDIR)/

# bench/update-daemon-getstatus's in-process round-trip driver
UPDATE_RTT_BENCH := $(B)/bench/update-daemon-rtt
$(UPDATE_RTT_BENCH): bench/update-daemon-rtt.c
	@mkdir -p $(@D)
	$(Q)$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $< $(PKG_LIBS)
