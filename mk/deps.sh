#!/bin/sh
# mk/deps.sh - install the Debian packages the build and the tests need (spec/build.md 2).
# Idempotent: apt runs only when something is missing.
set -eu
missing=
for p in $DEPS_APT; do
	if ! dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed$'; then
		missing="$missing $p"
	fi
done
if [ -n "$missing" ]; then
	echo "deps: installing:$missing"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	# shellcheck disable=SC2086
	apt-get install -y -qq --no-install-recommends $missing
else
	echo "deps: all packages present"
fi
