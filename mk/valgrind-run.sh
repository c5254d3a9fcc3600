#!/bin/sh
# mk/valgrind-run.sh - run one program under valgrind as `make valgrind` does (docs/testing.md):
# VALGRIND (from make) is the command with its options. mk/emu-run.sh calls it as its emulator,
# so that a unit test listed in tests/e2e/valgrind-gaps becomes a TAP TODO with its reason. A
# memory error or a definite leak is exit status 99, which mk/emu-run.sh never forgives.
# shellcheck disable=SC2086 # VALGRIND is a command with options
exec ${VALGRIND:-valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite} "$@"
