#!/bin/bash
# t0601-cgpt-show: `cgpt show` through the cgpt link against Debian's cgpt on the same images
# (docs/partitions.md 9.1), usage and unsupported commands (9, cli.md).
. "$(dirname "$0")/lib.sh"

. "$(dirname "$0")/cgpt-lib.sh"
# Rows 9.1 does not ask to be byte-equal: Type:, Attr: and the LBA 0 row.
filter() { sed -E -e '/^ {34}(Type|Attr): /d' -e '/^ {11}0 {11}1 {10}/d' "$1"; }
filter_attr() { sed -E -e '/^ {34}Attr: /d' -e '/^ {11}0 {11}1 {10}/d' "$1"; }

"$MKDISK" -q --layout compact "$T/fresh.img"
"$MKDISK" -q --layout compact --state updated "$T/updated.img"
"$MKDISK" -q --layout compact --state booted-b --hybrid-mbr "$T/hybrid.img"
"$MKDISK" -q --layout compact --state updated-a --grow-root "$T/grown.img"
"$MKDISK" -q --layout flatcar --state fell-back "$T/flatcar.img"
IMAGES="fresh updated hybrid grown flatcar"

test_expect 'full listing equals Debian cgpt (but Type/Attr/LBA 0 rows)' '
	for i in $IMAGES; do
		$DEB show "$T/$i.img" >"$T/deb" 2>"$T/deb.err" &&
		ours show "$T/$i.img" >"$T/our" 2>"$T/our.err" &&
		filter "$T/deb" >"$T/deb.f" && filter "$T/our" >"$T/our.f" &&
		test_cmp "$T/deb.f" "$T/our.f" &&
		test ! -s "$T/our.err" || return 1
	done
'

test_expect 'full listing shows Flatcar type names and USR attributes' '
	ours show "$T/updated.img" >"$T/our" &&
	grep -A3 "Label: \"USR-A\"" "$T/our" >"$T/a" &&
	test_grep "^ \{34\}Type: Alias for coreos-rootfs$" "$T/a" &&
	test_grep "^ \{34\}Attr: priority=1 tries=0 successful=1$" "$T/a" &&
	grep -A3 "Label: \"USR-B\"" "$T/our" >"$T/b" &&
	test_grep "^ \{34\}Attr: priority=2 tries=1 successful=0$" "$T/b" &&
	test_grep "^ \{34\}Type: EFI System Partition$" "$T/our" &&
	test_grep "^ \{34\}Type: BIOS Boot Partition$" "$T/our" &&
	test_grep "^ \{34\}Type: CoreOS auto-resize$" "$T/our" &&
	test_grep "^ \{34\}Type: CoreOS reserved$" "$T/our" &&
	test_grep "^ \{11\}0 \{11\}1 \{10\}Protective MBR$" "$T/our"
'

test_expect 'hybrid MBR and legacy BIOS bootable bit are shown' '
	ours show "$T/hybrid.img" >"$T/our" &&
	test_grep "^ \{11\}0 \{11\}1 \{10\}Hybrid MBR$" "$T/our" &&
	grep -A3 "Label: \"EFI-SYSTEM\"" "$T/our" >"$T/e" &&
	test_grep "^ \{34\}Attr: Legacy BIOS Bootable$" "$T/e"
'

test_expect '-n listing equals Debian cgpt (but Attr/LBA 0 rows); Attr is the whole word' '
	for i in $IMAGES; do
		$DEB show -n "$T/$i.img" >"$T/deb" &&
		ours show -n "$T/$i.img" >"$T/our" &&
		filter_attr "$T/deb" >"$T/deb.f" && filter_attr "$T/our" >"$T/our.f" &&
		test_cmp "$T/deb.f" "$T/our.f" || return 1
	done &&
	ours show -n "$T/fresh.img" >"$T/our" &&
	grep -A3 "Label: \"USR-A\"" "$T/our" >"$T/a" &&
	test_grep "^ \{34\}Attr: 0x0101000000000000$" "$T/a"
'

test_expect '-q -n and -n -q are byte-identical to Debian cgpt' '
	for i in $IMAGES; do
		$DEB show -q -n "$T/$i.img" >"$T/deb" &&
		ours show -q -n "$T/$i.img" >"$T/our" &&
		test_cmp "$T/deb" "$T/our" &&
		ours show -n -q "$T/$i.img" >"$T/our" &&
		test_cmp "$T/deb" "$T/our" || return 1
	done
'

test_expect '-q: same rows as Debian cgpt, Flatcar type names' '
	for i in $IMAGES; do
		$DEB show -q "$T/$i.img" | cut -c1-34 >"$T/deb" &&
		ours show -q "$T/$i.img" >"$T/our.full" &&
		cut -c1-34 "$T/our.full" >"$T/our" &&
		test_cmp "$T/deb" "$T/our" || return 1
	done &&
	test_grep "^ *2105344 *4194304 *3  Alias for coreos-rootfs$" "$T/our.full"
'

test_expect '-i N with -b -s -t -u -l -S -T -P -R -B equals Debian cgpt, every slot' '
	for i in $IMAGES; do
		for n in 1 2 3 4 5 6 7 8 9 128; do
			for f in b s t u l S T P R B; do
				$DEB show -i $n -$f "$T/$i.img" >"$T/deb" &&
				ours show -i $n -$f "$T/$i.img" >"$T/our" &&
				test_cmp "$T/deb" "$T/our" || return 1
			done || return 1
		done || return 1
	done
'

test_expect '-i N -A prints the whole 64-bit word (Debian: bits 48-63)' '
	for i in $IMAGES; do
		for n in 1 2 3 4 5 9; do
			d=$($DEB show -i $n -A "$T/$i.img") &&
			o=$(ours show -i $n -A "$T/$i.img") &&
			test "$o" = "$(printf "0x%x" $((o)))" &&
			test $((o >> 48)) = $((d)) || return 1
		done || return 1
	done &&
	test "$(ours show -i 4 -A "$T/updated.img")" = 0x12000000000000 &&
	test "$(ours show -i 1 -A "$T/hybrid.img")" = 0x4
'

test_expect '-i N listing equals Debian cgpt (but Type/Attr rows)' '
	for n in 1 3 4 5 9; do
		$DEB show -i $n "$T/hybrid.img" >"$T/deb" &&
		ours show -i $n "$T/hybrid.img" >"$T/our" &&
		filter "$T/deb" >"$T/deb.f" && filter "$T/our" >"$T/our.f" &&
		test_cmp "$T/deb.f" "$T/our.f" &&
		$DEB show -n -i $n "$T/hybrid.img" >"$T/deb" &&
		ours show -n -i $n "$T/hybrid.img" >"$T/our" &&
		filter_attr "$T/deb" >"$T/deb.f" && filter_attr "$T/our" >"$T/our.f" &&
		test_cmp "$T/deb.f" "$T/our.f" || return 1
	done
'

test_expect '-i beyond the table fails like Debian cgpt' '
	test_exit 1 $DEB show -i 129 -P "$T/fresh.img" 2>/dev/null &&
	test_exit 1 ours show -i 129 -P "$T/fresh.img" 2>"$T/e" &&
	test_grep "^cgpt show: " "$T/e"
'

test_expect '-d equals Debian cgpt (but Type/Attr/LBA 0 rows); -v shows both headers' '
	for i in fresh grown; do
		$DEB show -d "$T/$i.img" >"$T/deb" &&
		ours show -d "$T/$i.img" >"$T/our" &&
		filter "$T/deb" >"$T/deb.f" && filter "$T/our" >"$T/our.f" &&
		test_cmp "$T/deb.f" "$T/our.f" || return 1
	done &&
	ours show -v "$T/fresh.img" >"$T/our" &&
	test_grep "^ \{34\}My LBA: 1$" "$T/our" &&
	test_grep "^ \{34\}My LBA: 262143$" "$T/our" &&
	test_grep "^    Drive Size (blocks): 262144$" "$T/our" &&
	test "$(grep -c "Sig: \[EFI PART\]" "$T/our")" = 2
'

test_expect '4096-byte image file: same rows as Debian cgpt on a 4096-byte loop device' '
	{ [ "$(id -u)" = 0 ] || { echo "4096-byte loop devices need root (tests run as root)"; false; }; } &&
	"$MKDISK" -q --layout compact --sector-size 4096 --state updated "$T/4k.img" &&
	dev=$(losetup --find --show --sector-size 4096 --read-only "$T/4k.img") &&
	cleanup_loop "$dev" &&
	$DEB show "$dev" >"$T/deb" &&
	ours show "$T/4k.img" >"$T/our" &&
	filter "$T/deb" >"$T/deb.f" && filter "$T/our" >"$T/our.f" &&
	test_cmp "$T/deb.f" "$T/our.f" &&
	test_grep "^ \{11\}2 \{11\}4 \{10\}Pri GPT table$" "$T/our" &&
	$DEB show -q -n "$dev" >"$T/deb" &&
	ours show -q -n "$T/4k.img" >"$T/our" &&
	test_cmp "$T/deb" "$T/our" &&
	for f in b s P T S; do
		test "$($DEB show -i 4 -$f "$dev")" = "$(ours show -i 4 -$f "$T/4k.img")" || return 1
	done &&
	test "$($DEB find -n -l USR-B "$dev")" = "$(ours find -n -l USR-B "$T/4k.img")"
'

# Damage one copy at a time; Debian and we must agree on every compared row.
damage() { # image offset
	printf "\377" | dd of="$1" bs=1 seek="$2" conv=notrunc status=none
}
test_expect 'damaged copies: INVALID rows (also -d) like Debian cgpt, one warning, exit 0' '
	last=$((262144 - 1)) &&
	for what in prihdr:$((512 + 16)) pritab:$((2 * 512 + 200)) sechdr:$((last * 512 + 16)) \
		    sectab:$(((last - 32) * 512 + 200)) prisig:512 secsig:$((last * 512)); do
		cp "$T/fresh.img" "$T/d.img" &&
		damage "$T/d.img" ${what#*:} &&
		$DEB show "$T/d.img" >"$T/deb" 2>/dev/null &&
		test_exit 0 ours show "$T/d.img" >"$T/our" 2>"$T/our.err" &&
		filter "$T/deb" >"$T/deb.f" && filter "$T/our" >"$T/our.f" &&
		test_cmp "$T/deb.f" "$T/our.f" &&
		test_grep INVALID "$T/our" &&
		test "$(wc -l <"$T/our.err")" = 1 &&
		test_grep "^cgpt show: warning: .*run .cgpt repair.$" "$T/our.err" &&
		$DEB show -q -n "$T/d.img" >"$T/deb" 2>/dev/null &&
		ours show -q -n "$T/d.img" >"$T/our" 2>/dev/null &&
		test_cmp "$T/deb" "$T/our" &&
		test "$(ours show -i 3 -P "$T/d.img" 2>/dev/null)" = 1 &&
		$DEB show -d "$T/d.img" >"$T/deb" 2>/dev/null &&
		ours show -d "$T/d.img" >"$T/our" 2>/dev/null &&
		filter "$T/deb" >"$T/deb.f" && filter "$T/our" >"$T/our.f" &&
		test_cmp "$T/deb.f" "$T/our.f" || return 1
	done
'

test_expect 'no GPT: exit 1 with one message' '
	truncate -s 1M "$T/zero.img" &&
	test_exit 1 ours show "$T/zero.img" >"$T/our" 2>"$T/e" &&
	test ! -s "$T/our" &&
	test_grep "^cgpt show: .*zero.img.*no GPT found" "$T/e" &&
	test_exit 1 ours show "$T/missing.img" 2>"$T/e" &&
	test_grep "^cgpt show: .*missing.img" "$T/e"
'

test_expect 'show: missing drive and bad options exit 1' '
	test_exit 1 ours show 2>"$T/e" &&
	test_grep "^cgpt show: missing drive argument" "$T/e" &&
	test_exit 1 ours show -x "$T/fresh.img" 2>"$T/e" &&
	test_grep "^cgpt show: " "$T/e" &&
	test_exit 1 ours show -i abc "$T/fresh.img" 2>"$T/e" &&
	test_exit 1 ours show "$T/fresh.img" "$T/fresh.img" 2>"$T/e"
'

test_expect 'cgpt alone prints usage and exits 1; --help and -h exit 0' '
	test_exit 1 ours >"$T/u" &&
	test_grep "^Usage: cgpt COMMAND \[OPTIONS\] DRIVE" "$T/u" &&
	for c in show add prioritize find repair resize create boot; do test_grep "^    $c " "$T/u" || return 1; done &&
	! grep -q "^    legacy" "$T/u" &&
	ours --help >"$T/u" &&
	test_grep "^Usage: cgpt COMMAND" "$T/u" &&
	ours -h >"$T/u" &&
	test_grep "^Usage: cgpt COMMAND" "$T/u" &&
	ours show -h >"$T/u" &&
	test_grep "^Usage: cgpt show \[OPTIONS\] DRIVE" "$T/u"
'

test_expect 'unsupported cgpt commands exit 1 and change nothing' '
	cp "$T/fresh.img" "$T/u.img" &&
	for c in legacy edit next; do
		test_exit 1 ours $c "$T/u.img" 2>"$T/e" &&
		test "$(cat "$T/e")" = "cgpt: '"'"'$c'"'"' is not supported by flatctl" || return 1
	done &&
	cmp "$T/fresh.img" "$T/u.img" &&
	test_exit 1 ours bogus 2>"$T/e" &&
	test_grep "^cgpt: " "$T/e"
'

test_done
