# mk/install.mk - `make install PREFIX=/usr DESTDIR=` (spec/build.md 5): the stripped static
# binary as $(PREFIX)/bin/flatctl, a relative symlink for every name `flatctl --list-links`
# prints, the man pages rendered with scdoc, and the D-Bus policy files under dbus/ (update.md 8.4).
# INSTALL_BIN= installs another build instead (t0002 installs the binary under test); without it
# the static binary is built first when needed.

PREFIX  ?= /usr
DESTDIR ?=
INSTALL_BIN ?=
BINDIR  := $(PREFIX)/bin
MAN1DIR := $(PREFIX)/share/man/man1
DBUSDIR := $(PREFIX)/share/dbus-1/system.d

.PHONY: install install-files
install: $(if $(INSTALL_BIN),,static) man
	$(Q)$(MAKE) --no-print-directory install-files \
		INSTALL_BIN=$(or $(INSTALL_BIN),$(STATIC_B)/flatctl.stripped)

install-files:
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MAN1DIR)
	install -m 0755 $(INSTALL_BIN) $(DESTDIR)$(BINDIR)/flatctl
	@set -e; for l in $$($(INSTALL_BIN) --list-links); do \
		case $$l in */*|.*|'') echo "install: bad link name '$$l'" >&2; exit 1;; esac; \
		echo "ln -sfn flatctl $(DESTDIR)$(BINDIR)/$$l"; \
		ln -sfn flatctl $(DESTDIR)$(BINDIR)/$$l; \
	done
	$(if $(MAN_OUT),install -m 0644 $(MAN_OUT) $(DESTDIR)$(MAN1DIR)/)
	$(if $(wildcard dbus/*.conf),install -d $(DESTDIR)$(DBUSDIR))
	$(if $(wildcard dbus/*.conf),install -m 0644 $(wildcard dbus/*.conf) $(DESTDIR)$(DBUSDIR)/)

# --- demo (README: `make deps demo`) ---------------------------------------------------------
.PHONY: demo
demo: static
	FLATCTL=$(abspath $(STATIC_B)/flatctl) bash demo/run.sh
