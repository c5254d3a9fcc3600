# tests/e2e/cgpt-lib.sh - shared set-up of the cgpt link tests (t06xx), sourced after lib.sh:
# Debian's cgpt as $DEB, our binary behind a `cgpt` link in $T (argv[0] dispatch), and helpers.
# cgpt and sgdisk come with `make deps`: missing is a failure, not a skip.
for tool in /usr/bin/cgpt sgdisk; do
	command -v "$tool" >/dev/null || { echo "Bail out! $tool not installed: run make deps"; exit 1; }
done
DEB=/usr/bin/cgpt
USR=5DFBF5F4-2848-4BAC-AA5E-0D9A20B745A6 # the USR partition type GUID
ln -s "$FLATCTL" "$T/cgpt"

# ours ARGS...: run flatctl as `cgpt` (under valgrind when FLATCTL_VALGRIND=1)
ours() {
	if [ "${FLATCTL_VALGRIND:-0}" = 1 ]; then
		under_valgrind "$T/cgpt" "$@"
	else
		"$T/cgpt" "$@"
	fi
}
# sgdisk_ok IMG: sgdisk -v finds nothing wrong
sgdisk_ok() { sgdisk -v "$1" >"$T/v" 2>&1 && test_grep "No problems found" "$T/v"; }
