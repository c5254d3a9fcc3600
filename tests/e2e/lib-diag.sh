# tests/e2e/lib-diag.sh - the planted machine of the diag tests (t07xx): a root with os-release,
# release, update.conf, units, a WireGuard netdev, a fake shadow, an Ignition config, pstore
# records, a GPT image and a real journal of two boots (systemd-journal-remote), with every
# secret kind of docs/diag.md §5 planted. DIAG_SECRETS lists the strings no bundle may contain.
# Source after lib.sh.

JOURNAL_REMOTE=${JOURNAL_REMOTE:-/lib/systemd/systemd-journal-remote}
BOOT_PREV=aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa
BOOT_CUR=bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb
MACHINE_ID=0123456789abcdef0123456789abcdef

# The secrets, one per line: each planted somewhere below and searched for byte by byte.
DIAG_SECRETS='SHADOWHASHxq7Zk2Lw9
gshadowSECRETvalue
OPENSSHHOSTKEYBODYpl4nted
IDRSAUSERKEYBODYpl4nted
ENVPEMKEYBODYpl4nted
JOURNALPEMKEYBODYpl4nted
ETCDCLIENTKEYBODYpl4nted
etcdPWpl4nted
etcdURLpw4nted
dlPWpl4nted
serverPWpl4nted
IGNCONFIGSECRETpl4nted
IGNDATAPAYLOADpl4ntedSGVsbG8gd29ybGQgdGhpcyBpcyBhIHNlY3JldCBwYXlsb2Fk
IGNBEARERpl4nted0123456789
IGNTOKENpl4nted
CMDLINETOKENpl4nted
AWSMETADATATOKENpl4nted
AWSFILETOKENpl4nted
GCEACCESSTOKENpl4nted
AZURESIGpl4nted
CONTAINERPWpl4nted
CONTAINERTOKENpl4nted
CONTAINERJOURNALPWpl4nted
WGPRIVATEKEYpl4nted
WGPSKpl4nted
GRUBPBKDF2HASHpl4nted
USERADDHASHpl4nted
PSTORESECRETpl4nted'

# make_diag_root ROOT DISK: the whole planted machine.
make_diag_root() {
	local r=$1 disk=$2 jdir &&
	mkdir -p "$r/etc/flatcar" "$r/usr/share/flatcar" "$r/usr/lib" "$r/var/lib/flatctl/update" \
		"$r/etc/systemd/network" "$r/etc/systemd/system/multi-user.target.wants" \
		"$r/etc/ssh" "$r/home/core/.ssh" "$r/etc/ssl/etcd" "$r/usr/share/oem" "$r/oem" \
		"$r/proc/sys/kernel/random" "$r/sys/fs/pstore" "$r/var/lib/systemd/pstore/1760600000/001" \
		"$r/var/lib/systemd/coredump" "$r/boot/flatcar" "$r/var/lib/flatctl/rebootlock" &&
	cat >"$r/etc/os-release" <<-'E' &&
	NAME="Flatcar Container Linux by Kinvolk"
	ID=flatcar
	VERSION=4230.2.4
	PRETTY_NAME="Flatcar Container Linux by Kinvolk 4230.2.4 (Oklo)"
	E
	cat >"$r/usr/share/flatcar/release" <<-'E' &&
	FLATCAR_RELEASE_VERSION=4230.2.4
	FLATCAR_RELEASE_BOARD=amd64-usr
	FLATCAR_RELEASE_APPID={e96281a6-d1af-4bde-9a0a-97b76e56dc57}
	E
	cat >"$r/etc/flatcar/update.conf" <<-'E' &&
	GROUP=beta
	SERVER=https://core:serverPWpl4nted@updates.example/v1/update/
	DOWNLOAD_USER=core
	DOWNLOAD_PASSWORD=dlPWpl4nted
	REBOOT_STRATEGY=reboot
	LOCKSMITHD_REBOOT_WINDOW_START=Mon 04:00
	LOCKSMITHD_REBOOT_WINDOW_LENGTH=1h
	LOCKSMITHD_ETCD_PASSWORD=etcdPWpl4nted
	LOCKSMITHD_ETCD_KEYFILE=/etc/ssl/etcd/client-key.pem
	LOCKSMITHD_ENDPOINT=http://root:etcdURLpw4nted@127.0.0.1:9
	E
	echo node-006 >"$r/etc/hostname" &&
	echo "$MACHINE_ID" >"$r/etc/machine-id" &&
	echo "127.0.0.1 localhost" >"$r/etc/hosts" &&
	printf '%s\n' 'root:*:19000:0:99999:7:::' 'core:$y$j9T$SHADOWHASHxq7Zk2Lw9$abcdefghijklmnop:19000:0:99999:7:::' >"$r/etc/shadow" &&
	printf '%s\n' 'core:$6$gsalt$gshadowSECRETvalue123::' >"$r/etc/gshadow" &&
	printf -- '-----BEGIN OPENSSH PRIVATE KEY-----\nOPENSSHHOSTKEYBODYpl4nted\n-----END OPENSSH PRIVATE KEY-----\n' \
		>"$r/etc/ssh/ssh_host_ed25519_key" &&
	echo "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAA host" >"$r/etc/ssh/ssh_host_ed25519_key.pub" &&
	printf -- '-----BEGIN RSA PRIVATE KEY-----\nIDRSAUSERKEYBODYpl4nted\n-----END RSA PRIVATE KEY-----\n' \
		>"$r/home/core/.ssh/id_rsa" &&
	printf -- '-----BEGIN EC PRIVATE KEY-----\nETCDCLIENTKEYBODYpl4nted\n-----END EC PRIVATE KEY-----\n' \
		>"$r/etc/ssl/etcd/client-key.pem" &&
	cat >"$r/etc/systemd/network/wg0.netdev" <<-'E' &&
	[NetDev]
	Name=wg0
	Kind=wireguard

	[WireGuard]
	PrivateKey=WGPRIVATEKEYpl4nted+aaaaaaaaaaaaaaaaaaaaaaa=
	ListenPort=51820

	[WireGuardPeer]
	PublicKey=xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg=
	PresharedKey=WGPSKpl4nted+bbbbbbbbbbbbbbbbbbbbbbbbbbbbb=
	E
	cat >"$r/etc/systemd/system/app.service" <<-'E' &&
	[Unit]
	Description=App in a container

	[Service]
	Environment="DB_PASSWORD=CONTAINERPWpl4nted" "MODE=prod"
	ExecStartPre=/usr/bin/curl -s -H "X-aws-ec2-metadata-token: AWSFILETOKENpl4nted" http://169.254.169.254/latest/meta-data/
	ExecStart=/usr/bin/docker run --rm -e API_TOKEN=CONTAINERTOKENpl4nted nginx

	[Install]
	WantedBy=multi-user.target
	E
	# a key pasted into Environment=: the drop-in holds "PRIVATE KEY-----", so it is never taken
	mkdir -p "$r/etc/systemd/system/app.service.d" &&
	printf '[Service]\nEnvironment="TLS_KEY=-----BEGIN PRIVATE KEY-----\\nENVPEMKEYBODYpl4nted\\n-----END PRIVATE KEY-----"\n' \
		>"$r/etc/systemd/system/app.service.d/tls.conf" &&
	ln -sf /etc/systemd/system/app.service "$r/etc/systemd/system/multi-user.target.wants/app.service" &&
	cat >"$r/usr/share/oem/config.ign" <<-'E' &&
	{"ignition": {"version": "3.4.0", "config": {"merge": [{"source": "https://cfg.example/x",
	 "httpHeaders": [{"name": "Authorization", "value": "Bearer IGNCONFIGSECRETpl4nted"}]}]}}}
	E
	cat >"$r/oem/grub.cfg" <<-'E' &&
	set linux_append="flatcar.autologin"
	set superusers="root"
	password_pbkdf2 root grub.pbkdf2.sha512.10000.GRUBPBKDF2HASHpl4nted.0A1B2C3D4E5F
	E
	echo "BOOT_IMAGE=/flatcar/vmlinuz-b mount.usr=/dev/mapper/usr verity.usr=PARTUUID=e03dd35c-7c2d-4a47-b3fe-27f15780a57c ignition.config.url=https://cfg.example/node.ign?token=CMDLINETOKENpl4nted console=ttyS0" \
		>"$r/proc/cmdline" &&
	echo "bbbbbbbb-bbbb-bbbb-bbbb-bbbbbbbbbbbb" >"$r/proc/sys/kernel/random/boot_id" &&
	printf '{"provisioningBootID":"%s","provisioningDate":"2025-10-01T12:00:00Z","userConfigProvided":true}\n' \
		"$BOOT_PREV" >"$r/etc/.ignition-result.json" &&
	printf 'Panic#1 Part1\n<0>[ 12.345] Kernel panic - not syncing: VFS\n<6>[ 1.0] cmdline password=PSTORESECRETpl4nted\n' \
		>"$r/sys/fs/pstore/dmesg-ramoops-0" &&
	printf 'x\0\1\2compressed' >"$r/sys/fs/pstore/dmesg-efi-176060000001001.enc.z" &&
	printf '<4>[ 2.0] oops in previous boot\n' >"$r/var/lib/systemd/pstore/1760600000/001/dmesg.txt" &&
	printf 'core' >"$r/var/lib/systemd/coredump/core.app.0.bbbb.1234.1760644600000000.zst" &&
	cat >"$r/var/lib/flatctl/update/state.json" <<-'E' &&
	{"schema": 1, "status": "UPDATE_STATUS_UPDATED_NEED_REBOOT", "last_checked_time": 1760644000,
	 "staged": {"version": "4230.2.5", "previous_version": "4230.2.4", "partition": "USR-B",
	  "partuuid": "e03dd35c-7c2d-4a47-b3fe-27f15780a57c", "size": 1000, "installed_time": 1760644100}}
	E
	printf '{"semaphore":0,"max":1,"holders":["%s"]}\n' "$MACHINE_ID" >"$r/var/lib/flatctl/rebootlock/semaphore" &&
	"$MKDISK" -q --layout compact --state updated "$disk" &&

	jdir=$r/var/log/journal/$MACHINE_ID &&
	mkdir -p "$jdir" &&
	"$FLATCTL_SRC/tests/e2e/diag-journal.py" >"$T/export.txt" <<-E &&
	$BOOT_PREV	1760600000	6	kernel	-	Linux version 6.6.0-flatcar
	$BOOT_PREV	1760600001	6	ignition	ignition-fetch.service	GET https://cfg.example/node.ign?token=IGNTOKENpl4nted: attempt #1
	$BOOT_PREV	1760600002	6	ignition	ignition-fetch.service	fetched config: {"httpHeaders":[{"name":"Authorization","value":"Bearer IGNBEARERpl4nted0123456789"}]}
	$BOOT_PREV	1760600003	6	ignition	ignition-files.service	writing file "/etc/app.conf" from "data:;base64,IGNDATAPAYLOADpl4ntedSGVsbG8gd29ybGQgdGhpcyBpcyBhIHNlY3JldCBwYXlsb2Fk"
	$BOOT_PREV	1760600004	6	coreos-metadata	coreos-metadata.service	PUT /latest/api/token -> X-aws-ec2-metadata-token: AWSMETADATATOKENpl4nted
	$BOOT_PREV	1760600005	6	afterburn	-	{"access_token": "GCEACCESSTOKENpl4nted", "expires_in": 3599}
	$BOOT_PREV	1760600006	3	useradd	-	failed adding user 'svc': password \$6\$rounds=5000\$saltsalt\$USERADDHASHpl4nted/abc
	$BOOT_PREV	1760600007	6	app	app.service	-----BEGIN PRIVATE KEY-----
	$BOOT_PREV	1760600008	6	app	app.service	JOURNALPEMKEYBODYpl4nted
	$BOOT_PREV	1760600009	6	app	app.service	-----END PRIVATE KEY-----
	$BOOT_PREV	1760600010	3	docker	docker.service	container app exited: docker run -e MYSQL_PASSWORD=CONTAINERJOURNALPWpl4nted mysql
	$BOOT_PREV	1760600011	4	waagent	-	GET https://acct.blob.core.windows.net/c/b?sv=2020-08-04&sig=AZURESIGpl4nted&se=2025
	$BOOT_PREV	1760600012	3	update_engine	update-engine.service	Update failed: DownloadPayloadPubKeyVerificationError
	$BOOT_PREV	1760600013	6	app	app.service	binary \0 payload
	$BOOT_PREV	1760600014	6	locksmithd	locksmithd.service	line one\nline two of a multi-line message
	$BOOT_CUR	1760644535	6	kernel	-	Linux version 6.6.1-flatcar
	$BOOT_CUR	1760644536	6	systemd	-	Started update-engine.service.
	$BOOT_CUR	1760644537	6	update_engine	update-engine.service	Update succeeded, reboot needed
	$BOOT_CUR	1760644538	2	kernel	-	EXT4-fs error (device vda9): critical
	$BOOT_PREV	1760600007.5	6	web	-	GET / 200 (between the lines of app's key)
	E
	"$JOURNAL_REMOTE" -o "$jdir/system.journal" - <"$T/export.txt" 2>"$T/journal-remote.log"
}

# no_secrets FILE: none of DIAG_SECRETS occurs in the decompressed bundle, headers included.
no_secrets() {
	local s found=0 &&
	zcat "$1" >"$T/bundle.tar" &&
	while IFS= read -r s; do
		[ -n "$s" ] || continue
		if grep -a -F -q -e "$s" "$T/bundle.tar"; then
			echo "secret found in $1: $s" >&2 &&
			grep -a -F -e "$s" "$T/bundle.tar" | head -3 >&2 &&
			found=1
		fi || return 1
	done <<-E &&
	$DIAG_SECRETS
	E
	[ "$found" = 0 ]
}

# every planted secret is really in the root (so that no_secrets proves something)
secrets_planted() {
	local s missing=0 &&
	while IFS= read -r s; do
		[ -n "$s" ] || continue
		if ! grep -r -a -F -q -e "$s" "$1" && ! grep -a -F -q -e "$s" "$T/export.txt"; then
			echo "secret not planted: $s" >&2 &&
			missing=1
		fi || return 1
	done <<-E &&
	$DIAG_SECRETS
	E
	[ "$missing" = 0 ]
}

# manifest BUNDLE [PY-EXPR]: print manifest.json of a bundle.
manifest() { tar -xzOf "$1" --wildcards '*/manifest.json'; }
