#!/bin/bash
# t0603-cgpt-prioritize: `cgpt prioritize` through the cgpt link against Debian's cgpt
# (docs/partitions.md 4, 9.3). Debian's cgpt only reorders ChromeOS kernel partitions, so its side
# turns the USR entries into kernel entries, prioritizes, and turns them back (12); the images
# must then be byte-identical.
. "$(dirname "$0")/lib.sh"

. "$(dirname "$0")/cgpt-lib.sh"

# usr_slots IMAGE: the slots of USR type
usr_slots() { $DEB find -n -t $USR "$1"; }

# deb_prioritize IMAGE ARGS...: Debian's cgpt, with the USR entries as kernel entries meanwhile
deb_prioritize() {
	img=$1 && shift &&
	slots=$(usr_slots "$img") &&
	for n in $slots; do $DEB add -i "$n" -t kernel "$img" || return 1; done &&
	$DEB prioritize "$@" "$img" &&
	for n in $slots; do $DEB add -i "$n" -t $USR "$img" || return 1; done
}

# same IMAGE ARGS...: both tools on copies of IMAGE give the same bytes
same() {
	img=$1 && shift &&
	cp "$img" "$T/deb.img" &&
	cp "$img" "$T/our.img" &&
	deb_prioritize "$T/deb.img" "$@" &&
	ours prioritize "$@" "$T/our.img" &&
	cmp "$T/deb.img" "$T/our.img" &&
	sgdisk_ok "$T/our.img"
}

prio() { for n in $(usr_slots "$1"); do printf "%s " "$($DEB show -i "$n" -P "$1")" || return 1; done; }

for s in fresh updated trying-b booted-b fell-back updated-a; do
	"$MKDISK" -q --layout compact --state $s "$T/$s.img"
done
"$MKDISK" -q --layout compact --usr-a 5:0:1 --usr-b 3:2:0 "$T/5-3.img"
"$MKDISK" -q --layout compact --usr-a 7:0:1 --usr-b 7:0:0 "$T/tie.img"
"$MKDISK" -q --layout compact --usr-a 15:0:1 --usr-b 15:1:0 "$T/max.img"
# Four USR partitions (slots 3, 4, 5, 8) for grouping, -P and -f.
"$MKDISK" -q --layout compact --usr-a 4:0:1 --usr-b 2:1:0 "$T/four.img"
sgdisk -n 5:253952:+1M -t 5:$USR -c 5:USR-C -A 5:=:0004000000000000 \
	-n 8:256000:+1M -t 8:$USR -c 8:USR-D -A 8:=:0002000000000000 "$T/four.img" >/dev/null 2>&1
STATES="fresh updated trying-b booted-b fell-back updated-a 5-3 tie max four"

test_expect 'prioritize -i N equals Debian cgpt in every state' '
	for s in $STATES; do
		for n in $(usr_slots "$T/$s.img"); do
			same "$T/$s.img" -i "$n" || return 1
		done || return 1
	done
'

test_expect 'prioritize without -i equals Debian cgpt' '
	for s in $STATES; do same "$T/$s.img" || return 1; done
'

test_expect 'prioritize -P n equals Debian cgpt' '
	for s in $STATES; do
		for p in 1 2 3 9 15; do
			same "$T/$s.img" -P $p &&
			same "$T/$s.img" -i 4 -P $p || return 1
		done || return 1
	done
'

test_expect 'prioritize -f equals Debian cgpt' '
	for s in tie four 5-3 booted-b; do
		for n in $(usr_slots "$T/$s.img"); do
			same "$T/$s.img" -i "$n" -f &&
			same "$T/$s.img" -i "$n" -f -P 6 || return 1
		done || return 1
	done
'

test_expect 'prioritize: worked examples of spec section 4' '
	cp "$T/fresh.img" "$T/x.img" &&
	ours prioritize -i 4 "$T/x.img" &&
	test "$(prio "$T/x.img")" = "1 2 " &&
	cp "$T/5-3.img" "$T/x.img" &&
	ours prioritize -i 3 "$T/x.img" &&
	test "$(prio "$T/x.img")" = "2 1 " &&
	test "$($DEB show -i 4 -T "$T/x.img")" = 2 &&
	"$MKDISK" -q --layout compact --usr-a 0:0:0 --usr-b 0:0:1 --force "$T/x.img" &&
	ours prioritize -i 4 "$T/x.img" &&
	test "$(prio "$T/x.img")" = "0 1 "
'

test_expect 'prioritize refuses a partition that is not of the USR type, unchanged' '
	cp "$T/fresh.img" "$T/x.img" &&
	test_exit 1 ours prioritize -i 9 "$T/x.img" 2>"$T/e" &&
	test_grep "^cgpt prioritize: " "$T/e" &&
	test_exit 1 ours prioritize -i 5 "$T/x.img" 2>"$T/e" &&
	test_exit 1 ours prioritize -i 200 "$T/x.img" 2>"$T/e" &&
	cmp "$T/fresh.img" "$T/x.img"
'

test_expect 'prioritize refuses bad -P and options, unchanged' '
	cp "$T/fresh.img" "$T/x.img" &&
	for p in 0 16 abc -1; do
		test_exit 1 ours prioritize -P "$p" "$T/x.img" 2>"$T/e" &&
		test_grep "^cgpt prioritize: " "$T/e" || return 1
	done &&
	test_exit 1 ours prioritize -f "$T/x.img" 2>"$T/e" &&
	test_exit 1 ours prioritize -x "$T/x.img" 2>"$T/e" &&
	test_exit 1 ours prioritize 2>"$T/e" &&
	cmp "$T/fresh.img" "$T/x.img"
'

test_expect 'prioritize on damaged copies repairs them (Debian: repair first)' '
	for off in $((512 + 16)) $((2 * 512 + 300)) $((262143 * 512 + 16)); do
		cp "$T/updated.img" "$T/d.img" &&
		printf "\377" | dd of="$T/d.img" bs=1 seek=$off conv=notrunc status=none &&
		$DEB repair "$T/d.img" >/dev/null 2>&1 &&
		cp "$T/updated.img" "$T/o.img" &&
		printf "\377" | dd of="$T/o.img" bs=1 seek=$off conv=notrunc status=none &&
		deb_prioritize "$T/d.img" -i 3 &&
		ours prioritize -i 3 "$T/o.img" &&
		cmp "$T/d.img" "$T/o.img" &&
		sgdisk_ok "$T/o.img" || return 1
	done
'

test_done
