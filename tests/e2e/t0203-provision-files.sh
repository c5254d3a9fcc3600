#!/bin/bash
# t0203-provision-files: the files stage on a plain --root, case by case as Ignition's blackbox
# tests (tests/positive/files, tests/negative/files of coreos/ignition) name them: a config, a
# starting tree, the tree after (docs/provision.md §5.2, docs/provision-apply.md).
. "$(dirname "$0")/lib.sh"
. "$FLATCTL_SRC/tests/e2e/lib-provision.sh"
V='"ignition":{"version":"3.4.0"}'

test_expect 'files.create: contents, mode, default owner; parents 0755 root' '
	mkroot "$T/r1" &&
	cfg c1 "{$V,\"storage\":{\"files\":[{\"path\":\"/etc/a/b/hello\",\"mode\":384,\"contents\":{\"source\":\"data:,hi%0A\"}}]}}" &&
	prov "$T/r1" --config "$T/c1.ign" 2>"$T/err" &&
	test "$(cat "$T/r1/etc/a/b/hello")" = hi &&
	test "$(stat -c %a:%u:%g "$T/r1/etc/a/b/hello")" = 600:0:0 &&
	test "$(stat -c %a:%u:%g "$T/r1/etc/a")" = 755:0:0 &&
	test -f "$T/r1/etc/.ignition-result.json" &&
	test "$(stat -c %a "$T/r1/etc/.ignition-result.json")" = 600 &&
	! ls -a "$T/r1" | grep -q flatctl-stage
'
test_expect 'files.create.compressed: gzip contents, hash over the decompressed bytes' '
	mkroot "$T/r2" &&
	printf "compressed text\n" >"$T/plain" &&
	h=$(sha512sum "$T/plain" | cut -d" " -f1) &&
	cfg c2 "{$V,\"storage\":{\"files\":[{\"path\":\"/etc/z\",\"contents\":{\"compression\":\"gzip\",\"source\":\"data:;base64,$(gzip -c "$T/plain" | base64 -w0)\",\"verification\":{\"hash\":\"sha512-$h\"}}}]}}" &&
	prov "$T/r2" --config "$T/c2.ign" 2>"$T/err" &&
	test_cmp "$T/plain" "$T/r2/etc/z" &&
	test "$(stat -c %a "$T/r2/etc/z")" = 644
'
test_expect 'files.append.existing: appended in place, same inode, mode and owner kept' '
	mkroot "$T/r3" &&
	printf "one\n" >"$T/r3/etc/motd" && chmod 640 "$T/r3/etc/motd" && chown 7:8 "$T/r3/etc/motd" &&
	ino=$(stat -c %i "$T/r3/etc/motd") &&
	cfg c3 "{$V,\"storage\":{\"files\":[{\"path\":\"/etc/motd\",\"append\":[{\"source\":\"data:,two%0A\"},{\"source\":\"data:,three%0A\"}]}]}}" &&
	prov "$T/r3" --config "$T/c3.ign" 2>"$T/err" &&
	printf "one\ntwo\nthree\n" >"$T/exp3" && test_cmp "$T/exp3" "$T/r3/etc/motd" &&
	test "$(stat -c %i:%a:%u:%g "$T/r3/etc/motd")" = "$ino:640:7:8"
'
test_expect 'files.append.nonexistent: contents then fragments, a new file' '
	mkroot "$T/r4" &&
	cfg c4 "{$V,\"storage\":{\"files\":[{\"path\":\"/etc/new\",\"contents\":{\"source\":\"data:,a\"},\"append\":[{\"source\":\"data:,b\"}]}]}}" &&
	prov "$T/r4" --config "$T/c4.ign" 2>"$T/err" &&
	test "$(cat "$T/r4/etc/new")" = ab
'
test_expect 'files.owner.byname and byid; setuid survives the chown' '
	mkroot "$T/r5" &&
	printf "root:x:0:0::/root:/bin/sh\nsvc:x:321:654::/:/bin/false\n" >"$T/r5/etc/passwd" &&
	printf "root:x:0:\nsvcg:x:654:\n" >"$T/r5/etc/group" &&
	cfg c5 "{\"ignition\":{\"version\":\"3.6.0\"},\"storage\":{\"files\":[{\"path\":\"/usr/bin/tool\",\"mode\":3565,\"user\":{\"name\":\"svc\"},\"group\":{\"name\":\"svcg\"},\"contents\":{\"source\":\"data:,x\"}},{\"path\":\"/etc/byid\",\"user\":{\"id\":4242},\"group\":{\"id\":4343}}]}}" &&
	prov "$T/r5" --config "$T/c5.ign" 2>"$T/err" &&
	test "$(stat -c %a:%u:%g "$T/r5/usr/bin/tool")" = 6755:321:654 &&
	test "$(stat -c %s:%u:%g "$T/r5/etc/byid")" = 0:4242:4343
'
test_expect 'owner name unknown in the root: exit 1, entry named, nothing changed' '
	mkroot "$T/r6" && snap "$T/r6" r6 &&
	cfg c6 "{$V,\"storage\":{\"files\":[{\"path\":\"/etc/a\"},{\"path\":\"/etc/b\",\"user\":{\"name\":\"nobody-here\"}}]}}" &&
	test_exit 1 prov "$T/r6" --config "$T/c6.ign" 2>"$T/err" &&
	test_grep "storage.files\[1\]: /etc/b: user .nobody-here. is not in the root" "$T/err" &&
	same "$T/r6" r6
'
test_expect 'files.creates.overwrite.false.overdir: a directory in the way fails' '
	mkroot "$T/r7" && mkdir "$T/r7/etc/d" && snap "$T/r7" r7 &&
	cfg c7 "{$V,\"storage\":{\"files\":[{\"path\":\"/etc/d\",\"contents\":{\"source\":\"data:,x\"}}]}}" &&
	test_exit 1 prov "$T/r7" --config "$T/c7.ign" 2>"$T/err" &&
	test_grep "/etc/d: a non-regular file exists there and overwrite is false" "$T/err" &&
	same "$T/r7" r7
'
test_expect 'overwrite true replaces a whole directory tree with the file' '
	mkroot "$T/r8" && mkdir -p "$T/r8/etc/d/sub" && echo x >"$T/r8/etc/d/sub/f" &&
	cfg c8 "{$V,\"storage\":{\"files\":[{\"path\":\"/etc/d\",\"overwrite\":true,\"contents\":{\"source\":\"data:,file\"}}]}}" &&
	prov "$T/r8" --config "$T/c8.ign" 2>"$T/err" &&
	test -f "$T/r8/etc/d" && test "$(cat "$T/r8/etc/d")" = file
'
test_expect 'existing file, overwrite false, no source: kept, mode applied' '
	mkroot "$T/r9" && echo keep >"$T/r9/etc/k" && chmod 600 "$T/r9/etc/k" &&
	cfg c9 "{$V,\"storage\":{\"files\":[{\"path\":\"/etc/k\",\"mode\":292}]}}" &&
	prov "$T/r9" --config "$T/c9.ign" 2>"$T/err" &&
	test "$(cat "$T/r9/etc/k")" = keep && test "$(stat -c %a "$T/r9/etc/k")" = 444
'
test_expect 'directories.match.overwrite: an existing directory gets mode and owner' '
	mkroot "$T/r10" && mkdir -m 700 "$T/r10/etc/dd" && echo f >"$T/r10/etc/dd/f" &&
	cfg c10 "{$V,\"storage\":{\"directories\":[{\"path\":\"/etc/dd\",\"mode\":493,\"user\":{\"id\":5}},{\"path\":\"/opt/new/deep\",\"mode\":488}]}}" &&
	prov "$T/r10" --config "$T/c10.ign" 2>"$T/err" &&
	test "$(stat -c %a:%u "$T/r10/etc/dd")" = 755:5 && test -f "$T/r10/etc/dd/f" &&
	test "$(stat -c %a "$T/r10/opt/new/deep")" = 750 && test "$(stat -c %a "$T/r10/opt/new")" = 755
'
test_expect 'links.sym and links.hard.deep.create.file: a hard link to a deeper new file' '
	mkroot "$T/r11" &&
	cfg c11 "{$V,\"storage\":{\"files\":[{\"path\":\"/a/b/c/target\",\"contents\":{\"source\":\"data:,t\"}}],\"links\":[{\"path\":\"/hl\",\"target\":\"/a/b/c/target\",\"hard\":true},{\"path\":\"/sl\",\"target\":\"a/b/c/target\"}]}}" &&
	prov "$T/r11" --config "$T/c11.ign" 2>"$T/err" &&
	test "$(stat -c %i "$T/r11/hl")" = "$(stat -c %i "$T/r11/a/b/c/target")" &&
	test "$(stat -c %h "$T/r11/hl")" = 2 &&
	test "$(readlink "$T/r11/sl")" = a/b/c/target
'
test_expect 'links.sym.writeover.broken and links.sym.create.overwrite.false' '
	mkroot "$T/r12" && ln -s /nowhere "$T/r12/etc/broken" && ln -s /etc/x "$T/r12/etc/same" &&
	cfg c12 "{$V,\"storage\":{\"links\":[{\"path\":\"/etc/broken\",\"target\":\"/etc/new\",\"overwrite\":true},{\"path\":\"/etc/same\",\"target\":\"/etc/./x\"}]}}" &&
	prov "$T/r12" --config "$T/c12.ign" 2>"$T/err" &&
	test "$(readlink "$T/r12/etc/broken")" = /etc/new && test "$(readlink "$T/r12/etc/same")" = /etc/x &&
	mkroot "$T/r12b" && ln -s /other "$T/r12b/etc/l" && snap "$T/r12b" r12b &&
	cfg c12b "{$V,\"storage\":{\"links\":[{\"path\":\"/etc/l\",\"target\":\"/etc/new\"}]}}" &&
	test_exit 1 prov "$T/r12b" --config "$T/c12b.ign" 2>"$T/err" &&
	test_grep "points to /other, not /etc/new" "$T/err" && same "$T/r12b" r12b
'
test_expect 'links.sym.resovledconflicts: two entries landing on one place are refused' '
	mkroot "$T/r13" && mkdir "$T/r13/real" && ln -s /real "$T/r13/alias" && snap "$T/r13" r13 &&
	cfg c13 "{$V,\"storage\":{\"files\":[{\"path\":\"/real/f\",\"contents\":{\"source\":\"data:,1\"}},{\"path\":\"/alias/f\",\"contents\":{\"source\":\"data:,2\"}}]}}" &&
	test_exit 1 prov "$T/r13" --config "$T/c13.ign" 2>"$T/err" &&
	test_grep "resolves to /real/f, as does /storage/files/0" "$T/err" && same "$T/r13" r13
'
test_expect 'files.verification.badhash.dataurl at fetch: exit 1, nothing changed' '
	mkroot "$T/r14" && snap "$T/r14" r14 &&
	printf "%s" "{\"ignition\":{\"version\":\"3.4.0\"},\"storage\":{\"files\":[{\"path\":\"/etc/ok\"},{\"path\":\"/etc/f\",\"contents\":{\"source\":\"http://127.0.0.1:1/x\",\"verification\":{\"hash\":\"sha512-$(printf %0128d 0)\"}}}]}}" >"$T/c14.ign" &&
	test_exit 1 prov "$T/r14" --config "$T/c14.ign" --fetch-timeout 1 2>"$T/err" &&
	test_grep "storage.files\[1\].contents" "$T/err" && same "$T/r14" r14
'
test_expect 'D5: a target that is a symlink loop is not planned as absent (exit 1, named)' '
	mkroot "$T/r15" && ln -s /etc/shadow "$T/r15/etc/shadow" && ln -s loop "$T/r15/etc/loop" &&
	snap "$T/r15" r15 &&
	cfg c15 "{$V,\"storage\":{\"files\":[{\"path\":\"/etc/shadow\",\"contents\":{\"source\":\"data:,x\"}}]}}" &&
	test_exit 1 prov "$T/r15" --config "$T/c15.ign" --dry-run >"$T/out" 2>"$T/err" &&
	test_grep "^! file /etc/shadow a non-regular file exists there and overwrite is false" "$T/out" &&
	! grep -q "^+ file /etc/shadow" "$T/out" &&
	cfg c15b "{$V,\"storage\":{\"files\":[{\"path\":\"/etc/loop/f\",\"contents\":{\"source\":\"data:,x\"}}]}}" &&
	test_exit 1 prov "$T/r15" --config "$T/c15b.ign" --dry-run >"$T/out" 2>"$T/err" &&
	test_grep "^! file /etc/loop/f" "$T/out" &&
	test_grep "/etc/loop/f: too many levels of symbolic links" "$T/err" &&
	test_exit 1 prov "$T/r15" --config "$T/c15b.ign" 2>"$T/err" && same "$T/r15" r15 &&
	cfg c15c "{$V,\"storage\":{\"files\":[{\"path\":\"/etc/shadow\",\"overwrite\":true,\"contents\":{\"source\":\"data:,x\"}}]}}" &&
	prov "$T/r15" --config "$T/c15c.ign" 2>"$T/err" && test -f "$T/r15/etc/shadow" && ! test -L "$T/r15/etc/shadow"
'
test_expect 'a provisioned root is refused without --force (2); --force keeps the previous report' '
	test_exit 2 prov "$T/r1" --config "$T/c1.ign" 2>"$T/err" &&
	test_grep "provisioned already" "$T/err" &&
	cfg c16 "{$V,\"storage\":{\"files\":[{\"path\":\"/etc/again\"}]}}" &&
	prov "$T/r1" --config "$T/c16.ign" --force 2>"$T/err" &&
	jq -e ".previousReport.flatctl.counts.files == 1 and .flatctl.counts.files == 1" "$T/r1/etc/.ignition-result.json" >/dev/null
'
test_expect 'the result file: Ignition fields and flatctl.counts' '
	jq -e ".userConfigProvided == true and (.provisioningBootID | length) > 0 and .flatctl.spec == \"3.4.0\" and .flatctl.rebootRequired == false and (.flatctl.configSHA512 | startswith(\"sha512-\"))" "$T/r2/etc/.ignition-result.json" >/dev/null
'
test_expect 'first boot: the flag Flatcar GRUB looks for is removed with the run' '
	mkroot "$T/r17" && mkdir -p "$T/r17/boot/flatcar" && echo >"$T/r17/boot/flatcar/first_boot" &&
	prov "$T/r17" --config "$T/c16.ign" 2>"$T/err" && ! test -e "$T/r17/boot/flatcar/first_boot"
'
test_expect 'dry run changes nothing and prints the plan' '
	mkroot "$T/r18" && snap "$T/r18" r18 &&
	prov "$T/r18" --config "$T/c11.ign" --dry-run >"$T/out" 2>"$T/err" &&
	test_grep "^+ hardlink /hl -> /a/b/c/target" "$T/out" && same "$T/r18" r18
'
test_expect 'a bare provision of the running system (no --root, no config, no platform) is refused (2)' '
	test_exit 2 flatctl provision 2>"$T/err" && test_grep "name the config (--config) or the platform" "$T/err"
'
test_done
