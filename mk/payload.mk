# mk/payload.mk - lib/payload: protobuf-c code generated from our own .proto at build time
# (docs/update.md 12), the payload tools the tests use, and the apply benchmark driver.


# Fragments are included before the Makefile's first rule: keep `make` meaning `make all`.
.DEFAULT_GOAL := all
PAYLOAD_PROTO   := lib/payload/update_metadata.proto
PAYLOAD_GEN_DIR := $(B)/gen/payload
GEN_SRC += $(PAYLOAD_GEN_DIR)/update_metadata.pb-c.c
GEN_HDR += $(PAYLOAD_GEN_DIR)/update_metadata.pb-c.h

DEPS_APT += bzip2 xz-utils openssl coreutils e2fsprogs time python3

$(PAYLOAD_GEN_DIR)/update_metadata.pb-c.c $(PAYLOAD_GEN_DIR)/update_metadata.pb-c.h &: $(PAYLOAD_PROTO)
	@mkdir -p $(PAYLOAD_GEN_DIR)
	@$(if $(Q),echo "  PROTOC  $(PAYLOAD_PROTO)")
	$(Q)protoc-c --proto_path=lib/payload --c_out=$(PAYLOAD_GEN_DIR) $(notdir $(PAYLOAD_PROTO))

# Generated code: compiled with our flags but without the warnings protoc-c's output trips.
$(PAYLOAD_GEN_DIR)/%.o: $(PAYLOAD_GEN_DIR)/%.c $(PAYLOAD_GEN_DIR)/update_metadata.pb-c.h
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(ALL_CFLAGS) -Wno-missing-prototypes -Wno-unused-parameter -c -o $@ $<

# bench/payload-apply links this driver against libflatctl.a (there is no CLI install verb yet).
PAYLOAD_BENCH := $(B)/bench/payload-apply-driver
$(PAYLOAD_BENCH): bench/payload-apply-driver.c $(B)/libflatctl.a
	@mkdir -p $(@D)
	@$(if $(Q),echo "  CC      $@")
	$(Q)$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $< $(B)/libflatctl.a $(PKG_LIBS)
