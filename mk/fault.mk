# mk/fault.mk - the fault-injection build (docs/testing.md, "Fault injection"): build/fault/flatctl
# (under another B: $(B)/fault/flatctl) is the dev build linked with tests/fault/fault.c and the
# linker's --wrap for the storage and allocation calls it can fail. `make check`, `make
# check-e2e` and `make valgrind` build it for t0820; no other build links the hook or wraps a call.

FAULT_WRAP := write pwrite fsync fdatasync rename renameat renameat2 \
	      malloc calloc realloc strdup strndup

ifeq ($(VARIANT),fault)
BASE_LDFLAGS += $(foreach f,$(FAULT_WRAP),-Wl,--wrap=$(f)) $(B)/obj/tests/fault/fault.o
$(B)/flatctl: $(B)/obj/tests/fault/fault.o
# under `make asan` the fault build is sanitized too: the error paths it reaches are checked
ifeq ($(FAULT_ASAN),1)
OPT_CFLAGS := -O1 -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all
BASE_LDFLAGS += -fsanitize=address,undefined
endif
endif

.PHONY: fault
fault:
	$(Q)$(MAKE) --no-print-directory B=$(B)/fault VARIANT=fault \
		FAULT_ASAN=$(if $(filter asan,$(VARIANT)),1,0) $(B)/fault/flatctl

check check-e2e valgrind: fault

# The fault build of a static build, for check-arm64 (mk/arm64.mk), where no dynamic build exists:
# $(B)/fault-static/flatctl from the static objects. The wrap is applied in a relocatable link of
# flatctl's own objects and the hook, so that, as in the dynamic fault build, only flatctl's own
# calls are wrapped: the static libraries' calls (glibc's, OpenSSL's, curl's) keep the real
# functions.
ifeq ($(VARIANT),static)
# (its prerequisites are read before CMD_OBJ is set: $(B)/flatctl stands for the objects)
$(B)/fault-static/flatctl: $(B)/flatctl $(B)/obj/tests/fault/fault.o
	@mkdir -p $(@D)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CROSS)ld -r $(foreach f,$(FAULT_WRAP),--wrap=$(f)) -o $(@D)/flatctl.o \
		$(CMD_OBJ) $(B)/obj/tests/fault/fault.o $(B)/libflatctl.a
	$(Q)$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $(@D)/flatctl.o $(PKG_LIBS) $(LINK_LOG)
endif
