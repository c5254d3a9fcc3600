#!/bin/sh
# mk/static-guards.sh - the static binary's guards (spec/build.md 6.4), run by `make check-static`.
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
# "Using 'X' in statically linked applications": the names spec/build.md 6.4 knows about.
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

# a static non-PIE executable by default, a static PIE with STATIC_PIE=1 (mk/static.mk); full
# RELRO (libc makes the pointer tables read-only once started) either way
if [ "${STATIC_PIE:-0}" = 1 ]; then kind='DYN (Position-Independent Executable'; what="a static PIE"
else kind='EXEC (Executable file)'; what="a static non-PIE executable"; fi
if readelf -h "$b/flatctl" 2>/dev/null | grep -qF "$kind"; then
	ok "flatctl is $what"
else
	notok "flatctl is $what" "$(readelf -h "$b/flatctl" 2>&1 | grep Type)"
fi
if readelf -l "$b/flatctl" 2>/dev/null | grep -q GNU_RELRO; then
	ok "flatctl has a RELRO segment"
else
	notok "flatctl has a RELRO segment"
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
