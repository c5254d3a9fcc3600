#!/bin/bash
# t0006-deps-debsrc: mk/deb-src.sh (used by `make deps`, docs/build.md 2) mirrors every enabled
# deb entry as deb-src, in both apt formats, into files of its own, never editing the existing ones.
. "$(dirname "$0")/lib.sh"
export DEBSRC=$FLATCTL_SRC/mk/deb-src.sh
A=$T/apt
mkdir -p "$A/sources.list.d"
cat >"$A/sources.list.d/debian.sources" <<'X'
Types: deb
# a comment
URIs: http://deb.debian.org/debian
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: http://deb.debian.org/debian-security
Suites: bookworm-security
Components: main contrib
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: http://example.org/disabled
Suites: x
Components: main
Enabled: no

Types: deb-src
URIs: http://example.org/already-src
Suites: y
Components: main
X
cat >"$A/sources.list" <<'X'
deb http://deb.debian.org/debian bookworm main
# deb http://commented.example.org/ bookworm main
deb [arch=amd64 signed-by=/k.gpg] http://mirror.example.org/debian bookworm main non-free
deb-src http://deb.debian.org/debian bookworm main
X
printf 'deb http://other.example.org/ stable main\n' >"$A/sources.list.d/other.list"
printf 'deb http://ignored.example.org/ stable main\n' >"$A/sources.list.d/x.list.disabled"
(cd "$A" && find . -type f -exec sha256sum {} + | sort) >"$T/before"

test_expect 'mk/deb-src.sh runs' 'sh "$DEBSRC" "$A"'
test_expect 'existing files are untouched' '
	(cd "$A" && find . -type f ! -name "flatctl-deb-src.*" -exec sha256sum {} + | sort) >"$T/after" &&
	test_cmp "$T/before" "$T/after"
'
test_expect 'deb822: enabled deb stanzas mirrored as deb-src, fields kept' '
	cat >"$T/want" <<X &&
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb-src
URIs: http://deb.debian.org/debian-security
Suites: bookworm-security
Components: main contrib
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

X
	test_cmp "$T/want" "$A/sources.list.d/flatctl-deb-src.sources"
'
test_expect 'one-line: deb lines mirrored with their options, comments and .disabled skipped' '
	cat >"$T/want" <<X &&
deb-src http://deb.debian.org/debian bookworm main
deb-src [arch=amd64 signed-by=/k.gpg] http://mirror.example.org/debian bookworm main non-free
deb-src http://other.example.org/ stable main
X
	test_cmp "$T/want" "$A/sources.list.d/flatctl-deb-src.list"
'
test_expect 'a second run gives the same files (idempotent)' '
	cp "$A/sources.list.d/flatctl-deb-src.sources" "$T/s1" &&
	sh "$DEBSRC" "$A" && test_cmp "$T/s1" "$A/sources.list.d/flatctl-deb-src.sources"
'
test_done
