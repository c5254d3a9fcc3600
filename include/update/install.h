/* SPDX-License-Identifier: MIT */
/* include/update/install.h - the updater's use of the partition core: which USR partition is the
 * target, the postinstall flip and its undo (docs/update.md 6.1, 6.5, 2.4). */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "util/cleanup.h"

struct gpt;
struct problem_list;

/* The two USR partitions of 6.1: exactly one "USR-A" and one "USR-B". Given the label of one of
 * them (the booted one, or the target), *ret_other is the other. Returns 0, or -ENOENT /
 * -ENOTUNIQ with a problem naming the label. */
int update_usr_pair(const struct gpt *g, const char *label, unsigned *ret_nr, unsigned *ret_other,
		    struct problem_list *reterr);

/* 2.4: undo the flip of 6.5 in memory: `booted` becomes the highest-priority boot target again,
 * `target` gets priority 0 and tries 0 (its data and successful bit stay). The caller commits. */
int update_gpt_revert(struct gpt *g, unsigned booted, unsigned target);

struct gpt_disk;

/* The booted USR partition (partitions.md 8.7) and whether it is marked good (successful=1,
 * tries=0). -ENOENT when unknown or only inferred from the attributes: nothing may be marked
 * then (update.md 8.1). */
int update_booted_partition(int root_fd, bool root_is_slash, const struct gpt_disk *d,
			    unsigned *ret_nr, bool *ret_good);

struct crypto_key;
struct payload_manifest;

/* Where an install goes and what it trusts. */
struct update_target {
	int root_fd;                     /* --root: kernels under /boot */
	struct gpt_disk *disk;           /* opened (and locked) by the caller */
	unsigned booted, target;         /* entry numbers; never equal */
	const char *target_label;        /* "USR-B" */
	const struct crypto_key *const *keys;
	size_t n_keys;
	/* may be NULL; non-zero: the verify and write passes stop between two pieces of the
	 * payload (the payload stream finishes the operations it has begun) with -ECANCELED */
	const volatile int *cancel;
};

/* What the verify pass found. */
struct update_verified {
	struct payload_manifest *manifest;
	uint8_t signed_digest[32];
	uint8_t sha256[32];              /* of the whole file */
	uint64_t size;
	const char *matched_key;         /* owned by the key */
	unsigned matched_version;
	/* The decompressed USR image from the verify pass (an unlinked O_TMPFILE in the state
	 * directory), which the write pass copies instead of decompressing again; has_spool false:
	 * none (no room, no O_TMPFILE), the write pass decompresses. Closed by the release. */
	bool has_spool;
	int spool_fd;
};
void update_verified_release(struct update_verified *v);

/* Verifying while downloading: the bytes staged in payload.part are fed, in order, to a verify
 * pass as they arrive, so that update_payload_verify() need not read the file again. It never
 * fails a download: anything unexpected (bytes out of order, a bad payload) just ends it, and the
 * staged file is then verified from the start when complete, with 5.5's errors in 5.5's order.
 * reserve: bytes the rest of the download needs beside the spool. */
struct update_early;
int update_early_new(const struct update_target *t, uint64_t reserve, struct update_early **ret);
struct update_early *update_early_free(struct update_early *e);
DEFINE_CLEANUP(struct update_early, update_early_free)
/* data was written to the staged file at offset (0 with bytes already fed: a restarted file) */
void update_early_feed(struct update_early *e, const void *data, size_t n, uint64_t offset);
/* Before a (resumed) download: feed what the staged file already holds up to `have`. */
int update_early_catch_up(struct update_early *e, int part_fd, uint64_t have);

/* 5.5 on fd (read from offset 0): size (when expect_size > 0), SHA-256 against expect_sha256 and
 * expect_sha256_alt (each may be NULL), magic, manifest, file end, signatures, every blob; then
 * the image against the target partition (new image larger than it: -EFBIG, code 7; an extent
 * outside it: -ERANGE, code 28). Never writes. On failure *ret_code is the Omaha code (4.4) and
 * the problem list says what failed and where. early (may be NULL): what was verified while
 * downloading; used when it saw exactly fd's bytes and found nothing wrong. */
int update_payload_verify(const struct update_target *t, int fd, uint64_t expect_size,
			  const uint8_t *expect_sha256, const uint8_t *expect_sha256_alt,
			  struct update_early *early, struct update_verified *ret, int *ret_code,
			  struct problem_list *reterr);

/* 6.2-6.4: write the verified payload in fd onto the target partition (each blob re-checked),
 * fsync, read back against new_partition_info; the kernel to /boot/flatcar/vmlinuz-X (checked,
 * renamed into place). The booted partition and its kernel are never opened for writing. The
 * spool of v is closed (v->has_spool false) once every operation is written. */
int update_payload_write(const struct update_target *t, int fd, struct update_verified *v,
			 int *ret_code, struct problem_list *reterr);

/* 6.5: the target becomes the next boot (tries=1, successful=0, highest priority); this is the
 * last disk write. -errno with problems, code 5 on failure. */
int update_flip(const struct update_target *t, int *ret_code, struct problem_list *reterr);

/* Standard base64 of a 32-byte digest into out (at least 45 bytes); "" if out of memory. */
void update_base64_32(const uint8_t in[32], char *out);

/* Fault injection for crash tests (docs/cli.md exit 99 sibling): when FLATCTL_TEST_UPDATE_KILL
 * names this point ("download:BYTES", "verify", "write:BYTES", "flip"), the process kills itself
 * with SIGKILL, exactly like `kill -9`. For download, `amount` is the bytes held; for write, the
 * payload bytes fed to the write pass. */
void update_test_kill_point(const char *point, uint64_t amount);
static inline void update_test_kill_point_download(uint64_t done)
{
	update_test_kill_point("download", done);
}
