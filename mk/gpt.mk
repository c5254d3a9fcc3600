# mk/gpt.mk - the GPT area (lib/gpt, partition and rollback applets): test tools.
DEPS_APT += gdisk cgpt hyperfine util-linux
