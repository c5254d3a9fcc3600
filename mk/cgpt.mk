# mk/cgpt.mk - the cgpt link (cmd/cgpt.c): test tools its e2e tests compare with, the benchmark.
DEPS_APT += cgpt gdisk util-linux hyperfine python3

.PHONY: bench-cgpt
bench-cgpt: $(B)/flatctl
	bench/cgpt-show $(B)/flatctl
