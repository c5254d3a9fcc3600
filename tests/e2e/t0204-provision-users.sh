#!/bin/bash
# t0204-provision-users: users, groups and SSH keys written into the root's passwd, shadow,
# group and gshadow by flatctl itself, lines and order kept (docs/provision.md §5.2 steps 1-2);
# Flatcar's baselayout users; keys where update-ssh-keys reads them, written as the user.
. "$(dirname "$0")/lib.sh"
. "$FLATCTL_SRC/tests/e2e/lib-provision.sh"
V='"ignition":{"version":"3.4.0"}'

# a root like Flatcar's: system users in /usr/share/baselayout, a few in /etc
flatcar_root() {
	mkroot "$1" && mkdir -p "$1/usr/share/baselayout" "$1/home/core" "$1/etc/skel" &&
	printf "root:x:0:0:root:/root:/bin/bash\ncore:x:500:500:Flatcar Admin:/home/core:/bin/bash\nnobody:x:65534:65534:nobody:/var/empty:/sbin/nologin\n" >"$1/usr/share/baselayout/passwd" &&
	printf "root:x:0:root\nwheel:x:10:root,core\ndocker:x:233:core\nsudo:x:150:\ncore:x:500:\nusers:x:100:\n" >"$1/usr/share/baselayout/group" &&
	printf "root:*:15887:0:::::\ncore:*:15887:0:::::\n" >"$1/usr/share/baselayout/shadow" &&
	printf "# local users\nroot:x:0:0:root:/root:/bin/bash\n+::::::\nold:x:1000:1000::/home/old:/bin/sh\n" >"$1/etc/passwd" &&
	printf "root:*:19000:0:99999:7:::\nold:!:19000:0:99999:7:::\n" >"$1/etc/shadow" &&
	printf "root:x:0:\nold:x:1000:\n" >"$1/etc/group" &&
	printf "root:::\nold:!::\n" >"$1/etc/gshadow" &&
	printf "UID_MIN 1000\nUID_MAX 60000\nUMASK 077\n" >"$1/etc/login.defs" &&
	echo "# skel" >"$1/etc/skel/.bashrc" &&
	chmod 640 "$1/etc/shadow" "$1/etc/gshadow" && chown 500:500 "$1/home/core" && chmod 755 "$1/home/core"
}

test_expect 'users.add: a new user, its group, home from skel, hash kept as given' '
	flatcar_root "$T/r1" &&
	cfg c1 "{$V,\"passwd\":{\"users\":[{\"name\":\"alice\",\"passwordHash\":\"\$6\$salt\$hash\",\"gecos\":\"Alice A\",\"groups\":[\"docker\",\"sudo\"],\"shell\":\"/bin/bash\"}]}}" &&
	prov "$T/r1" --config "$T/c1.ign" 2>"$T/err" &&
	test_grep "^alice:x:1001:1001:Alice A:/home/alice:/bin/bash$" "$T/r1/etc/passwd" &&
	test_grep "^+::::::$" "$T/r1/etc/passwd" && test_grep "^# local users$" "$T/r1/etc/passwd" &&
	test_grep "^alice:\$6\$salt\$hash:[0-9]*:0:99999:7:::$" "$T/r1/etc/shadow" &&
	test_grep "^alice:x:1001:$" "$T/r1/etc/group" &&
	test_grep "^docker:x:233:core,alice$" "$T/r1/etc/group" &&
	test_grep "^sudo:x:150:alice$" "$T/r1/etc/group" &&
	test "$(stat -c %a:%u:%g "$T/r1/home/alice")" = 700:1001:1001 &&
	test "$(stat -c %u:%g "$T/r1/home/alice/.bashrc")" = 1001:1001 &&
	test "$(stat -c %a:%u:%g "$T/r1/etc/shadow")" = 640:0:0
'
test_expect 'the baselayout user core gets SSH keys where update-ssh-keys reads them' '
	flatcar_root "$T/r2" && snap "$T/r2" before2 &&
	cfg c2 "{$V,\"passwd\":{\"users\":[{\"name\":\"core\",\"sshAuthorizedKeys\":[\"ssh-ed25519 AAAA one\",\"ssh-rsa BBBB two\"]}]}}" &&
	prov "$T/r2" --config "$T/c2.ign" 2>"$T/err" &&
	printf "ssh-ed25519 AAAA one\nssh-rsa BBBB two\n" >"$T/keys" &&
	test_cmp "$T/keys" "$T/r2/home/core/.ssh/authorized_keys.d/ignition" &&
	test "$(stat -c %a:%u:%g "$T/r2/home/core/.ssh/authorized_keys.d/ignition")" = 600:500:500 &&
	test "$(stat -c %a:%u:%g "$T/r2/home/core/.ssh")" = 700:500:500 &&
	! grep -q core "$T/r2/etc/passwd"
'
test_expect 'usermod: changing a baselayout user copies its line to /etc first' '
	flatcar_root "$T/r3" &&
	cfg c3 "{$V,\"passwd\":{\"users\":[{\"name\":\"core\",\"passwordHash\":\"\$6\$x\$y\",\"groups\":[\"sudo\"]}]}}" &&
	prov "$T/r3" --config "$T/c3.ign" 2>"$T/err" &&
	test_grep "^core:x:500:500:Flatcar Admin:/home/core:/bin/bash$" "$T/r3/etc/passwd" &&
	test_grep "^core:\$6\$x\$y:15887:0:::::$" "$T/r3/etc/shadow" &&
	test_grep "^sudo:x:150:core$" "$T/r3/etc/group"
'
test_expect 'usermod -u and --home: files follow the uid, the home moves' '
	flatcar_root "$T/r4" && mkdir -p "$T/r4/home/old/sub" && echo x >"$T/r4/home/old/sub/f" &&
	chown -R 1000:1000 "$T/r4/home/old" &&
	cfg c4 "{$V,\"passwd\":{\"users\":[{\"name\":\"old\",\"uid\":2000,\"homeDir\":\"/srv/old\"}]}}" &&
	prov "$T/r4" --config "$T/c4.ign" 2>"$T/err" &&
	test_grep "^old:x:2000:1000::/srv/old:/bin/sh$" "$T/r4/etc/passwd" &&
	! test -e "$T/r4/home/old" && test "$(stat -c %u "$T/r4/srv/old/sub/f")" = 2000
'
test_expect 'users.delete and groups: shouldExist false removes lines and the home' '
	flatcar_root "$T/r5" && mkdir "$T/r5/home/old" &&
	cfg c5 "{$V,\"passwd\":{\"groups\":[{\"name\":\"ops\",\"gid\":4000,\"passwordHash\":\"grouphash\"},{\"name\":\"docker\",\"gid\":999}],\"users\":[{\"name\":\"old\",\"shouldExist\":false}]}}" &&
	prov "$T/r5" --config "$T/c5.ign" 2>"$T/err" &&
	! grep -q "^old:" "$T/r5/etc/passwd" "$T/r5/etc/shadow" "$T/r5/etc/group" "$T/r5/etc/gshadow" &&
	! test -e "$T/r5/home/old" &&
	test_grep "^ops:x:4000:$" "$T/r5/etc/group" && test_grep "^ops:grouphash::$" "$T/r5/etc/gshadow" &&
	test_grep "^docker:x:999:core$" "$T/r5/etc/group"
'
test_expect 'groups.ensure.idempotent: an existing group with the same gid changes nothing' '
	flatcar_root "$T/r6" && snap "$T/r6" r6 &&
	cfg c6 "{$V,\"passwd\":{\"groups\":[{\"name\":\"old\",\"gid\":1000}]}}" &&
	prov "$T/r6" --config "$T/c6.ign" 2>"$T/err" &&
	rm "$T/r6/etc/.ignition-result.json" && same "$T/r6" r6
'
test_expect 'conflicts: uid in use, missing group, existing user group: exit 1, nothing changed' '
	flatcar_root "$T/r7" && snap "$T/r7" r7 &&
	cfg c7 "{$V,\"passwd\":{\"users\":[{\"name\":\"x1\",\"uid\":500},{\"name\":\"x2\",\"groups\":[\"nope\"]},{\"name\":\"docker\"}]}}" &&
	test_exit 1 prov "$T/r7" --config "$T/c7.ign" 2>"$T/err" &&
	test_grep "users\[0\]: x1: uid 500 is already in use" "$T/err" &&
	test_grep "users\[1\]: x2: supplementary group .nope. does not exist" "$T/err" &&
	test_grep "users\[2\]: docker: group .docker. exists" "$T/err" &&
	same "$T/r7" r7
'
test_expect 'SSH keys: a symlinked ~/.ssh to a root directory is refused (written as the user)' '
	flatcar_root "$T/r8" && ln -s /etc "$T/r8/home/core/.ssh" && snap "$T/r8" r8 &&
	test_exit 1 prov "$T/r8" --config "$T/c2.ign" 2>"$T/err" &&
	test_grep "./etc. is not writable by user .core." "$T/err" && same "$T/r8" r8
'
test_expect 'files owned by a user this config creates' '
	flatcar_root "$T/r9" &&
	cfg c9 "{$V,\"passwd\":{\"users\":[{\"name\":\"svc\",\"system\":true,\"noCreateHome\":true}]},\"storage\":{\"files\":[{\"path\":\"/var/lib/svc/conf\",\"user\":{\"name\":\"svc\"},\"group\":{\"name\":\"svc\"}}]}}" &&
	prov "$T/r9" --config "$T/c9.ign" 2>"$T/err" &&
	u=$(grep "^svc:" "$T/r9/etc/passwd" | cut -d: -f3) && test "$u" = 999 &&
	test "$(stat -c %u:%g "$T/r9/var/lib/svc/conf")" = "999:999" && ! test -e "$T/r9/home/svc"
'
test_done
