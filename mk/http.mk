# mk/http.mk - lib/http, lib/crypto, lib/omaha: test dependencies.
# Unit tests start loopback servers (tests/servers/*.py, python3 stdlib) and make throw-away
# certificates and keys with the openssl command line tool.
DEPS_APT += python3 openssl
