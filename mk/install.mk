# mk/install.mk - `make install PREFIX=/usr DESTDIR=` (docs/build.md 5): the stripped static
# binary as $(PREFIX)/bin/flatctl, a relative symlink for every name `flatctl --list-links`
# prints, the man pages rendered with scdoc, the D-Bus policy files under dbus/ and the systemd
# units under systemd/ when the tree has them. `make dist` (mk/dist.mk) packs what this installs.
# INSTALL_BIN= installs another build instead (t0002 installs the binary under test); without it
# the static binary is built first when needed. A binary of another architecture is asked for
# --list-links under the emulator of ARCH (EMU, mk/static.mk). Fragments that install more files append a target of their own to
# INSTALL_HOOKS; it runs with the same PREFIX and DESTDIR (so dist and sysext images get it too).

PREFIX  ?= /usr
DESTDIR ?=
INSTALL_BIN ?=
INSTALL_HOOKS ?=
BINDIR  := $(PREFIX)/bin
MAN1DIR := $(PREFIX)/share/man/man1
DBUSDIR := $(PREFIX)/share/dbus-1/system.d
UNITDIR := $(PREFIX)/lib/systemd/system
INSTALL_UNITS = $(sort $(wildcard systemd/*.service systemd/*.socket systemd/*.timer systemd/*.path))

.PHONY: install install-files
install: $(if $(INSTALL_BIN),,static) man
	$(Q)$(MAKE) --no-print-directory install-files \
		INSTALL_BIN=$(or $(INSTALL_BIN),$(STATIC_B)/flatctl.stripped)

install-files: $(INSTALL_HOOKS)
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MAN1DIR)
	install -m 0755 $(INSTALL_BIN) $(DESTDIR)$(BINDIR)/flatctl
	@set -e; links=$$($(INSTALL_BIN) --list-links 2>/dev/null || \
		$(EMU) $(INSTALL_BIN) --list-links); test -n "$$links"; \
	for l in $$links; do \
		case $$l in */*|.*|'') echo "install: bad link name '$$l'" >&2; exit 1;; esac; \
		echo "ln -sfn flatctl $(DESTDIR)$(BINDIR)/$$l"; \
		ln -sfn flatctl $(DESTDIR)$(BINDIR)/$$l; \
	done
	$(if $(MAN_OUT),install -m 0644 $(MAN_OUT) $(DESTDIR)$(MAN1DIR)/)
	$(if $(wildcard dbus/*.conf),install -d $(DESTDIR)$(DBUSDIR))
	$(if $(wildcard dbus/*.conf),install -m 0644 $(wildcard dbus/*.conf) $(DESTDIR)$(DBUSDIR)/)
	$(if $(INSTALL_UNITS),install -d $(DESTDIR)$(UNITDIR))
	$(if $(INSTALL_UNITS),install -m 0644 $(INSTALL_UNITS) $(DESTDIR)$(UNITDIR)/)

# --- demo (README: `make deps demo`) ---------------------------------------------------------
.PHONY: demo
demo: static
	FLATCTL=$(abspath $(STATIC_B)/flatctl) bash demo/run.sh
