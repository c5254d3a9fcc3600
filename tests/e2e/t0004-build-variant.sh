#!/bin/bash
# t0004-build-variant: the suite really runs the binary it claims to (docs/build.md 5):
# `make asan` the sanitized one, `make check-static` the static one, `make check` the dev one.
. "$(dirname "$0")/lib.sh"

variant=${FLATCTL_VARIANT:-dev}
case $variant in
asan)
	test_expect 'FLATCTL is the ASan/UBSan build' '
		readelf -d "$FLATCTL" >"$T/d" && test_grep "libasan" "$T/d" && test_grep "libubsan" "$T/d"
	'
	test_expect 'ASan is active in the binary under test' '
		ASAN_OPTIONS=help=1 "$FLATCTL" --version >"$T/o" 2>&1 && test_grep "Available flags for AddressSanitizer" "$T/o"
	'
	;;
static)
	# a static PIE by default, a static non-PIE with STATIC_PIE=0 (mk/static.mk). Under
	# `make check-arm64` FLATCTL is a wrapper that runs FLATCTL_BIN under FLATCTL_EMU.
	bin=${FLATCTL_BIN:-$FLATCTL}
	if [ "${STATIC_PIE:-1}" = 1 ]; then kind="DYN (Position-Independent"; else kind="EXEC (Executable"; fi
	test_expect "FLATCTL is static ($kind) without interpreter or NEEDED" '
		readelf -h "$bin" | grep -qF "$kind" &&
		! readelf -l "$bin" | grep -q INTERP &&
		! readelf -d "$bin" | grep -q NEEDED
	'
	if [ -n "${EXPECT_MACHINE:-}" ]; then
		test_expect "FLATCTL is built for $EXPECT_MACHINE and runs under ${FLATCTL_EMU:-no emulator}" '
			readelf -h "$bin" | grep -q "Machine:.*$EXPECT_MACHINE\$" &&
			test -n "${FLATCTL_EMU:-}" && test_grep "$FLATCTL_EMU" "$FLATCTL"
		'
	fi
	;;
*)
	test_expect 'FLATCTL is the dynamic dev build' '
		readelf -l "$FLATCTL" | grep -q INTERP && ! readelf -d "$FLATCTL" | grep -q libasan
	'
	;;
esac
test_expect 'the binary under test runs' '
	flatctl --version >"$T/v" && test_grep "^flatctl " "$T/v"
'
test_done
