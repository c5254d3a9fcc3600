#!/bin/sh
# mk/deps.sh - install the Debian packages the build and the tests need, and make sure
# `apt-get source` works (spec/build.md 2). Idempotent: apt runs only when something is missing.
set -eu
export DEBIAN_FRONTEND=noninteractive
missing=
for p in $DEPS_APT; do
	if ! dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed$'; then
		missing="$missing $p"
	fi
done
if [ -n "$missing" ]; then
	echo "deps: installing:$missing"
	apt-get update -qq
	# shellcheck disable=SC2086
	apt-get install -y -qq --no-install-recommends $missing
else
	echo "deps: all packages present"
fi

# deb-src: a fresh machine may have none. Add a separate file that mirrors every enabled `deb`
# entry (URIs, suites, components, options); the existing entries are never edited.
[ "${DEPS_SOURCES:-1}" = 1 ] || exit 0
if apt-get source --print-uris -qq curl >/dev/null 2>&1; then
	echo "deps: deb-src present"
	exit 0
fi
srcdir=/etc/apt/sources.list.d
echo "deps: no deb-src entry; adding $srcdir/flatctl-deb-src.{sources,list}"
tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT
# deb822 stanzas (*.sources): copy each stanza whose Types include "deb", with Types: deb-src.
for f in "$srcdir"/*.sources; do
	[ -f "$f" ] || continue
	case $f in */flatctl-deb-src.sources) continue ;; esac
	awk '
	function flush() {
		if (n > 0 && isdeb && !disabled) {
			print "Types: deb-src"
			for (i = 1; i <= n; i++)
				if (tolower(line[i]) !~ /^types:/)
					print line[i]
			print ""
		}
		n = 0; isdeb = 0; disabled = 0
	}
	/^[ \t]*$/ { flush(); next }
	/^#/ { next }
	{
		line[++n] = $0
		l = tolower($0)
		if (l ~ /^types:/) { sub(/^[^:]*:/, "", l); if (l ~ /(^|[ \t])deb([ \t]|$)/) isdeb = 1 }
		if (l ~ /^enabled:[ \t]*no/) disabled = 1
	}
	END { flush() }' "$f" >>"$tmp"
done
if [ -s "$tmp" ]; then
	cp "$tmp" "$srcdir/flatctl-deb-src.sources"
fi
# one-line format (sources.list, *.list): "deb [opts] URI suite comp..." -> "deb-src ...".
: >"$tmp"
for f in /etc/apt/sources.list "$srcdir"/*.list; do
	[ -f "$f" ] || continue
	case $f in */flatctl-deb-src.list) continue ;; esac
	sed -n 's/^[ \t]*deb[ \t]\{1,\}/deb-src /p' "$f" >>"$tmp"
done
if [ -s "$tmp" ]; then
	cp "$tmp" "$srcdir/flatctl-deb-src.list"
fi
apt-get update -qq
if ! apt-get source --print-uris -qq curl >/dev/null 2>&1; then
	echo "deps: apt-get source still fails after adding deb-src entries" >&2
	exit 1
fi
echo "deps: deb-src added"
