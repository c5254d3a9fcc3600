# tests/e2e/lib-platforms.sh - helpers for the platform tests (t0230, t0231); source after
# lib.sh. Loopback metadata servers (tests/servers/metadata.py) and dry runs against them.
# Every run gets a loopback FLATCTL_TEST_PLATFORM_URL (a closed port unless a case starts a
# server), so no test can reach a real metadata endpoint, whatever a case forgets.
export FLATCTL_TEST_PLATFORM_URL=http://127.0.0.1:1
R=$T/root
mkdir -p "$R/proc" "$R/etc"
: >"$R/proc/cmdline"

# start_metadata PROVIDER: a server with its state in $T/PROVIDER/, its URL in $URL_PROVIDER
start_metadata() {
	mkdir -p "$T/$1" &&
	{ python3 "$FLATCTL_SRC/tests/servers/metadata.py" --provider "$1" --state "$T/$1" \
		--port-file "$T/$1.port" >"$T/$1.out" 2>&1 & } &&
	cleanup_pid $! &&
	for _ in $(seq 1 600); do [ -s "$T/$1.port" ] && break; sleep 0.05 || return 1; done &&
	eval "URL_$1=http://127.0.0.1:$(cat "$T/$1.port")"
}

# dry PROVIDER [OPTIONS]: a dry run of the root against PROVIDER's server
dry() {
	local p=$1 u &&
	shift &&
	u=$(eval echo "\$URL_$p") &&
	FLATCTL_TEST_PLATFORM_URL=$u flatctl provision --root "$R" --dry-run --platform "$p" "$@"
}
