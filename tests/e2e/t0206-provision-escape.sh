#!/bin/bash
# t0206-provision-escape: every way a root can try to send a write outside it - absolute
# symlinks, "..", chains of links, a symlinked parent of a unit drop-in, of a home, of /etc, of
# /oem - is followed only inside the root (docs/provision.md §6). A host tree next to the roots
# is compared before and after: not one byte may change there.
. "$(dirname "$0")/lib.sh"
. "$FLATCTL_SRC/tests/e2e/lib-provision.sh"
V='"ignition":{"version":"3.4.0"}'
H=$T/host
mkdir -p "$H/etc" "$H/dir" && echo secret >"$H/etc/passwd" && echo keep >"$H/dir/file" &&
	printf 'set linux_append="$linux_append host"\n' >"$H/grub.cfg"
snap "$H" host
total=0
ok_inside() { # ROOT: the host is untouched and nothing of the run is left outside
	same "$H" host && test -z "$(find "$H" -newer "$T/host.tree" -print -quit)"
}

test_expect 'absolute symlinks, ".." and chains in parents land inside the root' '
	mkroot "$T/r1" && ln -s "$H/dir" "$T/r1/abs" && ln -s ../../../../../../../.. "$T/r1/etc/up" &&
	ln -s /chain2 "$T/r1/chain1" && ln -s "$H" "$T/r1/chain2" &&
	cfg c1 "{$V,\"storage\":{\"files\":[{\"path\":\"/abs/file\",\"overwrite\":true,\"contents\":{\"source\":\"data:,pwned\"}},{\"path\":\"/etc/up/escaped\",\"contents\":{\"source\":\"data:,x\"}},{\"path\":\"/chain1/etc/passwd\",\"overwrite\":true,\"contents\":{\"source\":\"data:,x\"}}],\"directories\":[{\"path\":\"/chain1/newdir\"}]}}" &&
	prov "$T/r1" --config "$T/c1.ign" 2>"$T/err" &&
	test "$(cat "$T/r1$H/dir/file")" = pwned && test -f "$T/r1/escaped" &&
	test "$(cat "$T/r1$H/etc/passwd")" = x && test -d "$T/r1$H/newdir" && ok_inside
'
test_expect 'a final symlink is never followed: overwrite replaces the link itself' '
	mkroot "$T/r2" && ln -s "$H/etc/passwd" "$T/r2/etc/motd" && ln -s "$H/dir" "$T/r2/etc/d" &&
	cfg c2 "{$V,\"storage\":{\"files\":[{\"path\":\"/etc/motd\",\"overwrite\":true,\"contents\":{\"source\":\"data:,new\"}}],\"directories\":[{\"path\":\"/etc/d\",\"overwrite\":true,\"mode\":448}]}}" &&
	prov "$T/r2" --config "$T/c2.ign" 2>"$T/err" &&
	! test -L "$T/r2/etc/motd" && test "$(cat "$T/r2/etc/motd")" = new &&
	! test -L "$T/r2/etc/d" && test "$(stat -c %a "$T/r2/etc/d")" = 700 && ok_inside
'
test_expect 'appending, chmod and chown through a final symlink are refused' '
	mkroot "$T/r3" && ln -s "$H/etc/passwd" "$T/r3/etc/motd" && snap "$T/r3" r3 &&
	cfg c3 "{$V,\"storage\":{\"files\":[{\"path\":\"/etc/motd\",\"mode\":511,\"append\":[{\"source\":\"data:,x\"}]}]}}" &&
	test_exit 1 prov "$T/r3" --config "$T/c3.ign" 2>"$T/err" &&
	test_grep "a non-regular file exists there" "$T/err" && same "$T/r3" r3 && ok_inside
'
test_expect 'a symlinked /etc takes the passwd files, units and the result file inside' '
	mkroot "$T/r4" && rm -r "$T/r4/etc" && ln -s "$H/etc" "$T/r4/etc" &&
	cfg c4 "{$V,\"passwd\":{\"users\":[{\"name\":\"u\",\"noCreateHome\":true}]},\"systemd\":{\"units\":[{\"name\":\"x.service\",\"enabled\":true,\"contents\":\"[Unit]\\n\"}]}}" &&
	prov "$T/r4" --config "$T/c4.ign" 2>"$T/err" &&
	test_grep "^u:x:" "$T/r4$H/etc/passwd" && test -f "$T/r4$H/etc/.ignition-result.json" &&
	test -f "$T/r4$H/etc/systemd/system/x.service" && ok_inside
'
test_expect 'a symlinked drop-in directory, home and /oem stay inside' '
	mkroot "$T/r5" && mkdir -p "$T/r5/etc/systemd/system" "$T/r5/home" &&
	ln -s "$H/dir" "$T/r5/etc/systemd/system/y.service.d" && ln -s "$H" "$T/r5/home/core" &&
	ln -s "$H" "$T/r5/oem" && mkdir -p "$T/r5$H" && chown 500:500 "$T/r5$H" &&
	printf "core:x:500:500::/home/core:/bin/sh\n" >"$T/r5/etc/passwd" &&
	cfg c5 "{$V,\"systemd\":{\"units\":[{\"name\":\"y.service\",\"dropins\":[{\"name\":\"z.conf\",\"contents\":\"[Unit]\\n\"}]}]},\"passwd\":{\"users\":[{\"name\":\"core\",\"sshAuthorizedKeys\":[\"ssh-ed25519 K\"]}]},\"kernelArguments\":{\"shouldExist\":[\"quiet\"]}}" &&
	prov "$T/r5" --config "$T/c5.ign" 2>"$T/err" &&
	test -f "$T/r5$H/dir/z.conf" && test -f "$T/r5$H/.ssh/authorized_keys.d/ignition" &&
	test_grep "^set linux_append=\"\$linux_append quiet\"$" "$T/r5$H/grub.cfg" &&
	ok_inside
'
test_expect 'hard link targets resolve inside the root (a host file is never linked)' '
	mkroot "$T/r6" && ln -s "$H/etc" "$T/r6/hostetc" && snap "$T/r6" r6 &&
	cfg c6 "{$V,\"storage\":{\"links\":[{\"path\":\"/stolen\",\"hard\":true,\"target\":\"/hostetc/passwd\"},{\"path\":\"/up\",\"hard\":true,\"target\":\"../../../../../..$H/etc/passwd\"}]}}" &&
	test_exit 1 prov "$T/r6" --config "$T/c6.ign" 2>"$T/err" &&
	test_grep "the target /hostetc/passwd does not exist" "$T/err" &&
	test "$(stat -c %h "$H/etc/passwd")" = 1 && same "$T/r6" r6 && ok_inside
'
test_expect 'a user homeDir with ".." and a 2.x path with ".." stay inside' '
	mkroot "$T/r7" &&
	cfg c7 "{$V,\"passwd\":{\"users\":[{\"name\":\"v\",\"homeDir\":\"/../../../../..$H/vhome\"}]}}" &&
	prov "$T/r7" --config "$T/c7.ign" 2>"$T/err" && test -d "$T/r7$H/vhome" &&
	cfg c7b "{\"ignition\":{\"version\":\"2.2.0\"},\"storage\":{\"files\":[{\"filesystem\":\"root\",\"path\":\"/../../../../..$H/etc/passwd2\",\"contents\":{\"source\":\"data:,x\"}}]}}" &&
	prov "$T/r7" --force --config "$T/c7b.ign" 2>"$T/err" && test -f "$T/r7$H/etc/passwd2" &&
	ok_inside
'
test_expect 'zero bytes outside the roots across the escape tests' '
	same "$H" host && test "$(du -sb "$H" | cut -f1)" = "$(cd "$H" && du -sb . | cut -f1)" &&
	test -z "$(find "$H" -newer "$T/host.tree")"
'
test_done
