#!/bin/sh
# mk/deb-src.sh - write deb-src entries mirroring every enabled `deb` entry of APT_DIR (default
# /etc/apt): sources.list.d/flatctl-deb-src.sources for deb822 stanzas (*.sources) and
# sources.list.d/flatctl-deb-src.list for one-line entries (sources.list, *.list), same URIs,
# suites, components and options. Existing files are never edited. Used by mk/deps.sh.
set -eu
apt=${1:-/etc/apt}
srcdir=$apt/sources.list.d
tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT

# deb822: copy each stanza whose Types include "deb" (and not Enabled: no), with Types: deb-src
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

# one-line: "deb [options] URI suite component..." -> "deb-src [options] URI suite component..."
: >"$tmp"
for f in "$apt/sources.list" "$srcdir"/*.list; do
	[ -f "$f" ] || continue
	case $f in */flatctl-deb-src.list) continue ;; esac
	sed -n 's/^[ \t]*deb[ \t]\{1,\}/deb-src /p' "$f" >>"$tmp"
done
if [ -s "$tmp" ]; then
	cp "$tmp" "$srcdir/flatctl-deb-src.list"
fi
