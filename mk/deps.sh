#!/bin/sh
# mk/deps.sh - install the Debian packages the build and the tests need, and make sure
# `apt-get source` works (docs/build.md 2). Idempotent: apt runs only when something is missing.
set -eu
export DEBIAN_FRONTEND=noninteractive
# DEPS_FOREIGN_ARCH=arm64 (make deps-arm64): that architecture is added to dpkg first, so that
# pkg:arm64 names can be installed (multiarch)
updated=0
for a in ${DEPS_FOREIGN_ARCH:-}; do
	if ! dpkg --print-foreign-architectures | grep -qx "$a"; then
		echo "deps: adding the $a architecture to dpkg"
		dpkg --add-architecture "$a"
		apt-get update -qq
		updated=1
	fi
done
missing=
for p in $DEPS_APT; do
	if ! dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed$'; then
		missing="$missing $p"
	fi
done
if [ -n "$missing" ]; then
	echo "deps: installing:$missing"
	[ "$updated" = 1 ] || apt-get update -qq
	# shellcheck disable=SC2086
	apt-get install -y -qq --no-install-recommends $missing
else
	echo "deps: all packages present"
fi

# deb-src: a fresh machine may have none. Add a separate file that mirrors every enabled `deb`
# entry (mk/deb-src.sh); the existing entries are never edited.
[ "${DEPS_SOURCES:-1}" = 1 ] || exit 0
if apt-get source --print-uris -qq curl >/dev/null 2>&1; then
	echo "deps: deb-src present"
	exit 0
fi
echo "deps: no deb-src entry; adding /etc/apt/sources.list.d/flatctl-deb-src.{sources,list}"
sh "$(dirname "$0")/deb-src.sh" /etc/apt
apt-get update -qq
if ! apt-get source --print-uris -qq curl >/dev/null 2>&1; then
	echo "deps: apt-get source still fails after adding deb-src entries" >&2
	exit 1
fi
echo "deps: deb-src added"
