#!/bin/bash
# t0812-root-host-files: under --root, flatctl reads nothing of the host but its devices and
# kernel interfaces (/dev, /sys, /proc), the files named on the command line, and the CA store
# when an https fetch asks for it (docs/security.md §4): no /etc/nsswitch.conf, /etc/localtime,
# zoneinfo, openssl.cnf or blkid cache. Each applet runs under strace; tests/e2e/host-files.py
# lists every other path it named.
. "$(dirname "$0")/lib.sh"
command -v strace >/dev/null || { echo "Bail out! strace not installed: run make deps"; exit 1; }

R=$T/root
mkdir -p "$R/etc" "$R/proc" "$R/usr/share/baselayout" "$R/home/core" &&
: >"$R/proc/cmdline" &&
echo "m0000000000000000000000000000001" >"$R/etc/machine-id" &&
printf "root:x:0:0:root:/root:/bin/bash\ncore:x:500:500:Core:/home/core:/bin/bash\n" >"$R/etc/passwd" &&
printf "root:*:19000:0:99999:7:::\ncore:*:19000:0:99999:7:::\n" >"$R/etc/shadow" &&
printf "root:x:0:\ncore:x:500:\ndocker:x:233:\n" >"$R/etc/group" &&
printf "root:::\ncore:!::\ndocker:!::\n" >"$R/etc/gshadow" || exit 1
"$MKDISK" --layout compact "$T/disk.img" >/dev/null || exit 1
printf '%s\n' '{"ignition":{"version":"3.4.0"},"passwd":{"users":[{"name":"alice","groups":["docker"]}]},"storage":{"files":[{"path":"/etc/motd","contents":{"source":"data:,hello"},"mode":420}]}}' >"$T/c.ign"
python3 "$FLATCTL_SRC/tests/servers/sink.py" "$T/port" &
cleanup_pid $!
test_wait_for 60 'test -s "$T/port"' || exit 1
SINK=127.0.0.1:$(cat "$T/port")

# What the dynamic dev build's loader reads before main() (ld.so.cache and the libraries), and
# /etc/gnutls/config, which Debian's libgnutls (under its libcurl, through libldap) reads in its
# constructor: the static build has neither. Nothing is allowed for a static binary.
LOADER=
if ldd "$FLATCTL" 2>/dev/null | grep -q "=>"; then
	LOADER="/etc/ld.so.cache /etc/ld.so.preload"
	for lib in $(ldd "$FLATCTL" | awk '/=>/ { print $1 }'); do LOADER="$LOADER */$lib"; done
	ldd "$FLATCTL" | grep -q libgnutls && LOADER="$LOADER /etc/gnutls/config"
	# Debian's libarchive converts names with iconv (the static build's has no iconv)
	ldd "$FLATCTL" | grep -q libarchive && LOADER="$LOADER */gconv-modules.cache"
fi
FLATCTL_REAL=$(realpath "$FLATCTL")
# Under `make check-arm64` the emulator runs the aarch64 binary and strace follows it: it is
# started directly (not through the shell wrapper FLATCTL, which is a dynamic sh), and the
# emulator's probes of its sysroot prefix, /etc/qemu-binfmt/aarch64/PATH before every guest PATH,
# are its own (the guest's PATH follows and is judged), and so is its readlink of every directory
# above the binary it loads. qemu-aarch64-static is static: it reads no loader files.
RUN=("$FLATCTL")
if [ -n "${FLATCTL_EMU:-}" ]; then
	EMU=$(command -v "$FLATCTL_EMU") &&
	RUN=("$EMU" -0 "$FLATCTL" "$FLATCTL_BIN") &&
	LOADER="$EMU $FLATCTL_BIN /etc/qemu-binfmt/" &&
	d=$(dirname "$(realpath "$FLATCTL_BIN")") || exit 1
	while [ "$d" != / ]; do LOADER="$LOADER $d" && d=$(dirname "$d") || exit 1; done
fi

# traced NAME [ALLOWED...] -- flatctl ARGS: runs flatctl --root $R ARGS under strace from
# $R (its exit code does not matter here), then fails naming every host path it touched but
# /proc, /dev, /sys, the binary, $LOADER and ALLOWED.
# shellcheck disable=SC2086 # $LOADER and $allow are lists of paths, split on purpose
traced() {
	local name=$1 allow= && shift &&
	while [ "$1" != "--" ]; do allow="$allow $1" && shift || return 1; done && shift &&
	{ (cd "$R" && strace -f -qq -e trace=%file -o "$T/$name.strace" \
		"${RUN[@]}" --root "$R" "$@" >"$T/$name.out" 2>"$T/$name.err") || :; } &&
	test -s "$T/$name.strace" &&
	# libblkid's device scan also tries the devfs-era device directories
	python3 "$FLATCTL_SRC/tests/e2e/host-files.py" "$T/$name.strace" "$R" "$R" \
		"$FLATCTL_REAL" "$FLATCTL" /devfs /devices $LOADER $allow >"$T/$name.bad" || {
		cat "$T/$name.bad" "$T/$name.out" "$T/$name.err" >&2
		return 1
	}
}

test_expect 'status' '
	traced status -- status
'
test_expect 'update status' '
	traced update-status -- update status
'
test_expect 'partition show --disk IMAGE (the image is named on the command line)' '
	traced partition "$T/disk.img" -- --disk "$T/disk.img" partition show &&
	test_grep "USR-A" "$T/partition.out"
'
test_expect 'provision --dry-run and a real provision (users, files)' '
	traced prov-dry "$T/c.ign" -- provision --config "$T/c.ign" --dry-run &&
	traced prov "$T/c.ign" -- provision --config "$T/c.ign" &&
	test_grep "^alice:" "$R/etc/passwd" && test "$(cat "$R/etc/motd")" = hello
'
test_expect 'lock with the file backend: status, lock, unlock' '
	traced lock-status -- lock --backend file status &&
	traced lock-lock -- lock --backend file lock &&
	traced lock-unlock -- lock --backend file unlock &&
	test_grep "Available: 1" "$T/lock-status.out"
'
test_expect 'update check (server refused) and reboot-manager check-window' '
	mkdir -p "$R/etc/flatcar" "$R/usr/share/flatcar" &&
	printf "FLATCAR_RELEASE_VERSION=3975.2.1\nFLATCAR_RELEASE_BOARD=amd64-usr\n" >"$R/usr/share/flatcar/release" &&
	printf "SERVER=http://127.0.0.1:1/v1/update/\nGROUP=stable\nREBOOT_WINDOW_START=Mon 04:00\nREBOOT_WINDOW_LENGTH=1h\n" >"$R/etc/flatcar/update.conf" &&
	traced update-check -- update check &&
	test_grep "cannot reach" "$T/update-check.err" &&
	traced window -- reboot-manager check-window &&
	test_grep "04:00" "$T/window.out"
'
test_expect 'reboot-manager: the root'"'"'s zone through an absolute symlink, found inside the root' '
	TZ=UTC0 flatctl --root "$R" --json reboot-manager check-window >"$T/utc.json" &&
	mkdir -p "$R/usr/share/zoneinfo/Flatctl" &&
	cp /usr/share/zoneinfo/Etc/GMT-5 "$R/usr/share/zoneinfo/Flatctl/Plus5" &&
	ln -s /usr/share/zoneinfo/Flatctl/Plus5 "$R/etc/localtime" &&
	traced zone -- --json reboot-manager check-window &&
	grep -q "\"$R/usr/share/zoneinfo/Flatctl/Plus5\"" "$T/zone.strace" &&
	python3 -c "import json, sys; u, z = (json.load(open(f))[\"next_start_unix\"] for f in sys.argv[1:]); assert (u - z) % 86400 == 5 * 3600, (u, z)" "$T/utc.json" "$T/zone.out" &&
	rm "$R/etc/localtime"
'
test_expect 'diag (the bundle, and its temporary file beside it, named on the command line)' '
	mkdir -p "$T/out" &&
	traced diag "$T/out/" -- diag --output "$T/out/bundle.tar.gz" &&
	tar -tzf "$T/out/bundle.tar.gz" >/dev/null
'
test_expect 'an http fetch by address reads nothing of the host (no resolver configuration)' '
	traced fetch-http -- provision --config "http://$SINK/c.ign" --fetch-timeout 1 --dry-run --force &&
	test_grep "cannot reach server" "$T/fetch-http.err"
'
test_expect 'an https fetch reads the CA store, and no openssl.cnf' '
	traced fetch-https /etc/ssl/certs/ /usr/lib/ssl/certs/ /usr/lib/ssl/cert.pem -- \
		provision --config "https://$SINK/c.ign" --fetch-timeout 1 --dry-run --force &&
	grep -q "\"/etc/ssl/certs/\|\"/usr/lib/ssl/cert" "$T/fetch-https.strace" &&
	! grep -q "openssl.cnf" "$T/fetch-https.strace"
'
test_expect 'the checker finds a host path (self-test)' '
	printf "openat(AT_FDCWD, \"/etc/localtime\", O_RDONLY) = 3\nreadlink(\"$T\", 0x1, 4096) = -1\n" >"$T/fake.strace" &&
	! python3 "$FLATCTL_SRC/tests/e2e/host-files.py" "$T/fake.strace" "$R" "$R" >"$T/fake.bad" &&
	test_grep "host path outside the root: /etc/localtime" "$T/fake.bad" &&
	! grep -q "$T" "$T/fake.bad"
'
test_done
