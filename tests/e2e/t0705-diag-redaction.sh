#!/bin/bash
# t0705-diag-redaction: every secret kind of docs/diag.md §5 is planted in the root (shadow
# hashes, SSH and etcd private keys, DOWNLOAD_PASSWORD, URL credentials, Ignition data: payloads
# and headers, cloud metadata tokens, container unit environment, WireGuard keys, a GRUB hash, a
# useradd hash and a private key in the journal) and none of them occurs, byte for byte, in any
# bundle after decompression (tar headers and journal excerpts included).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-diag.sh"

R=$T/root
make_diag_root "$R" "$T/disk.img"

test_expect 'every secret is really planted in the root or its journal' '
	secrets_planted "$R" &&
	journalctl --root "$R" --no-pager -o cat >"$T/journal.txt" &&
	test_grep "JOURNALPEMKEYBODYpl4nted" "$T/journal.txt" &&
	test_grep "USERADDHASHpl4nted" "$T/journal.txt"
'

test_expect 'the default bundle holds none of them' '
	flatctl --root "$R" --disk "$T/disk.img" diag --offline -o "$T/default.tgz" >/dev/null 2>&1 &&
	no_secrets "$T/default.tgz"
'

test_expect 'a config that asks for every secret path gets none of them' '
	cat >"$T/greedy.json" <<-E &&
	{"files": [{"name": "/etc/shadow"}, {"name": "/etc/gshadow"},
	           {"name": "/etc/ssh/ssh_host_ed25519_key"}, {"name": "/home/core/.ssh/id_rsa"},
	           {"name": "/etc/ssl/etcd/client-key.pem"}, {"name": "/usr/share/oem/config.ign"},
	           {"name": "/etc/flatcar/update.conf"}, {"name": "/proc/cmdline"},
	           {"name": "/etc/systemd/system/app.service.d/tls.conf"}],
	 "directories": [{"name": "/etc"}, {"name": "/home"}, {"name": "/usr/share/oem"},
	                 {"name": "/var/lib/systemd/pstore"}, {"name": "/sys/fs/pstore"}],
	 "commands": [{"args": ["cat", "etc/shadow"]}, {"args": ["journalctl", "--root", ".", "--no-pager"]}]}
	E
	flatctl --root "$R" --disk "$T/disk.img" diag --offline -c "$T/greedy.json" -o "$T/greedy.tgz" >/dev/null 2>&1 &&
	no_secrets "$T/greedy.tgz" &&
	tar -tzf "$T/greedy.tgz" | grep -q "/commands/journalctl_--root_._--no-pager.txt$"
'

test_expect 'the journal excerpts keep their lines but not the secrets' '
	tar -xzOf "$T/default.tgz" --wildcards "*/journal/boot-1.txt" >"$T/boot1.txt" &&
	test_grep "X-aws-ec2-metadata-token: \[REDACTED\]$" "$T/boot1.txt" &&
	test_grep "\"access_token\": \"\[REDACTED\]\"" "$T/boot1.txt" &&
	test_grep "password \[REDACTED hash\]$" "$T/boot1.txt" &&
	test_grep "from \"data:\[REDACTED [0-9]* bytes\]\"$" "$T/boot1.txt" &&
	test_grep "\"value\":\"\[REDACTED\]\"" "$T/boot1.txt" &&
	test_grep "MYSQL_PASSWORD=\[REDACTED\]$" "$T/boot1.txt" &&
	test_grep "&sig=\[REDACTED\]&se=2025$" "$T/boot1.txt" &&
	test_grep "Update failed: DownloadPayloadPubKeyVerificationError$" "$T/boot1.txt"
'

test_expect 'a bundle cut by the size limit and one on stdout hold none of them either' '
	flatctl --root "$R" --disk "$T/disk.img" diag --offline --max-size 30K -o "$T/cut.tgz" >/dev/null 2>&1 &&
	no_secrets "$T/cut.tgz" &&
	flatctl --root "$R" --disk "$T/disk.img" diag --offline -o - 2>/dev/null >"$T/stdout.tgz" &&
	no_secrets "$T/stdout.tgz"
'

test_expect 'status shows no secret either' '
	flatctl --root "$R" --disk "$T/disk.img" status --offline >"$T/st.txt" &&
	flatctl --root "$R" --disk "$T/disk.img" --json status --offline >>"$T/st.txt" &&
	gzip -c "$T/st.txt" >"$T/st.gz" && no_secrets "$T/st.gz"
'

test_done
