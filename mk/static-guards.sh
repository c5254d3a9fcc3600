#!/bin/sh
# mk/static-guards.sh - the static binary's guards (docs/build.md 6.4), run by `make check-static`.
# Prints TAP. Usage: mk/static-guards.sh BUILD_DIR (the B of the static build)
set -u
b=${1:?usage: mk/static-guards.sh BUILD_DIR}
n=0
failed=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
notok() { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $1"; [ -z "${2:-}" ] || printf '%s\n' "$2" | sed 's/^/# /'; }

# Functions glibc serves only through dlopen()ed modules (NSS 6.1, gconv 6.3, dlopen itself).
forbidden='getpwnam getpwuid getgrnam getgrgid getpwent getgrent getgrouplist initgroups
getpwnam_r getpwuid_r getgrnam_r getgrgid_r getpwent_r getgrent_r gethostbyname gethostbyname_r
gethostbyname2 gethostbyname2_r iconv_open dlopen dlmopen'
# "Using 'X' in statically linked applications": the names docs/build.md 6.4 knows about.
known='dlopen getaddrinfo gethostbyname getpwnam getpwuid getpwuid_r getgrnam getgrgid getgrgid_r'

for bin in "$b/flatctl" "$b/flatctl.stripped" "$b/linkcheck"; do
	if [ ! -x "$bin" ]; then
		notok "$bin exists" "missing"
		continue
	fi
	d=$(readelf -d "$bin" 2>&1)
	if printf '%s\n' "$d" | grep -q '(NEEDED)'; then
		notok "$bin has no NEEDED entries" "$(printf '%s\n' "$d" | grep NEEDED)"
	else
		ok "$bin has no NEEDED entries"
	fi
	if readelf -l "$bin" | grep -q 'INTERP'; then
		notok "$bin has no INTERP program header"
	else
		ok "$bin has no INTERP program header"
	fi
done

# A static PIE by default, a static non-PIE executable with STATIC_PIE=0 (mk/static.mk); full
# RELRO either way: a GNU_RELRO segment (libc makes the pointer tables read-only once started)
# and, for the PIE, BIND_NOW with the PIE flag in its dynamic section (it has no NEEDED, no
# INTERP: it relocates itself).
h=$(readelf -h "$b/flatctl" 2>&1)
l=$(readelf -lW "$b/flatctl" 2>&1)
d=$(readelf -d "$b/flatctl" 2>&1)
if [ "${STATIC_PIE:-1}" = 1 ]; then
	if printf '%s\n' "$h" | grep -qF 'DYN (Position-Independent Executable'; then
		ok "flatctl is a static PIE (ELF type DYN)"
	else
		notok "flatctl is a static PIE (ELF type DYN)" "$(printf '%s\n' "$h" | grep Type)"
	fi
	if printf '%s\n' "$d" | grep -q '(FLAGS_1).*Flags:.* PIE' &&
		printf '%s\n' "$d" | grep -Eq '\(FLAGS\).*BIND_NOW|\(FLAGS_1\).*Flags:.* NOW'; then
		ok "flatctl's dynamic section has BIND_NOW and FLAGS_1 PIE"
	else
		notok "flatctl's dynamic section has BIND_NOW and FLAGS_1 PIE" \
			"$(printf '%s\n' "$d" | grep -E 'FLAGS|no dynamic')"
	fi
else
	if printf '%s\n' "$h" | grep -qF 'EXEC (Executable file)'; then
		ok "flatctl is a static non-PIE executable (STATIC_PIE=0)"
	else
		notok "flatctl is a static non-PIE executable (STATIC_PIE=0)" "$(printf '%s\n' "$h" | grep Type)"
	fi
fi
# EXPECT_MACHINE: readelf's name of the target (X86-64, AArch64, IBM S/390) for a cross build
if [ -n "${EXPECT_MACHINE:-}" ]; then
	if printf '%s\n' "$h" | grep -q "Machine:.*$EXPECT_MACHINE\$"; then
		ok "flatctl is built for $EXPECT_MACHINE"
	else
		notok "flatctl is built for $EXPECT_MACHINE" "$(printf '%s\n' "$h" | grep Machine)"
	fi
fi
if printf '%s\n' "$l" | grep -q GNU_RELRO; then
	ok "flatctl has a GNU_RELRO segment"
else
	notok "flatctl has a GNU_RELRO segment"
fi

objs=$(find "$b/obj" "$b/gen" -name '*.o' 2>/dev/null | sort)
if [ -z "$objs" ]; then
	notok "own objects found under $b/obj"
else
	# shellcheck disable=SC2086
	undef=$(nm -u $objs 2>/dev/null | awk '$1 == "U" { print $2 }' | sed 's/@.*//' | sort -u)
	bad=
	for f in $forbidden; do
		if printf '%s\n' "$undef" | grep -qx "$f"; then
			who=$(for o in $objs; do nm -u "$o" | grep -qw "$f" && echo "$o"; done | tr '\n' ' ')
			bad="$bad$f (in $who)
"
		fi
	done
	if [ -n "$bad" ]; then
		notok "own objects call no NSS, gconv or dlopen function" "$bad"
	else
		ok "own objects call no NSS, gconv or dlopen function"
	fi
fi

for log in "$b/flatctl.ld.log" "$b/linkcheck.ld.log"; do
	if [ ! -f "$log" ]; then
		notok "linker log $log exists"
		continue
	fi
	names=$(sed -n "s/.*Using '\([^']*\)' in statically linked applications.*/\1/p" "$log" | sort -u)
	new=
	for x in $names; do
		case " $(echo $known) " in *" $x "*) ;; *) new="$new $x" ;; esac
	done
	if [ -n "$new" ]; then
		notok "$log: only known 'statically linked' warnings" "new:$new"
	else
		ok "$log: only known 'statically linked' warnings ($(echo $names))"
	fi
done

echo "1..$n"
[ "$failed" = 0 ]
