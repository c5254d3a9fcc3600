# mk/update.mk - the update pipeline (lib/update, cmd/update-verbs.c, cmd/update-frontends.c):
# test tools. e2e tests use python3 to read JSON, cgpt to read boot attributes, flock(1).
DEPS_APT += python3 cgpt gdisk util-linux
# The daemon's tests (t036x): a private dbus-daemon (dbus-daemon), busctl and systemd-analyze
# (systemd), dbus-send (dbus-bin), a real systemd user manager with its socket-activated session
# bus (dbus-user-session), unshare and setpriv (util-linux).
DEPS_APT += dbus-daemon dbus-bin dbus-user-session systemd
