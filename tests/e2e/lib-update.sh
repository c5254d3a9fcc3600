# tests/e2e/lib-update.sh - helpers for the update tests (t035x); source after lib.sh.
# A root tree with a release file and a trusted key, a compact disk image, payloads made with
# `flatctl update pack`, and the loopback Omaha server of tests/servers/omaha.py.
SERVERS=$FLATCTL_SRC/tests/servers
R=$T/root
D=$T/disk.img
S=$R/var/lib/flatctl/update/state.json
PART=$R/var/lib/flatctl/update/payload.part

setup_update() {
	mkdir -p "$R/usr/share/flatcar" "$R/usr/share/update_engine" "$R/etc/flatcar" &&
	echo 'FLATCAR_RELEASE_VERSION=3975.2.1' >"$R/usr/share/flatcar/release" &&
	echo 'FLATCAR_RELEASE_BOARD=amd64-usr' >>"$R/usr/share/flatcar/release" &&
	echo 4f2a9c0d1e8b47c6a5d3b2e1f0a9c8d7 >"$R/etc/machine-id" &&
	openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$T/key.pem" 2>/dev/null &&
	openssl pkey -in "$T/key.pem" -pubout -out "$R/usr/share/update_engine/update-payload-key.pub.pem" &&
	openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$T/other.pem" 2>/dev/null &&
	"$MKDISK" -q --layout compact --state fresh "$D"
}

# make_payload OUT IMAGE_BYTES [KERNEL_BYTES]: random image (and kernel) signed with key.pem;
# leaves OUT.img (and OUT.kernel) next to it.
make_payload() {
	head -c "$2" /dev/urandom >"$1.img" &&
	if [ -n "${3:-}" ]; then
		head -c "$3" /dev/urandom >"$1.kernel" &&
		flatctl update pack --image "$1.img" --kernel "$1.kernel" --key "$T/key.pem" \
			--compress none --out "$1" >/dev/null
	else
		flatctl update pack --image "$1.img" --key "$T/key.pem" --compress none --out "$1" >/dev/null
	fi
}

# make_bz_payload OUT: a compressible 6 MiB image (text, zeros and random 64 KiB blocks) in
# OUT.img, packed into OUT as REPLACE_BZ in 256 KiB chunks, signed with key.pem (the spool's case).
make_bz_payload() {
	python3 - "$1.img" <<-'PY' &&
	import os, sys
	out = open(sys.argv[1], "wb")
	for i in range(96):
	    k = i % 3
	    if k == 0:
	        out.write(((b"flatctl test image line %d\n" % i) * 4096)[:65536])
	    elif k == 1:
	        out.write(b"\0" * 65536)
	    else:
	        out.write(os.urandom(65536))
	PY
	flatctl update pack --image "$1.img" --key "$T/key.pem" --compress bzip2 --chunk-size 262144 \
		--out "$1" >"$1.pack.out"
}

# part_sum N [BYTES]: SHA-256 of partition N's first BYTES (default: all of it).
part_sum() {
	local start size &&
	start=$(cgpt show -i "$1" -b "$D") &&
	size=$(cgpt show -i "$1" -s "$D") &&
	if [ -n "${2:-}" ]; then
		dd if="$D" bs=512 skip="$start" count="$size" 2>/dev/null | head -c "$2" | sha256sum | cut -d' ' -f1
	else
		dd if="$D" bs=512 skip="$start" count="$size" 2>/dev/null | sha256sum | cut -d' ' -f1
	fi
}
file_sum() { sha256sum "$1" | cut -d' ' -f1; }

# attrs N: "priority tries successful"
attrs() { echo "$(cgpt show -i "$1" -P "$D") $(cgpt show -i "$1" -T "$D") $(cgpt show -i "$1" -S "$D")"; }

# gpt_bytes: the primary and backup GPT regions, to prove they did not change
gpt_bytes() { { head -c $((34 * 512)) "$D" && tail -c $((33 * 512)) "$D"; } | sha256sum | cut -d' ' -f1; }

# start_omaha ARGS...: the loopback Omaha server; sets PORT and OMAHA_URL, writes update.conf.
start_omaha() {
	rm -f "$T/port" "$T/requests.log" || return 1
	python3 "$SERVERS/omaha.py" --port-file "$T/port" --log "$T/requests.log" "$@" \
		>"$T/omaha.out" 2>&1 &
	OMAHA_PID=$! &&
	cleanup_pid $OMAHA_PID &&
	while [ ! -s "$T/port" ]; do
		kill -0 $OMAHA_PID 2>/dev/null || { cat "$T/omaha.out" >&2; return 1; }
		sleep 0.05
	done &&
	PORT=$(cat "$T/port") &&
	OMAHA_URL=http://127.0.0.1:$PORT/v1/update/ &&
	echo "SERVER=$OMAHA_URL" >"$R/etc/flatcar/update.conf"
}
stop_omaha() { kill $OMAHA_PID 2>/dev/null && wait $OMAHA_PID 2>/dev/null || true; }

# events: the events the server received, one "type/result[/code]" per line, in order
events() {
	python3 - "$T/requests.log" <<'PY'
import json, sys
for line in open(sys.argv[1]):
    for e in json.loads(line).get("events", []):
        s = "%s/%s" % (e["eventtype"], e["eventresult"])
        if e.get("errorcode"):
            s += "/" + e["errorcode"]
        print(s)
PY
}

# jq-less JSON field: json_get FILE EXPR (python expression on d)
json_get() { python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print($2)" "$1"; }

# The crash tests (t0356, t0366): a 6 MiB image with a kernel, a fresh disk per case, and what
# "installed" means after a rerun.
crash_setup() {
	setup_update &&
	make_payload "$T/p.gz" $((6 * 1024 * 1024)) 200000 &&
	SIZE=$(stat -c %s "$T/p.gz") &&
	IMG=$((6 * 1024 * 1024)) &&
	A0=$(part_sum 3)
}
fresh() {
	"$MKDISK" -q --force --layout compact --state fresh "$D" && rm -rf "${R:?}/var" "${R:?}/run" "${R:?}/boot" &&
	G0=$(gpt_bytes)
}
installed() {
	test "$(part_sum 4 $IMG)" = "$(file_sum "$T/p.gz.img")" &&
	cmp "$T/p.gz.kernel" "$R/boot/flatcar/vmlinuz-b" &&
	test "$(attrs 4)" = "2 1 0" && test "$(attrs 3)" = "1 0 1" && test "$(part_sum 3)" = "$A0" &&
	test "$(json_get "$S" "d[\"status\"]")" = UPDATE_STATUS_UPDATED_NEED_REBOOT &&
	test -e "$R/run/reboot-required" && test ! -e "$PART" &&
	flatctl --root "$R" --disk "$D" update verify "$T/p.gz" >/dev/null
}

# start_serve DIR [ARGS...]: `flatctl update serve DIR` on a free loopback port, its JSON-lines
# log in $T/serve.log and its messages in $T/serve.err; sets SERVE_PID, SERVE_PORT and
# SERVE_URL and writes update.conf (SERVER, GROUP=stable). The binary is started directly (not
# through the flatctl function) so that SERVE_PID is the server itself.
start_serve() {
	rm -f "$T/serve.err" &&
	valgrind_bg &&
	{ "${VG_BG[@]}" "$FLATCTL" update serve "$@" --listen 127.0.0.1:0 --log "$T/serve.log" \
		2>"$T/serve.err" & } &&
	SERVE_PID=$! &&
	cleanup_pid $SERVE_PID &&
	test_wait_for 30 'grep -q " on http://" "$T/serve.err" || ! kill -0 $SERVE_PID 2>/dev/null' &&
	SERVE_PORT=$(sed -n 's|^flatctl update: serving .* on http://127\.0\.0\.1:\([0-9]*\)/.*|\1|p' "$T/serve.err") &&
	{ [ -n "$SERVE_PORT" ] || { cat "$T/serve.err" >&2; false; }; } &&
	SERVE_URL=http://127.0.0.1:$SERVE_PORT &&
	printf 'SERVER=%s/v1/update/\nGROUP=stable\n' "$SERVE_URL" >"$R/etc/flatcar/update.conf"
}
stop_serve() { kill "$SERVE_PID" 2>/dev/null && wait "$SERVE_PID"; }

# serve_events: the events `update serve` logged, one "type/result[/code]" per line, in order
serve_events() {
	python3 - "$T/serve.log" <<'PY'
import json, sys
for line in open(sys.argv[1]):
    for e in json.loads(line).get("events") or []:
        s = "%s/%s" % (e["eventtype"], e["eventresult"])
        if e.get("errorcode"):
            s += "/" + e["errorcode"]
        print(s)
PY
}

# serve_payload FILE VERSION: `update serve` offering a copy of FILE as VERSION to the group
# stable (what start_omaha --payload FILE --version VERSION does, for tests that need nothing
# else of the test server); its log is $T/serve.log (serve_events reads it).
serve_payload() {
	mkdir -p "$T/srv" &&
	cp "$1" "$T/srv/" &&
	printf '{"groups": {"stable": {"version": "%s", "payload": "%s"}}}\n' "$2" "$(basename "$1")" \
		>"$T/srv/serve.json" &&
	start_serve "$T/srv"
}
