/* SPDX-License-Identifier: MIT */
/* include/payload/payload.h - CrAU v1 update payloads: streaming reader/verifier/installer and the
 * generator behind `update pack` (docs/update.md 5, 6.2-6.4). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct crypto_key;
struct problem_list;

#define PAYLOAD_HEADER_SIZE 20u
#define PAYLOAD_VERSION 1u
#define PAYLOAD_MANIFEST_MAX (16u << 20)
#define PAYLOAD_OPS_MAX 65536u
#define PAYLOAD_EXTENTS_MAX 256u
#define PAYLOAD_SIGNATURES_MAX (64u << 10)
#define PAYLOAD_KERNEL_MAX (256ull << 20)
/* flatctl's bound on one operation's blob, so that memory stays bounded whatever the payload
 * (Flatcar's generator writes 1 MiB chunks). A bigger blob is rejected as an oversized operation. */
#define PAYLOAD_OP_DATA_MAX (32u << 20)
#define PAYLOAD_SHA256_SIZE 32u
#define PAYLOAD_SHA1_SIZE 20u
#define PAYLOAD_SPARSE_HOLE UINT64_MAX

enum payload_op_type {
	PAYLOAD_OP_REPLACE = 0,
	PAYLOAD_OP_REPLACE_BZ = 1,
	PAYLOAD_OP_MOVE = 2,
	PAYLOAD_OP_BSDIFF = 3,
	PAYLOAD_OP_REPLACE_XZ = 8,
};
/* "REPLACE_BZ", ... or NULL for a type without a name. */
const char *payload_op_type_to_string(int type);

/* Omaha error codes of docs/update.md 4.4 that payload failures map to. */
enum payload_error_code {
	PAYLOAD_CODE_OK = 0,
	PAYLOAD_CODE_ERROR = 1,
	PAYLOAD_CODE_SIZE_MISMATCH = 11,
	PAYLOAD_CODE_UNSIGNED = 17,
	PAYLOAD_CODE_SIGNATURE = 18,
	PAYLOAD_CODE_MAGIC = 21,
	PAYLOAD_CODE_MANIFEST = 23,
	PAYLOAD_CODE_OPERATION = 28,
	PAYLOAD_CODE_OP_HASH = 29,
};
/* The errnos lib/payload returns for payload faults, and the code each stands for:
 *   -EPROTO 21 (magic), -EBADMSG 23 (header/manifest), -ERANGE 28 (offsets, extents, bounds),
 *   -EUCLEAN 28 (corrupt bzip2/xz data), -EILSEQ 29 (blob hash), -EMSGSIZE 11 (file size),
 *   -ENOKEY 17 (unsigned), -EKEYREJECTED 18 (no signature verifies). Anything else: 1. */
enum payload_error_code payload_error_code(int r);
/* True for the errnos above: the payload is invalid (as opposed to I/O or memory trouble). */
bool payload_error_is_invalid(int r);

enum payload_target {
	PAYLOAD_TARGET_USR,    /* partition_operations: the USR image */
	PAYLOAD_TARGET_KERNEL, /* operations of the KERNEL procedure */
	PAYLOAD_TARGET_SKIP,   /* PCR_POLICY or unknown procedures: data walked over, not used */
};

struct payload_extent {
	uint64_t start_block;
	uint64_t num_blocks;
};

/* One operation in blob walk order (partition_operations, then each procedure's). */
struct payload_op {
	unsigned index;            /* walk index, the N of "operation N" */
	enum payload_target target;
	int type;                  /* enum payload_op_type */
	uint64_t data_offset;      /* relative to the start of the blobs */
	uint64_t data_length;
	uint8_t hash[PAYLOAD_SHA256_SIZE];
	struct payload_extent *extents;
	size_t n_extents;
	uint64_t dst_bytes;        /* sum of extent bytes */
	uint64_t spooled;          /* bytes of this op's output in the verify pass's spool; 0: none */
};

/* The decoded and structurally validated header + manifest (5.1-5.3). */
struct payload_manifest {
	uint64_t manifest_size;                 /* M */
	uint8_t *raw;                           /* the M manifest bytes as read */
	uint32_t block_size;
	uint64_t signatures_offset, signatures_size;
	uint64_t blobs_offset;                  /* 20 + M: file offset of the blobs */
	uint64_t file_size;                     /* where the file must end */
	uint64_t new_size;                      /* new_partition_info */
	uint8_t new_hash[PAYLOAD_SHA256_SIZE];
	bool has_kernel;
	uint64_t kernel_size;                   /* KERNEL procedure new_info */
	uint8_t kernel_hash[PAYLOAD_SHA256_SIZE];
	struct payload_op *ops;
	size_t n_ops;
	unsigned n_by_type[3];                  /* USR operations: REPLACE, REPLACE_BZ, REPLACE_XZ */
	unsigned n_kernel_ops, n_skipped_ops, n_noop_ops;
	uint64_t usr_dst_bytes;                 /* total bytes of USR extents */
	bool overlapping;                       /* USR extents overlap: apply strictly in order */
};

struct payload_manifest *payload_manifest_free(struct payload_manifest *m);

/* Check the 20-byte header (5.1, 5.5 step 3); *ret_manifest_size is M. */
int payload_header_parse(const uint8_t *buf, size_t n, uint64_t *ret_manifest_size,
			 struct problem_list *reterr);

/* Decode and validate the manifest of M = size bytes (5.2, 5.3). partition_size bounds the USR
 * extents (0: bounded by new_partition_info.size). The counts of operations, extents and
 * procedures are checked on the wire before decoding, and decoding may allocate at most
 * payload_manifest_mem_budget(size) bytes. *ret is set only on success. */
int payload_manifest_parse(const uint8_t *data, size_t size, uint64_t partition_size,
			   struct payload_manifest **ret, struct problem_list *reterr);
size_t payload_manifest_mem_budget(size_t manifest_size);

/* Signatures message (5.4). */
struct payload_signature {
	uint32_t version;
	uint8_t *data;
	size_t size;
};
struct payload_signatures {
	struct payload_signature *item;
	size_t n;
};
int payload_signatures_parse(const uint8_t *data, size_t size, uint64_t file_offset,
			     struct payload_signatures *ret, struct problem_list *reterr);
void payload_signatures_release(struct payload_signatures *s);

/* Streaming reader. Feed the payload bytes in order (from a file or a download callback); it
 * checks header and manifest as soon as they are complete, hashes everything, verifies each
 * blob's SHA-256 and decompresses it on a bounded pool of worker threads, and at the end checks
 * the file size, the signatures and then the operations, in the order of spec 5.5.
 *
 * Verify mode (usr_fd < 0 and kernel_fd < 0): decompressed data is discarded (or spooled, see
 * `spool` below); an operation fault
 * is held back until finish so that a size or signature fault is reported first.
 * Write mode: `verified` must be the manifest of an earlier verify pass over the same file; the
 * manifest bytes must match it, each blob is hash-checked before anything of it is written, and
 * decompressed data goes to usr_fd at usr_offset + extent offset (and to kernel_fd, truncated to
 * the kernel size at the end). Any fault stops at once. */
struct payload_stream_opts {
	const struct crypto_key *const *keys; /* trusted public keys; required in verify mode */
	size_t n_keys;
	uint64_t partition_size;         /* bound for USR extents; 0: new_partition_info.size */
	const struct payload_manifest *verified;
	const uint8_t *verified_digest;  /* signed-bytes SHA-256 of that pass (write mode) */
	int usr_fd;                      /* -1: none */
	uint64_t usr_offset;
	int kernel_fd;                   /* -1: none */
	/* Spool (verify pass keeps the decompressed USR image so the write pass need not decompress
	 * again). Verify mode: when `spool` is set, an unlinked O_TMPFILE (0600) is made in the
	 * directory spool_fd once the manifest is known, if that file system has
	 * new_partition_info.size bytes free and supports O_TMPFILE; each USR operation's output is
	 * written to it at its extents (base 0) and its length recorded in op->spooled of the taken
	 * manifest. Otherwise the output is discarded as without a spool (payload_stream_take_spool
	 * says why). Write mode: when `spool` is set, spool_fd is that file; an operation with
	 * verified->ops[i].spooled > 0 is still hash-checked, then copied from the spool instead of
	 * decompressed. */
	bool spool;
	int spool_fd;
	uint64_t spool_reserve;          /* verify mode: bytes that must stay free beside the spool */
	/* Write mode: finish leaves the fsync of usr_fd and kernel_fd to the caller (which may
	 * overlap it with the read-back). Each written operation starts its writeback at once
	 * (sync_file_range) either way, so that the final fsync has little left to wait for. */
	bool defer_sync;
	/* Write mode: when every USR extent of an operation lies above those of the operations
	 * before it, `written` is called (from a worker, with no lock of the stream held; keep it
	 * short) each time the operations done so far, taken in order, cover the target from its
	 * byte 0 up to `upto` (bytes from usr_offset): every write below upto has returned. */
	void (*written)(uint64_t upto, void *userdata);
	void *written_data;
	unsigned workers;                /* 0: number of online CPUs */
	size_t mem_budget;               /* bytes of blobs in flight; 0: PAYLOAD_OP_DATA_MAX */
};

struct payload_stream;

int payload_stream_new(const struct payload_stream_opts *o, struct payload_stream **ret);
int payload_stream_feed(struct payload_stream *s, const void *data, size_t n,
			struct problem_list *reterr);
int payload_stream_finish(struct payload_stream *s, struct problem_list *reterr);
struct payload_stream *payload_stream_free(struct payload_stream *s);

/* After the header and manifest were fed: the manifest, or NULL. */
const struct payload_manifest *payload_stream_manifest(const struct payload_stream *s);
/* Take the manifest over (for the write pass); NULL before it is known. */
struct payload_manifest *payload_stream_take_manifest(struct payload_stream *s);

/* After a successful finish. */
struct payload_stream_result {
	uint64_t size;                             /* bytes fed */
	uint8_t sha256[PAYLOAD_SHA256_SIZE];       /* of the whole file */
	uint8_t signed_sha256[PAYLOAD_SHA256_SIZE]; /* of the signed bytes */
	size_t n_signatures;
	uint32_t versions[8];                      /* the first 8 signature versions */
	bool verified;                             /* a signature matched (verify mode) */
	uint32_t matched_version;
	const char *matched_key;                   /* name of the key, owned by the key */
};
void payload_stream_result(const struct payload_stream *s, struct payload_stream_result *ret);

/* Verify mode with `spool`: after a successful finish, the spool file (the caller closes it; it
 * disappears then), or -1 with *ret_why = -ENOSPC (not enough free space), -EOPNOTSUPP (no
 * O_TMPFILE there), -ENOTUNIQ (overlapping USR extents: never spooled), or another -errno. */
int payload_stream_take_spool(struct payload_stream *s, int *ret_why);

/* Read fd from its current position to EOF through a stream. */
int payload_stream_feed_fd(struct payload_stream *s, int fd, struct problem_list *reterr);

/* SHA-256 of size bytes at offset of fd compared with hash (read-back, 6.3/6.4): 0 when equal,
 * -EILSEQ when not (actual digest in ret_actual when non-NULL), -errno on I/O errors. */
int payload_check_image(int fd, uint64_t offset, uint64_t size,
			const uint8_t hash[PAYLOAD_SHA256_SIZE], uint8_t *ret_actual);

/* Generator (update pack, 2.6). */
enum payload_compress {
	PAYLOAD_COMPRESS_NONE,
	PAYLOAD_COMPRESS_BZIP2,
	PAYLOAD_COMPRESS_XZ,
	_PAYLOAD_COMPRESS_MAX,
	_PAYLOAD_COMPRESS_INVALID = -22,
};
const char *payload_compress_to_string(enum payload_compress c);
enum payload_compress payload_compress_from_string(const char *s);

struct payload_pack_opts {
	uint32_t block_size;       /* 0: 4096 */
	uint64_t chunk_size;       /* 0: 1 MiB */
	enum payload_compress compress;
	const struct crypto_key *const *keys; /* private keys, 1..3 */
	size_t n_keys;
	unsigned workers;          /* 0: online CPUs */
};
struct payload_pack_result {
	uint64_t size;
	uint8_t sha256[PAYLOAD_SHA256_SIZE];
	uint8_t sha1[PAYLOAD_SHA1_SIZE];
	uint64_t image_size, kernel_size;
	unsigned n_ops, n_by_type[3];
};
/* Build a payload from image_fd (and kernel_fd unless -1) into out_fd (written from offset 0;
 * the caller renames it into place). spool_fd is an empty read-write scratch file for the blobs.
 * Reports bad input (image size not a multiple of the block size, ...) through reterr. */
int payload_pack(int image_fd, int kernel_fd, int out_fd, int spool_fd,
		 const struct payload_pack_opts *o, struct payload_pack_result *ret,
		 struct problem_list *reterr);

/* A Nebraska-shaped Omaha update response offering one payload (update pack --omaha-response,
 * docs/update.md 2.6, 4.3), for serving with any static web server. */
struct payload_omaha_response_params {
	const char *appid;        /* NULL: Flatcar's {e96281a6-d1af-4bde-9a0a-97b76e56dc57} */
	const char *version;      /* 1..64 printable characters */
	const char *url_base;     /* absolute http:// or https:// URL (the codebase) */
	const char *name;         /* package name, [A-Za-z0-9._+-]{1,255}, not . or .. */
	const struct payload_pack_result *payload;
};
/* *ret: the NUL-terminated XML. -EINVAL with a problem for a bad parameter. */
int payload_omaha_response(const struct payload_omaha_response_params *p, char **ret,
			   struct problem_list *reterr);
