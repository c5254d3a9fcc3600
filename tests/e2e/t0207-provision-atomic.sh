#!/bin/bash
# t0207-provision-atomic: all or nothing (docs/provision.md §7). A rich config on a rich root
# (owners, modes, setuid, xattrs, hard links, symlinks, files replaced, appended, re-owned,
# passwd files rewritten, a preset appended): every step of the commit is made to fail in turn,
# and each time the root must be byte-identical to before - content, owner, mode, link count,
# link target, xattrs - and the message must name the entry.
. "$(dirname "$0")/lib.sh"
. "$FLATCTL_SRC/tests/e2e/lib-provision.sh"
. "$FLATCTL_SRC/tests/e2e/lib-provision-rich.sh"

rich_setup

test_expect 'the rich run itself succeeds with many steps' '
	test "${N:-0}" -gt 30 && test_grep "^core:x:500" "$T/good/etc/passwd" &&
	test "$(getfattr_py "$T/good/etc/keep.conf" user.flatctl.test)" = kept
'
test_expect 'a failure at every step of the commit leaves the root byte-identical' '
	k=0 && bad="" &&
	while [ "$k" -lt "$N" ]; do
		rm -rf "$T/w" && cp -a "$T/start" "$T/w" &&
		{ FLATCTL_TEST_FAIL_AFTER=$k prov "$T/w" --config "$T/c.ign" 2>"$T/err.$k"; rc=$?; } &&
		{ [ "$rc" = 1 ] || bad="$bad $k(rc=$rc)"; } &&
		{ same "$T/w" start >"$T/diff.$k" || bad="$bad $k(tree)"; } &&
		{ grep -q "Input/output error" "$T/err.$k" || bad="$bad $k(msg)"; } &&
		{ grep -q "nothing was changed" "$T/err.$k" || bad="$bad $k(msg2)"; } &&
		k=$((k + 1))
	done &&
	echo "failed at $N points, bad:$bad" && test -z "$bad"
'
test_expect 'plan failures (conflict, bad hash, missing owner) come before any change' '
	for c in conflict badhash owner; do
		rm -rf "$T/w" && cp -a "$T/start" "$T/w" && rich_config "$T/c-$c.ign" "$c" &&
		test_exit 1 prov "$T/w" --config "$T/c-$c.ign" 2>"$T/err-$c" &&
		same "$T/w" start || return 1
	done &&
	test_grep "storage.files\[[0-9]*\]: /etc/motd: exists and overwrite is false" "$T/err-conflict" &&
	test_grep "hash mismatch" "$T/err-badhash" &&
	test_grep "user .ghost. is not in the root" "$T/err-owner"
'
test_expect 'no staging directory or journal is left behind either way' '
	! ls -a "$T/good" "$T/w" | grep -q flatctl-stage
'
test_done
