# mk/provision.mk - provision area: Ignition config engine (spec/provision.md).
DEPS_APT += jq python3 openssl
