# mk/cgpt.mk - the cgpt link (cmd/cgpt.c): the tools its e2e tests and bench/cgpt-show compare
# with (Debian's cgpt, sgdisk, losetup, hyperfine). No rules here: a fragment is read before the
# Makefile's `all`, so a target defined here would become the default goal.
DEPS_APT += cgpt gdisk util-linux hyperfine python3
