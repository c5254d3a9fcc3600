#!/bin/sh
# mk/third-party.sh - build curl, libxml2 and libsystemd from Debian source packages into a cache
# outside the checkout and link build/third_party/<name> to it (spec/build.md 3 and 4).
#
# Cache key per library: the .dsc name `apt-get source --print-uris` reports (reads apt's lists,
# downloads nothing) plus a short hash of its recipe mk/third-party/<name>.sh, which holds the
# flags. A security update or a flag change rebuilds exactly that library. A build runs in a
# temporary directory beside the final one; the stamp is written last, then the directory is
# renamed into place, so a killed build is never taken as done.
#
# Usage: mk/third-party.sh BUILD_DIR [NAME...]   (env: THIRD_PARTY_CACHE, JOBS)
set -eu
here=$(cd "$(dirname "$0")" && pwd)
build=${1:?usage: mk/third-party.sh BUILD_DIR [NAME...]}
shift
names=${*:-curl libxml2 libsystemd libarchive}
cache=${THIRD_PARTY_CACHE:-/var/cache/flatctl/third-party}
jobs=${JOBS:-$(nproc)}
mkdir -p "$cache" "$build/third_party"
# leftovers of builds killed a day ago or more (a running build's temp dir is younger)
find "$cache" -mindepth 1 -maxdepth 1 -name '.tmp-*' -mmin +1440 -exec rm -rf {} + 2>/dev/null || true
build=$(cd "$build" && pwd)

tmp=
cleanup() { [ -z "$tmp" ] || rm -rf "$tmp"; }
trap cleanup EXIT
trap 'exit 130' INT TERM

# one apt query for all source packages (apt loads its lists once: most of a warm run's time)
sources=
for name in $names; do
	recipe=$here/third-party/$name.sh
	[ -f "$recipe" ] || { echo "third-party: no recipe $recipe" >&2; exit 1; }
	TP_SOURCE=
	# shellcheck source=/dev/null
	. "$recipe"
	sources="$sources $TP_SOURCE"
done
# shellcheck disable=SC2086
dscs=$(apt-get source --print-uris -qq $sources | awk '$2 ~ /\.dsc$/ { sub(/\.dsc$/, "", $2); print $2 }')

for name in $names; do
	recipe=$here/third-party/$name.sh
	TP_SOURCE=
	# shellcheck source=/dev/null
	. "$recipe"
	dsc=$(printf '%s\n' "$dscs" | grep -m1 "^${TP_SOURCE}_" || true)
	if [ -z "$dsc" ]; then
		echo "third-party: 'apt-get source --print-uris $TP_SOURCE' found no .dsc (run make deps)" >&2
		exit 1
	fi
	hash=$(sha256sum "$recipe" | cut -c1-8)
	key=$dsc-$hash
	final=$cache/$key
	if [ -f "$final/.stamp" ]; then
		echo "third-party: $name: cached ($key)"
	else
		echo "third-party: $name: building $key"
		start=$(date +%s)
		tmp=$(mktemp -d "$cache/.tmp-$key.XXXXXX")
		mkdir "$tmp/src" "$tmp/prefix"
		(cd "$tmp/src" && apt-get source -qq "$TP_SOURCE" >"$tmp/src/apt-source.log" 2>&1) || {
			cat "$tmp/src/apt-source.log" >&2
			exit 1
		}
		srcdir=$(find "$tmp/src" -mindepth 1 -maxdepth 1 -type d | head -n 1)
		(cd "$srcdir" && tp_build "$tmp/prefix" "$jobs") >"$tmp/build.log" 2>&1 || {
			tail -n 60 "$tmp/build.log" >&2
			echo "third-party: $name: build failed (log above)" >&2
			exit 1
		}
		rm -rf "$tmp/src" "$tmp/build.log"
		# keep only lib/ (archives) and include/
		find "$tmp/prefix" -mindepth 1 -maxdepth 1 ! -name lib ! -name include -exec rm -rf {} +
		find "$tmp/prefix/lib" -mindepth 1 ! -name '*.a' ! -type d -exec rm -f {} +
		printf '%s\n' "$key" >"$tmp/prefix/.stamp"
		if ! mv -T "$tmp/prefix" "$final" 2>/dev/null; then
			[ -f "$final/.stamp" ] || { echo "third-party: cannot install $final" >&2; exit 1; }
		fi
		rm -rf "$tmp"
		tmp=
		echo "third-party: $name: built in $(( $(date +%s) - start )) s"
	fi
	ln -sfn "$final" "$build/third_party/$name"
done
