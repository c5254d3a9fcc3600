# tests/lock/etcd.sh - start real etcd members on 127.0.0.1 for the lock tests (sourced after
# tests/e2e/lib.sh). Data dirs live in $T; every PID is registered with cleanup_pid.
# etcd_start_cluster N [extra etcd flags]: sets ETCD_ENDPOINTS (comma list), ETCD_URL_i, ETCD_PID_i.
# Set for the call: ETCD_SCHEME=https (client URLs; give --cert-file/--key-file as extra flags),
# ETCD_CURL_OPTS (curl options of the health check: --cacert, --cert, --key), ETCD_PREFIX (member
# names and data dirs, default m: a second cluster next to the first needs its own).

# etcd is a test dependency that `make deps` installs (mk/lock.mk): missing is a failure, not a skip
for tool in etcd etcdctl jq curl; do
	command -v "$tool" >/dev/null || { echo "Bail out! $tool not installed: run make deps"; exit 1; }
done

# A free TCP port on 127.0.0.1 (random, checked against listening sockets).
etcd_free_port() {
	while :; do
		p=$(( 20000 + $(od -An -N2 -tu2 /dev/urandom | tr -d ' ') % 30000 )) &&
		if ! ss -Htln "sport = :$p" 2>/dev/null | grep -q .; then
			echo "$p"
			return
		fi
	done
}

# etcd_wait_healthy URL [PID...]: until URL reports healthy; gives up early when one of the
# PIDs (the members just started) has exited, e.g. because its port was taken meanwhile.
etcd_wait_healthy() {
	url=$1; shift
	# generous: a loaded machine can take many seconds to elect a leader
	for _ in $(seq 1 600); do
		# shellcheck disable=SC2086 # options, split on purpose
		if curl -s -m 1 ${ETCD_CURL_OPTS:-} "$url/health" 2>/dev/null | grep -q '"health":"true"'; then
			return 0
		fi &&
		for pid in "$@"; do
			kill -0 "$pid" 2>/dev/null || { echo "etcd (PID $pid) exited" >&2; return 1; }
		done &&
		sleep 0.1
	done
	echo "etcd at $url did not become healthy" >&2
	return 1
}

# One attempt of etcd_start_cluster on fresh random ports.
_etcd_start_once() {
	n=$1 && shift &&
	m=${ETCD_PREFIX:-m} sc=${ETCD_SCHEME:-http} &&
	cluster= &&
	for i in $(seq 1 "$n"); do
		eval "ETCD_CPORT_$i=$(etcd_free_port)" &&
		eval "ETCD_PPORT_$i=$(etcd_free_port)" &&
		eval "pp=\$ETCD_PPORT_$i" &&
		cluster="${cluster:+$cluster,}$m$i=http://127.0.0.1:$pp" || return 1
	done &&
	ETCD_ENDPOINTS= &&
	_etcd_pids= &&
	for i in $(seq 1 "$n"); do
		eval "cp=\$ETCD_CPORT_$i; pp=\$ETCD_PPORT_$i" &&
		rm -rf "$T/etcd-$m$i" && mkdir -p "$T/etcd-$m$i" && chmod 700 "$T/etcd-$m$i" || return 1
		etcd --name "$m$i" --data-dir "$T/etcd-$m$i" \
			--listen-client-urls "$sc://127.0.0.1:$cp" \
			--advertise-client-urls "$sc://127.0.0.1:$cp" \
			--listen-peer-urls "http://127.0.0.1:$pp" \
			--initial-advertise-peer-urls "http://127.0.0.1:$pp" \
			--initial-cluster "$cluster" --initial-cluster-state new \
			--initial-cluster-token "flatctl-test-$$" \
			--logger zap --log-outputs "$T/etcd-$m$i.log" "$@" 2>>"$T/etcd-$m$i.stderr" &
		pid=$! &&
		{ disown "$pid" 2>/dev/null || :; } && # no "Killed" job notices on stderr
		cleanup_pid "$pid" &&
		_etcd_pids="$_etcd_pids $pid" &&
		eval "ETCD_PID_$i=$pid; ETCD_URL_$i=$sc://127.0.0.1:$cp" &&
		ETCD_ENDPOINTS="${ETCD_ENDPOINTS:+$ETCD_ENDPOINTS,}$sc://127.0.0.1:$cp" || return 1
	done &&
	for i in $(seq 1 "$n"); do
		# shellcheck disable=SC2086 # a list of PIDs
		eval "etcd_wait_healthy \$ETCD_URL_$i $_etcd_pids" || return 1
	done
}

# etcd_start_cluster N [extra etcd flags]: a free port can be taken by another test between the
# check and etcd's bind, so a start whose member exits is retried on other ports (3 attempts).
etcd_start_cluster() {
	for attempt in 1 2 3; do
		if _etcd_start_once "$@"; then
			export ETCDCTL_API=3
			return 0
		fi &&
		for pid in $_etcd_pids; do kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null || :; done &&
		echo "etcd start attempt $attempt failed; see $T/etcd-*.stderr" >&2
	done
	echo "Bail out! etcd did not start (3 attempts)"
	return 1
}

# etcd_get_raw KEY: the stored value, byte for byte (no trailing newline added).
etcd_get_raw() {
	etcdctl --endpoints "$ETCD_ENDPOINTS" get --print-value-only "$1" | head -c -1
}

# etcd_history KEY: every value KEY ever had, one per line, into $T/.hist. A watch from revision 1
# replays the whole history (nothing is compacted in these tests); it is read up to the key's
# current revision, however long a loaded machine takes for that.
etcd_history() {
	local last w &&
	last=$(etcdctl --endpoints "$ETCD_ENDPOINTS" get "$1" -w json | jq -r ".kvs[0].mod_revision") &&
	{ etcdctl --endpoints "$ETCD_ENDPOINTS" watch --rev=1 -w json "$1" >"$T/.hist.json" 2>/dev/null & } &&
	w=$! &&
	test_wait_for 600 "test \"\$(jq -s \"[.[].Events[]?.kv.mod_revision] | max\" \"\$T/.hist.json\" \
		2>/dev/null)\" = $last" || { kill "$w" 2>/dev/null; return 1; }
	{ kill "$w" 2>/dev/null && wait "$w" 2>/dev/null || :; } &&
	jq -r ".Events[]?.kv.value | @base64d" "$T/.hist.json" >"$T/.hist"
}

# etcd_history_max KEY: the largest number of holders KEY ever had, over every stored revision.
etcd_history_max() {
	etcd_history "$1" && jq -s 'map(.holders | length) | max // 0' "$T/.hist"
}

# etcd_history_count: how many writes the key of the last etcd_history_max saw.
etcd_history_count() {
	grep -c '^{' "$T/.hist"
}

# contenders N HOLD_SECONDS [flatctl lock options...]: N processes each lock --wait, hold, unlock;
# each records "got" with the holder count it saw right after locking into $T/got. With
# CONTENDERS_GATE=FILE, a holder unlocks only once FILE exists (to stop a run in the middle).
# shellcheck disable=SC2086 # $pids: a list of PIDs
contenders() {
	n=$1 && hold=$2 && shift 2 &&
	: >"$T/got" && : >"$T/fail" &&
	pids= &&
	for i in $(seq 1 "$n"); do
		(
			if flatctl --root "$T" lock "$@" --wait=600s lock "c$i" 2>>"$T/fail"; then
				echo "c$i" >>"$T/got" &&
				if [ -n "${CONTENDERS_GATE:-}" ]; then
					test_wait_for 600 "test -e \"\$CONTENDERS_GATE\""
				fi &&
				sleep "$hold" &&
				flatctl --root "$T" lock "$@" --timeout=60s unlock "c$i" 2>>"$T/fail" ||
					echo "unlock c$i failed" >>"$T/fail"
			else
				echo "lock c$i failed" >>"$T/fail"
			fi
		) &
		pids="$pids $!" || return 1
	done &&
	wait $pids
}

# etcd_stop PID [SIGNAL]: stop one member and wait until the process is gone.
etcd_stop() {
	kill "-${2:-TERM}" "$1" 2>/dev/null || :
	for _ in $(seq 1 200); do
		kill -0 "$1" 2>/dev/null || return 0
		sleep 0.05
	done
	return 1
}
