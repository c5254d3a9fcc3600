#!/bin/bash
# t0820-fault-injection: every applet that writes, with its K-th write, fsync, rename or
# allocation failed (docs/testing.md, "Fault injection"): exit 1, and the state afterwards is
# the one before or the one after the operation, never a third. Runs the fault build
# (build/fault/flatctl, `make fault`), whatever FLATCTL points at. Under check-arm64 it is the
# static fault build under qemu-user (FLATCTL_FAULT_BIN, a wrapper; FLATCTL_FAULT_ELF, the ELF).
. "$(dirname "$0")/lib.sh"
. "$FLATCTL_SRC/tests/e2e/lib-provision.sh"

FAULT=${FLATCTL_FAULT_BIN:-${FLATCTL_BUILD:-$FLATCTL_SRC/build}/fault/flatctl}
FAULT_ELF=${FLATCTL_FAULT_ELF:-$FAULT}
[ -x "$FAULT" ] || { echo "Bail out! no fault build at $FAULT: run make fault"; exit 1; }
for tool in cgpt openssl; do
	command -v "$tool" >/dev/null || { echo "Bail out! $tool not installed: run make deps"; exit 1; }
done
unset FLATCTL_FAULT FLATCTL_FAULT_COUNT
fault() { "$FAULT" "$@"; }
# a sanitized fault build (make asan) reports with its own exit codes, never the 1 expected here
export ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}exitcode=86
export UBSAN_OPTIONS=${UBSAN_OPTIONS:+$UBSAN_OPTIONS:}exitcode=87

# ksample N: the K to try of N calls: all of them up to 16; else the first 6, the last 6 and 4
# spread evenly in between (the first and the last always).
ksample() {
	local n=$1 i &&
	if [ "$n" -le 16 ]; then
		seq 1 "$n"
	else
		{ seq 1 6 && for i in 1 2 3 4; do echo $((6 + i * (n - 12) / 5)) || return 1; done &&
			seq $((n - 5)) "$n"; } | sort -nu
	fi
}

# errno_for OP K: ENOMEM for allocations, EIO for fsync; writes and renames alternate ENOSPC, EIO
errno_for() {
	case $1 in
	alloc) echo ENOMEM ;;
	fsync) echo EIO ;;
	*) if [ $(($2 % 2)) = 0 ]; then echo EIO; else echo ENOSPC; fi ;;
	esac
}

# state NAME: old, new or third (NAME_classify when defined, else the snapshot against before/after)
state_of() {
	local n=$1 &&
	if type "${n}_classify" >/dev/null 2>&1; then
		"${n}_classify"
	else
		{ "${n}_snap" >"$T/$n.now" || :; } &&
		if cmp -s "$T/$n.now" "$T/$n.before"; then echo old
		elif cmp -s "$T/$n.now" "$T/$n.after"; then echo new
		else echo third; fi
	fi
}

# one NAME OP K: one run with the K-th call of OP failed; a line in $T/NAME.bad when the outcome
# is not allowed: exit 1 and the state before or after; or, for a write or an allocation that a
# fallback absorbed, exit 0 and the state after (listed in the output). Never for an fsync or a
# rename: the state cannot show that an ignored one did no harm.
one() {
	local n=$1 op=$2 k=$3 e rc=0 st &&
	e=$(errno_for "$op" "$k") &&
	"${n}_setup" &&
	{ FLATCTL_FAULT=$op:$k:$e "${n}_run" >/dev/null 2>"$T/$n.err" || rc=$?; } &&
	st=$(state_of "$n") &&
	case $rc/$st/$op in
	1/old*/* | 1/new/*) ;;
	0/new/alloc | 0/new/write) echo "$n $op:$k: exit 0, state new: a fallback took over" >>"$T/notes" ;;
	*) echo "$n $op:$k:$e: exit $rc, state $st: $(tr '\n' ' ' <"$T/$n.err")" >>"$T/$n.bad" &&
		{ [ "$st" != third ] || diff "$T/$n.after" "$T/$n.now" >>"$T/$n.bad" || :; } ;;
	esac
}

# sweep NAME: NAME_setup makes the state before (fresh each time), NAME_run runs the operation
# with the fault build, NAME_snap prints the state. The run without a fault counts the calls
# (FLATCTL_FAULT_COUNT) and gives the state after; then `one` for every sampled K of every class.
# The counts, the K tried and the fallbacks go to $T/notes, shown as TAP comments at the end.
sweep() {
	local n=$1 op k total tried=0 &&
	: >"$T/$n.bad" &&
	"${n}_setup" && "${n}_snap" >"$T/$n.before" &&
	{ FLATCTL_FAULT_COUNT=$T/$n.count "${n}_run" >/dev/null 2>"$T/$n.err" ||
		{ echo "$n: the run without a fault failed" && cat "$T/$n.err" && return 1; }; } &&
	"${n}_snap" >"$T/$n.after" &&
	{ ! cmp -s "$T/$n.before" "$T/$n.after" || { echo "$n: the operation changed nothing" && return 1; }; } &&
	for op in write fsync rename alloc; do
		total=$(awk -v o=$op '$1 == o { print $2 }' "$T/$n.count") &&
		echo "$n: $op $total calls, K tried: $(ksample "$total" | tr '\n' ' ')" >>"$T/notes" &&
		for k in $(ksample "$total"); do
			one "$n" "$op" "$k" && tried=$((tried + 1)) || return 1
		done || return 1
	done &&
	echo "$n: $tried faulted runs" >>"$T/notes" &&
	{ [ ! -s "$T/$n.bad" ] || { sed 's/^/# /' "$T/$n.bad" && return 1; }; }
}

test_expect 'the fault build has the hook; the binary under test has none' '
	nm "$FAULT_ELF" | grep -q " T __wrap_fsync$" &&
	{ [ ! -e "${FLATCTL_BUILD:-/nonexistent}/flatctl" ] ||
		! nm "$FLATCTL_BUILD/flatctl" 2>/dev/null | grep -q " T __wrap_"; } &&
	test_exit 2 env FLATCTL_FAULT=fsync:0:EIO "$FAULT" --version 2>"$T/err" &&
	test_grep "FLATCTL_FAULT: expected OP:K:ERRNO" "$T/err" &&
	test_exit 2 env FLATCTL_FAULT=sync:1:EIO "$FAULT" --version 2>/dev/null &&
	test_exit 2 env FLATCTL_FAULT=write:1:EPERM "$FAULT" --version 2>/dev/null
'

# --- GPT: the table as cgpt reads it is the old or the new one (docs/partitions.md §7.2) -------
"$MKDISK" -q --layout compact --state booted-b "$T/booted-b.img"
"$MKDISK" -q --layout compact --state fresh "$T/fresh.img"
mkdir "$T/bin" && ln -s "$FAULT" "$T/bin/cgpt"
# the table as the real cgpt reads it: partitions, labels, types, GUIDs and attribute words. Not
# the header and array lines: a cut write leaves one copy INVALID, and the other one complete is
# what everyone reads (docs/partitions.md §7.2); `partition repair` restores the damaged copy.
gpt_snap() {
	{ cgpt show "$T/d.img" 2>/dev/null || :; } | { grep -v "GPT \(header\|table\)$" || :; } &&
	echo "attrs $(cgpt show -i 3 -A "$T/d.img" 2>/dev/null) $(cgpt show -i 4 -A "$T/d.img" 2>/dev/null)"
}

rollback_setup() { cp --sparse=always "$T/booted-b.img" "$T/d.img"; }
rollback_run() { fault --disk "$T/d.img" rollback; }
rollback_snap() { gpt_snap; }
test_expect 'partition: rollback' 'sweep rollback'

prio_setup() { cp --sparse=always "$T/fresh.img" "$T/d.img"; }
prio_run() { fault --disk "$T/d.img" partition prioritize USR-B; }
prio_snap() { gpt_snap; }
test_expect 'partition: prioritize' 'sweep prio'

marks_setup() { cp --sparse=always "$T/fresh.img" "$T/d.img"; }
marks_run() { fault --disk "$T/d.img" partition mark-successful USR-B --force; }
marks_snap() { gpt_snap; }
test_expect 'partition: mark-successful' 'sweep marks'

cgptadd_setup() { cp --sparse=always "$T/fresh.img" "$T/d.img"; }
cgptadd_run() { "$T/bin/cgpt" add -i 4 -P 5 -T 3 -l NEW-B "$T/d.img"; }
cgptadd_snap() { gpt_snap; }
test_expect 'cgpt add' 'sweep cgptadd'

cgptcreate_setup() { rm -f "$T/d.img" && truncate -s 64M "$T/d.img"; }
cgptcreate_run() { "$T/bin/cgpt" create "$T/d.img"; }
cgptcreate_snap() { gpt_snap; }
test_expect 'cgpt create' 'sweep cgptcreate'

cgptprio_setup() { cp --sparse=always "$T/fresh.img" "$T/d.img"; }
cgptprio_run() { "$T/bin/cgpt" prioritize -i 4 "$T/d.img"; }
cgptprio_snap() { gpt_snap; }
test_expect 'cgpt prioritize' 'sweep cgptprio'

# repair: here the copies' validity is the state (old: the primary array damaged, new: both
# copies valid), so the header and array lines of cgpt show stay in
cp --sparse=always "$T/booted-b.img" "$T/damaged.img"
printf "\377" | dd of="$T/damaged.img" bs=1 seek=600 conv=notrunc status=none
repair_setup() { cp --sparse=always "$T/damaged.img" "$T/d.img"; }
repair_run() { fault --disk "$T/d.img" partition repair; }
repair_snap() { cgpt show "$T/d.img" 2>/dev/null || :; }
test_expect 'partition repair' 'sweep repair'

# --- update: apply --payload installs to the spare partition (docs/update.md 7.3) --------------
# old: the GPT as before (USR-A next), no reboot marker, state.json not claiming an update (the
# failure recorded when it could be); new: B next, the marker, UPDATED_NEED_REBOOT. USR-A (the
# booted partition) is never written. USR-B and its kernel are spare either way: not compared.
. "$FLATCTL_SRC/tests/e2e/lib-update.sh"
setup_update
make_payload "$T/p.gz" $((256 * 1024)) 4096
cp --sparse=always "$D" "$T/disk0.img"
A0=$(part_sum 3)
# the status recorded: none (no state.json), else status and error code
upd_status() {
	if [ -e "$S" ]; then json_get "$S" "d[\"status\"], (d.get(\"last_error\") or {}).get(\"code\")"
	else echo none; fi
}
upd_snap() {
	cp --sparse=always "$D" "$T/d.img" && gpt_snap &&
	echo "usr-a $(part_sum 3 1048576 2>/dev/null)" &&
	echo "marker $(test -e "$R/run/reboot-required" && echo yes)" &&
	echo "status $(upd_status | cut -d" " -f1)"
}
upd_classify() {
	{ upd_snap >"$T/upd.now" || :; } &&
	if cmp -s "$T/upd.now" "$T/upd.after"; then echo new
	elif [ "$(sed '/^status /d' "$T/upd.now")" = "$(sed '/^status /d' "$T/upd.before")" ] &&
		! grep -q "^status UPDATE_STATUS_UPDATED_NEED_REBOOT" "$T/upd.now"; then echo "old($(upd_status))"
	else echo "third($(upd_status))"; fi
}
upd_setup() { cp --sparse=always "$T/disk0.img" "$D" && rm -rf "${R:?}/var" "${R:?}/run" "${R:?}/boot"; }
upd_run() { fault --root "$R" --disk "$D" update apply --payload "$T/p.gz" --version 4081.2.0; }
test_expect 'update apply --payload' 'sweep upd'

# --- update reset: the staged update thrown away (docs/update.md 2.4) ---------------------------
upd_setup && flatctl --root "$R" --disk "$D" update apply --payload "$T/p.gz" --version 4081.2.0 >/dev/null
cp --sparse=always "$D" "$T/disk1.img" && tar -C "$R" -cf "$T/root1.tar" var run boot
reset_setup() {
	cp --sparse=always "$T/disk1.img" "$D" && rm -rf "${R:?}/var" "${R:?}/run" "${R:?}/boot" &&
	tar -C "$R" -xf "$T/root1.tar"
}
reset_snap() { upd_snap; }
reset_run() { fault --root "$R" --disk "$D" update reset; }
test_expect 'update reset' 'sweep reset'

# --- lock, file backend: the semaphore file holds the old value or the new one ---------------
mkdir -p "$T/lk/etc" && echo 4b1d0c63f4d54e7d9cb0b3c7e0d3a9e1 >"$T/lk/etc/machine-id"
flatctl --root "$T/lk" lock set-max 2 >/dev/null && cp "$T/lk/var/lib/flatctl/rebootlock/semaphore" "$T/sem0"
lock_setup() { cp "$T/sem0" "$T/lk/var/lib/flatctl/rebootlock/semaphore"; }
lock_snap() { ls -A "$T/lk/var/lib/flatctl/rebootlock" && cat "$T/lk/var/lib/flatctl/rebootlock/semaphore"; }
lock_run() { fault --root "$T/lk" lock lock; }
test_expect 'lock lock (file backend)' 'sweep lock'
setmax_setup() { lock_setup; }
setmax_snap() { lock_snap; }
setmax_run() { fault --root "$T/lk" lock set-max 3; }
test_expect 'lock set-max (file backend)' 'sweep setmax'
unlock_setup() { lock_setup && flatctl --root "$T/lk" lock lock >/dev/null; }
unlock_snap() { lock_snap; }
unlock_run() { fault --root "$T/lk" lock unlock; }
test_expect 'lock unlock (file backend)' 'sweep unlock'

# --- provision: files, directories, a link and a replaced file under --root --------------------
# (docs/provision.md: the tree is the old one or the new one, the journal rolls back)
V='"ignition":{"version":"3.4.0"}'
cfg prov "{$V,\"storage\":{\"directories\":[{\"path\":\"/etc/d1/d2\",\"mode\":448}],\"files\":[{\"path\":\"/etc/a/hello\",\"mode\":384,\"contents\":{\"source\":\"data:,hi%0A\"}},{\"path\":\"/etc/motd\",\"overwrite\":true,\"contents\":{\"source\":\"data:,new%0A\"}}],\"links\":[{\"path\":\"/etc/l\",\"target\":\"/etc/motd\"}]}}"
prov_setup() { rm -rf "$T/pr" && mkroot "$T/pr" && echo old >"$T/pr/etc/motd"; }
# the tree, and the result file without its provisioningDate and flatctl.durationMs (a run at
# another time or speed than the fault-free one writes others, and is still the state after)
prov_snap() {
	local f=$T/pr/etc/.ignition-result.json &&
	tree "$T/pr" --exclude .ignition-result.json &&
	if [ -e "$f" ]; then
		stat -c "%f %u:%g" "$f" && jq -cS "del(.provisioningDate, .flatctl.durationMs)" "$f"
	else
		echo "no result file"
	fi
}
prov_run() { fault --root "$T/pr" provision --config "$T/prov.ign"; }
test_expect 'provision --root: files, directories, links' 'sweep prov'
# what was counted and tried, and the fallbacks (docs/testing.md §5)
[ ! -s "$T/notes" ] || sed 's/^/# /' "$T/notes"
test_done
