# mk/update.mk - the update pipeline (lib/update, cmd/update-verbs.c, cmd/update-frontends.c):
# test tools. e2e tests use python3 to read JSON, cgpt to read boot attributes, flock(1).
DEPS_APT += python3 cgpt gdisk util-linux
