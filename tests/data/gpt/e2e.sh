# tests/data/gpt/e2e.sh - helpers for the t05xx partition tests; source after lib.sh.
# shellcheck shell=bash
# Every value is cross-checked with the real cgpt and sgdisk.
USR_TYPE=5DFBF5F4-2848-4BAC-AA5E-0D9A20B745A6
# cgpt, sgdisk and jq come with `make deps`: missing is a failure, not a skip
for tool in cgpt sgdisk jq; do
	command -v "$tool" >/dev/null || { echo "Bail out! $tool not installed: run make deps"; exit 1; }
done

# mk IMG [mkdisk options]: a compact image (tools/mkdisk, about a dozen cgpt runs), made once per
# distinct option set and test file, then copied.
mk() {
	local img=$1 key &&
	shift &&
	key=$(printf '%s_' "$@" | tr -c 'A-Za-z0-9_.-' '_') &&
	mkdir -p "$T/.mkcache" &&
	if [ ! -e "$T/.mkcache/$key" ]; then
		"$MKDISK" --layout compact -q --force "$@" "$T/.mkcache/$key" || return 1
	fi &&
	rm -f "$img" && cp --sparse=always "$T/.mkcache/$key" "$img"
}

# P/T/S of partition NR as each tool sees it
pts_cgpt() {
	echo "$(cgpt show -i "$2" -P "$1")/$(cgpt show -i "$2" -T "$1")/$(cgpt show -i "$2" -S "$1")"
}
pts_sgdisk() {
	local hex &&
	hex=$(sgdisk -i "$2" "$1" | sed -n 's/^Attribute flags: //p') &&
	local v=$((16#${hex:0:4})) &&
	echo "$((v & 15))/$(((v >> 4) & 15))/$(((v >> 8) & 1))"
}
pts_flatctl() {
	flatctl --disk "$1" --json partition show 2>/dev/null |
		jq -r --argjson n "$2" '.partitions[] | select(.number == $n) |
			"\(.priority)/\(.tries)/\(if .successful then 1 else 0 end)"'
}
# state IMG: "A-pts B-pts" after checking that cgpt, sgdisk and flatctl agree on both
state() {
	local out='' n c s f fl &&
	fl=$(flatctl --disk "$1" --json partition show 2>/dev/null | jq -r '.partitions[] |
		"\(.number) \(.priority)/\(.tries)/\(if .successful then 1 else 0 end)"') || return 1
	for n in 3 4; do
		c=$(pts_cgpt "$1" $n) && s=$(pts_sgdisk "$1" $n) || return 1
		f=$(echo "$fl" | sed -n "s/^$n //p") &&
		if [ "$c" != "$s" ] || [ "$c" != "$f" ]; then
			echo "partition $n: cgpt $c, sgdisk $s, flatctl $f" >&2
			return 1
		fi &&
		out="$out${out:+ }$c"
	done &&
	echo "$out"
}
# expect_state IMG "1/0/1 2/1/0"
expect_state() {
	local got &&
	got=$(state "$1") || return 1
	if [ "$got" != "$2" ]; then
		echo "expected '$2', got '$got'" >&2
		return 1
	fi
}
# sgdisk_clean IMG: sgdisk -v finds no problem
sgdisk_clean() {
	local out &&
	out=$(sgdisk -v "$1" 2>&1) &&
	if ! echo "$out" | grep -q '^No problems found'; then
		echo "$out" >&2
		return 1
	fi
}
# as_kernel IMG CMD...: run a Debian cgpt command that acts on ChromeOS kernel entries only
# (partitions.md §12) with USR-A/USR-B temporarily of that type.
as_kernel() {
	local img=$1 && shift &&
	cgpt add -i 3 -t kernel "$img" && cgpt add -i 4 -t kernel "$img" && "$@" &&
		cgpt add -i 3 -t "$USR_TYPE" "$img" && cgpt add -i 4 -t "$USR_TYPE" "$img"
}
# ends IMG SECTORS: the GPT sectors of an image (first 34, last 33)
ends() {
	dd if="$1" bs=512 count=34 status=none &&
	dd if="$1" bs=512 skip=$(($(stat -c %s "$1") / 512 - 33)) status=none
}
# same A B: byte-identical files (like cmp), reading only the allocated parts of sparse images;
# a hole reads as zeros, so any range holding data in either file is compared.
same() {
	/usr/bin/python3 - "$1" "$2" <<'PY'
import os, sys
a, b = sys.argv[1], sys.argv[2]
fa, fb = os.open(a, os.O_RDONLY), os.open(b, os.O_RDONLY)
size = os.fstat(fa).st_size
if size != os.fstat(fb).st_size:
    sys.exit(f"{a} and {b} differ in size")
def extents(fd):
    out, pos = [], 0
    while pos < size:
        try:
            d = os.lseek(fd, pos, os.SEEK_DATA)
        except OSError:
            break
        h = os.lseek(fd, d, os.SEEK_HOLE)
        out.append((d, h)); pos = h
    return out
for start, end in extents(fa) + extents(fb):
    pos = start
    while pos < end:
        n = min(1 << 20, end - pos)
        if os.pread(fa, n, pos) != os.pread(fb, n, pos):
            sys.exit(f"{a} {b} differ in bytes {pos}-{pos + n}")
        pos += n
PY
}

# crash_case DISK BASE K S OLD NEW: run a rollback on a copy of BASE (DISK: an image file, or a
# loop device over it) that stops after K region writes and S sectors of the next (§7.4), then
# prove §7.4's four properties. Expects OLD for a cut before the primary is touched, else NEW.
crash_case() {
	local disk=$1 base=$2 k=$3 s=$4 old=$5 new=$6 img=$2.work want got &&
	cp --sparse=always "$base" "$img" &&
	if [ "$disk" != "$base" ]; then
		# the loop device sits over the work file; refresh it in place
		dd if="$img" of="$disk" bs=1M conv=sparse,fsync status=none 2>/dev/null ||
			dd if="$img" of="$disk" bs=1M status=none
	else
		disk=$img
	fi &&
	FLATCTL_TEST_CRASH_AFTER=$k:$s test_exit 99 flatctl --disk "$disk" rollback >/dev/null 2>&1 || return 1
	if [ "$k" -lt 2 ] || { [ "$k" = 2 ] && [ "$s" = 0 ]; }; then want=$old; else want=$new; fi &&
	# 1. cgpt show exits 0; 2. sgdisk -p exits 0 and lists all seven partitions
	cgpt show "$disk" >/dev/null 2>&1 || { echo "cgpt show failed (K=$k S=$s)" >&2; return 1; }
	[ "$(sgdisk -p "$disk" 2>/dev/null | grep -c '^ *[0-9]')" = 7 ] ||
		{ echo "sgdisk -p does not list 7 partitions (K=$k S=$s)" >&2; return 1; }
	# 1.-3. cgpt, sgdisk and flatctl agree, on the old or the new values as §7.2 says
	got=$(state "$disk") || { echo "tools disagree (K=$k S=$s)" >&2; return 1; }
	[ "$got" = "$want" ] || { echo "K=$k S=$s: got '$got', expected '$want'" >&2; return 1; }
	# 4. repair: sgdisk -v clean, both copies valid and equal, same values
	flatctl --disk "$disk" partition repair >/dev/null || { echo "repair failed (K=$k S=$s)" >&2; return 1; }
	sgdisk_clean "$disk" || return 1
	flatctl --disk "$disk" --json partition show 2>"$T/.warn" |
		jq -e '.gpt.primary == "ok" and .gpt.backup == "ok"' >/dev/null ||
		{ echo "copies not ok after repair (K=$k S=$s)" >&2; return 1; }
	[ ! -s "$T/.warn" ] || { cat "$T/.warn" >&2; return 1; }
	got=$(state "$disk") || return 1
	[ "$got" = "$want" ] || { echo "K=$k S=$s after repair: got '$got', expected '$want'" >&2; return 1; }
}
