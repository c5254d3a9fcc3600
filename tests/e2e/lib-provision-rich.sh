# shellcheck shell=bash
# tests/e2e/lib-provision-rich.sh - a root with a bit of everything and a config that touches all
# of it, for the all-or-nothing and crash tests (t0207, t0208).
getfattr_py() { python3 -c 'import os,sys; print(os.getxattr(sys.argv[1], sys.argv[2], follow_symlinks=False).decode())' "$1" "$2"; }
setfattr_py() { python3 -c 'import os,sys; os.setxattr(sys.argv[1], sys.argv[2], sys.argv[3].encode(), follow_symlinks=False)' "$1" "$2" "$3"; }

make_rich_root() {
	local R=$1 &&
	mkroot "$R" &&
	mkdir -p "$R/usr/share/baselayout" "$R/home/core" "$R/etc/systemd/system/multi-user.target.wants" \
		"$R/etc/systemd/system-preset" "$R/var/lib/app/tree/sub" "$R/oem" "$R/boot/flatcar" &&
	printf "root:x:0:0:root:/root:/bin/bash\ncore:x:500:500:Flatcar Admin:/home/core:/bin/bash\n" >"$R/usr/share/baselayout/passwd" &&
	printf "root:x:0:root\nwheel:x:10:root,core\ncore:x:500:\n" >"$R/usr/share/baselayout/group" &&
	printf "root:x:0:0:root:/root:/bin/bash\nold:x:1000:1000::/home/old:/bin/sh\n" >"$R/etc/passwd" &&
	printf "root:*:19000:0:99999:7:::\nold:!:19000:0:99999:7:::\n" >"$R/etc/shadow" && chmod 600 "$R/etc/shadow" &&
	printf "root:x:0:\nold:x:1000:\n" >"$R/etc/group" &&
	printf "root:::\nold:!::\n" >"$R/etc/gshadow" &&
	setfattr_py "$R/etc/passwd" user.flatctl.label passwd &&
	chown 500:500 "$R/home/core" &&
	echo motd >"$R/etc/motd" && echo keep >"$R/etc/keep.conf" && chmod 4750 "$R/etc/keep.conf" &&
	chown 12:34 "$R/etc/keep.conf" && setfattr_py "$R/etc/keep.conf" user.flatctl.test kept &&
	ln "$R/etc/keep.conf" "$R/etc/keep.hard" &&
	echo old >"$R/etc/replace.me" && setfattr_py "$R/etc/replace.me" user.x y &&
	echo t >"$R/var/lib/app/tree/sub/f" && ln -s ../sub "$R/var/lib/app/tree/link" &&
	echo "[Unit]" >"$R/etc/systemd/system/old.service" &&
	ln -s /etc/systemd/system/off.service "$R/etc/systemd/system/multi-user.target.wants/off.service" &&
	echo "enable pre.service" >"$R/etc/systemd/system-preset/20-ignition.preset" &&
	printf 'set linux_append="$linux_append console=ttyS0"\n' >"$R/oem/grub.cfg" &&
	echo >"$R/boot/flatcar/first_boot" && echo data >"$R/oem/data.txt"
}

# rich_config FILE [conflict|badhash|owner]: the config, or one that fails in its last entry
rich_config() {
	local last="" &&
	case "${2:-}" in
	conflict) last=',{"path":"/etc/motd","contents":{"source":"data:,no"}}' ;;
	badhash) last=',{"path":"/etc/zz","contents":{"source":"oem:///data.txt","verification":{"hash":"sha512-'"$(printf %0128d 0)"'"}}}' ;;
	owner) last=',{"path":"/etc/zz","user":{"name":"ghost"}}' ;;
	esac &&
	cat >"$1" <<JSON
{"ignition": {"version": "3.6.0"},
 "kernelArguments": {"shouldExist": ["quiet"], "shouldNotExist": ["console=ttyS0"]},
 "passwd": {
   "groups": [{"name": "ops", "gid": 4000}],
   "users": [{"name": "core", "passwordHash": "\$6\$s\$h", "groups": ["wheel", "ops"],
              "sshAuthorizedKeys": ["ssh-ed25519 AAAA core@test"]},
             {"name": "alice", "uid": 1500},
             {"name": "old", "shouldExist": false}]},
 "storage": {
   "directories": [{"path": "/var/lib/app/tree", "overwrite": true, "mode": 448},
                   {"path": "/opt/a/b/c", "mode": 488}],
   "files": [{"path": "/etc/keep.conf", "mode": 2551, "user": {"id": 77},
              "append": [{"source": "data:,appended%0A"}]},
             {"path": "/etc/replace.me", "overwrite": true, "contents": {"source": "data:,new%0A"}},
             {"path": "/opt/a/b/c/deep", "contents": {"source": "data:,deep"}, "user": {"name": "alice"}},
             {"path": "/etc/new.gz", "contents": {"compression": "gzip",
               "source": "data:;base64,$(printf 'zipped\n' | gzip -c | base64 -w0)"}}$last],
   "links": [{"path": "/etc/sym", "target": "/etc/replace.me"},
             {"path": "/etc/hard", "target": "/opt/a/b/c/deep", "hard": true},
             {"path": "/var/lib/app/tree/l2", "target": "x"}]},
 "systemd": {"units": [
   {"name": "old.service", "contents": "[Service]\nExecStart=/bin/new\n[Install]\nWantedBy=multi-user.target\n", "enabled": true,
    "dropins": [{"name": "10.conf", "contents": "[Service]\nNice=1\n"}]},
   {"name": "off.service", "enabled": false},
   {"name": "gone.service", "mask": true},
   {"name": "t@a.service", "enabled": true}]}}
JSON
}

# rich_setup: $T/start (saved as start), $T/c.ign, and $T/good with $T/good.tree, the tree a
# good run leaves (the result file aside: it holds the date); N, the number of its steps
rich_setup() {
	make_rich_root "$T/start" && snap "$T/start" start && rich_config "$T/c.ign" &&
	cp -a "$T/start" "$T/good" &&
	prov "$T/good" --config "$T/c.ign" 2>"$T/good.err" &&
	N=$(sed -n "s/.*provisioned .*: \([0-9]*\) changes.*/\1/p" "$T/good.err") &&
	python3 "$TREEDUMP" "$T/good" --exclude .ignition-result.json >"$T/good.tree"
}
