#!/bin/bash
# t0005-static-guards: mk/static-guards.sh (docs/build.md 6.4) catches what it must: NEEDED and
# INTERP in a binary, NSS/dlopen calls in our own objects, and a new "statically linked" linker
# warning, the wrong kind of static binary (PIE or not), and a PIE without full RELRO (no BIND_NOW,
# no GNU_RELRO); it passes a clean build. Run on fabricated build directories.
. "$(dirname "$0")/lib.sh"
export GUARDS=$FLATCTL_SRC/mk/static-guards.sh
CC=${CC:-cc}

# fake_build DIR BINARY: a build dir whose flatctl, flatctl.stripped and linkcheck are BINARY
fake_build() {
	mkdir -p "$1/obj/lib" &&
	for b in flatctl flatctl.stripped linkcheck; do cp "$2" "$1/$b" || return 1; done &&
	printf 'int ok(void);\nint ok(void) { return 0; }\n' >"$T/ok.c" &&
	"$CC" -c -o "$1/obj/lib/ok.o" "$T/ok.c" &&
	: >"$1/flatctl.ld.log" &&
	: >"$1/linkcheck.ld.log"
}

printf 'int main(void) { return 0; }\n' >"$T/main.c"
"$CC" -static-pie -Wl,-z,relro,-z,now -o "$T/static-pie" "$T/main.c"
"$CC" -static -no-pie -Wl,-z,relro,-z,now -o "$T/static" "$T/main.c"
"$CC" -static-pie -Wl,-z,relro,-z,lazy -o "$T/pie-lazy" "$T/main.c"
"$CC" -static-pie -Wl,-z,norelro,-z,now -o "$T/pie-norelro" "$T/main.c"
"$CC" -o "$T/dynamic" "$T/main.c"
export STATIC_PIE=1
unset EXPECT_MACHINE # the guards must judge the binaries fabricated here, not the build under test

test_expect 'a clean static PIE build passes' '
	fake_build "$T/clean" "$T/static-pie" && { sh "$GUARDS" "$T/clean" >"$T/o" || { cat "$T/o"; false; }; } &&
	test_grep "^ok .*flatctl is a static PIE" "$T/o" &&
	test_grep "^ok .*BIND_NOW and FLAGS_1 PIE" "$T/o" && test_grep "^ok .*GNU_RELRO" "$T/o"
'
test_expect 'a static non-PIE passes with STATIC_PIE=0 and fails as the wrong kind without it' '
	fake_build "$T/nopie" "$T/static" &&
	{ STATIC_PIE=0 sh "$GUARDS" "$T/nopie" >"$T/o" || { cat "$T/o"; false; }; } &&
	! sh "$GUARDS" "$T/nopie" >"$T/o" && test_grep "^not ok .*flatctl is a static PIE" "$T/o" &&
	! STATIC_PIE=0 sh "$GUARDS" "$T/clean" >"$T/o" && test_grep "^not ok .*flatctl is a static non-PIE" "$T/o"
'
test_expect 'a static PIE without BIND_NOW (lazy binding) fails' '
	fake_build "$T/lazy" "$T/pie-lazy" &&
	! sh "$GUARDS" "$T/lazy" >"$T/o" && test_grep "^not ok .*BIND_NOW and FLAGS_1 PIE" "$T/o"
'
test_expect 'a static PIE without a GNU_RELRO segment fails' '
	fake_build "$T/norelro" "$T/pie-norelro" &&
	! sh "$GUARDS" "$T/norelro" >"$T/o" && test_grep "^not ok .*GNU_RELRO" "$T/o"
'
test_expect 'the wrong architecture fails when EXPECT_MACHINE is set' '
	{ EXPECT_MACHINE=X86-64 sh "$GUARDS" "$T/clean" >"$T/o" || { cat "$T/o"; false; }; } &&
	! EXPECT_MACHINE=AArch64 sh "$GUARDS" "$T/clean" >"$T/o" &&
	test_grep "^not ok .*flatctl is built for AArch64" "$T/o"
'
test_expect 'a dynamic binary fails (NEEDED, INTERP, not static)' '
	fake_build "$T/dyn" "$T/dynamic" &&
	! sh "$GUARDS" "$T/dyn" >"$T/o" &&
	test_grep "^not ok .*flatctl has no NEEDED" "$T/o" &&
	test_grep "^not ok .*flatctl has no INTERP" "$T/o"
'
test_expect 'an own object calling getpwnam or dlopen fails and is named' '
	fake_build "$T/nss" "$T/static-pie" &&
	printf "#include <pwd.h>\n#include <dlfcn.h>\nvoid *f(void);\nvoid *f(void) { getpwnam(\"x\"); return dlopen(\"x\", 0); }\n" >"$T/nss.c" &&
	"$CC" -c -o "$T/nss/obj/lib/nss.o" "$T/nss.c" &&
	! sh "$GUARDS" "$T/nss" >"$T/o" &&
	test_grep "^not ok .*NSS" "$T/o" && test_grep "getpwnam (in .*nss.o" "$T/o" &&
	test_grep "dlopen (in .*nss.o" "$T/o"
'
test_expect 'known linker warnings pass, a new one fails' '
	fake_build "$T/warn" "$T/static-pie" &&
	echo "x.c:(.text+0x1): warning: Using '\''getpwuid_r'\'' in statically linked applications requires at runtime the shared libraries" >"$T/warn/flatctl.ld.log" &&
	{ sh "$GUARDS" "$T/warn" >"$T/o" || { cat "$T/o"; false; }; } &&
	echo "y.c:(.text+0x2): warning: Using '\''getservbyname'\'' in statically linked applications requires at runtime the shared libraries" >>"$T/warn/flatctl.ld.log" &&
	! sh "$GUARDS" "$T/warn" >"$T/o" && test_grep "new: getservbyname" "$T/o"
'
test_done
